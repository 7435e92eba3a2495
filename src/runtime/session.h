// Session: one conversation's decoding state on a shared Model — the decoder with its KV
// cache, the tokens the cache holds, the logits of the last one, and timing stats.
//
// Prefill(tokens) makes the context equal `tokens`, reusing the longest prefix already in the
// cache: a follow-up chat turn only computes its new tokens, and a prompt that diverges near
// the end rewinds instead of starting over (when the sliding-window rings still hold what is
// needed; else it re-prefills from scratch). Borrows the Model and the pool (they outlive
// it); owns the decoder. Not thread-safe: one thread drives a session.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "base/thread_pool.h"
#include "runtime/decoder.h"
#include "runtime/model.h"
#include "runtime/prompt.h"

namespace pocket {

struct SessionOptions {
  int64_t n_ctx = 4096;     // clamped to the model's context length
  int64_t batch = 512;      // prefill chunk
  kernels::KvType kv_type = kernels::KvType::kF32;
};

struct SessionStats {
  int64_t prompt_tokens = 0;     // last Prefill: tokens asked for
  int64_t reused_tokens = 0;     // last Prefill: found in the cache
  int64_t prefilled_tokens = 0;  // last Prefill: computed
  int64_t total_prefilled = 0;   // whole session
  int64_t generated_tokens = 0;  // whole session (Append calls)
  double prefill_seconds = 0;    // last Prefill
  double decode_seconds = 0;     // whole session
};

class Session {
 public:
  using Progress = std::function<void(int64_t done, int64_t total)>;

  static Result<std::unique_ptr<Session>> Create(const Model& model, ThreadPool* pool,
                                                 const SessionOptions& options);

  // Makes the context hold exactly `tokens` (non-empty) and leaves the logits of the last
  // one in logits(). `cancel` (optional) is checked between chunks: Cancelled state leaves
  // the session holding a valid prefix. OutOfRange if `tokens` exceeds the context.
  Status Prefill(const std::vector<int32_t>& tokens, const Progress& progress = {},
                 const std::atomic<bool>* cancel = nullptr);
  // The same with media: soft tokens fill their spans (a bidirectional image is computed in
  // one chunk, so it must fit the batch size). A cached prefix is reused only where the
  // media are the same (by content key).
  Status Prefill(const Prompt& prompt, const Progress& progress = {},
                 const std::atomic<bool>* cancel = nullptr);
  // Feeds one more token (usually the one just sampled) and computes its logits.
  Status Append(int32_t token);
  // Drops the whole context.
  void Reset();
  // Keeps only the first n_tokens of the context (n_tokens <= tokens().size()); logits() is
  // stale until the next Prefill or Append. OutOfRange where the sliding-window rings no
  // longer hold what the kept tokens need (Prefill then recomputes instead).
  Status Rewind(int64_t n_tokens);

  float* logits() { return logits_.data(); }
  const std::vector<int32_t>& tokens() const { return tokens_; }
  int64_t n_ctx() const { return decoder_->n_ctx(); }
  const SessionStats& stats() const { return stats_; }
  const Model& model() const { return model_; }
  const Decoder& decoder() const { return *decoder_; }

 private:
  Session(const Model& model, std::unique_ptr<Decoder> decoder);

  const Model& model_;
  std::unique_ptr<Decoder> decoder_;
  std::vector<int32_t> tokens_;  // what the cache holds, in order
  std::vector<uint64_t> keys_;   // per position: 0 for text, a content key for soft tokens
  // Chunk buffers for prompts with media (allocated on first use).
  std::vector<float> media_rows_;
  std::vector<uint8_t> media_mask_;
  std::vector<int32_t> media_tokens_;
  std::vector<int64_t> group_first_, group_last_;
  std::vector<float> logits_;    // of tokens_.back(), when logits_valid_
  bool logits_valid_ = false;
  SessionStats stats_;
};

}  // namespace pocket
