// Generate: the sampling loop on a Session — sample, stream the text, feed the token back —
// until an end-of-generation token, a stop string, max_tokens, a full context, or a cancel.
// Text is streamed in whole UTF-8 characters; text that could be the start of a stop string
// is held back until it is known not to be one, and a matched stop string is not emitted.
//
// Stateless; thread-safe as long as each call has its own session and sampler.
#pragma once

#include <atomic>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/sampler.h"
#include "runtime/session.h"

namespace pocket {

enum class FinishReason { kEndOfGeneration, kStopString, kMaxTokens, kContextFull, kCancelled };
const char* FinishReasonName(FinishReason r);  // "stop", "length", ... (OpenAI spellings)

struct GenerateOptions {
  int64_t max_tokens = -1;  // < 0: until the context is full
  std::vector<std::string> stop;
  const std::atomic<bool>* cancel = nullptr;
};

struct GenerateResult {
  std::string text;             // everything emitted (without a matched stop string)
  std::vector<int32_t> tokens;  // sampled ids, the end-of-generation one included
  FinishReason finish = FinishReason::kEndOfGeneration;
  int32_t eog_token = -1;       // the end-of-generation id that ended it, if any
  double ttft_seconds = 0;      // from the call to the first sampled token
  double decode_seconds = 0;
};

// Called with each new piece of text; return false to stop (finish = kCancelled).
using TextCallback = std::function<bool(std::string_view piece)>;

// Samples from the session's current logits (a Prefill must precede it). The final
// end-of-generation token is sampled but not fed to the session.
Result<GenerateResult> Generate(Session& session, Sampler& sampler, const GenerateOptions& options,
                                const TextCallback& on_text = {});

}  // namespace pocket
