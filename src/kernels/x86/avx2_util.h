// Small helpers shared by the AVX2 kernel files (each compiled with -mavx2 -mfma -mf16c);
// include only from kernels/x86/.
#pragma once

#include <immintrin.h>

#include <cstdint>

namespace pocket::kernels::avx2 {

// F16C hardware conversion (exact for every half, subnormals included); the portable
// F16ToF32 of tensor/fp16.h is branchy and shows up in profiles of the dot products.
inline float HalfToFloat(uint16_t h) { return _cvtsh_ss(h); }

// Horizontal sum of eight lanes (a fixed order: kernels that must agree bit for bit use it).
inline float HSum(__m256 v) {
  __m128 lo = _mm256_castps256_ps128(v);
  const __m128 hi = _mm256_extractf128_ps(v, 1);
  lo = _mm_add_ps(lo, hi);
  __m128 sh = _mm_movehdup_ps(lo);
  lo = _mm_add_ps(lo, sh);
  sh = _mm_movehl_ps(sh, lo);
  lo = _mm_add_ss(lo, sh);
  return _mm_cvtss_f32(lo);
}

// Eight f16 / bf16 values as f32.
inline __m256 LoadF16(const uint16_t* p) {
  return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
}
inline __m256 LoadBF16(const uint16_t* p) {
  const __m256i w = _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
  return _mm256_castsi256_ps(_mm256_slli_epi32(w, 16));
}

}  // namespace pocket::kernels::avx2
