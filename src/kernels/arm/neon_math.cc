// NEON transcendental and normalisation kernels (baseline ARMv8-A), the ports of the AVX2
// ones: RMSNorm with its sum of squares in f64 lanes, and exp by Cephes-style range reduction
// and polynomial (~1 ulp on [-87, 88]) behind GELU-tanh, sigmoid, softmax and the logit
// soft-cap. They agree with the scalar reference within the tolerances the kernel tests set
// (a few ulp), not bit for bit, as on x86.
#include <arm_neon.h>

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "kernels/table_fill.h"

namespace pocket::kernels {
namespace {

void RmsNorm(const float* x, const float* w, int64_t n, float eps, float* y) {
  // Sum of squares in f64 lanes: the norm feeds every layer, keep it as exact as the scalar one.
  float64x2_t s0 = vdupq_n_f64(0.0), s1 = vdupq_n_f64(0.0);
  int64_t i = 0;
  for (; i + 4 <= n; i += 4) {
    const float32x4_t v = vld1q_f32(x + i);
    const float64x2_t lo = vcvt_f64_f32(vget_low_f32(v)), hi = vcvt_high_f64_f32(v);
    s0 = vfmaq_f64(s0, lo, lo);
    s1 = vfmaq_f64(s1, hi, hi);
  }
  double ss = vaddvq_f64(vaddq_f64(s0, s1));
  for (; i < n; ++i) ss += static_cast<double>(x[i]) * x[i];
  const float scale = static_cast<float>(1.0 / std::sqrt(ss / static_cast<double>(n) + eps));
  i = 0;
  for (; i + 4 <= n; i += 4) {
    float32x4_t v = vmulq_n_f32(vld1q_f32(x + i), scale);
    if (w) v = vmulq_f32(v, vld1q_f32(w + i));
    vst1q_f32(y + i, v);
  }
  for (; i < n; ++i) y[i] = w ? x[i] * scale * w[i] : x[i] * scale;
}

// exp(x) for 4 lanes.
inline float32x4_t Exp(float32x4_t x) {
  x = vminq_f32(vmaxq_f32(x, vdupq_n_f32(-87.3f)), vdupq_n_f32(88.3f));
  const float32x4_t fx = vrndnq_f32(vmulq_n_f32(x, 1.44269504088896341f));
  x = vfmsq_f32(x, fx, vdupq_n_f32(0.693359375f));
  x = vfmsq_f32(x, fx, vdupq_n_f32(-2.12194440e-4f));
  float32x4_t p = vdupq_n_f32(1.9875691500E-4f);
  p = vfmaq_f32(vdupq_n_f32(1.3981999507E-3f), p, x);
  p = vfmaq_f32(vdupq_n_f32(8.3334519073E-3f), p, x);
  p = vfmaq_f32(vdupq_n_f32(4.1665795894E-2f), p, x);
  p = vfmaq_f32(vdupq_n_f32(1.6666665459E-1f), p, x);
  p = vfmaq_f32(vdupq_n_f32(5.0000001201E-1f), p, x);
  p = vfmaq_f32(vaddq_f32(x, vdupq_n_f32(1.0f)), p, vmulq_f32(x, x));
  const int32x4_t e = vshlq_n_s32(vaddq_s32(vcvtq_s32_f32(fx), vdupq_n_s32(127)), 23);
  return vmulq_f32(p, vreinterpretq_f32_s32(e));
}

void GeluTanhMul(int64_t n, const float* gate, const float* up, float* out) {
  // 0.5 * (1 + tanh(z)) == 1 / (1 + exp(-2z)): no cancellation near zero.
  const float32x4_t one = vdupq_n_f32(1.0f);
  int64_t i = 0;
  for (; i + 4 <= n; i += 4) {
    const float32x4_t g = vld1q_f32(gate + i);
    const float32x4_t g3 = vmulq_f32(vmulq_f32(g, g), g);
    const float32x4_t z = vmulq_n_f32(vfmaq_n_f32(g, g3, 0.044715f), -2.0f * 0.7978845608028654f);
    const float32x4_t s = vdivq_f32(one, vaddq_f32(one, Exp(z)));
    vst1q_f32(out + i, vmulq_f32(vmulq_f32(g, s), vld1q_f32(up + i)));
  }
  for (; i < n; ++i) {
    const float g = gate[i];
    const float t = std::tanh(0.7978845608028654f * (g + 0.044715f * g * g * g));
    out[i] = 0.5f * g * (1.0f + t) * up[i];
  }
}

void SigmoidMul(int64_t n, const float* gate, const float* x, float* out) {
  const float32x4_t one = vdupq_n_f32(1.0f);
  int64_t i = 0;
  for (; i + 4 <= n; i += 4) {
    const float32x4_t e = Exp(vnegq_f32(vld1q_f32(gate + i)));
    vst1q_f32(out + i, vdivq_f32(vld1q_f32(x + i), vaddq_f32(one, e)));
  }
  for (; i < n; ++i) out[i] = x[i] / (1.0f + std::exp(-gate[i]));
}

void Softmax(int64_t n, float* x) {
  float32x4_t vmx = vdupq_n_f32(-INFINITY);
  int64_t i = 0;
  for (; i + 4 <= n; i += 4) vmx = vmaxq_f32(vmx, vld1q_f32(x + i));
  float mx = vmaxvq_f32(vmx);
  for (; i < n; ++i) mx = std::max(mx, x[i]);
  const float32x4_t m = vdupq_n_f32(mx), cutoff = vdupq_n_f32(kSoftmaxCutoff);
  float32x4_t vsum = vdupq_n_f32(0.0f);
  i = 0;
  for (; i + 4 <= n; i += 4) {
    const float32x4_t dx = vsubq_f32(vld1q_f32(x + i), m);
    const float32x4_t e =
        vreinterpretq_f32_u32(vbicq_u32(vreinterpretq_u32_f32(Exp(dx)), vcltq_f32(dx, cutoff)));
    vst1q_f32(x + i, e);
    vsum = vaddq_f32(vsum, e);
  }
  float sum = vaddvq_f32(vsum);
  for (; i < n; ++i) {
    const float dx = x[i] - mx;
    x[i] = dx < kSoftmaxCutoff ? 0.0f : std::exp(dx);
    sum += x[i];
  }
  const float inv = 1.0f / sum;
  i = 0;
  for (; i + 4 <= n; i += 4) vst1q_f32(x + i, vmulq_n_f32(vld1q_f32(x + i), inv));
  for (; i < n; ++i) x[i] *= inv;
}

void Softcap(int64_t n, float cap, float* y) {
  // tanh(u) = 1 - 2 / (1 + exp(2u)).
  const float32x4_t one = vdupq_n_f32(1.0f), two = vdupq_n_f32(2.0f);
  int64_t i = 0;
  for (; i + 4 <= n; i += 4) {
    const float32x4_t e = Exp(vmulq_n_f32(vld1q_f32(y + i), 2.0f / cap));
    const float32x4_t t = vsubq_f32(one, vdivq_f32(two, vaddq_f32(one, e)));
    vst1q_f32(y + i, vmulq_n_f32(t, cap));
  }
  for (; i < n; ++i) y[i] = cap * std::tanh(y[i] / cap);
}

}  // namespace

void FillNeonMathKernels(KernelTable* t) {
  t->rms_norm = RmsNorm;
  t->gelu_tanh_mul = GeluTanhMul;
  t->sigmoid_mul = SigmoidMul;
  t->softmax = Softmax;
  t->softcap = Softcap;
}

}  // namespace pocket::kernels
