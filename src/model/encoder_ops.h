// Building blocks shared by the vision and audio encoders: clippable linears (spec
// gemma4-multimodal.md §3.7), matrix products through the kernel table and thread pool,
// row-wise norms, and full (bidirectional) attention computed per head as NN GEMMs over blocks
// of queries, so memory stays O(block × keys) however many patches an image has.
//
// EncoderOps borrows the kernel table and pool and owns reusable scratch buffers; one
// instance per encoder call chain, not thread-safe. Model code: no SIMD here, only kernels.
#pragma once

#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "base/thread_pool.h"
#include "kernels/kernels.h"
#include "kernels/matmul.h"
#include "kernels/packed.h"
#include "model/binder.h"

namespace pocket {

// y = clamp(W · clamp(x, in_min, in_max), out_min, out_max); bounds default to ±inf.
struct ClippedLinear {
  ref::MatView w;
  float in_min = -std::numeric_limits<float>::infinity();
  float in_max = std::numeric_limits<float>::infinity();
  float out_min = -std::numeric_limits<float>::infinity();
  float out_max = std::numeric_limits<float>::infinity();
  bool clips_input() const { return in_min > -3e38f || in_max < 3e38f; }
  bool clips_output() const { return out_min > -3e38f || out_max < 3e38f; }
};

// An f32 copy of a matrix, owned (heap-allocated so views into it survive moves).
struct OwnedMatrix {
  TensorInfo info;
  std::vector<float> data;
};
// Replaces `view` by an f32 copy when its type is not F32 — for the first projection of raw
// pixels, where rounding the activations through F16/int8 (as the dot kernels of those types
// do) would cost ~1e-3 against transformers. `holder` keeps the copy alive.
Status PromoteToF32(ref::MatView* view, std::shared_ptr<OwnedMatrix>* holder);

// Binds `<prefix>.weight` as [rows, cols] and its optional `<prefix>.input_min` ... bounds.
Status BindClippedLinear(Binder& b, const std::string& prefix, int64_t rows, int64_t cols,
                         ClippedLinear* out);

class EncoderOps {
 public:
  // `packed` (may be null, borrowed) holds repacked copies of the matrices MatMul is given.
  EncoderOps(const kernels::KernelTable& k, ThreadPool* pool,
             const kernels::PackedWeights* packed = nullptr)
      : k_(k), pool_(pool), packed_(packed) {}

  const kernels::KernelTable& k() const { return k_; }
  ThreadPool* pool() const { return pool_; }
  int threads() const { return pool_ ? pool_->size() : 1; }

  // y[n, w.rows] = x'[n, w.cols] · Wᵀ, x' = x or x clamped to `clamp` (x is unchanged).
  void MatMul(const ref::MatView& w, const float* x, int64_t n, float* y,
              const kernels::InputClamp* clamp = nullptr);
  // The same through a clippable linear (x is unchanged).
  void Linear(const ClippedLinear& l, const float* x, int64_t n, float* y);
  // Adds bias[cols] to every row of y[n, cols].
  void AddBias(const std::vector<float>& bias, int64_t n, int64_t cols, float* y);
  // RMSNorm of each row of width `cols` (weight may be null), in place allowed.
  void RmsNormRows(const float* x, const float* weight, int64_t n, int64_t cols, double eps,
                   float* y);
  // Mean-subtracting LayerNorm of each row (bias may be null), in place allowed.
  void LayerNormRows(const float* x, const float* weight, const float* bias, int64_t n,
                     int64_t cols, double eps, float* y);
  // out[q, h, :] = Σ_k softmax_k(scale · q[q,h]·k[k,h]) v[k,h]: every query sees every key.
  // q/k/v/out are [n, n_head, d] row-major.
  void FullAttention(const float* q, const float* k, const float* v, int64_t n, int n_head, int d,
                     float scale, float* out);

  template <typename Fn>
  void ForRows(int64_t n, Fn&& fn) {
    if (pool_ && n >= 4) {
      pool_->ParallelFor(n, [&](int64_t t, int) { fn(t); });
    } else {
      for (int64_t t = 0; t < n; ++t) fn(t);
    }
  }

 private:
  const kernels::KernelTable& k_;
  ThreadPool* pool_;
  const kernels::PackedWeights* packed_;
  kernels::MatMulScratch mm_;
  std::vector<float> scores_;                     // [query block][keys]
  std::vector<float> head_kt_, head_v_, head_q_;  // one head: Kᵀ [d, n], V [n, d], Q block
};

}  // namespace pocket
