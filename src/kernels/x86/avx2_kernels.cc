// AVX2 + FMA + F16C kernels. This file is compiled with -mavx2 -mfma -mf16c and only ever
// called after dispatch.cc has checked the CPU, so nothing here runs on older CPUs.
#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#include "kernels/table_fill.h"
#include "kernels/x86/avx2_util.h"
#include "quant/blocks.h"
#include "quant/quant.h"
#include "tensor/fp16.h"

namespace pocket::kernels {
namespace {

using avx2::HalfToFloat;
using avx2::HSum;
using avx2::LoadF16;

using quant::BlockQ4_0;
using quant::BlockQ8_0;
using quant::BlockQ8_K;

// Σ x·y of 32 signed bytes as 8 f32 lanes (the int32 partial sums converted).
inline __m256 DotS8F(__m256i x, __m256i y) { return _mm256_cvtepi32_ps(avx2::DotS8(x, y)); }

inline __m256i LoadQ4_0(const BlockQ4_0* b) {
  return _mm256_sub_epi8(avx2::Nibbles(b->qs), _mm256_set1_epi8(8));
}

inline __m256i LoadQ8(const int8_t* qs) {
  return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(qs));
}

// One accumulator, blocks in order: the same arithmetic as the GEMM tile, so decode and
// prefill give bit-identical results (a second accumulator would hide FMA latency, but the
// per-block integer work already covers it).
float VecDotQ8_0(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const BlockQ8_0*>(w);
  const auto* y = static_cast<const BlockQ8_0*>(a);
  __m256 acc = _mm256_setzero_ps();
  for (int64_t b = 0; b < n / 32; ++b) {
    acc = _mm256_fmadd_ps(_mm256_set1_ps(HalfToFloat(x[b].d) * HalfToFloat(y[b].d)),
                          DotS8F(LoadQ8(x[b].qs), LoadQ8(y[b].qs)), acc);
  }
  return HSum(acc);
}

float VecDotQ4_0(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const BlockQ4_0*>(w);
  const auto* y = static_cast<const BlockQ8_0*>(a);
  __m256 acc = _mm256_setzero_ps();
  for (int64_t b = 0; b < n / 32; ++b) {
    acc = _mm256_fmadd_ps(_mm256_set1_ps(HalfToFloat(x[b].d) * HalfToFloat(y[b].d)),
                          DotS8F(LoadQ4_0(&x[b]), LoadQ8(y[b].qs)), acc);
  }
  return HSum(acc);
}

// GEMM tile for Q8_0/Q4_0 weights: each weight block is unpacked once and used for up to
// four activation rows.
// Unpacks block b of a Q4_0 / Q8_0 row into signed int8 and its f32 scale.
template <bool kQ4>
inline __m256i UnpackLegacy(const uint8_t* row, int64_t b, float* d) {
  if constexpr (kQ4) {
    const auto* x = reinterpret_cast<const BlockQ4_0*>(row) + b;
    *d = HalfToFloat(x->d);
    return LoadQ4_0(x);
  } else {
    const auto* x = reinterpret_cast<const BlockQ8_0*>(row) + b;
    *d = HalfToFloat(x->d);
    return LoadQ8(x->qs);
  }
}

// GEMM tile for Q8_0/Q4_0 weights: two weight rows x four activation rows at a time, so each
// unpacked weight block serves four activation blocks and each activation block (and its
// scale) serves two weight rows. Per output the blocks are accumulated in order with one
// accumulator, as in the one-row path.
template <bool kQ4>
void GemmTileLegacy(int64_t n, const uint8_t* w, uint64_t w_stride, int nr, const uint8_t* a,
                    uint64_t a_stride, int nc, float* out, int64_t ldo) {
  const int64_t nb = n / 32;
  const __m256i ones = _mm256_set1_epi16(1);
  auto dot = [&](__m256i ax, __m256i qw, const BlockQ8_0* yb) {
    const __m256i sy = _mm256_sign_epi8(LoadQ8(yb->qs), qw);
    return _mm256_cvtepi32_ps(_mm256_madd_epi16(_mm256_maddubs_epi16(ax, sy), ones));
  };
  // Activation rows left over after the groups of four (all of them in decode, nc == 1): four
  // weight rows at a time against one activation row, so the activation block and its scale
  // are loaded once for four independent accumulator chains.
  const int nc4 = nc / 4 * 4;
  for (int c = nc4; c < nc; ++c) {
    const auto* y = reinterpret_cast<const BlockQ8_0*>(a + static_cast<uint64_t>(c) * a_stride);
    int r = 0;
    for (; r + 4 <= nr; r += 4) {
      const uint8_t* wr[4];
      __m256 acc[4];
      for (int i = 0; i < 4; ++i) {
        wr[i] = w + static_cast<uint64_t>(r + i) * w_stride;
        acc[i] = _mm256_setzero_ps();
      }
      for (int64_t b = 0; b < nb; ++b) {
        const float dy = HalfToFloat(y[b].d);
        const __m256i qy = LoadQ8(y[b].qs);
        for (int i = 0; i < 4; ++i) {
          float dw;
          const __m256i qw = UnpackLegacy<kQ4>(wr[i], b, &dw);
          const __m256i p = _mm256_madd_epi16(
              _mm256_maddubs_epi16(_mm256_sign_epi8(qw, qw), _mm256_sign_epi8(qy, qw)), ones);
          acc[i] = _mm256_fmadd_ps(_mm256_set1_ps(dw * dy), _mm256_cvtepi32_ps(p), acc[i]);
        }
      }
      for (int i = 0; i < 4; ++i) out[static_cast<int64_t>(c) * ldo + r + i] = HSum(acc[i]);
    }
    for (; r < nr; ++r) {  // single rows, same order
      const uint8_t* wrow = w + static_cast<uint64_t>(r) * w_stride;
      __m256 acc = _mm256_setzero_ps();
      for (int64_t b = 0; b < nb; ++b) {
        float dw;
        const __m256i qw = UnpackLegacy<kQ4>(wrow, b, &dw);
        acc = _mm256_fmadd_ps(_mm256_set1_ps(dw * HalfToFloat(y[b].d)),
                              dot(_mm256_sign_epi8(qw, qw), qw, &y[b]), acc);
      }
      out[static_cast<int64_t>(c) * ldo + r] = HSum(acc);
    }
  }
  nc = nc4;
  int r = 0;
  for (; r + 2 <= nr; r += 2) {
    const uint8_t* w0 = w + static_cast<uint64_t>(r) * w_stride;
    const uint8_t* w1 = w0 + w_stride;
    int c = 0;
    for (; c + 4 <= nc; c += 4) {
      const BlockQ8_0* y[4];
      for (int j = 0; j < 4; ++j)
        y[j] = reinterpret_cast<const BlockQ8_0*>(a + static_cast<uint64_t>(c + j) * a_stride);
      __m256 acc0[4], acc1[4];
      for (int j = 0; j < 4; ++j) acc0[j] = acc1[j] = _mm256_setzero_ps();
      for (int64_t b = 0; b < nb; ++b) {
        float d0, d1;
        const __m256i q0 = UnpackLegacy<kQ4>(w0, b, &d0), q1 = UnpackLegacy<kQ4>(w1, b, &d1);
        const __m256i ax0 = _mm256_sign_epi8(q0, q0), ax1 = _mm256_sign_epi8(q1, q1);
        for (int j = 0; j < 4; ++j) {
          const float dy = HalfToFloat(y[j][b].d);
          acc0[j] = _mm256_fmadd_ps(_mm256_set1_ps(d0 * dy), dot(ax0, q0, &y[j][b]), acc0[j]);
          acc1[j] = _mm256_fmadd_ps(_mm256_set1_ps(d1 * dy), dot(ax1, q1, &y[j][b]), acc1[j]);
        }
      }
      for (int j = 0; j < 4; ++j) {
        out[static_cast<int64_t>(c + j) * ldo + r] = HSum(acc0[j]);
        out[static_cast<int64_t>(c + j) * ldo + r + 1] = HSum(acc1[j]);
      }
    }
    for (; c < nc; ++c) {
      const uint8_t* ac = a + static_cast<uint64_t>(c) * a_stride;
      out[static_cast<int64_t>(c) * ldo + r] = kQ4 ? VecDotQ4_0(n, w0, ac) : VecDotQ8_0(n, w0, ac);
      out[static_cast<int64_t>(c) * ldo + r + 1] =
          kQ4 ? VecDotQ4_0(n, w1, ac) : VecDotQ8_0(n, w1, ac);
    }
  }
  for (; r < nr; ++r) {  // an odd last row
    const uint8_t* wrow = w + static_cast<uint64_t>(r) * w_stride;
    int c = 0;
    for (; c + 4 <= nc; c += 4) {
      __m256 acc[4];
      for (int j = 0; j < 4; ++j) acc[j] = _mm256_setzero_ps();
      for (int64_t b = 0; b < nb; ++b) {
        float dw;
        const __m256i qw = UnpackLegacy<kQ4>(wrow, b, &dw);
        const __m256i ax = _mm256_sign_epi8(qw, qw);
        for (int j = 0; j < 4; ++j) {
          const auto* yb =
              reinterpret_cast<const BlockQ8_0*>(a + static_cast<uint64_t>(c + j) * a_stride) + b;
          acc[j] =
              _mm256_fmadd_ps(_mm256_set1_ps(dw * HalfToFloat(yb->d)), dot(ax, qw, yb), acc[j]);
        }
      }
      for (int j = 0; j < 4; ++j) out[static_cast<int64_t>(c + j) * ldo + r] = HSum(acc[j]);
    }
    for (; c < nc; ++c) {
      const uint8_t* ac = a + static_cast<uint64_t>(c) * a_stride;
      out[static_cast<int64_t>(c) * ldo + r] =
          kQ4 ? VecDotQ4_0(n, wrow, ac) : VecDotQ8_0(n, wrow, ac);
    }
  }
}

// Row loads of F32 / F16 / BF16 rows (kType 0 / 1 / 2; activations in the weight's type).
// Half kHalf of the 16-element step at element i, the vector that feeds accumulator kHalf:
// elements [i + 8 kHalf, i + 8 kHalf + 8), or for BF16 the even (0) or odd (1) elements of
// [i, i + 16): each 32-bit lane's low half moved up, or its high half with the low bits
// cleared. One load and one single-cycle operation, where widening eight BF16 values at a
// time costs a shuffle and a shift.
template <int kType, int kHalf>
inline __m256 LoadHalf(const void* p, int64_t i) {
  if constexpr (kType == 0) return _mm256_loadu_ps(static_cast<const float*>(p) + i + 8 * kHalf);
  if constexpr (kType == 1) return LoadF16(static_cast<const uint16_t*>(p) + i + 8 * kHalf);
  const __m256i v =
      _mm256_loadu_si256(reinterpret_cast<const __m256i*>(static_cast<const uint16_t*>(p) + i));
  if constexpr (kHalf == 0) return _mm256_castsi256_ps(_mm256_slli_epi32(v, 16));
  return _mm256_castsi256_ps(_mm256_and_si256(v, _mm256_set1_epi32(static_cast<int>(0xFFFF0000u))));
}
template <int kType>
inline float ScalarAt(const void* p, int64_t i) {
  if constexpr (kType == 0) return static_cast<const float*>(p)[i];
  if constexpr (kType == 1) return HalfToFloat(static_cast<const uint16_t*>(p)[i]);
  return BF16ToF32(static_cast<const uint16_t*>(p)[i]);
}

// The matrix dot product of these types: two accumulators, the two halves of each 16-element
// step (LoadHalf), then for F32 / F16 one more eight-element step, then the rest one by one.
// MicroTileF below keeps this order, so a token gives bit-identical results whether it is
// computed alone (decode) or in a chunk (prefill).
template <int kType>
float VecDotF(int64_t n, const void* w, const void* a) {
  __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    a0 = _mm256_fmadd_ps(LoadHalf<kType, 0>(w, i), LoadHalf<kType, 0>(a, i), a0);
    a1 = _mm256_fmadd_ps(LoadHalf<kType, 1>(w, i), LoadHalf<kType, 1>(a, i), a1);
  }
  if constexpr (kType != 2) {
    for (; i + 8 <= n; i += 8)
      a0 = _mm256_fmadd_ps(LoadHalf<kType, 0>(w, i), LoadHalf<kType, 0>(a, i), a0);
  }
  float sum = HSum(_mm256_add_ps(a0, a1));
  for (; i < n; ++i) sum += ScalarAt<kType>(w, i) * ScalarAt<kType>(a, i);
  return sum;
}

// GEMM tile for the same types: a register block of 2 weight rows x 3 activation rows, so
// each load feeds several FMAs (a plain dot product does two loads per FMA and is load-bound).
template <int kType, int RB, int CB>
void MicroTileF(int64_t n, const uint8_t* w, uint64_t w_stride, const uint8_t* a, uint64_t a_stride,
                float* out, int64_t ldo) {
  // Two accumulators per output (the two halves of each 16-element step, LoadHalf), in
  // exactly the order of VecDotF. The halves go one after the
  // other so that 12 accumulators, RB weight vectors and one activation vector fit in the 16
  // registers (both halves at once spill).
  __m256 acc0[RB][CB], acc1[RB][CB];
  for (int r = 0; r < RB; ++r)
    for (int c = 0; c < CB; ++c) acc0[r][c] = acc1[r][c] = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    __m256 wv[RB];
    for (int r = 0; r < RB; ++r)
      wv[r] = LoadHalf<kType, 0>(w + static_cast<uint64_t>(r) * w_stride, i);
    for (int c = 0; c < CB; ++c) {
      const __m256 av = LoadHalf<kType, 0>(a + static_cast<uint64_t>(c) * a_stride, i);
      for (int r = 0; r < RB; ++r) acc0[r][c] = _mm256_fmadd_ps(wv[r], av, acc0[r][c]);
    }
    for (int r = 0; r < RB; ++r)
      wv[r] = LoadHalf<kType, 1>(w + static_cast<uint64_t>(r) * w_stride, i);
    for (int c = 0; c < CB; ++c) {
      const __m256 av = LoadHalf<kType, 1>(a + static_cast<uint64_t>(c) * a_stride, i);
      for (int r = 0; r < RB; ++r) acc1[r][c] = _mm256_fmadd_ps(wv[r], av, acc1[r][c]);
    }
  }
  if constexpr (kType != 2) {  // BF16 leaves the rest to the scalar tail, as VecDotF
    for (; i + 8 <= n; i += 8) {
      for (int r = 0; r < RB; ++r) {
        const __m256 wv = LoadHalf<kType, 0>(w + static_cast<uint64_t>(r) * w_stride, i);
        for (int c = 0; c < CB; ++c) {
          acc0[r][c] = _mm256_fmadd_ps(
              wv, LoadHalf<kType, 0>(a + static_cast<uint64_t>(c) * a_stride, i), acc0[r][c]);
        }
      }
    }
  }
  for (int r = 0; r < RB; ++r) {
    for (int c = 0; c < CB; ++c) {
      float sum = HSum(_mm256_add_ps(acc0[r][c], acc1[r][c]));
      const uint8_t* wr = w + static_cast<uint64_t>(r) * w_stride;
      const uint8_t* ac = a + static_cast<uint64_t>(c) * a_stride;
      for (int64_t j = i; j < n; ++j) sum += ScalarAt<kType>(wr, j) * ScalarAt<kType>(ac, j);
      out[static_cast<int64_t>(c) * ldo + r] = sum;
    }
  }
}

template <int kType, int RB>
void RowBlockF(int64_t n, const uint8_t* w, uint64_t w_stride, const uint8_t* a, uint64_t a_stride,
               int nc, float* out, int64_t ldo) {
  int c = 0;
  for (; c + 3 <= nc; c += 3) {
    MicroTileF<kType, RB, 3>(n, w, w_stride, a + static_cast<uint64_t>(c) * a_stride, a_stride,
                             out + c * ldo, ldo);
  }
  const uint8_t* ac = a + static_cast<uint64_t>(c) * a_stride;
  float* oc = out + c * ldo;
  switch (nc - c) {
    case 2:
      MicroTileF<kType, RB, 2>(n, w, w_stride, ac, a_stride, oc, ldo);
      break;
    case 1:
      MicroTileF<kType, RB, 1>(n, w, w_stride, ac, a_stride, oc, ldo);
      break;
    default:
      break;
  }
}

template <int kType>
void GemmTileF(int64_t n, const uint8_t* w, uint64_t w_stride, int nr, const uint8_t* a,
               uint64_t a_stride, int nc, float* out, int64_t ldo) {
  int r = 0;
  for (; r + 2 <= nr; r += 2) {
    RowBlockF<kType, 2>(n, w + static_cast<uint64_t>(r) * w_stride, w_stride, a, a_stride, nc,
                        out + r, ldo);
  }
  if (nr - r == 1)
    RowBlockF<kType, 1>(n, w + static_cast<uint64_t>(r) * w_stride, w_stride, a, a_stride, nc,
                        out + r, ldo);
}

// f32 NN GEMM. Micro-tiles of MR rows x 16 columns (12 accumulators at MR = 6): each step loads
// two vectors of B and broadcasts one A element per row. The outer loops block K and N so the
// B panel in use (kSgemmKc x kSgemmNc floats, 128 KiB) stays in L2 while every row of A passes
// over it; without the blocking, attention over a few thousand keys streamed all of K or V
// from L3 once per six rows. Each output is one FMA chain in k order whatever the blocking
// (a later K block starts from the value the earlier one stored), so results do not depend
// on the block sizes.
constexpr int64_t kSgemmKc = 256;
constexpr int64_t kSgemmNc = 128;

// kAccumulate: start from the values in C (a later K block) instead of zero.
template <int MR, bool kAccumulate>
void SgemmStrips16(int64_t N, int64_t K, const float* A, int64_t lda, const float* B, int64_t ldb,
                   float* C, int64_t ldc) {
  avx2::FmaStrips16<MR, kAccumulate>(
      N, K, A, lda, reinterpret_cast<const uint8_t*>(B), static_cast<uint64_t>(ldb) * 4,
      [](const uint8_t* row, int64_t n) {
        return _mm256_loadu_ps(reinterpret_cast<const float*>(row) + n);
      },
      C, ldc);
}

// The last 1..7 columns, with masked loads and stores (masked-out lanes are never touched).
template <int MR, bool kAccumulate>
void SgemmMicroMasked(int64_t K, const float* A, int64_t lda, const float* B, int64_t ldb, float* C,
                      int64_t ldc, int cols) {
  const __m256i mask =
      _mm256_cmpgt_epi32(_mm256_set1_epi32(cols), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
  __m256 acc[MR];
  for (int r = 0; r < MR; ++r)
    acc[r] = kAccumulate ? _mm256_maskload_ps(C + r * ldc, mask) : _mm256_setzero_ps();
  for (int64_t k = 0; k < K; ++k) {
    const __m256 b = _mm256_maskload_ps(B + k * ldb, mask);
    for (int r = 0; r < MR; ++r)
      acc[r] = _mm256_fmadd_ps(_mm256_broadcast_ss(A + r * lda + k), b, acc[r]);
  }
  for (int r = 0; r < MR; ++r) _mm256_maskstore_ps(C + r * ldc, mask, acc[r]);
}

// MR rows of C over columns [0, N) of one K block: 16-column strips, then the last 1..15
// columns eight at a time with masked loads and stores.
template <int MR, bool kAccumulate>
void SgemmRows(int64_t N, int64_t K, const float* A, int64_t lda, const float* B, int64_t ldb,
               float* C, int64_t ldc) {
  SgemmStrips16<MR, kAccumulate>(N, K, A, lda, B, ldb, C, ldc);
  for (int64_t n = N / 16 * 16; n < N; n += 8) {
    const int cols = static_cast<int>(std::min<int64_t>(8, N - n));
    SgemmMicroMasked<MR, kAccumulate>(K, A, lda, B + n, ldb, C + n, ldc, cols);
  }
}

template <bool kAccumulate>
void SgemmPanel(int64_t M, int64_t N, int64_t K, const float* A, int64_t lda, const float* B,
                int64_t ldb, float* C, int64_t ldc) {
  int64_t m = 0;
  for (; m + 6 <= M; m += 6)
    SgemmRows<6, kAccumulate>(N, K, A + m * lda, lda, B, ldb, C + m * ldc, ldc);
  A += m * lda;
  C += m * ldc;
  switch (M - m) {
    case 5:
      SgemmRows<5, kAccumulate>(N, K, A, lda, B, ldb, C, ldc);
      break;
    case 4:
      SgemmRows<4, kAccumulate>(N, K, A, lda, B, ldb, C, ldc);
      break;
    case 3:
      SgemmRows<3, kAccumulate>(N, K, A, lda, B, ldb, C, ldc);
      break;
    case 2:
      SgemmRows<2, kAccumulate>(N, K, A, lda, B, ldb, C, ldc);
      break;
    case 1:
      SgemmRows<1, kAccumulate>(N, K, A, lda, B, ldb, C, ldc);
      break;
    default:
      break;
  }
}

void SgemmNN(int64_t M, int64_t N, int64_t K, const float* A, int64_t lda, const float* B,
             int64_t ldb, float* C, int64_t ldc) {
  if (K == 0) {
    for (int64_t m = 0; m < M; ++m) std::fill_n(C + m * ldc, N, 0.0f);
    return;
  }
  for (int64_t k0 = 0; k0 < K; k0 += kSgemmKc) {
    const int64_t kc = std::min(kSgemmKc, K - k0);
    for (int64_t n0 = 0; n0 < N; n0 += kSgemmNc) {
      const int64_t nc = std::min(kSgemmNc, N - n0);
      if (k0 == 0)
        SgemmPanel<false>(M, nc, kc, A, lda, B + n0, ldb, C + n0, ldc);
      else
        SgemmPanel<true>(M, nc, kc, A + k0, lda, B + k0 * ldb + n0, ldb, C + n0, ldc);
    }
  }
}

// Q8_0 activation encoding, bit-identical with the scalar quantizer: the same amax / 127
// scale and its reciprocal, and rounding half away from zero as roundf does (not the ties-to-
// even of _mm256_round_ps).
inline __m256 RoundHalfAway(__m256 x) {
  const __m256 t = _mm256_round_ps(x, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
  const __m256 sign = _mm256_and_ps(x, _mm256_set1_ps(-0.0f));
  const __m256 frac = _mm256_andnot_ps(_mm256_set1_ps(-0.0f), _mm256_sub_ps(x, t));
  const __m256 up = _mm256_cmp_ps(frac, _mm256_set1_ps(0.5f), _CMP_GE_OQ);
  return _mm256_add_ps(t, _mm256_and_ps(up, _mm256_or_ps(_mm256_set1_ps(1.0f), sign)));
}

void QuantizeQ8_0Avx2(const float* x, void* dst, int64_t n) {
  auto* y = static_cast<BlockQ8_0*>(dst);
  const __m256 abs_mask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
  for (int64_t b = 0; b < n / 32; ++b, x += 32) {
    __m256 v[4];
    __m256 m = _mm256_setzero_ps();
    for (int j = 0; j < 4; ++j) {
      v[j] = _mm256_loadu_ps(x + 8 * j);
      m = _mm256_max_ps(m, _mm256_and_ps(v[j], abs_mask));
    }
    __m128 m4 = _mm_max_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps(m, 1));
    m4 = _mm_max_ps(m4, _mm_movehl_ps(m4, m4));
    m4 = _mm_max_ss(m4, _mm_movehdup_ps(m4));
    const float amax = _mm_cvtss_f32(m4);
    const float d = amax / 127;
    const float id = d != 0.f ? 1.0f / d : 0.0f;
    y[b].d = F32ToF16(d);
    const __m256 vid = _mm256_set1_ps(id);
    __m256i q[4];
    for (int j = 0; j < 4; ++j) q[j] = _mm256_cvtps_epi32(RoundHalfAway(_mm256_mul_ps(v[j], vid)));
    // Pack 32 int32 -> 32 int8 in order (packs work per 128-bit lane; fix the order after).
    const __m256i p01 = _mm256_packs_epi32(q[0], q[1]);
    const __m256i p23 = _mm256_packs_epi32(q[2], q[3]);
    __m256i p = _mm256_packs_epi16(p01, p23);
    p = _mm256_permutevar8x32_epi32(p, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(y[b].qs), p);
  }
}

// Q8_K activation encoding, bit-identical with the scalar quantizer: the first element of
// largest magnitude sets iscale = -127 / max, quants round to nearest even (ggml's
// nearest_int, which cvtps_epi32 matches below 2^22) capped at 127, and the 16-element sums.
void QuantizeQ8_KAvx2(const float* x, void* dst, int64_t n) {
  auto* y = static_cast<BlockQ8_K*>(dst);
  const __m256 abs_mask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7FFFFFFF));
  const __m256i cap = _mm256_set1_epi32(127);
  const __m256i order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
  for (int64_t b = 0; b < n / 256; ++b, x += 256) {
    __m256 vmax = _mm256_setzero_ps();
    for (int i = 0; i < 256; i += 8)
      vmax = _mm256_max_ps(vmax, _mm256_and_ps(_mm256_loadu_ps(x + i), abs_mask));
    __m128 m4 = _mm_max_ps(_mm256_castps256_ps128(vmax), _mm256_extractf128_ps(vmax, 1));
    m4 = _mm_max_ps(m4, _mm_movehl_ps(m4, m4));
    m4 = _mm_max_ss(m4, _mm_movehdup_ps(m4));
    const float amax = _mm_cvtss_f32(m4);
    if (amax == 0.0f) {
      std::memset(&y[b], 0, sizeof(BlockQ8_K));
      continue;
    }
    int first = 0;
    while (std::fabs(x[first]) != amax) ++first;
    const float iscale = -127.f / x[first];
    const __m256 vs = _mm256_set1_ps(iscale);
    for (int i = 0; i < 256; i += 32) {
      __m256i q[4];
      for (int k = 0; k < 4; ++k) {
        q[k] = _mm256_min_epi32(
            _mm256_cvtps_epi32(_mm256_mul_ps(vs, _mm256_loadu_ps(x + i + 8 * k))), cap);
      }
      for (int h = 0; h < 2; ++h) {
        const __m256i s = _mm256_add_epi32(q[2 * h], q[2 * h + 1]);
        __m128i s4 = _mm_add_epi32(_mm256_castsi256_si128(s), _mm256_extracti128_si256(s, 1));
        s4 = _mm_add_epi32(s4, _mm_unpackhi_epi64(s4, s4));
        s4 = _mm_add_epi32(s4, _mm_shuffle_epi32(s4, 1));
        y[b].bsums[i / 16 + h] = static_cast<int16_t>(_mm_cvtsi128_si32(s4));
      }
      const __m256i p16 =
          _mm256_packs_epi16(_mm256_packs_epi32(q[0], q[1]), _mm256_packs_epi32(q[2], q[3]));
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(y[b].qs + i),
                          _mm256_permutevar8x32_epi32(p16, order));
    }
    y[b].d = 1 / iscale;
  }
}

void ScaleF32(int64_t n, float a, float* y) {
  const __m256 va = _mm256_set1_ps(a);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, _mm256_mul_ps(va, _mm256_loadu_ps(y + i)));
  for (; i < n; ++i) y[i] *= a;
}

void AddF32(int64_t n, const float* x, float* y) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    _mm256_storeu_ps(y + i, _mm256_add_ps(_mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i)));
  for (; i < n; ++i) y[i] += x[i];
}

void RmsNorm(const float* x, const float* w, int64_t n, float eps, float* y) {
  // Sum of squares in f64 lanes: the norm feeds every layer, keep it as exact as the scalar one.
  __m256d s0 = _mm256_setzero_pd(), s1 = _mm256_setzero_pd();
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 v = _mm256_loadu_ps(x + i);
    const __m256d lo = _mm256_cvtps_pd(_mm256_castps256_ps128(v));
    const __m256d hi = _mm256_cvtps_pd(_mm256_extractf128_ps(v, 1));
    s0 = _mm256_fmadd_pd(lo, lo, s0);
    s1 = _mm256_fmadd_pd(hi, hi, s1);
  }
  alignas(32) double part[4];
  _mm256_store_pd(part, _mm256_add_pd(s0, s1));
  double ss = (part[0] + part[1]) + (part[2] + part[3]);
  for (; i < n; ++i) ss += static_cast<double>(x[i]) * x[i];
  const float scale = static_cast<float>(1.0 / std::sqrt(ss / static_cast<double>(n) + eps));
  const __m256 vs = _mm256_set1_ps(scale);
  i = 0;
  for (; i + 8 <= n; i += 8) {
    __m256 v = _mm256_mul_ps(_mm256_loadu_ps(x + i), vs);
    if (w) v = _mm256_mul_ps(v, _mm256_loadu_ps(w + i));
    _mm256_storeu_ps(y + i, v);
  }
  for (; i < n; ++i) y[i] = w ? x[i] * scale * w[i] : x[i] * scale;
}

// exp(x) for 8 lanes (Cephes-style range reduction and polynomial, ~1 ulp on [-87, 88]).
inline __m256 Exp(__m256 x) {
  x = _mm256_min_ps(_mm256_max_ps(x, _mm256_set1_ps(-87.3f)), _mm256_set1_ps(88.3f));
  const __m256 fx = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)),
                                    _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  x = _mm256_fnmadd_ps(fx, _mm256_set1_ps(0.693359375f), x);
  x = _mm256_fnmadd_ps(fx, _mm256_set1_ps(-2.12194440e-4f), x);
  __m256 p = _mm256_set1_ps(1.9875691500E-4f);
  p = _mm256_fmadd_ps(p, x, _mm256_set1_ps(1.3981999507E-3f));
  p = _mm256_fmadd_ps(p, x, _mm256_set1_ps(8.3334519073E-3f));
  p = _mm256_fmadd_ps(p, x, _mm256_set1_ps(4.1665795894E-2f));
  p = _mm256_fmadd_ps(p, x, _mm256_set1_ps(1.6666665459E-1f));
  p = _mm256_fmadd_ps(p, x, _mm256_set1_ps(5.0000001201E-1f));
  const __m256 x2 = _mm256_mul_ps(x, x);
  p = _mm256_fmadd_ps(p, x2, _mm256_add_ps(x, _mm256_set1_ps(1.0f)));
  const __m256i e =
      _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(fx), _mm256_set1_epi32(127)), 23);
  return _mm256_mul_ps(p, _mm256_castsi256_ps(e));
}

void GeluTanhMul(int64_t n, const float* gate, const float* up, float* out) {
  // 0.5 * (1 + tanh(z)) == 1 / (1 + exp(-2z)): no cancellation near zero.
  const __m256 k = _mm256_set1_ps(-2.0f * 0.7978845608028654f), c = _mm256_set1_ps(0.044715f);
  const __m256 one = _mm256_set1_ps(1.0f);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 g = _mm256_loadu_ps(gate + i);
    const __m256 g3 = _mm256_mul_ps(_mm256_mul_ps(g, g), g);
    const __m256 z = _mm256_mul_ps(k, _mm256_fmadd_ps(c, g3, g));
    const __m256 s = _mm256_div_ps(one, _mm256_add_ps(one, Exp(z)));
    _mm256_storeu_ps(out + i, _mm256_mul_ps(_mm256_mul_ps(g, s), _mm256_loadu_ps(up + i)));
  }
  for (; i < n; ++i) {
    const float g = gate[i];
    const float t = std::tanh(0.7978845608028654f * (g + 0.044715f * g * g * g));
    out[i] = 0.5f * g * (1.0f + t) * up[i];
  }
}

void SigmoidMul(int64_t n, const float* gate, const float* x, float* out) {
  const __m256 one = _mm256_set1_ps(1.0f), zero = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 e = Exp(_mm256_sub_ps(zero, _mm256_loadu_ps(gate + i)));
    _mm256_storeu_ps(out + i, _mm256_div_ps(_mm256_loadu_ps(x + i), _mm256_add_ps(one, e)));
  }
  for (; i < n; ++i) out[i] = x[i] / (1.0f + std::exp(-gate[i]));
}

void Softmax(int64_t n, float* x) {
  __m256 vmx = _mm256_set1_ps(-INFINITY);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) vmx = _mm256_max_ps(vmx, _mm256_loadu_ps(x + i));
  alignas(32) float lanes[8];
  _mm256_store_ps(lanes, vmx);
  float mx = lanes[0];
  for (int l = 1; l < 8; ++l) mx = std::max(mx, lanes[l]);
  for (; i < n; ++i) mx = std::max(mx, x[i]);
  const __m256 m = _mm256_set1_ps(mx), cutoff = _mm256_set1_ps(kSoftmaxCutoff);
  __m256 vsum = _mm256_setzero_ps();
  i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 dx = _mm256_sub_ps(_mm256_loadu_ps(x + i), m);
    const __m256 e = _mm256_andnot_ps(_mm256_cmp_ps(dx, cutoff, _CMP_LT_OQ), Exp(dx));
    _mm256_storeu_ps(x + i, e);
    vsum = _mm256_add_ps(vsum, e);
  }
  float sum = HSum(vsum);
  for (; i < n; ++i) {
    const float dx = x[i] - mx;
    x[i] = dx < kSoftmaxCutoff ? 0.0f : std::exp(dx);
    sum += x[i];
  }
  ScaleF32(n, 1.0f / sum, x);
}

void Softcap(int64_t n, float cap, float* y) {
  // tanh(u) = 1 - 2 / (1 + exp(2u)).
  const __m256 two_over_cap = _mm256_set1_ps(2.0f / cap), vcap = _mm256_set1_ps(cap);
  const __m256 one = _mm256_set1_ps(1.0f), two = _mm256_set1_ps(2.0f);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 e = Exp(_mm256_mul_ps(_mm256_loadu_ps(y + i), two_over_cap));
    const __m256 t = _mm256_sub_ps(one, _mm256_div_ps(two, _mm256_add_ps(one, e)));
    _mm256_storeu_ps(y + i, _mm256_mul_ps(vcap, t));
  }
  for (; i < n; ++i) y[i] = cap * std::tanh(y[i] / cap);
}

constexpr int Id(DType t) { return static_cast<int>(t); }

}  // namespace

void FillAvx2Kernels(KernelTable* t) {
  t->isa = Isa::kAvx2;
  t->vec_dot[Id(DType::kF32)] = VecDotF<0>;
  t->vec_dot[Id(DType::kF16)] = VecDotF<1>;
  t->vec_dot[Id(DType::kBF16)] = VecDotF<2>;
  t->vec_dot[Id(DType::kQ8_0)] = VecDotQ8_0;
  t->vec_dot[Id(DType::kQ4_0)] = VecDotQ4_0;
  t->gemm_tile[Id(DType::kQ8_0)] = GemmTileLegacy<false>;
  t->gemm_tile[Id(DType::kQ4_0)] = GemmTileLegacy<true>;
  t->gemm_tile[Id(DType::kF32)] = GemmTileF<0>;
  t->gemm_tile[Id(DType::kF16)] = GemmTileF<1>;
  t->gemm_tile[Id(DType::kBF16)] = GemmTileF<2>;
  t->sgemm_nn = SgemmNN;
  t->quantize_act[Id(DType::kQ8_0)] = QuantizeQ8_0Avx2;
  t->quantize_act[Id(DType::kQ8_K)] = QuantizeQ8_KAvx2;
  t->scale_f32 = ScaleF32;
  t->add_f32 = AddF32;
  t->rms_norm = RmsNorm;
  t->gelu_tanh_mul = GeluTanhMul;
  t->sigmoid_mul = SigmoidMul;
  t->softcap = Softcap;
  t->softmax = Softmax;
  FillAvx2AttentionKernels(t);
  FillAvx2KQuantKernels(t);
  FillAvx2MoreQuantKernels(t);
  FillAvx2PackedKernels(t);
}

}  // namespace pocket::kernels
