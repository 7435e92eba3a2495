// The four-byte dot-product step of the ARM integer kernels (packed_tiles.h, row_dots.h):
// SDOT where the including file is built with +dotprod (POCKET_ARM_SDOT 1), else the same
// integers from widening multiplies (POCKET_ARM_SDOT 0, every ARMv8-A core). Internal linkage,
// as in every ISA folder (scripts/check-isa-objects).
#pragma once

#include <arm_neon.h>

#include <utility>

#ifndef POCKET_ARM_SDOT
#error "define POCKET_ARM_SDOT (1: ARMv8.2 dot product, 0: baseline NEON) before including"
#endif

namespace pocket::kernels {
namespace {  // NOLINT(build/namespaces): internal linkage per ISA file, see above

// acc[i] += Σ_k w[4i + k] · a[4i + k] (k < 4): SDOT, or its emulation by two widening
// multiplies, a pairwise add (two products of int8 values below 128 x 127 fit int16) and a
// pairwise accumulate; the same integers either way.
inline int32x4_t Dot(int32x4_t acc, int8x16_t w, int8x16_t a) {
#if POCKET_ARM_SDOT
  return vdotq_s32(acc, w, a);
#else
  const int16x8_t pairs = vpaddq_s16(vmull_s8(vget_low_s8(w), vget_low_s8(a)), vmull_high_s8(w, a));
  return vpadalq_s16(acc, pairs);
#endif
}

// The same with the four activation bytes a[4L .. 4L + 3] for every lane.
template <int L>
inline int32x4_t DotLane(int32x4_t acc, int8x16_t w, int8x16_t a) {
#if POCKET_ARM_SDOT
  return vdotq_laneq_s32(acc, w, a, L);
#else
  return Dot(acc, w, vreinterpretq_s8_s32(vdupq_laneq_s32(vreinterpretq_s32_s8(a), L)));
#endif
}

// Calls f.template operator()<J>() for J = 0 .. N-1: SDOT's lane index must be a constant.
template <int N, typename F>
inline void Unroll(F&& f) {
  [&]<int... J>(std::integer_sequence<int, J...>) { (f.template operator()<J>(), ...); }
  (std::make_integer_sequence<int, N>{});
}

}  // namespace
}  // namespace pocket::kernels
