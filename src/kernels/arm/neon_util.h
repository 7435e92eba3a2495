// Small NEON helpers shared by the files of kernels/arm/. Internal linkage on purpose, as in
// every ISA folder (scripts/check-isa-objects); include only from kernels/arm/ files.
#pragma once

#include <arm_neon.h>

#include <cstdint>

#include "tensor/fp16.h"

namespace pocket::kernels {
namespace {  // NOLINT(build/namespaces): internal linkage per ISA file, see above

// Four elements [i, i + 4) of a row of kType (0 f32, 1 f16, 2 bf16) as f32, and one element.
template <int kType>
inline float32x4_t Load4(const void* row, int64_t i) {
  if constexpr (kType == 0) return vld1q_f32(static_cast<const float*>(row) + i);
  const uint16x4_t h = vld1_u16(static_cast<const uint16_t*>(row) + i);
  if constexpr (kType == 1) return vcvt_f32_f16(vreinterpret_f16_u16(h));
  return vreinterpretq_f32_u32(vshll_n_u16(h, 16));
}
template <int kType>
inline float Load1(const void* row, int64_t i) {
  if constexpr (kType == 0) return static_cast<const float*>(row)[i];
  const uint16_t h = static_cast<const uint16_t*>(row)[i];
  return kType == 1 ? F16ToF32(h) : BF16ToF32(h);
}

}  // namespace
}  // namespace pocket::kernels
