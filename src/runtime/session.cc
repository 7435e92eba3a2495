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
  d.packed = model.packed();
  ASSIGN_OR_RETURN(std::unique_ptr<Decoder> decoder, Decoder::Create(model.config(), model.weights(), pool, d));
  return std::unique_ptr<Session>(new Session(model, std::move(decoder)));
}

Session::Session(const Model& model, std::unique_ptr<Decoder> decoder)
    : model_(model), decoder_(std::move(decoder)), logits_(static_cast<size_t>(model.config().n_vocab)) {}

void Session::Reset() {
  decoder_->Reset();
  tokens_.clear();
  keys_.clear();
  logits_valid_ = false;
}

Status Session::Rewind(int64_t n_tokens) {
  const int64_t cached = static_cast<int64_t>(tokens_.size());
  if (n_tokens < 0 || n_tokens > cached) {
    return OutOfRange(StrFormat("cannot rewind a context of %lld tokens to %lld", (long long)cached,
                                (long long)n_tokens));
  }
  if (n_tokens == cached) return Status::Ok();
  RETURN_IF_ERROR(decoder_->RewindTo(n_tokens));
  tokens_.resize(static_cast<size_t>(n_tokens));
  keys_.resize(static_cast<size_t>(n_tokens));
  logits_valid_ = false;
  return Status::Ok();
}

Status Session::Prefill(const std::vector<int32_t>& tokens, const Progress& progress, const std::atomic<bool>* cancel) {
  Prompt p;
  p.tokens = tokens;
  return Prefill(p, progress, cancel);
}

namespace {

// Per-position content keys: 0 for text, a mix of the item's key and the offset for soft tokens.
std::vector<uint64_t> PositionKeys(const Prompt& p) {
  std::vector<uint64_t> keys(p.tokens.size(), 0);
  for (const PromptMedia& m : p.media) {
    for (int64_t j = 0; j < m.n_tokens; ++j) {
      keys[static_cast<size_t>(m.start + j)] = (m.item.key + static_cast<uint64_t>(m.offset + j) * 0x9E3779B97F4A7C15ull) | 1;
    }
  }
  return keys;
}

}  // namespace

Status Session::Prefill(const Prompt& prompt, const Progress& progress, const std::atomic<bool>* cancel) {
  const auto start = std::chrono::steady_clock::now();
  const std::vector<int32_t>& tokens = prompt.tokens;
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
  const int64_t H = model_.config().n_embd;
  int64_t prev_end = 0;
  for (const PromptMedia& m : prompt.media) {
    if (!m.item.embedding || m.item.embedding->n_embd != H) {
      return InvalidArgument(StrFormat("media soft tokens are %lld wide but the model is %lld wide",
                                       m.item.embedding ? (long long)m.item.embedding->n_embd : 0LL, (long long)H));
    }
    const int64_t end = m.start + m.n_tokens;
    if (m.start < prev_end || end > n || m.n_tokens <= 0 || m.offset < 0 ||
        static_cast<int64_t>(m.item.embedding->data.size()) < (m.offset + m.n_tokens) * H) {
      return InvalidArgument("media spans overlap, are empty or lie outside the prompt");
    }
    if (m.bidirectional && m.n_tokens > decoder_->max_batch()) {
      return InvalidArgument(StrFormat("an image of %lld soft tokens must be computed in one batch, but the "
                                       "batch size is %lld; raise it (--batch)",
                                       (long long)m.n_tokens, (long long)decoder_->max_batch()));
    }
    prev_end = end;
  }
  const std::vector<uint64_t> keys = PositionKeys(prompt);
  // Longest common prefix with the cache; at least the last token is recomputed for logits
  // unless the prompt is exactly what the cache already ends on.
  int64_t common = 0;
  const int64_t cached = static_cast<int64_t>(tokens_.size());
  while (common < std::min(cached, n) && tokens_[static_cast<size_t>(common)] == tokens[static_cast<size_t>(common)] &&
         keys_[static_cast<size_t>(common)] == keys[static_cast<size_t>(common)]) {
    ++common;
  }
  stats_.prompt_tokens = n;
  if (common == n && cached == n && logits_valid_) {
    stats_.reused_tokens = n;
    stats_.prefilled_tokens = 0;
    stats_.prefill_seconds = 0;
    return Status::Ok();
  }
  int64_t keep = std::min(common, n - 1);
  for (const PromptMedia& m : prompt.media) {  // never resume inside a media span
    if (m.start < keep && keep < m.start + m.n_tokens) keep = m.start;
  }
  if (keep < cached) {
    if (decoder_->CanRewindTo(keep)) {
      RETURN_IF_ERROR(decoder_->RewindTo(keep));
    } else {
      decoder_->Reset();
      keep = 0;
    }
    tokens_.resize(static_cast<size_t>(keep));
    keys_.resize(static_cast<size_t>(keep));
  }
  logits_valid_ = false;
  stats_.reused_tokens = keep;
  stats_.prefilled_tokens = 0;
  const int64_t chunk = decoder_->max_batch();
  if (!prompt.media.empty() && media_mask_.size() < static_cast<size_t>(chunk)) {
    media_rows_.assign(static_cast<size_t>(chunk * H), 0.0f);
    media_mask_.assign(static_cast<size_t>(chunk), 0);
    media_tokens_.assign(static_cast<size_t>(chunk), 0);
    group_first_.assign(static_cast<size_t>(chunk), -1);
    group_last_.assign(static_cast<size_t>(chunk), -1);
  }
  for (int64_t i = keep; i < n;) {
    if (cancel != nullptr && cancel->load(std::memory_order_relaxed)) {
      stats_.prefill_seconds = SecondsSince(start);
      return Cancelled("prefill cancelled");
    }
    int64_t m = std::min(chunk, n - i);
    for (const PromptMedia& pm : prompt.media) {  // a bidirectional image never straddles chunks
      const int64_t s = pm.start, e = pm.start + pm.n_tokens;
      if (pm.bidirectional && s > i && s < i + m && e > i + m) m = s - i;
    }
    const bool last = i + m == n;
    DecoderBatch b;
    b.tokens = tokens.data() + i;
    b.n = m;
    bool any_media = false;
    for (const PromptMedia& pm : prompt.media) {
      const int64_t s = std::max(pm.start, i), e = std::min(pm.start + pm.n_tokens, i + m);
      if (s >= e) continue;
      if (!any_media) {
        std::copy(tokens.begin() + i, tokens.begin() + i + m, media_tokens_.begin());
        std::fill(media_mask_.begin(), media_mask_.begin() + m, 0);
        std::fill(group_first_.begin(), group_first_.begin() + m, -1);
        std::fill(group_last_.begin(), group_last_.begin() + m, -1);
        any_media = true;
      }
      for (int64_t p = s; p < e; ++p) {
        const size_t row = static_cast<size_t>(p - i);
        std::copy_n(pm.row(p - pm.start), H, media_rows_.data() + row * static_cast<size_t>(H));
        media_mask_[row] = 1;
        media_tokens_[row] = 0;  // the per-layer embedding of a soft token is the pad row
        if (pm.bidirectional) {
          group_first_[row] = pm.start;
          group_last_[row] = pm.start + pm.n_tokens - 1;
        }
      }
    }
    if (any_media) {
      b.tokens = media_tokens_.data();
      b.embeddings = media_rows_.data();
      b.embedding_mask = media_mask_.data();
      b.group_first = group_first_.data();
      b.group_last = group_last_.data();
    }
    RETURN_IF_ERROR(decoder_->Forward(b, last ? LogitsMode::kLast : LogitsMode::kNone, logits_.data()));
    tokens_.insert(tokens_.end(), tokens.begin() + i, tokens.begin() + i + m);
    keys_.insert(keys_.end(), keys.begin() + i, keys.begin() + i + m);
    stats_.prefilled_tokens += m;
    stats_.total_prefilled += m;
    i += m;
    if (progress) progress(i - keep, n - keep);
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
  keys_.push_back(0);
  logits_valid_ = true;
  ++stats_.generated_tokens;
  stats_.decode_seconds += SecondsSince(start);
  return Status::Ok();
}

}  // namespace pocket
