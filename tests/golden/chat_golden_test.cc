// Chat rendering and output parsing against ../shared/golden/chat (byte for byte; parse
// results whole and streamed split at every byte), plus pocket's own table of parser quirks.
#include <nlohmann/json.hpp>

#include "chat/chat_template.h"
#include "chat/output_parser.h"
#include "common/test_util.h"

namespace pocket {
namespace {

using nlohmann::json;

std::vector<json> ReadJsonl(const std::string& path) {
  std::vector<json> out;
  for (const std::string& line : testing::ReadLines(path)) out.push_back(json::parse(line));
  return out;
}

// Canonical form for comparison: keys sorted (std::map json), floats stay floats.
std::string Canon(const json& j) { return j.dump(); }

json ToJson(const ParsedOutput& p) { return json::parse(ParsedOutputToJson(p)); }

// Streams `text` in pieces cut at `cuts` and returns the concatenated deltas.
json Streamed(const std::string& text, bool sir, size_t step, size_t offset) {
  StreamingOutputParser s(sir);
  ParsedOutput acc;
  auto add = [&](const StreamingOutputParser::Delta& d) {
    acc.reasoning += d.reasoning;
    acc.content += d.content;
    for (const auto& c : d.tool_calls) acc.tool_calls.push_back(c);
  };
  size_t pos = 0;
  if (offset > 0) {
    add(s.Push(text.substr(0, offset)));
    pos = offset;
  }
  while (pos < text.size()) {
    add(s.Push(text.substr(pos, step)));
    pos += step;
  }
  add(s.Finish());
  return ToJson(acc);
}

TEST(ChatGolden, RenderEveryRecordByteForByte) {
  POCKET_REQUIRE_GOLDEN_OR_SKIP();
  const std::vector<json> cases = ReadJsonl(testing::GoldenDir() + "/chat/render.jsonl");
  ASSERT_EQ(cases.size(), 20u);
  for (const json& c : cases) {
    ChatRenderOptions opt;
    opt.enable_thinking = c["enable_thinking"].get<bool>();
    opt.add_generation_prompt = c["add_generation_prompt"].get<bool>();
    auto got = RenderChat(c["messages"].dump(), c["tools"].is_null() ? "" : c["tools"].dump(), opt);
    ASSERT_TRUE(got.ok()) << c["name"] << ": " << got.status().ToString();
    EXPECT_EQ(*got, c["rendered"].get<std::string>()) << c["name"];
  }
}

TEST(ChatGolden, ParseEveryRecordWholeAndStreamedAtEveryByte) {
  POCKET_REQUIRE_GOLDEN_OR_SKIP();
  const std::vector<json> cases = ReadJsonl(testing::GoldenDir() + "/chat/parse.jsonl");
  ASSERT_EQ(cases.size(), 25u);
  for (const json& c : cases) {
    const std::string text = c["text"].get<std::string>();
    const bool sir = c["started_in_reasoning"].get<bool>();
    const std::string want = Canon(c["expected"]);
    EXPECT_EQ(Canon(ToJson(ParseModelOutput(text, sir))), want) << c["name"];
    for (size_t cut = 1; cut < text.size(); ++cut) {
      ASSERT_EQ(Canon(Streamed(text, sir, text.size(), cut)), want)
          << c["name"] << " split at byte " << cut;
    }
    ASSERT_EQ(Canon(Streamed(text, sir, 1, 0)), want) << c["name"] << " byte by byte";
    ASSERT_EQ(Canon(Streamed(text, sir, 3, 0)), want) << c["name"] << " 3 bytes at a time";
  }
}

// pocket's own quirk table: (text, started_in_reasoning, expected).
struct Quirk {
  const char* name;
  const char* text;
  bool sir;
  const char* expected;
};
const Quirk kQuirks[] = {
    {"plain", "Hello.", false, R"({"reasoning":"","content":"Hello.","tool_calls":[]})"},
    {"empty", "", false, R"({"reasoning":"","content":"","tool_calls":[]})"},
    {"empty_sir", "", true, R"({"reasoning":"","content":"","tool_calls":[]})"},
    {"two_thought_blocks", "<|channel>thought\na<channel|>x<|channel>thought b<channel|>y", false,
     R"({"reasoning":"ab","content":"xy","tool_calls":[]})"},
    {"double_channel_open", "<|channel><|channel>thought\nr<channel|>c", false,
     R"({"reasoning":"r","content":"c","tool_calls":[]})"},
    {"channel_without_thought", "<|channel>final answer", false,
     R"({"reasoning":"","content":"final answer","tool_calls":[]})"},
    {"newline_before_close_kept", "<|channel>thought\nr\n<channel|>\n\nc", false,
     R"({"reasoning":"r\n","content":"\n\nc","tool_calls":[]})"},
    {"quote_in_string", "<|tool_call>call:f{s:<|\"|>say \"hi\" {x}<|\"|>}<tool_call|>", false,
     R"({"reasoning":"","content":"","tool_calls":[{"name":"f","arguments":{"s":"say \"hi\" {x}"}}]})"},
    {"empty_args", "<|tool_call>call:ping{}<tool_call|>", false,
     R"({"reasoning":"","content":"","tool_calls":[{"name":"ping","arguments":{}}]})"},
    {"spaces_in_dict", "<|tool_call>call:f{ a: 1 , b: [ 1 , 2 ] }<tool_call|>", false,
     R"({"reasoning":"","content":"","tool_calls":[{"name":"f","arguments":{"a":1,"b":[1,2]}}]})"},
    {"empty_list", "<|tool_call>call:f{a:[]}<tool_call|>", false,
     R"({"reasoning":"","content":"","tool_calls":[{"name":"f","arguments":{"a":[]}}]})"},
    {"negative_exponent", "<|tool_call>call:f{a:-1.25E-2}<tool_call|>", false,
     R"({"reasoning":"","content":"","tool_calls":[{"name":"f","arguments":{"a":-0.0125}}]})"},
    {"truncated_call", "ok <|tool_call>call:f{a:<|\"|>x", false,
     R"({"reasoning":"","content":"ok <|tool_call>call:f{a:<|\"|>x","tool_calls":[]})"},
    {"missing_call_prefix", "<|tool_call>f{a:1}<tool_call|>rest", false,
     R"({"reasoning":"","content":"<|tool_call>f{a:1}<tool_call|>rest","tool_calls":[]})"},
    {"empty_name", "<|tool_call>call:{a:1}<tool_call|>", false,
     R"({"reasoning":"","content":"<|tool_call>call:{a:1}<tool_call|>","tool_calls":[]})"},
    {"call_text_without_tag", "call:f{a:1}", false,
     R"({"reasoning":"","content":"call:f{a:1}","tool_calls":[]})"},
    {"malformed_then_good",
     "<|tool_call>call:f{a:b}<tool_call|><|tool_call>call:g{x:1}<tool_call|>", false,
     R"({"reasoning":"","content":"<|tool_call>call:f{a:b}<tool_call|>","tool_calls":[{"name":"g","arguments":{"x":1}}]})"},
    {"unclosed_sir", "  still thinking", true,
     R"({"reasoning":"still thinking","content":"","tool_calls":[]})"},
    {"stray_close_only", "<channel|>", false, R"({"reasoning":"","content":"","tool_calls":[]})"},
    {"partial_marker_text", "a <|chan b", false,
     R"({"reasoning":"","content":"a <|chan b","tool_calls":[]})"},
    {"unicode_content", "<|channel>thought\n考える<channel|>答え 🦙", false,
     R"({"reasoning":"考える","content":"答え 🦙","tool_calls":[]})"},
    {"nested_list_of_objects", "<|tool_call>call:f{l:[{a:[{b:null}]}]}<tool_call|>", false,
     R"({"reasoning":"","content":"","tool_calls":[{"name":"f","arguments":{"l":[{"a":[{"b":null}]}]}}]})"},
};

TEST(OutputParser, QuirkTableWholeAndStreamed) {
  for (const Quirk& q : kQuirks) {
    const std::string want = Canon(json::parse(q.expected));
    EXPECT_EQ(Canon(ToJson(ParseModelOutput(q.text, q.sir))), want) << q.name;
    const std::string text = q.text;
    for (size_t cut = 1; cut < text.size(); ++cut)
      ASSERT_EQ(Canon(Streamed(text, q.sir, text.size(), cut)), want) << q.name << " @" << cut;
    ASSERT_EQ(Canon(Streamed(text, q.sir, 1, 0)), want) << q.name;
  }
}

TEST(OutputParser, MalformedCallWarns) {
  const ParsedOutput p = ParseModelOutput("<|tool_call>call:f{a:b}<tool_call|>", false);
  EXPECT_EQ(p.warnings.size(), 1u);
  EXPECT_TRUE(p.tool_calls.empty());
  // Found by the fuzzer: invalid UTF-8 in a key must not throw while building the JSON.
  const ParsedOutput q = ParseModelOutput("<|tool_call>call:f{e\xB7 x:1}<tool_call|>", false);
  ASSERT_EQ(q.tool_calls.size(), 1u);
  EXPECT_NE(q.tool_calls[0].arguments_json.find("\xEF\xBF\xBD"), std::string::npos);
}

// Numbers in tool-call arguments parse as JSON parses them; a malformed one (no digits after
// the point or the exponent) makes the call malformed, whole or streamed.
TEST(OutputParser, NumberLiterals) {
  const ParsedOutput p =
      ParseModelOutput("<|tool_call>call:f{a:1.5e10,b:-3,c:2.25,d:0,e:7E-2}<tool_call|>", false);
  ASSERT_EQ(p.tool_calls.size(), 1u);
  EXPECT_EQ(p.tool_calls[0].arguments_json,
            R"({"a":15000000000.0,"b":-3,"c":2.25,"d":0,"e":0.07})");
  for (const char* bad : {"{a:1.}", "{a:1e}", "{a:-}", "{a:1e+,b:2}", "{a:.5}"}) {
    const ParsedOutput q =
        ParseModelOutput(std::string("<|tool_call>call:f") + bad + "<tool_call|>", false);
    EXPECT_TRUE(q.tool_calls.empty()) << bad;
    EXPECT_EQ(q.warnings.size(), 1u) << bad;
  }
}

TEST(ChatRender, BadInputIsAClearError) {
  for (const auto& [messages, tools, needle] :
       std::vector<std::tuple<std::string, std::string, std::string>>{
           {"{", "", "messages"},
           {"{}", "", "array"},
           {"[1]", "", "messages[0]"},
           {R"([{"content":"x"}])", "", "role"},
           {R"([{"role":"wizard","content":"x"}])", "", "wizard"},
           {R"([{"role":"user","content":{"a":1}}])", "", "content"},
           {R"([{"role":"assistant","tool_calls":[{"function":{"name":"f","arguments":"{bad"}}]}])",
            "", "arguments"},
           {R"([{"role":"user","content":"x"}])", "{", "tools"},
           {R"([{"role":"user","content":"x"}])", "{}", "tools"}}) {
    auto r = RenderChat(messages, tools, {});
    ASSERT_FALSE(r.ok()) << messages;
    EXPECT_NE(r.status().message().find(needle), std::string::npos) << r.status().ToString();
  }
  // OpenAI string arguments are converted to an object before rendering.
  auto r = RenderChat(
      R"([{"role":"user","content":"t"},{"role":"assistant","tool_calls":[{"id":"1","type":"function","function":{"name":"f","arguments":"{\"b\":2,\"a\":\"x\"}"}}]}])",
      "", {});
  ASSERT_TRUE(r.ok());
  EXPECT_NE(r->find("<|tool_call>call:f{a:<|\"|>x<|\"|>,b:2}<tool_call|><|tool_response>"),
            std::string::npos)
      << *r;
}

TEST(ChatCli, FormatAndParse) {
  POCKET_REQUIRE_GOLDEN_OR_SKIP();
  const std::string dir = testing::TempDir();
  testing::WriteFile(dir + "/m.json", R"([{"role":"user","content":"  Hi  "}])");
  auto r = testing::RunPocket({"chat-format", "-m", testing::GoldenDir() + "/tokenizer/vocab.gguf",
                               "--messages", dir + "/m.json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "<bos><|turn>user\nHi<turn|>\n<|turn>model\n<|channel>thought\n<channel|>");
  r = testing::RunPocket({"chat-format", "-m", testing::GoldenDir() + "/tokenizer/vocab.gguf",
                          "--messages", dir + "/m.json", "--think"});
  EXPECT_EQ(r.out,
            "<bos><|turn>system\n<|think|>\n<turn|>\n<|turn>user\nHi<turn|>\n<|turn>model\n");
  testing::WriteFile(dir + "/bad.json", "[{]");
  r = testing::RunPocket({"chat-format", "-m", testing::GoldenDir() + "/tokenizer/vocab.gguf",
                          "--messages", dir + "/bad.json"});
  EXPECT_EQ(r.exit_code, 1);
  testing::WriteFile(dir + "/out.txt",
                     "<|channel>thought\nr<channel|>c<|tool_call>call:f{a:1}<tool_call|>");
  r = testing::RunPocket({"parse-output", "--text-file", dir + "/out.txt", "--json"});
  ASSERT_EQ(r.exit_code, 0);
  EXPECT_EQ(
      json::parse(r.out),
      json::parse(
          R"({"reasoning":"r","content":"c","tool_calls":[{"name":"f","arguments":{"a":1}}]})"));
  r = testing::RunPocket({"parse-output"});
  EXPECT_EQ(r.exit_code, 2);
}

}  // namespace
}  // namespace pocket
