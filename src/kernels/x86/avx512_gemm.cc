// AVX-512 GEMM tiles and one-row dot products for F32, F16 and BF16 weights. The AVX2 tile
// (avx2_kernels.cc) gives each output two 8-lane accumulators, the two halves of every 16-element
// step (for BF16 its even and its odd elements); here one 512-bit register holds both, lanes 0-7
// and 8-15, so each output sees exactly the FMA sequence of the AVX2 dot product (VecDotF) and
// tile: the same bits with half the instructions, and 32 registers allow blocks of 4 weight rows x
// 6 tokens (24 accumulators), where AVX2 fits 2 x 3. Compiled with the AVX2 flags and -mavx512f
// -mavx512bw -mavx512vl; internal linkage (see packed_frame.h for why).

#include <cstdint>

#include "kernels/table_fill.h"
#include "kernels/x86/avx512_util.h"
#include "tensor/dtype.h"

namespace pocket::kernels {
namespace {

// avx2::HSum's order (the AVX2 dot products and tile end with it).
inline float HSum8(__m256 v) {
  __m128 lo = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  __m128 sh = _mm_movehdup_ps(lo);
  lo = _mm_add_ps(lo, sh);
  sh = _mm_movehl_ps(sh, lo);
  lo = _mm_add_ss(lo, sh);
  return _mm_cvtss_f32(lo);
}

// The 16-element step at element i of a row of kType (0 f32, 1 f16, 2 bf16) as one register:
// lanes 0-7 the first accumulator's vector, lanes 8-15 the second's (elements [i, i + 8) and
// [i + 8, i + 16); for BF16 the even and the odd elements of [i, i + 16)).
template <int kType>
inline __m512 LoadStep(const uint8_t* p, int64_t i) {
  if constexpr (kType != 2) return Load16<kType>(p, i);
  const __m256i h = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + 2 * i));
  // Both halves hold the 16 values; the high half keeps each 32-bit lane's top half (the odd
  // element), the low half moves the bottom one up (the even element).
  const __m512i v = _mm512_broadcast_i64x4(h);
  const __m512i odd = _mm512_and_si512(v, _mm512_set1_epi32(static_cast<int>(0xFFFF0000u)));
  return _mm512_castsi512_ps(_mm512_mask_slli_epi32(odd, 0x00FF, v, 16));
}

// Elements [i, i + 8) as f32 (the AVX2 kernels' eight-element remainder step; not BF16).
template <int kType>
inline __m256 Load8(const uint8_t* p, int64_t i) {
  if constexpr (kType == 0) return _mm256_loadu_ps(reinterpret_cast<const float*>(p) + i);
  return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 2 * i)));
}

// out[c * ldo + r] for RB weight rows x CB activation rows.
template <int kType, int RB, int CB>
void MicroTile(int64_t n, const uint8_t* w, uint64_t w_stride, const uint8_t* a, uint64_t a_stride,
               float* out, int64_t ldo) {
  __m512 acc[RB][CB];
  for (int r = 0; r < RB; ++r)
    for (int c = 0; c < CB; ++c) acc[r][c] = _mm512_setzero_ps();
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    __m512 wv[RB];
    for (int r = 0; r < RB; ++r) wv[r] = LoadStep<kType>(w + r * w_stride, i);
    for (int c = 0; c < CB; ++c) {
      const __m512 av = LoadStep<kType>(a + c * a_stride, i);
      for (int r = 0; r < RB; ++r) acc[r][c] = _mm512_fmadd_ps(wv[r], av, acc[r][c]);
    }
  }
  for (int r = 0; r < RB; ++r) {
    const uint8_t* wr = w + r * w_stride;
    for (int c = 0; c < CB; ++c) {
      const uint8_t* ac = a + c * a_stride;
      __m256 acc0 = _mm512_castps512_ps256(acc[r][c]);
      const __m256 acc1 = _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(acc[r][c]), 1));
      int64_t j = i;
      if constexpr (kType != 2) {  // BF16 has no eight-element step (VecDotF)
        for (; j + 8 <= n; j += 8)
          acc0 = _mm256_fmadd_ps(Load8<kType>(wr, j), Load8<kType>(ac, j), acc0);
      }
      float sum = HSum8(_mm256_add_ps(acc0, acc1));
      for (; j < n; ++j) sum += LoadElem<kType>(wr, j) * LoadElem<kType>(ac, j);
      out[c * ldo + r] = sum;
    }
  }
}

template <int kType, int RB>
void RowBlock(int64_t n, const uint8_t* w, uint64_t w_stride, const uint8_t* a, uint64_t a_stride,
              int nc, float* out, int64_t ldo) {
  int c = 0;
  for (; c + 6 <= nc; c += 6)
    MicroTile<kType, RB, 6>(n, w, w_stride, a + c * a_stride, a_stride, out + c * ldo, ldo);
  for (; c + 3 <= nc; c += 3)
    MicroTile<kType, RB, 3>(n, w, w_stride, a + c * a_stride, a_stride, out + c * ldo, ldo);
  for (; c < nc; ++c)
    MicroTile<kType, RB, 1>(n, w, w_stride, a + c * a_stride, a_stride, out + c * ldo, ldo);
}

template <int kType>
void GemmTile(int64_t n, const uint8_t* w, uint64_t w_stride, int nr, const uint8_t* a,
              uint64_t a_stride, int nc, float* out, int64_t ldo) {
  int r = 0;
  for (; r + 4 <= nr; r += 4)
    RowBlock<kType, 4>(n, w + r * w_stride, w_stride, a, a_stride, nc, out + r, ldo);
  for (; r < nr; ++r)
    RowBlock<kType, 1>(n, w + r * w_stride, w_stride, a, a_stride, nc, out + r, ldo);
}

// The one-row dot product (decode): the tile's FMA sequence, which is VecDotF's, in half the
// instructions. F16 matrices (E2B/E4B's per-layer projection) read at ~60% of the memory
// bandwidth with the AVX2 dot: four conversions and two FMAs per 16 elements.
template <int kType>
float VecDot(int64_t n, const void* w, const void* a) {
  float y;
  MicroTile<kType, 1, 1>(n, static_cast<const uint8_t*>(w), 0, static_cast<const uint8_t*>(a), 0,
                         &y, 1);
  return y;
}

}  // namespace

void FillAvx512GemmKernels(KernelTable* t) {
  t->vec_dot[static_cast<int>(DType::kF32)] = VecDot<0>;
  t->vec_dot[static_cast<int>(DType::kF16)] = VecDot<1>;
  t->vec_dot[static_cast<int>(DType::kBF16)] = VecDot<2>;
  t->gemm_tile[static_cast<int>(DType::kF32)] = GemmTile<0>;
  t->gemm_tile[static_cast<int>(DType::kF16)] = GemmTile<1>;
  t->gemm_tile[static_cast<int>(DType::kBF16)] = GemmTile<2>;
}

}  // namespace pocket::kernels
