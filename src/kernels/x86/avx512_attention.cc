// AVX-512 kernels of attention: the Q·Kᵀ score tiles and the multi-head P·V product, with
// 512-bit vectors (two FMA ports on Intel's server cores; Zen 4 runs them at the AVX2 rate
// with half the instructions). They compute exactly what the AVX2 and scalar kernels do
// (kernels.h: kv_scores, kv_weighted_sum), so every table gives the same bits:
//   * a score is one 8-lane FMA chain reduced in the fixed order; a 512-bit register holds
//     the chains of two keys (rows j, j + 1 in its 256-bit halves) against one query head,
//     whose eight elements are broadcast to both halves by the load;
//   * P·V keeps every output element's FMA sequence in key order, 16 columns per register.
// Compiled with -mavx512f -mavx512bw -mavx512vl (and the AVX2 flags). Everything has internal
// linkage (see packed_frame.h for why).

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "kernels/table_fill.h"
#include "kernels/x86/avx512_util.h"

namespace pocket::kernels {
namespace {

// Elements [i, i + 8) of rows a (low half) and b (high half) as f32.
template <int kType>
inline __m512 LoadKvPair(const uint8_t* a, const uint8_t* b, int i) {
  if constexpr (kType == 0) {
    const __m256d lo = _mm256_castps_pd(_mm256_loadu_ps(reinterpret_cast<const float*>(a) + i));
    const __m256d hi = _mm256_castps_pd(_mm256_loadu_ps(reinterpret_cast<const float*>(b) + i));
    return _mm512_castpd_ps(_mm512_insertf64x4(_mm512_castpd256_pd512(lo), hi, 1));
  }
  const __m256i h = _mm256_loadu2_m128i(reinterpret_cast<const __m128i*>(b + 2 * i),
                                        reinterpret_cast<const __m128i*>(a + 2 * i));
  if constexpr (kType == 1) return _mm512_cvtph_ps(h);
  return Bf16ToF32x16(h);
}

// ((l0 + l4) + (l1 + l5)) + ((l2 + l6) + (l3 + l7)) of up to four 8-lane chains at once (the
// AVX2 kernel's order), then each head's d % 8 tail elements by one FMA each.
template <int kType, int kHeads>
inline void ReduceAndStore(const __m256 (&chain)[kHeads], int d, const float* q, int64_t q_stride,
                           const uint8_t* krow, float* s, int64_t s_stride) {
  __m128 half[4];
  for (int h = 0; h < 4; ++h) {
    half[h] = h < kHeads
                  ? _mm_add_ps(_mm256_castps256_ps128(chain[h]), _mm256_extractf128_ps(chain[h], 1))
                  : _mm_setzero_ps();
  }
  float sum[4];
  _mm_storeu_ps(sum, _mm_hadd_ps(_mm_hadd_ps(half[0], half[1]), _mm_hadd_ps(half[2], half[3])));
  const int d8 = d - d % 8;
  for (int h = 0; h < kHeads; ++h) {
    for (int i = d8; i < d; ++i)
      sum[h] = std::fma(q[h * q_stride + i], LoadElem<kType>(krow, i), sum[h]);
    s[h * s_stride] = sum[h];
  }
}

// Scores of kHeads heads x 2 * kPairs keys (the last pair may repeat its first row when the
// key count is odd; kOdd drops that duplicate's scores).
template <int kType, int kHeads, int kPairs, bool kOdd>
inline void ScoreTile(int d, const float* q, int64_t q_stride, const uint8_t* k, uint64_t k_stride,
                      float* s, int64_t s_stride) {
  const int d8 = d - d % 8;
  constexpr int kKeys = 2 * kPairs - (kOdd ? 1 : 0);
  const uint8_t* row[2 * kPairs];
  for (int j = 0; j < 2 * kPairs; ++j) row[j] = k + std::min(j, kKeys - 1) * k_stride;
  __m512 acc[kHeads][kPairs];
  for (int h = 0; h < kHeads; ++h)
    for (int p = 0; p < kPairs; ++p) acc[h][p] = _mm512_setzero_ps();
  for (int i = 0; i < d8; i += 8) {
    __m512 kv[kPairs];
    for (int p = 0; p < kPairs; ++p) kv[p] = LoadKvPair<kType>(row[2 * p], row[2 * p + 1], i);
    for (int h = 0; h < kHeads; ++h) {
      const __m512 qv = _mm512_castpd_ps(
          _mm512_broadcast_f64x4(_mm256_castps_pd(_mm256_loadu_ps(q + h * q_stride + i))));
      for (int p = 0; p < kPairs; ++p) acc[h][p] = _mm512_fmadd_ps(qv, kv[p], acc[h][p]);
    }
  }
  for (int j = 0; j < kKeys; ++j) {
    __m256 chain[kHeads];
    for (int h = 0; h < kHeads; ++h) {
      chain[h] = j % 2
                     ? _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(acc[h][j / 2]), 1))
                     : _mm512_castps512_ps256(acc[h][j / 2]);
    }
    ReduceAndStore<kType, kHeads>(chain, d, q, q_stride, row[j], s + j, s_stride);
  }
}

template <int kType, int kHeads>
inline void ScoreKeys(int64_t n_keys, int d, const float* q, int64_t q_stride, const uint8_t* k,
                      uint64_t k_stride, float* s, int64_t s_stride) {
  int64_t j = 0;
  for (; j + 6 <= n_keys; j += 6)
    ScoreTile<kType, kHeads, 3, false>(d, q, q_stride, k + j * k_stride, k_stride, s + j, s_stride);
  switch (n_keys - j) {
    case 5:
      ScoreTile<kType, kHeads, 3, true>(d, q, q_stride, k + j * k_stride, k_stride, s + j,
                                        s_stride);
      break;
    case 4:
      ScoreTile<kType, kHeads, 2, false>(d, q, q_stride, k + j * k_stride, k_stride, s + j,
                                         s_stride);
      break;
    case 3:
      ScoreTile<kType, kHeads, 2, true>(d, q, q_stride, k + j * k_stride, k_stride, s + j,
                                        s_stride);
      break;
    case 2:
      ScoreTile<kType, kHeads, 1, false>(d, q, q_stride, k + j * k_stride, k_stride, s + j,
                                         s_stride);
      break;
    case 1:
      ScoreTile<kType, kHeads, 1, true>(d, q, q_stride, k + j * k_stride, k_stride, s + j,
                                        s_stride);
      break;
    default:
      break;
  }
}

// Keys outer, heads inner: a strip of key rows stays in L1 while every head passes over it.
template <int kType>
void KvScores(int64_t n_keys, int d, int nh, const float* q, int64_t q_stride, const void* k,
              uint64_t k_stride, float* s, int64_t s_stride) {
  constexpr int64_t kStrip = 24;
  const auto* kb = static_cast<const uint8_t*>(k);
  for (int64_t j0 = 0; j0 < n_keys; j0 += kStrip) {
    const int64_t nj = std::min(kStrip, n_keys - j0);
    const uint8_t* kj = kb + static_cast<uint64_t>(j0) * k_stride;
    for (int h = 0; h < nh; h += 4) {
      const float* qh = q + h * q_stride;
      float* sh = s + h * s_stride + j0;
      switch (std::min(4, nh - h)) {
        case 4:
          ScoreKeys<kType, 4>(nj, d, qh, q_stride, kj, k_stride, sh, s_stride);
          break;
        case 3:
          ScoreKeys<kType, 3>(nj, d, qh, q_stride, kj, k_stride, sh, s_stride);
          break;
        case 2:
          ScoreKeys<kType, 2>(nj, d, qh, q_stride, kj, k_stride, sh, s_stride);
          break;
        default:
          ScoreKeys<kType, 1>(nj, d, qh, q_stride, kj, k_stride, sh, s_stride);
          break;
      }
    }
  }
}

// Up to eight heads x 32 output elements in registers (two 16-lane vectors each) while the V
// rows stream past: per key two row loads and eight FMAs whose broadcast of p comes from
// memory. Each element sees fma(p_j, v_j, acc) for j in order, as kv_axpy would.
template <int kType, int kHeads>
void WeightedSumHeads(int64_t n_keys, int d, const float* p, int64_t p_stride, const uint8_t* v,
                      uint64_t v_stride, float* o, int64_t o_stride) {
  int i = 0;
  for (; i + 32 <= d; i += 32) {
    __m512 acc[kHeads][2];
    for (int h = 0; h < kHeads; ++h) {
      acc[h][0] = _mm512_loadu_ps(o + h * o_stride + i);
      acc[h][1] = _mm512_loadu_ps(o + h * o_stride + i + 16);
    }
    const uint8_t* row = v;
    for (int64_t j = 0; j < n_keys; ++j, row += v_stride) {
      const __m512 x0 = Load16<kType>(row, i), x1 = Load16<kType>(row, i + 16);
      for (int h = 0; h < kHeads; ++h) {
        const __m512 a = _mm512_set1_ps(p[h * p_stride + j]);
        acc[h][0] = _mm512_fmadd_ps(a, x0, acc[h][0]);
        acc[h][1] = _mm512_fmadd_ps(a, x1, acc[h][1]);
      }
    }
    for (int h = 0; h < kHeads; ++h) {
      _mm512_storeu_ps(o + h * o_stride + i, acc[h][0]);
      _mm512_storeu_ps(o + h * o_stride + i + 16, acc[h][1]);
    }
  }
  for (; i + 16 <= d; i += 16) {
    __m512 acc[kHeads];
    for (int h = 0; h < kHeads; ++h) acc[h] = _mm512_loadu_ps(o + h * o_stride + i);
    const uint8_t* row = v;
    for (int64_t j = 0; j < n_keys; ++j, row += v_stride) {
      const __m512 x = Load16<kType>(row, i);
      for (int h = 0; h < kHeads; ++h)
        acc[h] = _mm512_fmadd_ps(_mm512_set1_ps(p[h * p_stride + j]), x, acc[h]);
    }
    for (int h = 0; h < kHeads; ++h) _mm512_storeu_ps(o + h * o_stride + i, acc[h]);
  }
  for (; i < d; ++i) {
    for (int h = 0; h < kHeads; ++h) {
      float acc = o[h * o_stride + i];
      for (int64_t j = 0; j < n_keys; ++j)
        acc = std::fma(p[h * p_stride + j], LoadElem<kType>(v + j * v_stride, i), acc);
      o[h * o_stride + i] = acc;
    }
  }
}

// Four heads x 64 output elements (16 accumulators): per key four row loads and four
// broadcast loads for sixteen FMAs, where the eight-head tile of a 16-column strip needs nine
// loads for eight (the loads, not the FMAs, were its limit). Same per-element FMA sequence.
template <int kType>
void WeightedSum4x64(int64_t n_keys, const float* p, int64_t p_stride, const uint8_t* v,
                     uint64_t v_stride, float* o, int64_t o_stride) {
  __m512 acc[4][4];
  for (int h = 0; h < 4; ++h)
    for (int c = 0; c < 4; ++c) acc[h][c] = _mm512_loadu_ps(o + h * o_stride + 16 * c);
  const uint8_t* row = v;
  for (int64_t j = 0; j < n_keys; ++j, row += v_stride) {
    __m512 x[4];
    for (int c = 0; c < 4; ++c) x[c] = Load16<kType>(row, 16 * c);
    for (int h = 0; h < 4; ++h) {
      const __m512 a = _mm512_set1_ps(p[h * p_stride + j]);
      for (int c = 0; c < 4; ++c) acc[h][c] = _mm512_fmadd_ps(a, x[c], acc[h][c]);
    }
  }
  for (int h = 0; h < 4; ++h)
    for (int c = 0; c < 4; ++c) _mm512_storeu_ps(o + h * o_stride + 16 * c, acc[h][c]);
}

template <int kType>
void KvWeightedSum(int64_t n_keys, int d, int nh, const float* p, int64_t p_stride, const void* v,
                   uint64_t v_stride, float* o, int64_t o_stride) {
  const auto* vb = static_cast<const uint8_t*>(v);
  if (d % 64 == 0 && nh % 4 == 0) {
    const uint64_t elem = kType == 0 ? 4 : 2;
    for (int i = 0; i < d; i += 64)
      for (int h = 0; h < nh; h += 4)
        WeightedSum4x64<kType>(n_keys, p + h * p_stride, p_stride, vb + i * elem, v_stride,
                               o + h * o_stride + i, o_stride);
    return;
  }
  int h = 0;
  // Eight heads where there are eight: in a 16-column strip (prefill, eight query heads per KV
  // head) each head is one FMA chain, and two FMA ports with four cycles of latency need
  // eight chains to stay busy.
  for (; h + 8 <= nh; h += 8)
    WeightedSumHeads<kType, 8>(n_keys, d, p + h * p_stride, p_stride, vb, v_stride,
                               o + h * o_stride, o_stride);
  for (; h + 4 <= nh; h += 4)
    WeightedSumHeads<kType, 4>(n_keys, d, p + h * p_stride, p_stride, vb, v_stride,
                               o + h * o_stride, o_stride);
  switch (nh - h) {
    case 3:
      WeightedSumHeads<kType, 3>(n_keys, d, p + h * p_stride, p_stride, vb, v_stride,
                                 o + h * o_stride, o_stride);
      break;
    case 2:
      WeightedSumHeads<kType, 2>(n_keys, d, p + h * p_stride, p_stride, vb, v_stride,
                                 o + h * o_stride, o_stride);
      break;
    case 1:
      WeightedSumHeads<kType, 1>(n_keys, d, p + h * p_stride, p_stride, vb, v_stride,
                                 o + h * o_stride, o_stride);
      break;
    default:
      break;
  }
}

}  // namespace

void FillAvx512AttentionKernels(KernelTable* t) {
  t->kv_scores[0] = KvScores<0>;
  t->kv_scores[1] = KvScores<1>;
  t->kv_scores[2] = KvScores<2>;
  t->kv_weighted_sum[0] = KvWeightedSum<0>;
  t->kv_weighted_sum[1] = KvWeightedSum<1>;
  t->kv_weighted_sum[2] = KvWeightedSum<2>;
  t->kv_value_strip = 64;
}

}  // namespace pocket::kernels
