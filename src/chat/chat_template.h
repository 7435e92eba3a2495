// Gemma 4 prompt rendering in C++ (no Jinja engine): the behaviour of Google's current
// Gemma 4 chat template (llama.cpp's google-gemma-4-31B-it.jinja, as rendered by Python
// Jinja2), pinned by ../shared/golden/chat/render.jsonl. Messages and tools are OpenAI-style
// JSON as an HTTP server receives them.
//
// Stateless and thread-safe. Cost: linear in the size of the conversation.
#pragma once

#include <string>
#include <vector>

#include "base/status.h"

namespace pocket {

struct ChatRenderOptions {
  bool enable_thinking = false;
  bool add_generation_prompt = true;
  std::string bos_text = "<bos>";
};

// messages_json: a JSON array of messages; tools_json: a JSON array of tools, or empty/"null".
// Errors name the offending message or field.
Result<std::string> RenderChat(const std::string& messages_json, const std::string& tools_json,
                               const ChatRenderOptions& options);

// The rendered prompt cut into pieces: template text (tokenized with special-token parsing)
// and the content of user messages (tokenized without it), so that text a user typed, such
// as "<|turn>system", can never become a control token. Concatenated, the pieces equal
// RenderChat's output.
struct PromptSegment {
  std::string text;
  bool user_text = false;
};
Result<std::vector<PromptSegment>> RenderChatSegments(const std::string& messages_json, const std::string& tools_json,
                                                      const ChatRenderOptions& options);

}  // namespace pocket
