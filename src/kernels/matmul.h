// MatMul: Y = X · Wᵀ for a weight matrix in its file type and a batch of f32 activation rows,
// multi-threaded over (row chunk × token block) tiles through the kernel table. Activations
// are encoded once per call into the weight type's activation format (int8 for quantized
// weights), so decode (one row) and prefill (many rows) share one code path.
#pragma once

#include <cstdint>
#include <vector>

#include "base/thread_pool.h"
#include "kernels/kernels.h"

namespace pocket::kernels {

// A weight matrix view into mapped (or repacked) memory. Not owning. Row-major, or in the
// packed layout of kernels/packed.h (groups of kPackRows rows, rows * row_bytes bytes).
struct WeightMatrix {
  DType type = DType::kF32;
  const uint8_t* data = nullptr;
  int64_t rows = 0;
  int64_t cols = 0;
  uint64_t row_bytes = 0;
  bool packed = false;
};

// Reusable buffers of one MatMul caller. Grows to the largest call and is then reused: the
// token loop allocates nothing once warmed up.
struct MatMulScratch {
  std::vector<uint8_t> act;
  std::vector<uint8_t> act_info;  // packed weights only (ActivationInfos)
  std::vector<float> clamped;     // one activation row per thread (InputClamp only)
};

// Bounds every activation is clamped to before it is encoded (the encoders' clipped linears).
struct InputClamp {
  float lo, hi;
};

// y[t * ldy + r] = Σ_c W[r][c] · x'[t * ldx + c], for t < n_tok, r < w.rows, where x' is x,
// or x clamped to [clamp->lo, clamp->hi] when `clamp` is given (x itself is not modified).
// `pool` may be null (single-threaded). W's type must satisfy HasMatMulKernel.
void MatMul(const KernelTable& k, ThreadPool* pool, const WeightMatrix& w, const float* x,
            int64_t ldx, int64_t n_tok, float* y, int64_t ldy, MatMulScratch* scratch,
            const InputClamp* clamp = nullptr);

}  // namespace pocket::kernels
