// Tokenizer behaviour beyond the golden records: streaming decode, hostile UTF-8, corrupt
// vocabularies in both formats.
#include "tokenizer/tokenizer.h"

#include <nlohmann/json.hpp>

#include "common/test_util.h"
#include "formats/gguf_writer.h"
#include "tokenizer/stream_decoder.h"
#include "tokenizer/utf8.h"

namespace pocket {
namespace {

// A tiny vocabulary: specials, bytes, a few pieces and merges.
void WriteTinyVocab(const std::string& path, const std::vector<int32_t>& types_override = {},
                    bool merges = true) {
  std::vector<std::string> tokens = {"<pad>",   "<eos>",   "<bos>", "<unk>",
                                     "<|turn>", "<turn|>", "<|\"|>"};
  std::vector<int32_t> types = {3, 3, 3, 3, 3, 3, 4};
  for (int b = 0; b < 256; ++b) {
    tokens.push_back(StrFormat("<0x%02X>", b));
    types.push_back(6);
  }
  for (const char* p : {"a", "b", "c", "ab", "abc", "\xE2\x96\x81",
                        "\xE2\x96\x81"
                        "a",
                        "\n", "\n\n"}) {
    tokens.push_back(p);
    types.push_back(1);
  }
  if (!types_override.empty()) types = types_override;
  GgufWriter w;
  w.SetString("general.architecture", "gemma4");
  w.SetString("tokenizer.ggml.model", "gemma4");
  w.SetArrayString("tokenizer.ggml.tokens", tokens);
  w.SetArrayI32("tokenizer.ggml.token_type", types);
  if (merges) w.SetArrayString("tokenizer.ggml.merges", {"a b", "ab c", "\xE2\x96\x81 a", "\n \n"});
  ASSERT_TRUE(w.WriteFile(path).ok());
}

TEST(Tokenizer, TinyVocabularyMergesAndFallsBack) {
  const std::string path = testing::TempDir() + "/tiny.gguf";
  WriteTinyVocab(path);
  auto tok = Tokenizer::Load(path);
  ASSERT_TRUE(tok.ok()) << tok.status().ToString();
  const int32_t abc = (*tok)->Find("abc"), space_a = (*tok)->Find(
                                               "\xE2\x96\x81"
                                               "a");
  EXPECT_EQ((*tok)->Encode("abc a", {false, false}), (std::vector<int32_t>{abc, space_a}));
  // 'z' is not in the vocabulary: byte fallback.
  EXPECT_EQ((*tok)->Encode("z", {false, false}), (std::vector<int32_t>{7 + 'z'}));
  EXPECT_EQ((*tok)->Encode("<|turn>", {true, true}), (std::vector<int32_t>{2, 4}));
  EXPECT_EQ((*tok)->Decode((*tok)->Encode("abc a\n\nz", {true, false})), "abc a\n\nz");
}

TEST(Tokenizer, CodePointsAboveUnicodeRangeNeverCrash) {
  const std::string path = testing::TempDir() + "/tiny.gguf";
  WriteTinyVocab(path);
  auto tok = Tokenizer::Load(path);
  ASSERT_TRUE(tok.ok());
  for (const std::string& bad :
       {std::string("\xF4\x90\x80\x80"), std::string("\xF5\x80\x80\x80"),
        std::string("\xF7\xBF\xBF\xBF"), std::string("\xFF\xFE"), std::string("\xC0"),
        std::string("a\xE2\x96"), std::string("\xED\xA0\x80")}) {
    const std::vector<int32_t> ids = (*tok)->Encode(bad, {false, true});
    EXPECT_FALSE(ids.empty());
    const std::string back = (*tok)->Decode(ids);
    if (bad == "\xF4\x90\x80\x80") {
      EXPECT_EQ(back, "\xEF\xBF\xBD");  // one U+FFFD
    }
  }
}

TEST(Tokenizer, CorruptVocabulariesAreClearErrors) {
  const std::string path = testing::TempDir() + "/bad.gguf";
  WriteTinyVocab(path, {3, 3, 9});  // wrong count and an invalid type
  auto r = Tokenizer::Load(path);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("token_type"), std::string::npos) << r.status().ToString();
  WriteTinyVocab(path, {}, /*merges=*/false);
  r = Tokenizer::Load(path);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("merges"), std::string::npos);
  GgufWriter w;
  w.SetString("general.architecture", "gemma4");
  ASSERT_TRUE(w.WriteFile(path).ok());
  r = Tokenizer::Load(path);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("tokenizer.ggml.model"), std::string::npos);

  for (const char* json :
       {"", "[]", "{\"model\": {\"type\": \"Unigram\"}}", "{\"model\": {\"type\": \"BPE\"}}",
        "{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 1}}}",
        "{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0}, \"merges\": [[\"a\"]]}}",
        "{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": \"x\"}}}",
        "{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0}}, \"added_tokens\": [{\"id\": "
        "5}]}"}) {
    auto t = Tokenizer::FromTokenizerJson(json, "t.json");
    EXPECT_FALSE(t.ok()) << json;
  }
  auto ok = Tokenizer::FromTokenizerJson(
      R"({"model": {"type": "BPE", "vocab": {"a": 0, "b": 1, "ab": 2}, "merges": ["a b"]}})", "t");
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ((*ok)->Encode("ab", {false, false}), (std::vector<int32_t>{2}));
}

TEST(StreamDecoder, NeverSplitsACharacterAndLosesNothing) {
  POCKET_REQUIRE_GOLDEN_OR_SKIP();
  auto tok = Tokenizer::Load(testing::GoldenDir() + "/tokenizer/vocab.gguf");
  ASSERT_TRUE(tok.ok());
  const std::string text = testing::ReadFile(testing::GoldenDir() + "/tokenizer/long_20kb.txt") +
                           " 🦙 emoji and 日本語";
  const std::vector<int32_t> ids = (*tok)->Encode(text, {false, false});
  StreamDecoder dec(**tok);
  std::string joined;
  for (int32_t id : ids) {
    const std::string chunk = dec.Push(id);
    EXPECT_EQ(utf8::IncompleteTail(chunk), 0u);
    joined += chunk;
  }
  joined += dec.Flush();
  EXPECT_EQ(joined, text);
  // Byte tokens of a 4-byte character arrive one by one: nothing comes out until the last.
  StreamDecoder d2(**tok);
  const int32_t b0 = (*tok)->Find("<0xF0>"), b1 = (*tok)->Find("<0x9F>"),
                b2 = (*tok)->Find("<0xA6>"), b3 = (*tok)->Find("<0x99>");
  EXPECT_EQ(d2.Push(b0), "");
  EXPECT_EQ(d2.Push(b1), "");
  EXPECT_EQ(d2.Push(b2), "");
  EXPECT_EQ(d2.Push(b3), "🦙");
  // A stray continuation byte is replaced when sanitizing, passed through raw otherwise.
  EXPECT_EQ(d2.Push(b1), "\xEF\xBF\xBD");
  StreamDecoder raw(**tok, false, /*sanitize=*/false);
  EXPECT_EQ(raw.Push(b1), "\x9F");
  EXPECT_EQ(raw.Push(b0), "");
  EXPECT_EQ(raw.Flush(), "\xF0");
}

}  // namespace
}  // namespace pocket
