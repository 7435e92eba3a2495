// Parsing Gemma 4 model output into reasoning, content and tool calls, whole or streamed
// (rules: ../shared/golden/chat/README.md "Parsing rules", spec tokenizer-chat-formats.md §2.8).
//
//  * `<|channel>thought …<channel|>` is reasoning (verbatim; an unclosed block runs to the end);
//  * `<|tool_call>call:NAME{…}<tool_call|>` is a call; its Gemma-dict arguments (`<|"|>`
//    strings, numbers, true/false/null, nested {…} and […]) become a JSON object;
//  * a call that does not parse stays in the content verbatim, with a warning;
//  * everything else is content.
//
// Pure functions and a small incremental wrapper; no global state.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace pocket {

struct ParsedToolCall {
  std::string name;
  std::string arguments_json;  // a JSON object, compact
};

struct ParsedOutput {
  std::string reasoning;
  std::string content;
  std::vector<ParsedToolCall> tool_calls;
  std::vector<std::string> warnings;  // e.g. "malformed tool call kept as content"
};

// Parses the complete generated text (special tokens as their literal text).
// `started_in_reasoning`: the prompt already opened the thought channel.
ParsedOutput ParseModelOutput(std::string_view text, bool started_in_reasoning);

// {"reasoning": …, "content": …, "tool_calls": [{"name": …, "arguments": {…}}]}
std::string ParsedOutputToJson(const ParsedOutput& p);

// Incremental parsing for streaming: feed text as it is generated, get what became certain.
// Text that might still turn into a marker or a tool call is held back until it resolves.
// The concatenated deltas equal the whole-text parse. Not thread-safe.
class StreamingOutputParser {
 public:
  explicit StreamingOutputParser(bool started_in_reasoning)
      : started_in_reasoning_(started_in_reasoning) {}

  struct Delta {
    std::string reasoning;
    std::string content;
    std::vector<ParsedToolCall> tool_calls;
  };
  Delta Push(std::string_view text);
  // End of generation: flushes everything held back.
  Delta Finish();
  const std::string& text() const { return text_; }

 private:
  Delta Diff(const ParsedOutput& now);

  bool started_in_reasoning_;
  std::string text_;
  size_t reasoning_sent_ = 0, content_sent_ = 0, calls_sent_ = 0;
};

}  // namespace pocket
