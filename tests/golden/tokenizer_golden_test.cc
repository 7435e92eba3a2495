// The tokenizer against ../shared/golden/tokenizer: every record, from vocab.gguf and from
// tokenizer.json, encode (judge: hf_ids, or llama.cpp's ids for invalid UTF-8) and lossless
// decode (judge: detok_noclean), plus the CLI contract of tokenize/detokenize.
#include <nlohmann/json.hpp>

#include "common/test_util.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/utf8.h"

namespace pocket {
namespace {

using nlohmann::json;

std::string Dir() { return testing::GoldenDir() + "/tokenizer"; }

std::string FromHex(const std::string& hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2)
    out.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  return out;
}

std::vector<json> Cases() {
  std::vector<json> out;
  for (const std::string& line : testing::ReadLines(Dir() + "/cases.jsonl"))
    out.push_back(json::parse(line));
  return out;
}

class TokenizerGolden : public ::testing::TestWithParam<const char*> {};

TEST_P(TokenizerGolden, EveryCaseEncodesAndDecodes) {
  POCKET_REQUIRE_GOLDEN_OR_SKIP();
  auto tok = Tokenizer::Load(Dir() + "/" + GetParam());
  ASSERT_TRUE(tok.ok()) << tok.status().ToString();
  const std::vector<json> cases = Cases();
  ASSERT_EQ(cases.size(), 1040u);
  int failures = 0;
  for (const json& c : cases) {
    const std::string text = c["text"].is_null() ? FromHex(c["text_hex"].get<std::string>())
                                                 : c["text"].get<std::string>();
    Tokenizer::EncodeOptions opt;
    opt.add_bos = c["add_bos"].get<bool>();
    opt.parse_special = c["parse_special"].get<bool>();
    const json& judge = c["hf_ids"].is_null() ? c["ids"] : c["hf_ids"];
    const std::vector<int32_t> want = judge.get<std::vector<int32_t>>();
    const std::vector<int32_t> got = (*tok)->Encode(text, opt);
    if (got != want && ++failures <= 10) {
      ADD_FAILURE() << c["name"] << " parse_special=" << opt.parse_special
                    << " add_bos=" << opt.add_bos << "\n got " << json(got).dump() << "\nwant "
                    << json(want).dump();
    }
    // Lossless decode of llama.cpp's ids (control tokens empty, no clean-up).
    const std::string detok = c["detok_noclean"].is_null()
                                  ? FromHex(c["detok_noclean_hex"].get<std::string>())
                                  : c["detok_noclean"].get<std::string>();
    const std::string decoded = (*tok)->Decode(c["ids"].get<std::vector<int32_t>>());
    if (decoded != detok && ++failures <= 10) ADD_FAILURE() << c["name"] << ": decode mismatch";
  }
  EXPECT_EQ(failures, 0);
}

INSTANTIATE_TEST_SUITE_P(Sources, TokenizerGolden,
                         ::testing::Values("vocab.gguf", "tokenizer.json"));

TEST(TokenizerGoldenInfo, SpecialIdsFoundByText) {
  POCKET_REQUIRE_GOLDEN_OR_SKIP();
  const json info = json::parse(testing::ReadFile(Dir() + "/vocab_info.json"));
  for (const char* src : {"vocab.gguf", "tokenizer.json"}) {
    auto tok = Tokenizer::Load(Dir() + "/" + src);
    ASSERT_TRUE(tok.ok());
    EXPECT_EQ((*tok)->bos(), info["llama_cpp"]["bos"].get<int>());
    EXPECT_EQ((*tok)->eos(), info["llama_cpp"]["eos"].get<int>());
    EXPECT_EQ((*tok)->pad(), info["llama_cpp"]["pad"].get<int>());
    std::vector<int32_t> eog = (*tok)->eog_ids();
    std::sort(eog.begin(), eog.end());
    EXPECT_EQ(eog, (std::vector<int32_t>{1, 50, 106})) << src;
    for (const json& s : info["special_tokens"]) {
      const int32_t id = s["id"].get<int32_t>();
      EXPECT_EQ((*tok)->Find(s["text"].get<std::string>()), id);
      EXPECT_EQ((*tok)->Piece(id), s["piece"].get<std::string>()) << src << " " << s["text"];
      EXPECT_EQ((*tok)->Piece(id, true), s["piece_special"].get<std::string>())
          << src << " " << s["text"];
    }
  }
}

TEST(TokenizerCli, TokenizeAndDetokenize) {
  POCKET_REQUIRE_GOLDEN_OR_SKIP();
  for (const std::string& model : {Dir() + "/vocab.gguf", Dir()}) {
    auto r = testing::RunPocket({"tokenize", "-m", model, "--text", "Hello <|turn>user", "--json"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const std::vector<int32_t> plain = json::parse(r.out).get<std::vector<int32_t>>();
    EXPECT_EQ(plain.front(), 2);
    r = testing::RunPocket({"tokenize", "-m", model, "--text", "Hello <|turn>user", "--json",
                            "--parse-special", "--no-bos"});
    ASSERT_EQ(r.exit_code, 0);
    const std::vector<int32_t> special = json::parse(r.out).get<std::vector<int32_t>>();
    EXPECT_NE(std::find(special.begin(), special.end(), 105), special.end());
    EXPECT_EQ(std::find(plain.begin(), plain.end(), 105),
              plain.end());  // user text cannot inject <|turn>
    std::string ids;
    for (int32_t id : special) {
      if (!ids.empty()) ids.push_back(',');
      ids.append(std::to_string(id));
    }
    r = testing::RunPocket({"detokenize", "-m", model, "--ids", ids});
    EXPECT_EQ(r.out, "Hello user");
    r = testing::RunPocket({"detokenize", "-m", model, "--ids", ids, "--special"});
    EXPECT_EQ(r.out, "Hello <|turn>user");
    r = testing::RunPocket({"tokenize", "-m", model, "--text", "a b"});
    EXPECT_EQ(r.exit_code, 0);
    EXPECT_NE(r.out.find("\t"), std::string::npos);
  }
  auto r = testing::RunPocket({"detokenize", "-m", Dir() + "/vocab.gguf", "--ids", "1,x"});
  EXPECT_EQ(r.exit_code, 1);
  r = testing::RunPocket({"detokenize", "-m", Dir() + "/vocab.gguf", "--ids", "99999999"});
  EXPECT_EQ(r.exit_code, 1);
  r = testing::RunPocket({"tokenize", "-m", Dir() + "/vocab.gguf"});
  EXPECT_EQ(r.exit_code, 2);
  r = testing::RunPocket({"tokenize", "-m", "/nonexistent.gguf", "--text", "x"});
  EXPECT_EQ(r.exit_code, 1);
}

}  // namespace
}  // namespace pocket
