// ReferenceDecoder: the Gemma 4 text decoder written as plain, readable f32 loops, one token
// at a time (spec gemma4-text.md §3–§5). It is the oracle the fast kernels are tested
// against, not the fast path: every matrix row is dequantized on the fly and accumulated in
// double. Supports every mechanism: PLE, sliding/full layers with their own head dims and
// RoPE, k_eq_v, KV sharing, double-wide MLP, MoE, layer scalars, final softcap.
//
// Owns its KV cache (full length, f32). Borrows the weights, which must outlive it.
// Not thread-safe. Cost per token: O(params + context * layers * heads * head_dim).
#pragma once

#include <vector>

#include "model/config.h"
#include "model/weights.h"

namespace pocket {

class ReferenceDecoder {
 public:
  ReferenceDecoder(const Gemma4TextConfig& config, const Gemma4Weights& weights, int64_t max_positions);

  // Feeds one token at the next position and writes n_vocab logits (soft-capped).
  Status Step(int32_t token, float* logits);
  int64_t position() const { return pos_; }
  void Reset() { pos_ = 0; }

 private:
  void Attention(int il, const float* a, float* out);
  void Moe(const LayerWeights& l, const float* h1, float* out);

  const Gemma4TextConfig& c_;
  const Gemma4Weights& w_;
  int64_t max_pos_;
  int64_t pos_ = 0;
  std::vector<std::vector<float>> k_cache_, v_cache_;  // per layer owning KV: [pos][n_kv * d]
  std::vector<double> freqs_swa_, freqs_full_;
  std::vector<float> scratch_;
};

}  // namespace pocket
