// Helpers shared by the AVX-512 kernel files (x86/avx512_*.cc, compiled with the AVX2 flags and
// -mavx512f -mavx512bw -mavx512vl); include only from those. Internal linkage, as everything
// in the ISA files (see packed_frame.h for why).
#pragma once

#if defined(__GNUC__) && !defined(__clang__)
// GCC 12's AVX-512 intrinsics pass an "undefined" vector as the unused merge operand and then
// warn that it is uninitialised (GCC bug 105593, fixed in 13).
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#endif
#include <immintrin.h>

#include <cstdint>
#include <cstring>

namespace pocket::kernels {
namespace {  // NOLINT(build/namespaces): internal linkage per ISA file

// Element i of a row of kType (0 f32, 1 f16, 2 bf16) as f32.
template <int kType>
inline float LoadElem(const uint8_t* row, int64_t i) {
  if constexpr (kType == 0) return reinterpret_cast<const float*>(row)[i];
  const uint16_t h = reinterpret_cast<const uint16_t*>(row)[i];
  if constexpr (kType == 1) return _cvtsh_ss(h);
  const uint32_t bits = static_cast<uint32_t>(h) << 16;
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

// Sixteen bf16 values as f32.
inline __m512 Bf16ToF32x16(__m256i h) {
  return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
}

// Elements [i, i + 16) of a row of kType as f32.
template <int kType>
inline __m512 Load16(const uint8_t* row, int64_t i) {
  if constexpr (kType == 0) return _mm512_loadu_ps(reinterpret_cast<const float*>(row) + i);
  const __m256i h = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(row + 2 * i));
  if constexpr (kType == 1) return _mm512_cvtph_ps(h);
  return Bf16ToF32x16(h);
}

}  // namespace
}  // namespace pocket::kernels
