#include "tensor/dtype.h"

#include <cctype>
#include <limits>

namespace pocket {
namespace {

struct Entry {
  DType type;
  DTypeTraits traits;
};

constexpr Entry kTypes[] = {
    {DType::kF32, {"F32", 1, 4, false, true}},
    {DType::kF16, {"F16", 1, 2, false, true}},
    {DType::kQ4_0, {"Q4_0", 32, 18, true, true}},
    {DType::kQ4_1, {"Q4_1", 32, 20, true, true}},
    {DType::kQ5_0, {"Q5_0", 32, 22, true, true}},
    {DType::kQ5_1, {"Q5_1", 32, 24, true, true}},
    {DType::kQ8_0, {"Q8_0", 32, 34, true, true}},
    {DType::kQ8_1, {"Q8_1", 32, 36, true, true}},
    {DType::kQ2_K, {"Q2_K", 256, 84, true, true}},
    {DType::kQ3_K, {"Q3_K", 256, 110, true, true}},
    {DType::kQ4_K, {"Q4_K", 256, 144, true, true}},
    {DType::kQ5_K, {"Q5_K", 256, 176, true, true}},
    {DType::kQ6_K, {"Q6_K", 256, 210, true, true}},
    {DType::kQ8_K, {"Q8_K", 256, 292, true, true}},
    {DType::kIQ2_XXS, {"IQ2_XXS", 256, 66, true, false}},
    {DType::kIQ2_XS, {"IQ2_XS", 256, 74, true, false}},
    {DType::kIQ3_XXS, {"IQ3_XXS", 256, 98, true, false}},
    {DType::kIQ1_S, {"IQ1_S", 256, 50, true, false}},
    {DType::kIQ4_NL, {"IQ4_NL", 32, 18, true, true}},
    {DType::kIQ3_S, {"IQ3_S", 256, 110, true, false}},
    {DType::kIQ2_S, {"IQ2_S", 256, 82, true, false}},
    {DType::kIQ4_XS, {"IQ4_XS", 256, 136, true, true}},
    {DType::kI8, {"I8", 1, 1, false, true}},
    {DType::kI16, {"I16", 1, 2, false, true}},
    {DType::kI32, {"I32", 1, 4, false, true}},
    {DType::kI64, {"I64", 1, 8, false, true}},
    {DType::kF64, {"F64", 1, 8, false, true}},
    {DType::kIQ1_M, {"IQ1_M", 256, 56, true, false}},
    {DType::kBF16, {"BF16", 1, 2, false, true}},
    {DType::kTQ1_0, {"TQ1_0", 256, 54, true, false}},
    {DType::kTQ2_0, {"TQ2_0", 256, 66, true, false}},
    {DType::kMXFP4, {"MXFP4", 32, 17, true, true}},
    {DType::kNVFP4, {"NVFP4", 64, 36, true, false}},
    {DType::kU8, {"U8", 1, 1, false, true}},
    {DType::kBool, {"BOOL", 1, 1, false, true}},
    {DType::kU16, {"U16", 1, 2, false, true}},
    {DType::kU32, {"U32", 1, 4, false, true}},
    {DType::kU64, {"U64", 1, 8, false, true}},
};

}  // namespace

const DTypeTraits* GetDTypeTraits(DType t) {
  for (const Entry& e : kTypes) {
    if (e.type == t) return &e.traits;
  }
  return nullptr;
}

const DTypeTraits* GetDTypeTraitsById(int64_t ggml_id) {
  if (ggml_id < 0 || ggml_id >= 1000) return nullptr;  // safetensors-only ids never in GGUF
  return GetDTypeTraits(static_cast<DType>(ggml_id));
}

const char* DTypeName(DType t) {
  const DTypeTraits* tr = GetDTypeTraits(t);
  return tr ? tr->name : "?";
}

Result<DType> ParseDTypeName(std::string_view name) {
  std::string upper(name);
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  for (const Entry& e : kTypes) {
    if (upper == e.traits.name) return e.type;
  }
  return InvalidArgument("unknown tensor type '" + std::string(name) + "'");
}

Result<uint64_t> RowBytes(DType t, int64_t n_elems) {
  const DTypeTraits* tr = GetDTypeTraits(t);
  if (tr == nullptr) return InvalidArgument(StrFormat("unknown type id %d", static_cast<int>(t)));
  if (n_elems < 0) return DataLoss(StrFormat("negative row length %lld", (long long)n_elems));
  if (n_elems % tr->block_elems != 0) {
    return DataLoss(StrFormat("row length %lld is not a multiple of the %s block size %lld",
                              (long long)n_elems, tr->name, (long long)tr->block_elems));
  }
  return static_cast<uint64_t>(n_elems / tr->block_elems) * static_cast<uint64_t>(tr->block_bytes);
}

Result<uint64_t> TensorBytes(DType t, const int64_t* ne, int n_dims) {
  if (n_dims < 0) return DataLoss("negative dimension count");
  for (int i = 0; i < n_dims; ++i) {
    if (ne[i] < 0) return DataLoss(StrFormat("dimension %d is negative (%lld)", i, (long long)ne[i]));
  }
  const int64_t n0 = n_dims > 0 ? ne[0] : 1;
  ASSIGN_OR_RETURN(uint64_t bytes, RowBytes(t, n0));
  constexpr uint64_t kMax = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
  for (int i = 1; i < n_dims; ++i) {
    const uint64_t d = static_cast<uint64_t>(ne[i]);
    if (d != 0 && bytes > kMax / d) return DataLoss("tensor size overflows 64 bits");
    bytes *= d;
  }
  // Element count must also fit (used for f32 buffers).
  uint64_t elems = 1;
  for (int i = 0; i < n_dims; ++i) {
    const uint64_t d = static_cast<uint64_t>(ne[i]);
    if (d != 0 && elems > kMax / d) return DataLoss("tensor element count overflows 64 bits");
    elems *= d;
  }
  return bytes;
}

}  // namespace pocket
