// AVX2 integer dot products of K-quant weights with Q8_K activations: Q4_K and Q6_K, the
// types of llama.cpp's Q4_K_M mixture and of most embedding tables. Weights stay packed; the
// 16/32-element group sums are exact in int32 and scaled once per group, so the result
// matches the scalar reference up to float summation order. Compiled with -mavx2 -mfma -mf16c.
#include <immintrin.h>

#include <algorithm>

#include "kernels/table_fill.h"
#include "kernels/x86/avx2_util.h"
#include "quant/blocks.h"
#include "tensor/fp16.h"

namespace pocket::kernels {
namespace {

using avx2::HalfToFloat;
using avx2::HSumI32;
using avx2::Scales16;
using avx2::ScaledDotU8;

using quant::BlockQ4_K;
using quant::BlockQ6_K;
using quant::BlockQ8_K;

// Q6_K: w = d · sc[g] · (q - 32), q in [0, 63] from 4 low + 2 high bits, 16 groups of 16.
// Σ w·a = d·d_a·Σ_g sc[g]·(Σ q·a − 32·Σ a), with Σ a per group from the Q8_K bsums.
float VecDotQ6K(int64_t n, const void* w, const void* act) {
  const auto* x = static_cast<const BlockQ6_K*>(w);
  const auto* y = static_cast<const BlockQ8_K*>(act);
  const __m256i m4 = _mm256_set1_epi8(0x0F), m2 = _mm256_set1_epi8(0x03);
  float sum = 0.0f;
  for (int64_t b = 0; b < n / 256; ++b) {
    const uint8_t* ql = x[b].ql;
    const uint8_t* qh = x[b].qh;
    const int8_t* sc = x[b].scales;
    const int8_t* a = y[b].qs;
    __m256i acc = _mm256_setzero_si256();
    for (int half = 0; half < 2; ++half, ql += 64, qh += 32, sc += 8, a += 128) {
      const __m256i l0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(ql));
      const __m256i l1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(ql + 32));
      const __m256i h = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(qh));
      const __m256i q1 = _mm256_or_si256(_mm256_and_si256(l0, m4), _mm256_slli_epi16(_mm256_and_si256(h, m2), 4));
      const __m256i q2 = _mm256_or_si256(_mm256_and_si256(l1, m4),
                                         _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(h, 2), m2), 4));
      const __m256i q3 = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l0, 4), m4),
                                         _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(h, 4), m2), 4));
      const __m256i q4 = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l1, 4), m4),
                                         _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(h, 6), m2), 4));
      acc = _mm256_add_epi32(acc, ScaledDotU8(q1, a, Scales16(sc[0], sc[1])));
      acc = _mm256_add_epi32(acc, ScaledDotU8(q2, a + 32, Scales16(sc[2], sc[3])));
      acc = _mm256_add_epi32(acc, ScaledDotU8(q3, a + 64, Scales16(sc[4], sc[5])));
      acc = _mm256_add_epi32(acc, ScaledDotU8(q4, a + 96, Scales16(sc[6], sc[7])));
    }
    int32_t offset = 0;  // Σ_g sc[g]·Σ a_g
    for (int g = 0; g < 16; ++g) offset += static_cast<int32_t>(x[b].scales[g]) * y[b].bsums[g];
    const float isum = HSumI32(acc) - 32.0f * static_cast<float>(offset);
    sum += HalfToFloat(x[b].d) * y[b].d * isum;
  }
  return sum;
}

// Q4_K: w = d·sc[g]·q − dmin·m[g], q in [0, 15], 8 groups of 32 with 6-bit scales and mins.
float VecDotQ4K(int64_t n, const void* w, const void* act) {
  const auto* x = static_cast<const BlockQ4_K*>(w);
  const auto* y = static_cast<const BlockQ8_K*>(act);
  const __m256i m4 = _mm256_set1_epi8(0x0F);
  float sum = 0.0f;
  for (int64_t b = 0; b < n / 256; ++b) {
    uint8_t sc[8], mn[8];
    for (int g = 0; g < 8; ++g) quant::ScaleMinK4(g, x[b].scales, &sc[g], &mn[g]);
    const int8_t* a = y[b].qs;
    __m256i acc = _mm256_setzero_si256();
    for (int j = 0; j < 4; ++j) {
      const __m256i q = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x[b].qs + 32 * j));
      const __m256i lo = _mm256_and_si256(q, m4), hi = _mm256_and_si256(_mm256_srli_epi16(q, 4), m4);
      acc = _mm256_add_epi32(acc, ScaledDotU8(lo, a + 64 * j, Scales16(sc[2 * j], sc[2 * j])));
      acc = _mm256_add_epi32(acc, ScaledDotU8(hi, a + 64 * j + 32, Scales16(sc[2 * j + 1], sc[2 * j + 1])));
    }
    int32_t mins = 0;  // Σ_g m[g]·Σ a_g (a group of 32 = two bsums)
    for (int g = 0; g < 8; ++g) mins += static_cast<int32_t>(mn[g]) * (y[b].bsums[2 * g] + y[b].bsums[2 * g + 1]);
    sum += y[b].d * (HalfToFloat(x[b].d) * HSumI32(acc) - HalfToFloat(x[b].dmin) * static_cast<float>(mins));
  }
  return sum;
}

// GEMM tiles: one weight row against up to four activation rows. Each super-block's scales
// and unpacked quants are prepared once and reused for every activation row; per output the
// arithmetic is exactly VecDotQ6K's / VecDotQ4K's (same order), so prefill and decode agree
// bit for bit.
constexpr int kTileCols = 4;

void GemmTileQ6K(int64_t n, const uint8_t* w, uint64_t w_stride, int nr, const uint8_t* a, uint64_t a_stride, int nc,
                 float* out, int64_t ldo) {
  const __m256i m4 = _mm256_set1_epi8(0x0F), m2 = _mm256_set1_epi8(0x03);
  for (int r = 0; r < nr; ++r) {
    const auto* x = reinterpret_cast<const BlockQ6_K*>(w + static_cast<uint64_t>(r) * w_stride);
    for (int c0 = 0; c0 < nc; c0 += kTileCols) {
      const int cols = std::min(kTileCols, nc - c0);
      const BlockQ8_K* y[kTileCols];
      float sum[kTileCols] = {};
      for (int j = 0; j < cols; ++j) y[j] = reinterpret_cast<const BlockQ8_K*>(a + static_cast<uint64_t>(c0 + j) * a_stride);
      for (int64_t b = 0; b < n / 256; ++b) {
        const uint8_t* ql = x[b].ql;
        const uint8_t* qh = x[b].qh;
        const int8_t* sc = x[b].scales;
        __m256i q[8], scales[8];
        for (int half = 0; half < 2; ++half, ql += 64, qh += 32, sc += 8) {
          const __m256i l0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(ql));
          const __m256i l1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(ql + 32));
          const __m256i h = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(qh));
          q[4 * half] = _mm256_or_si256(_mm256_and_si256(l0, m4), _mm256_slli_epi16(_mm256_and_si256(h, m2), 4));
          q[4 * half + 1] = _mm256_or_si256(_mm256_and_si256(l1, m4),
                                            _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(h, 2), m2), 4));
          q[4 * half + 2] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l0, 4), m4),
                                            _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(h, 4), m2), 4));
          q[4 * half + 3] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l1, 4), m4),
                                            _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(h, 6), m2), 4));
          for (int k = 0; k < 4; ++k) scales[4 * half + k] = Scales16(sc[2 * k], sc[2 * k + 1]);
        }
        const float dx = HalfToFloat(x[b].d);
        for (int j = 0; j < cols; ++j) {
          const int8_t* act = y[j][b].qs;
          __m256i acc = _mm256_setzero_si256();
          for (int half = 0; half < 2; ++half) {
            for (int k = 0; k < 4; ++k) {
              acc = _mm256_add_epi32(acc, ScaledDotU8(q[4 * half + k], act + 128 * half + 32 * k, scales[4 * half + k]));
            }
          }
          int32_t offset = 0;
          for (int g = 0; g < 16; ++g) offset += static_cast<int32_t>(x[b].scales[g]) * y[j][b].bsums[g];
          const float isum = HSumI32(acc) - 32.0f * static_cast<float>(offset);
          sum[j] += dx * y[j][b].d * isum;
        }
      }
      for (int j = 0; j < cols; ++j) out[static_cast<int64_t>(c0 + j) * ldo + r] = sum[j];
    }
  }
}

void GemmTileQ4K(int64_t n, const uint8_t* w, uint64_t w_stride, int nr, const uint8_t* a, uint64_t a_stride, int nc,
                 float* out, int64_t ldo) {
  const __m256i m4 = _mm256_set1_epi8(0x0F);
  for (int r = 0; r < nr; ++r) {
    const auto* x = reinterpret_cast<const BlockQ4_K*>(w + static_cast<uint64_t>(r) * w_stride);
    for (int c0 = 0; c0 < nc; c0 += kTileCols) {
      const int cols = std::min(kTileCols, nc - c0);
      const BlockQ8_K* y[kTileCols];
      float sum[kTileCols] = {};
      for (int j = 0; j < cols; ++j) y[j] = reinterpret_cast<const BlockQ8_K*>(a + static_cast<uint64_t>(c0 + j) * a_stride);
      for (int64_t b = 0; b < n / 256; ++b) {
        uint8_t sc[8], mn[8];
        for (int g = 0; g < 8; ++g) quant::ScaleMinK4(g, x[b].scales, &sc[g], &mn[g]);
        __m256i lo[4], hi[4], slo[4], shi[4];
        for (int k = 0; k < 4; ++k) {
          const __m256i q = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x[b].qs + 32 * k));
          lo[k] = _mm256_and_si256(q, m4);
          hi[k] = _mm256_and_si256(_mm256_srli_epi16(q, 4), m4);
          slo[k] = Scales16(sc[2 * k], sc[2 * k]);
          shi[k] = Scales16(sc[2 * k + 1], sc[2 * k + 1]);
        }
        const float dx = HalfToFloat(x[b].d), dmin = HalfToFloat(x[b].dmin);
        for (int j = 0; j < cols; ++j) {
          const int8_t* act = y[j][b].qs;
          __m256i acc = _mm256_setzero_si256();
          for (int k = 0; k < 4; ++k) {
            acc = _mm256_add_epi32(acc, ScaledDotU8(lo[k], act + 64 * k, slo[k]));
            acc = _mm256_add_epi32(acc, ScaledDotU8(hi[k], act + 64 * k + 32, shi[k]));
          }
          int32_t mins = 0;
          for (int g = 0; g < 8; ++g) mins += static_cast<int32_t>(mn[g]) * (y[j][b].bsums[2 * g] + y[j][b].bsums[2 * g + 1]);
          sum[j] += y[j][b].d * (dx * HSumI32(acc) - dmin * static_cast<float>(mins));
        }
      }
      for (int j = 0; j < cols; ++j) out[static_cast<int64_t>(c0 + j) * ldo + r] = sum[j];
    }
  }
}

constexpr int Id(DType t) { return static_cast<int>(t); }

}  // namespace

void FillAvx2KQuantKernels(KernelTable* t) {
  t->vec_dot[Id(DType::kQ4_K)] = VecDotQ4K;
  t->vec_dot[Id(DType::kQ6_K)] = VecDotQ6K;
  t->gemm_tile[Id(DType::kQ4_K)] = GemmTileQ4K;
  t->gemm_tile[Id(DType::kQ6_K)] = GemmTileQ6K;
}

}  // namespace pocket::kernels
