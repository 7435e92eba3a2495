// Plain f32 reference operations for the decoder: simple, readable loops that are the oracle
// for the SIMD kernels of kernels/. Weight matrices stay in their file type and are
// dequantized one row at a time, so any supported tensor type works without copies.
#pragma once

#include <cstdint>
#include <vector>

#include "formats/tensor_info.h"

namespace pocket::ref {

// A row-major matrix view over a (possibly quantized) tensor: `rows` rows of `cols` elements,
// starting `row_offset` rows into the tensor (used to address one expert of a 3-D tensor).
struct MatView {
  const TensorInfo* t = nullptr;
  int64_t rows = 0;
  int64_t cols = 0;
  int64_t row_offset = 0;
};

// y[r] = sum_c W[r][c] * x[c], accumulated in double. `scratch` holds one dequantized row.
// For quantized and 16-bit weights the activation is first rounded through the weight's
// dot-product activation format (Q8_0, Q8_K, F16, BF16), as the int8/16-bit kernels (and
// llama.cpp) compute; this keeps the oracle and the fast kernels on the same numerics.
void MatVec(const MatView& w, const float* x, float* y, std::vector<float>* scratch);
// Dequantizes row r of w into out (cols floats).
void GetRow(const MatView& w, int64_t r, float* out);

// y = x / sqrt(mean(x^2) + eps) * weight (weight may be null: weightless norm). In place ok.
void RmsNorm(const float* x, const float* weight, int n, double eps, float* y);
float GeluTanh(float x);
// NeoX (rotate-half) RoPE on one head of size d: pairs (i, i + d/2) for i < d/2 rotate by
// pos * freqs[i] (freqs[i] == 0 leaves the pair unchanged).
void RopeNeox(float* x, int d, int64_t pos, const std::vector<double>& freqs);
void SoftmaxInPlace(float* x, int n);

}  // namespace pocket::ref
