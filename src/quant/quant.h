// Scalar reference (de)quantization for every supported tensor type.
//
// These are the oracles: bit-exact with ggml's reference routines (checked against
// ../shared/golden/quant). Fast SIMD kernels live in kernels/ and are tested against these.
// All functions are pure and thread-safe.
#pragma once

#include <cstdint>

#include "base/status.h"
#include "tensor/dtype.h"

namespace pocket {

// Converts `n` elements of type `t` at `src` to f32. `n` must be a whole number of blocks.
// Unimplemented for the grid-table IQ1/IQ2/IQ3 types, TQ and NVFP4.
Status DequantizeRow(DType t, const void* src, float* dst, int64_t n);

// Encodes `n` f32 values into type `t` at `dst` (RowBytes(t, n) bytes), exactly as ggml's
// reference quantizers do without an importance matrix.
Status QuantizeRow(DType t, const float* src, void* dst, int64_t n);

bool CanDequantize(DType t);
bool CanQuantize(DType t);

}  // namespace pocket
