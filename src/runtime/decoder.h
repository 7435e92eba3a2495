// Decoder: the fast Gemma 4 text decoder. Runs chunks of tokens (prefill) or one token
// (decode) through the kernel table and the thread pool, with an architecture-sized KV cache.
// Every chunk size gives the same logits as token-by-token decoding, up to float rounding.
//
// Borrows the config, weights and pool (they must outlive it); owns its KV cache and all
// activation buffers, allocated at creation for `max_batch` tokens, so the token loop does
// not allocate. Not thread-safe: one Decoder per conversation.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "base/thread_pool.h"
#include "kernels/attention.h"
#include "kernels/matmul.h"
#include "kernels/packed.h"
#include "model/config.h"
#include "model/weights.h"
#include "runtime/kv_cache.h"
#include "runtime/profile.h"

namespace pocket {

struct DecoderOptions {
  int64_t n_ctx = 4096;     // positions the KV cache holds
  int64_t max_batch = 512;  // largest chunk one Forward call takes
  kernels::KvType kv_type = kernels::KvType::kF32;
  const kernels::KernelTable* kernels = nullptr;  // null: the best table for this CPU
  // The model's repacked matrices (PackDecoderWeights), or null: plain mapped rows. Borrowed.
  const kernels::PackedWeights* packed = nullptr;
};

// Repacks the decoder's matrices (every one the packed kernels take) for `k`, releasing the
// mapped originals' pages from `ws` as it goes. The result outlives every Decoder using it.
std::unique_ptr<kernels::PackedWeights> PackDecoderWeights(const Gemma4Weights& w,
                                                           const WeightSource& ws,
                                                           const kernels::KernelTable& k,
                                                           ThreadPool* pool);

// One chunk of input. Rows with embedding_mask[i] != 0 take embeddings[i] (a soft token
// from a vision/audio encoder, not scaled) instead of E[token]·√H; their token id is what
// the per-layer embedding looks up (pad, 0, for soft tokens).
struct DecoderBatch {
  const int32_t* tokens = nullptr;
  int64_t n = 0;
  const float* embeddings = nullptr;        // [n, n_embd] or null
  const uint8_t* embedding_mask = nullptr;  // [n] or null
  // Bidirectional image groups for sliding layers (config image_bidirectional): absolute
  // first/last position of the row's group, -1 for none. [n] each, or null. A group must lie
  // inside the chunk.
  const int64_t* group_first = nullptr;
  const int64_t* group_last = nullptr;
};

enum class LogitsMode { kNone, kLast, kAll };

class Decoder {
 public:
  static Result<std::unique_ptr<Decoder>> Create(const Gemma4TextConfig& config,
                                                 const Gemma4Weights& weights, ThreadPool* pool,
                                                 const DecoderOptions& options);
  ~Decoder();  // prints the profile when POCKET_PROFILE is set (runtime/profile.h)

  // Runs one chunk (n <= max_batch) at the next positions. `logits` receives [n_vocab]
  // (kLast) or [n, n_vocab] (kAll) soft-capped logits.
  Status Forward(const DecoderBatch& batch, LogitsMode mode, float* logits);
  // Runs any number of tokens in chunks of max_batch (or `chunk` if smaller and > 0).
  Status Eval(const int32_t* tokens, int64_t n, LogitsMode mode, float* logits, int64_t chunk = 0);

  int64_t position() const { return pos_; }
  // Forgets the context (the cache memory is kept).
  void Reset() { pos_ = 0; }
  // True if the context can be cut back to its first `pos` positions without losing keys a
  // later query needs. Full-attention layers keep every position; a sliding-window ring
  // shorter than the context can drop at most max_batch positions (what it holds beyond the
  // window). Always true for pos == position().
  bool CanRewindTo(int64_t pos) const;
  // Cuts the context back to `pos` positions (the next token goes at `pos`).
  Status RewindTo(int64_t pos);
  int64_t n_ctx() const { return opt_.n_ctx; }
  int64_t max_batch() const { return opt_.max_batch; }
  const KvCache& kv_cache() const { return kv_; }
  const Gemma4TextConfig& config() const { return c_; }
  int64_t n_vocab() const { return c_.n_vocab; }

 private:
  Decoder(const Gemma4TextConfig& c, const Gemma4Weights& w, ThreadPool* pool,
          const DecoderOptions& o, KvCache kv);
  void AllocateBuffers();
  void Embed(const DecoderBatch& b);
  void PerLayerInputs(const DecoderBatch& b);
  void AttentionBlock(int il, int64_t n);
  void MlpBlock(int il, int64_t n);
  void MoeBlock(int il, int64_t n);
  void PleBlock(int il, int64_t n);
  void RopeRows(float* x, int64_t n, int n_heads, int d, const std::vector<float>& cs);
  void MatMul(const ref::MatView& w, const float* x, int64_t n, float* y);
  template <typename Fn>
  void ForTokens(int64_t n, Fn&& fn);

  const Gemma4TextConfig& c_;
  const Gemma4Weights& w_;
  ThreadPool* pool_;
  DecoderOptions opt_;
  KvCache kv_;
  const kernels::KernelTable& k_;
  int64_t pos_ = 0;
  const int64_t* group_first_ = nullptr;  // of the chunk being run
  const int64_t* group_last_ = nullptr;

  // Activations for up to max_batch tokens (row-major [token][...]).
  std::vector<float> h_, a_, q_, kbuf_, vbuf_, attn_, o_, x_, gate_, up_, m_;
  std::vector<float> ple_, ple_tok_, ple_gate_;
  std::vector<float> moe_out_, moe_in_, router_, moe_x_, moe_gate_, moe_up_, moe_y_;
  std::vector<int32_t> moe_sel_;                // [n, k] selected experts
  std::vector<float> moe_w_;                    // [n, k] their weights
  std::vector<int32_t> moe_rows_;               // tokens routed to the current expert
  std::vector<float> rope_swa_, rope_full_;     // [n][d/2][cos, sin]
  std::vector<double> freqs_swa_, freqs_full_;  // per pair; 0 = not rotated
  kernels::MatMulScratch mm_scratch_;
  kernels::AttentionScratch attn_scratch_;
  std::unique_ptr<PhaseProfile> profile_;  // null unless POCKET_PROFILE is set
  bool decoding_ = false;                  // the chunk being run is one token (for profile_)
};

}  // namespace pocket
