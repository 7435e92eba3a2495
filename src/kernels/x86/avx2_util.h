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

// ---- Integer helpers of the quantized dot products. ----

// 16 bytes of nibbles as 32 codes in block element order: the low nibbles of bytes 0..15
// (elements 0..15), then the high nibbles (elements 16..31).
inline __m256i Nibbles(const uint8_t* qs) {
  const __m128i raw = _mm_loadu_si128(reinterpret_cast<const __m128i*>(qs));
  return _mm256_and_si256(_mm256_set_m128i(_mm_srli_epi16(raw, 4), raw), _mm256_set1_epi8(0x0F));
}

// A 16-entry int8 codebook in both 128-bit lanes, for pshufb lookups.
inline __m256i Table16(const int8_t* values) {
  const __m128i t = _mm_loadu_si128(reinterpret_cast<const __m128i*>(values));
  return _mm256_set_m128i(t, t);
}

// Σ x·y of 32 signed bytes as 8 int32 lanes (sign trick: |x| unsigned times y signed by x).
inline __m256i DotS8(__m256i x, __m256i y) {
  const __m256i p16 = _mm256_maddubs_epi16(_mm256_sign_epi8(x, x), _mm256_sign_epi8(y, x));
  return _mm256_madd_epi16(p16, _mm256_set1_epi16(1));
}

// Σ of 32 signed bytes as 8 int32 lanes.
inline __m256i SumS8(__m256i y) {
  return _mm256_madd_epi16(_mm256_maddubs_epi16(_mm256_set1_epi8(1), y), _mm256_set1_epi16(1));
}

// Σ q·a over 32 unsigned codes `q` (< 128) and the 32 int8 activations at a, each 16-element
// half weighted by its int16 scale (Scales16), as 8 int32 lanes.
inline __m256i ScaledDotU8(__m256i q, const int8_t* a, __m256i scales) {
  const __m256i av = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a));
  return _mm256_madd_epi16(_mm256_maddubs_epi16(q, av), scales);
}

// int16 scales for ScaledDotU8: `lo` for elements 0..15, `hi` for 16..31.
inline __m256i Scales16(int lo, int hi) {
  return _mm256_set_m128i(_mm_set1_epi16(static_cast<int16_t>(hi)),
                          _mm_set1_epi16(static_cast<int16_t>(lo)));
}

// Horizontal sum of eight int32 lanes, as a float.
inline float HSumI32(__m256i v) {
  __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4E));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xB1));
  return static_cast<float>(_mm_cvtsi128_si32(s));
}

// C[r][n + c] (+)= Σ_k A[r * lda + k] · B_k[n + c] for r < MR and every whole 16-column strip
// n + 16 <= N (c < 16): MR x 2 accumulators while the K rows stream past, one broadcast of A
// per row and step, each output one FMA per k in k order (so any blocking of K or N gives the
// same bits). Row k of B starts b_stride bytes after row k - 1 at b; load_b(row, n) returns
// its elements [n, n + 8) as f32 (an f32 row, or an f16/bf16 KV row converted). The strip loop
// stays inside and the two vectors are spelled out: as a function per 16-column tile, or with an
// [MR][NV] loop, GCC 12 -O3 kept the accumulators on the stack (half the speed). Returns the
// columns done (N rounded down to 16).
template <int MR, bool kAccumulate, typename LoadB>
inline int64_t FmaStrips16(int64_t N, int64_t K, const float* A, int64_t lda, const uint8_t* b,
                           uint64_t b_stride, LoadB load_b, float* C, int64_t ldc) {
  int64_t n = 0;
  for (; n + 16 <= N; n += 16) {
    __m256 acc[MR][2];
    for (int r = 0; r < MR; ++r) {
      acc[r][0] = kAccumulate ? _mm256_loadu_ps(C + r * ldc + n) : _mm256_setzero_ps();
      acc[r][1] = kAccumulate ? _mm256_loadu_ps(C + r * ldc + n + 8) : _mm256_setzero_ps();
    }
    const uint8_t* row = b;
    for (int64_t k = 0; k < K; ++k, row += b_stride) {
      const __m256 b0 = load_b(row, n), b1 = load_b(row, n + 8);
      for (int r = 0; r < MR; ++r) {
        const __m256 a = _mm256_broadcast_ss(A + r * lda + k);
        acc[r][0] = _mm256_fmadd_ps(a, b0, acc[r][0]);
        acc[r][1] = _mm256_fmadd_ps(a, b1, acc[r][1]);
      }
    }
    for (int r = 0; r < MR; ++r) {
      _mm256_storeu_ps(C + r * ldc + n, acc[r][0]);
      _mm256_storeu_ps(C + r * ldc + n + 8, acc[r][1]);
    }
  }
  return n;
}

// FmaStrips16 for one or two rows of A over 32-column strips: MR x 4 accumulators, so that
// enough independent FMA chains run (MR x 2 leaves the FMA units waiting on latency). Same
// operations per output element; returns the columns done (N rounded down to 32).
template <int MR, bool kAccumulate, typename LoadB>
inline int64_t FmaStrips32(int64_t N, int64_t K, const float* A, int64_t lda, const uint8_t* b,
                           uint64_t b_stride, LoadB load_b, float* C, int64_t ldc) {
  static_assert(MR == 1 || MR == 2);
  int64_t n = 0;
  for (; n + 32 <= N; n += 32) {
    __m256 acc[MR][4];
    for (int r = 0; r < MR; ++r) {
      acc[r][0] = kAccumulate ? _mm256_loadu_ps(C + r * ldc + n) : _mm256_setzero_ps();
      acc[r][1] = kAccumulate ? _mm256_loadu_ps(C + r * ldc + n + 8) : _mm256_setzero_ps();
      acc[r][2] = kAccumulate ? _mm256_loadu_ps(C + r * ldc + n + 16) : _mm256_setzero_ps();
      acc[r][3] = kAccumulate ? _mm256_loadu_ps(C + r * ldc + n + 24) : _mm256_setzero_ps();
    }
    const uint8_t* row = b;
    for (int64_t k = 0; k < K; ++k, row += b_stride) {
      const __m256 b0 = load_b(row, n), b1 = load_b(row, n + 8), b2 = load_b(row, n + 16),
                   b3 = load_b(row, n + 24);
      for (int r = 0; r < MR; ++r) {
        const __m256 a = _mm256_broadcast_ss(A + r * lda + k);
        acc[r][0] = _mm256_fmadd_ps(a, b0, acc[r][0]);
        acc[r][1] = _mm256_fmadd_ps(a, b1, acc[r][1]);
        acc[r][2] = _mm256_fmadd_ps(a, b2, acc[r][2]);
        acc[r][3] = _mm256_fmadd_ps(a, b3, acc[r][3]);
      }
    }
    for (int r = 0; r < MR; ++r) {
      _mm256_storeu_ps(C + r * ldc + n, acc[r][0]);
      _mm256_storeu_ps(C + r * ldc + n + 8, acc[r][1]);
      _mm256_storeu_ps(C + r * ldc + n + 16, acc[r][2]);
      _mm256_storeu_ps(C + r * ldc + n + 24, acc[r][3]);
    }
  }
  return n;
}

}  // namespace pocket::kernels::avx2
