// Tensor element types: every ggml type id a GGUF file may carry, plus the safetensors-only
// integer/bool types. Block geometry lives here; the numeric formats live in quant/.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/status.h"

namespace pocket {

// Values equal ggml's type ids so GGUF ids map 1:1. Types that exist only in safetensors use
// ids >= 1000 and never appear in a GGUF.
enum class DType : int32_t {
  kF32 = 0,
  kF16 = 1,
  kQ4_0 = 2,
  kQ4_1 = 3,
  kQ5_0 = 6,
  kQ5_1 = 7,
  kQ8_0 = 8,
  kQ8_1 = 9,
  kQ2_K = 10,
  kQ3_K = 11,
  kQ4_K = 12,
  kQ5_K = 13,
  kQ6_K = 14,
  kQ8_K = 15,
  kIQ2_XXS = 16,
  kIQ2_XS = 17,
  kIQ3_XXS = 18,
  kIQ1_S = 19,
  kIQ4_NL = 20,
  kIQ3_S = 21,
  kIQ2_S = 22,
  kIQ4_XS = 23,
  kI8 = 24,
  kI16 = 25,
  kI32 = 26,
  kI64 = 27,
  kF64 = 28,
  kIQ1_M = 29,
  kBF16 = 30,
  kTQ1_0 = 34,
  kTQ2_0 = 35,
  kMXFP4 = 39,
  kNVFP4 = 40,
  // safetensors-only
  kU8 = 1000,
  kBool = 1001,
  kU16 = 1002,
  kU32 = 1003,
  kU64 = 1004,
};

struct DTypeTraits {
  const char* name;        // ggml spelling ("Q4_K", "F32", ...)
  int64_t block_elems;     // elements per block (1 for plain types)
  int64_t block_bytes;     // bytes per block
  bool quantized;          // block-quantized format
  bool can_dequantize;     // pocket has a scalar dequantizer for it
};

// Returns null for ids that are not a known type.
const DTypeTraits* GetDTypeTraits(DType t);
const DTypeTraits* GetDTypeTraitsById(int64_t ggml_id);
const char* DTypeName(DType t);
// Parses "Q4_K", "q4_k", "F16", "BF16"...
Result<DType> ParseDTypeName(std::string_view name);

// Bytes of one row of `n_elems` elements; error if n_elems is not a whole number of blocks
// or the size overflows.
Result<uint64_t> RowBytes(DType t, int64_t n_elems);

// Bytes of a tensor with ggml shape ne[0..n_dims) (ne[0] contiguous). Checks each dim >= 0,
// the block rule on ne[0], and overflow of the product.
Result<uint64_t> TensorBytes(DType t, const int64_t* ne, int n_dims);

}  // namespace pocket
