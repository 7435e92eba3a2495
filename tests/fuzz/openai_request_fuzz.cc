// libFuzzer target: the OpenAI request parser and the chat renderer on arbitrary request
// bodies. Invariants: no crash; a rejected request has a 4xx status and a message; an
// accepted chat request renders (or fails with a Status) and its error JSON is valid UTF-8.
#include <cstdlib>
#include <string>

#include "apps/server/openai_api.h"
#include "chat/chat_template.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string body(reinterpret_cast<const char*>(data), size);
  pocket::server::Limits limits;
  limits.max_tokens = 256;
  for (bool chat : {true, false}) {
    pocket::server::ChatRequest r;
    pocket::server::ApiError e;
    const bool ok = chat ? pocket::server::ParseChatRequest(body, pocket::SamplingParams(), "m", limits, &r, &e)
                         : pocket::server::ParseCompletionRequest(body, pocket::SamplingParams(), "m", limits, &r, &e);
    if (!ok) {
      if (e.status < 400 || e.status >= 500 || e.message.empty()) std::abort();
      (void)pocket::server::ErrorJson(e);
      continue;
    }
    if (r.max_tokens < 1 || r.max_tokens > limits.max_tokens || !r.sampling.Validate().ok()) std::abort();
    if (chat) {
      pocket::ChatRenderOptions o;
      o.enable_thinking = r.thinking;
      (void)pocket::RenderChat(r.messages_json, r.tools_json, o);
    }
  }
  return 0;
}
