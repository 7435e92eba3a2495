#include "runtime/generate.h"

#include <chrono>

#include "tokenizer/stream_decoder.h"

namespace pocket {
namespace {

// Length of the longest suffix of `text` that is a proper prefix of some stop string: that
// much must be held back until more text decides it.
size_t HeldBackLength(std::string_view text, const std::vector<std::string>& stops) {
  size_t hold = 0;
  for (const std::string& s : stops) {
    for (size_t k = std::min(text.size(), s.size() - 1); k > hold; --k) {
      if (text.substr(text.size() - k) == std::string_view(s).substr(0, k)) {
        hold = k;
        break;
      }
    }
  }
  return hold;
}

}  // namespace

const char* FinishReasonName(FinishReason r) {
  switch (r) {
    case FinishReason::kEndOfGeneration: return "stop";
    case FinishReason::kStopString: return "stop";
    case FinishReason::kMaxTokens: return "length";
    case FinishReason::kContextFull: return "length";
    case FinishReason::kCancelled: return "cancelled";
  }
  return "?";
}

Result<GenerateResult> Generate(Session& session, Sampler& sampler, const GenerateOptions& options,
                                const TextCallback& on_text) {
  const auto start = std::chrono::steady_clock::now();
  const Tokenizer& tok = session.model().tokenizer();
  StreamDecoder decoder(tok);
  GenerateResult r;
  std::string pending;  // decoded but not yet emitted (stop-string look-ahead)
  bool stopped_by_callback = false;
  auto emit = [&](std::string_view piece) {
    if (piece.empty()) return;
    r.text.append(piece);
    if (on_text && !on_text(piece)) stopped_by_callback = true;
  };
  for (int64_t i = 0;; ++i) {
    if (options.cancel != nullptr && options.cancel->load(std::memory_order_relaxed)) {
      r.finish = FinishReason::kCancelled;
      break;
    }
    if (options.max_tokens >= 0 && i >= options.max_tokens) {
      r.finish = FinishReason::kMaxTokens;
      break;
    }
    const int32_t id = sampler.Sample(session.logits());
    if (i == 0) r.ttft_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    r.tokens.push_back(id);
    sampler.Accept(id);
    if (tok.IsEog(id)) {
      r.finish = FinishReason::kEndOfGeneration;
      r.eog_token = id;
      break;
    }
    pending += decoder.Push(id);
    bool stop_hit = false;
    for (const std::string& s : options.stop) {
      const size_t at = s.empty() ? std::string::npos : pending.find(s);
      if (at != std::string::npos) {
        pending.resize(at);
        stop_hit = true;
      }
    }
    if (stop_hit) {
      emit(pending);
      pending.clear();
      r.finish = FinishReason::kStopString;
      break;
    }
    const size_t hold = HeldBackLength(pending, options.stop);
    emit(std::string_view(pending).substr(0, pending.size() - hold));
    pending.erase(0, pending.size() - hold);
    if (stopped_by_callback) {
      r.finish = FinishReason::kCancelled;
      break;
    }
    if (session.decoder().position() >= session.n_ctx()) {
      r.finish = FinishReason::kContextFull;
      break;
    }
    RETURN_IF_ERROR(session.Append(id));
  }
  if (r.finish != FinishReason::kStopString) {
    pending += decoder.Flush();
    emit(pending);
  }
  r.decode_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return r;
}

}  // namespace pocket
