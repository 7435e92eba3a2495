// AVX2 kernels of attention and the KV cache: f32 dot and axpy (and axpy over f16/bf16 KV
// rows), the Q·Kᵀ score tiles, the multi-head P·V product and the f16 row store. Compiled
// with -mavx2 -mfma -mf16c.
#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "kernels/scalar/unpack.h"
#include "kernels/table_fill.h"
#include "kernels/x86/avx2_util.h"

namespace pocket::kernels {
namespace {

using avx2::HalfToFloat;
using avx2::HSum;
using avx2::LoadBF16;
using avx2::LoadF16;

float DotF32(int64_t n, const float* x, const float* y) {
  __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps(), a2 = _mm256_setzero_ps(),
         a3 = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 32 <= n; i += 32) {
    a0 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i), a0);
    a1 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i + 8), _mm256_loadu_ps(y + i + 8), a1);
    a2 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i + 16), _mm256_loadu_ps(y + i + 16), a2);
    a3 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i + 24), _mm256_loadu_ps(y + i + 24), a3);
  }
  for (; i + 8 <= n; i += 8)
    a0 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i), a0);
  float sum = HSum(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)));
  for (; i < n; ++i) sum += x[i] * y[i];
  return sum;
}

// Every element is one fused multiply-add per call (the tails too, explicitly), so that
// KvWeightedSum below can reproduce a sequence of calls bit for bit.
void AxpyF32(int64_t n, float a, const float* x, float* y) {
  const __m256 va = _mm256_set1_ps(a);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    _mm256_storeu_ps(y + i, _mm256_fmadd_ps(va, _mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i)));
  for (; i < n; ++i) y[i] = std::fma(a, x[i], y[i]);
}

template <bool kBF16>
void KvAxpy16(int64_t n, float a, const void* v, float* y) {
  const auto* x = static_cast<const uint16_t*>(v);
  const __m256 va = _mm256_set1_ps(a);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 xv = kBF16 ? LoadBF16(x + i) : LoadF16(x + i);
    _mm256_storeu_ps(y + i, _mm256_fmadd_ps(va, xv, _mm256_loadu_ps(y + i)));
  }
  for (; i < n; ++i) y[i] = std::fma(a, kBF16 ? BF16ToF32(x[i]) : HalfToFloat(x[i]), y[i]);
}

void KvAxpyF32(int64_t n, float a, const void* v, float* y) {
  AxpyF32(n, a, static_cast<const float*>(v), y);
}

// Eight KV elements from a row of kType (0 f32, 1 f16, 2 bf16) as f32, and one element.
template <int kType>
inline __m256 LoadKv8(const uint8_t* row, int i) {
  if constexpr (kType == 0) return _mm256_loadu_ps(reinterpret_cast<const float*>(row) + i);
  if constexpr (kType == 1) return LoadF16(reinterpret_cast<const uint16_t*>(row) + i);
  return LoadBF16(reinterpret_cast<const uint16_t*>(row) + i);
}
template <int kType>
inline float LoadKv1(const uint8_t* row, int i) {
  if constexpr (kType == 0) return reinterpret_cast<const float*>(row)[i];
  if constexpr (kType == 1) return HalfToFloat(reinterpret_cast<const uint16_t*>(row)[i]);
  return BF16ToF32(reinterpret_cast<const uint16_t*>(row)[i]);
}

// Scores of kHeads query heads x kKeys key rows, each pair one 8-lane accumulator: per
// eight elements kKeys row loads, kHeads query loads and kHeads x kKeys FMAs (a dot product
// per pair: two loads per FMA). The reduction adds the 128-bit halves and then two hadds,
// which is HSum's order: ((l0 + l4) + (l1 + l5)) + ((l2 + l6) + (l3 + l7)).
// `ahead` (null: none): kKeys rows at k_stride to prefetch meanwhile, one cache line per
// row per 64 bytes of columns (rows met later, which the hardware prefetchers, seeing
// kKeys interleaved streams that change pages every row or two, do not fetch in time).
template <int kType, int kHeads, int kKeys>
inline void ScoreTile(int d, const float* q, int64_t q_stride, const uint8_t* k, uint64_t k_stride,
                      float* s, int64_t s_stride, const uint8_t* ahead) {
  static_assert(kHeads >= 1 && kHeads <= 4);
  constexpr int kElem = kType == 0 ? 4 : 2;
  const int d8 = d - d % 8;
  __m256 acc[kHeads][kKeys];
  for (int h = 0; h < kHeads; ++h)
    for (int j = 0; j < kKeys; ++j) acc[h][j] = _mm256_setzero_ps();
  for (int i = 0; i < d8; i += 8) {
    if (ahead != nullptr && (i * kElem) % 64 == 0) {
      for (int j = 0; j < kKeys; ++j)
        _mm_prefetch(reinterpret_cast<const char*>(ahead + j * k_stride + i * kElem), _MM_HINT_T0);
    }
    if constexpr (kHeads <= 2) {  // wide tiles: the query rows in registers, a key at a time
      __m256 qv[kHeads];
      for (int h = 0; h < kHeads; ++h) qv[h] = _mm256_loadu_ps(q + h * q_stride + i);
      for (int j = 0; j < kKeys; ++j) {
        const __m256 kv = LoadKv8<kType>(k + j * k_stride, i);
        for (int h = 0; h < kHeads; ++h) acc[h][j] = _mm256_fmadd_ps(qv[h], kv, acc[h][j]);
      }
    } else {
      __m256 kv[kKeys];
      for (int j = 0; j < kKeys; ++j) kv[j] = LoadKv8<kType>(k + j * k_stride, i);
      for (int h = 0; h < kHeads; ++h) {
        const __m256 qv = _mm256_loadu_ps(q + h * q_stride + i);
        for (int j = 0; j < kKeys; ++j) acc[h][j] = _mm256_fmadd_ps(qv, kv[j], acc[h][j]);
      }
    }
  }
  for (int j = 0; j < kKeys; ++j) {
    __m128 half[4];
    for (int h = 0; h < 4; ++h) {
      half[h] = h < kHeads ? _mm_add_ps(_mm256_castps256_ps128(acc[h][j]),
                                        _mm256_extractf128_ps(acc[h][j], 1))
                           : _mm_setzero_ps();
    }
    float sum[4];
    _mm_storeu_ps(sum, _mm_hadd_ps(_mm_hadd_ps(half[0], half[1]), _mm_hadd_ps(half[2], half[3])));
    for (int h = 0; h < kHeads; ++h) {
      for (int i = d8; i < d; ++i)
        sum[h] = std::fma(q[h * q_stride + i], LoadKv1<kType>(k + j * k_stride, i), sum[h]);
      s[h * s_stride + j] = sum[h];
    }
  }
}

// Keys [0, n_keys) of k in tiles of about twelve accumulators (one or two heads: eight or
// six keys, so that enough independent FMA chains run), then threes, a two and a one; with
// `prefetch`, each tile also prefetches the rows two tiles on, up to row n_rows.
template <int kType, int kHeads>
inline void ScoreKeys(int64_t n_keys, int d, const float* q, int64_t q_stride, const uint8_t* k,
                      uint64_t k_stride, float* s, int64_t s_stride, bool prefetch,
                      int64_t n_rows) {
  constexpr int64_t kTile = kHeads == 1 ? 8 : kHeads == 2 ? 6 : 3;
  constexpr int64_t kAhead = 2 * kTile;
  auto ahead = [&](int64_t j) -> const uint8_t* {
    return prefetch && j + kAhead + kTile <= n_rows ? k + (j + kAhead) * k_stride : nullptr;
  };
  int64_t j = 0;
  for (; j + kTile <= n_keys; j += kTile)
    ScoreTile<kType, kHeads, kTile>(d, q, q_stride, k + j * k_stride, k_stride, s + j, s_stride,
                                    ahead(j));
  for (; j + 3 <= n_keys; j += 3)
    ScoreTile<kType, kHeads, 3>(d, q, q_stride, k + j * k_stride, k_stride, s + j, s_stride,
                                nullptr);
  if (n_keys - j == 2)
    ScoreTile<kType, kHeads, 2>(d, q, q_stride, k + j * k_stride, k_stride, s + j, s_stride,
                                nullptr);
  if (n_keys - j == 1)
    ScoreTile<kType, kHeads, 1>(d, q, q_stride, k + j * k_stride, k_stride, s + j, s_stride,
                                nullptr);
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
      const bool first = h == 0;  // the first head group reads the strip from memory
      const int64_t rows = n_keys - j0;
      switch (std::min(4, nh - h)) {
        case 4:
          ScoreKeys<kType, 4>(nj, d, qh, q_stride, kj, k_stride, sh, s_stride, first, rows);
          break;
        case 3:
          ScoreKeys<kType, 3>(nj, d, qh, q_stride, kj, k_stride, sh, s_stride, first, rows);
          break;
        case 2:
          ScoreKeys<kType, 2>(nj, d, qh, q_stride, kj, k_stride, sh, s_stride, first, rows);
          break;
        default:
          ScoreKeys<kType, 1>(nj, d, qh, q_stride, kj, k_stride, sh, s_stride, first, rows);
          break;
      }
    }
  }
}

// Up to four heads x sixteen output elements in registers while every key row streams past
// (avx2::FmaStrips16 with P as A and the V rows as B): per key two row loads, four broadcasts
// and eight FMAs (kv_axpy: a load, a load and a store per FMA). Each element still sees
// fma(p_j, v_j, acc) for j in order: bit-identical to axpy.
template <int kType, int kHeads>
void WeightedSumHeads(int64_t n_keys, int d, const float* p, int64_t p_stride, const uint8_t* v,
                      uint64_t v_stride, float* o, int64_t o_stride) {
  auto load_v = [](const uint8_t* row, int64_t i) {
    return LoadKv8<kType>(row, static_cast<int>(i));
  };
  int i = 0;
  if constexpr (kHeads <= 2) {  // 32 columns: enough FMA chains for one or two heads
    i = static_cast<int>(
        avx2::FmaStrips32<kHeads, true>(d, n_keys, p, p_stride, v, v_stride, load_v, o, o_stride));
  }
  constexpr int kElem = kType == 0 ? 4 : 2;
  i += static_cast<int>(avx2::FmaStrips16<kHeads, true>(d - i, n_keys, p, p_stride, v + i * kElem,
                                                        v_stride, load_v, o + i, o_stride));
  for (; i + 8 <= d; i += 8) {
    __m256 acc[kHeads];
    for (int h = 0; h < kHeads; ++h) acc[h] = _mm256_loadu_ps(o + h * o_stride + i);
    for (int64_t j = 0; j < n_keys; ++j) {
      const __m256 x = LoadKv8<kType>(v + static_cast<uint64_t>(j) * v_stride, i);
      for (int h = 0; h < kHeads; ++h)
        acc[h] = _mm256_fmadd_ps(_mm256_broadcast_ss(p + h * p_stride + j), x, acc[h]);
    }
    for (int h = 0; h < kHeads; ++h) _mm256_storeu_ps(o + h * o_stride + i, acc[h]);
  }
  for (; i < d; ++i) {
    for (int h = 0; h < kHeads; ++h) {
      float acc = o[h * o_stride + i];
      for (int64_t j = 0; j < n_keys; ++j)
        acc = std::fma(p[h * p_stride + j], LoadKv1<kType>(v + j * v_stride, i), acc);
      o[h * o_stride + i] = acc;
    }
  }
}

template <int kType>
void KvWeightedSum(int64_t n_keys, int d, int nh, const float* p, int64_t p_stride, const void* v,
                   uint64_t v_stride, float* o, int64_t o_stride) {
  const auto* vb = static_cast<const uint8_t*>(v);
  int h = 0;
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

void KvStoreF16(const float* x, void* dst, int64_t n) {
  auto* y = static_cast<uint16_t*>(dst);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    _mm_storeu_si128(reinterpret_cast<__m128i*>(y + i),
                     _mm256_cvtps_ph(_mm256_loadu_ps(x + i), _MM_FROUND_TO_NEAREST_INT));
  }
  for (; i < n; ++i) y[i] = F32ToF16(x[i]);
}

}  // namespace

void FillAvx2AttentionKernels(KernelTable* t) {
  t->dot_f32 = DotF32;
  t->axpy_f32 = AxpyF32;
  t->kv_store[1] = KvStoreF16;
  t->kv_axpy[0] = KvAxpyF32;
  t->kv_axpy[1] = KvAxpy16<false>;
  t->kv_axpy[2] = KvAxpy16<true>;
  t->kv_scores[0] = KvScores<0>;
  t->kv_scores[1] = KvScores<1>;
  t->kv_scores[2] = KvScores<2>;
  t->kv_weighted_sum[0] = KvWeightedSum<0>;
  t->kv_weighted_sum[1] = KvWeightedSum<1>;
  t->kv_weighted_sum[2] = KvWeightedSum<2>;
}

}  // namespace pocket::kernels
