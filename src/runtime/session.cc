#include "runtime/session.h"

#include <algorithm>
#include <chrono>

namespace pocket {
namespace {

double SecondsSince(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

}  // namespace

Result<std::unique_ptr<Session>> Session::Create(const Model& model, ThreadPool* pool,
                                                 const SessionOptions& options) {
  if (options.n_ctx <= 0) return InvalidArgument(StrFormat("context size must be positive, got %lld", (long long)options.n_ctx));
  if (options.batch <= 0) return InvalidArgument(StrFormat("batch size must be positive, got %lld", (long long)options.batch));
  DecoderOptions d;
  d.n_ctx = model.config().context_length > 0 ? std::min(options.n_ctx, model.config().context_length) : options.n_ctx;
  d.max_batch = options.batch;
  d.kv_type = options.kv_type;
  ASSIGN_OR_RETURN(std::unique_ptr<Decoder> decoder, Decoder::Create(model.config(), model.weights(), pool, d));
  return std::unique_ptr<Session>(new Session(model, std::move(decoder)));
}

Session::Session(const Model& model, std::unique_ptr<Decoder> decoder)
    : model_(model), decoder_(std::move(decoder)), logits_(static_cast<size_t>(model.config().n_vocab)) {}

void Session::Reset() {
  decoder_->Reset();
  tokens_.clear();
  logits_valid_ = false;
}

Status Session::Prefill(const std::vector<int32_t>& tokens, const Progress& progress, const std::atomic<bool>* cancel) {
  const auto start = std::chrono::steady_clock::now();
  if (tokens.empty()) return InvalidArgument("empty prompt");
  const int64_t n = static_cast<int64_t>(tokens.size());
  if (n > decoder_->n_ctx()) {
    return OutOfRange(StrFormat("the prompt has %lld tokens but the context holds %lld", (long long)n,
                                (long long)decoder_->n_ctx()));
  }
  for (size_t i = 0; i < tokens.size(); ++i) {
    if (tokens[i] < 0 || tokens[i] >= model_.config().n_vocab) {
      return InvalidArgument(StrFormat("token id %d at index %zu is out of range", tokens[i], i));
    }
  }
  // Longest common prefix with the cache; at least the last token is recomputed for logits
  // unless the prompt is exactly what the cache already ends on.
  int64_t common = 0;
  const int64_t cached = static_cast<int64_t>(tokens_.size());
  while (common < std::min(cached, n) && tokens_[static_cast<size_t>(common)] == tokens[static_cast<size_t>(common)]) ++common;
  stats_.prompt_tokens = n;
  if (common == n && cached == n && logits_valid_) {
    stats_.reused_tokens = n;
    stats_.prefilled_tokens = 0;
    stats_.prefill_seconds = 0;
    return Status::Ok();
  }
  int64_t keep = std::min(common, n - 1);
  if (keep < cached) {
    if (decoder_->CanRewindTo(keep)) {
      RETURN_IF_ERROR(decoder_->RewindTo(keep));
    } else {
      decoder_->Reset();
      keep = 0;
    }
    tokens_.resize(static_cast<size_t>(keep));
  }
  logits_valid_ = false;
  stats_.reused_tokens = keep;
  stats_.prefilled_tokens = 0;
  const int64_t chunk = decoder_->max_batch();
  for (int64_t i = keep; i < n; i += chunk) {
    if (cancel != nullptr && cancel->load(std::memory_order_relaxed)) {
      stats_.prefill_seconds = SecondsSince(start);
      return Cancelled("prefill cancelled");
    }
    const int64_t m = std::min(chunk, n - i);
    const bool last = i + m == n;
    DecoderBatch b;
    b.tokens = tokens.data() + i;
    b.n = m;
    RETURN_IF_ERROR(decoder_->Forward(b, last ? LogitsMode::kLast : LogitsMode::kNone, logits_.data()));
    tokens_.insert(tokens_.end(), tokens.begin() + i, tokens.begin() + i + m);
    stats_.prefilled_tokens += m;
    stats_.total_prefilled += m;
    if (progress) progress(i + m - keep, n - keep);
  }
  logits_valid_ = true;
  stats_.prefill_seconds = SecondsSince(start);
  return Status::Ok();
}

Status Session::Append(int32_t token) {
  const auto start = std::chrono::steady_clock::now();
  if (decoder_->position() >= decoder_->n_ctx()) {
    return OutOfRange(StrFormat("the context is full (%lld tokens)", (long long)decoder_->n_ctx()));
  }
  DecoderBatch b;
  b.tokens = &token;
  b.n = 1;
  logits_valid_ = false;
  RETURN_IF_ERROR(decoder_->Forward(b, LogitsMode::kLast, logits_.data()));
  tokens_.push_back(token);
  logits_valid_ = true;
  ++stats_.generated_tokens;
  stats_.decode_seconds += SecondsSince(start);
  return Status::Ok();
}

}  // namespace pocket
