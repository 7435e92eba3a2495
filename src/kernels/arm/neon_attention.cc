// NEON attention kernels and axpy (baseline ARMv8-A). kv_scores follows the canonical
// score arithmetic of kernels.h: the 8-lane FMA chain is two 4-lane chains (lanes 0-3 and
// 4-7), reduced as ((l0 + l4) + (l1 + l5)) + ((l2 + l6) + (l3 + l7)), so every table gives the
// same scores. kv_axpy is one FMA per element, and kv_weighted_sum applies the same FMAs in key
// order with a strip of outputs held in registers, so it equals a sequence of kv_axpy calls.
#include <arm_neon.h>

#include <cmath>
#include <cstdint>

#include "kernels/arm/neon_util.h"
#include "kernels/table_fill.h"

namespace pocket::kernels {
namespace {

template <int kType>
void KvAxpy(int64_t n, float a, const void* v, float* y) {
  const auto* row = static_cast<const uint8_t*>(v);
  int64_t i = 0;
  for (; i + 4 <= n; i += 4)
    vst1q_f32(y + i, vfmaq_n_f32(vld1q_f32(y + i), Load4<kType>(row, i), a));
  for (; i < n; ++i) y[i] = std::fma(a, Load1<kType>(row, i), y[i]);
}

void AxpyF32(int64_t n, float a, const float* x, float* y) { KvAxpy<0>(n, a, x, y); }

// One canonical score: q · key over d elements.
template <int kType>
inline float Score(const float* q, const uint8_t* key, int d) {
  const int d8 = d - d % 8;
  float32x4_t lo = vdupq_n_f32(0.0f), hi = vdupq_n_f32(0.0f);
  for (int i = 0; i < d8; i += 8) {
    lo = vfmaq_f32(lo, vld1q_f32(q + i), Load4<kType>(key, i));
    hi = vfmaq_f32(hi, vld1q_f32(q + i + 4), Load4<kType>(key, i + 4));
  }
  const float32x4_t pairs = vaddq_f32(lo, hi);  // l0 + l4, l1 + l5, l2 + l6, l3 + l7
  float sum = (vgetq_lane_f32(pairs, 0) + vgetq_lane_f32(pairs, 1)) +
              (vgetq_lane_f32(pairs, 2) + vgetq_lane_f32(pairs, 3));
  for (int i = d8; i < d; ++i) sum = std::fma(q[i], Load1<kType>(key, i), sum);
  return sum;
}

template <int kType>
void KvScores(int64_t n_keys, int d, int nh, const float* q, int64_t q_stride, const void* k,
              uint64_t k_stride, float* s, int64_t s_stride) {
  const auto* keys = static_cast<const uint8_t*>(k);
  for (int64_t j = 0; j < n_keys; ++j) {  // keys outer: each key row is read once
    const uint8_t* key = keys + static_cast<uint64_t>(j) * k_stride;
    for (int h = 0; h < nh; ++h) s[h * s_stride + j] = Score<kType>(q + h * q_stride, key, d);
  }
}

// Sixteen output columns in registers across the keys; the rest one FMA at a time, in key
// order as well.
template <int kType>
void KvWeightedSum(int64_t n_keys, int d, int nh, const float* p, int64_t p_stride, const void* v,
                   uint64_t v_stride, float* o, int64_t o_stride) {
  const auto* rows = static_cast<const uint8_t*>(v);
  for (int h = 0; h < nh; ++h) {
    const float* ph = p + h * p_stride;
    float* oh = o + h * o_stride;
    int i = 0;
    for (; i + 16 <= d; i += 16) {
      float32x4_t acc[4];
      for (int k = 0; k < 4; ++k) acc[k] = vld1q_f32(oh + i + 4 * k);
      for (int64_t j = 0; j < n_keys; ++j) {
        const uint8_t* row = rows + static_cast<uint64_t>(j) * v_stride;
        for (int k = 0; k < 4; ++k)
          acc[k] = vfmaq_n_f32(acc[k], Load4<kType>(row, i + 4 * k), ph[j]);
      }
      for (int k = 0; k < 4; ++k) vst1q_f32(oh + i + 4 * k, acc[k]);
    }
    for (; i + 4 <= d; i += 4) {
      float32x4_t acc = vld1q_f32(oh + i);
      for (int64_t j = 0; j < n_keys; ++j)
        acc = vfmaq_n_f32(acc, Load4<kType>(rows + static_cast<uint64_t>(j) * v_stride, i), ph[j]);
      vst1q_f32(oh + i, acc);
    }
    for (; i < d; ++i) {
      float acc = oh[i];
      for (int64_t j = 0; j < n_keys; ++j)
        acc = std::fma(ph[j], Load1<kType>(rows + static_cast<uint64_t>(j) * v_stride, i), acc);
      oh[i] = acc;
    }
  }
}

}  // namespace

void FillNeonAttentionKernels(KernelTable* t) {
  t->axpy_f32 = AxpyF32;
  t->kv_axpy[0] = KvAxpy<0>;
  t->kv_axpy[1] = KvAxpy<1>;
  t->kv_axpy[2] = KvAxpy<2>;
  t->kv_scores[0] = KvScores<0>;
  t->kv_scores[1] = KvScores<1>;
  t->kv_scores[2] = KvScores<2>;
  t->kv_weighted_sum[0] = KvWeightedSum<0>;
  t->kv_weighted_sum[1] = KvWeightedSum<1>;
  t->kv_weighted_sum[2] = KvWeightedSum<2>;
}

}  // namespace pocket::kernels
