// AVX-512 element-wise kernels of the prefill path: the GELU gate and the Q8_0 / Q8_K
// activation encoders, which the AVX2 table ran at 8 lanes (~9% of an E2B prefill's compute on
// the AMX machine once the GEMMs ran on the tile unit). Each does, per lane, exactly the
// operations of its AVX2 twin (avx2_kernels.cc): the encoders give the scalar encoders' bytes
// (kernels_test checks), the GELU gate the AVX2 kernel's bits on its vector steps (its last
// n % 16 lanes are masked vector lanes here, scalar tanh there; kernels_test checks both
// against the scalar reference).
// Compiled with the AVX2 flags and -mavx512f -mavx512bw -mavx512vl; internal linkage (see
// packed_frame.h for why).
#include <cmath>
#include <cstdint>
#include <cstring>

#include "kernels/table_fill.h"
#include "kernels/x86/avx512_util.h"
#include "quant/blocks.h"
#include "tensor/dtype.h"
#include "tensor/fp16.h"

namespace pocket::kernels {
namespace {

using quant::BlockQ8_0;
using quant::BlockQ8_K;

// exp(x) for 16 lanes: the AVX2 Exp's range reduction and polynomial, step for step.
inline __m512 Exp(__m512 x) {
  x = _mm512_min_ps(_mm512_max_ps(x, _mm512_set1_ps(-87.3f)), _mm512_set1_ps(88.3f));
  const __m512 fx = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)),
                                         _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  x = _mm512_fnmadd_ps(fx, _mm512_set1_ps(0.693359375f), x);
  x = _mm512_fnmadd_ps(fx, _mm512_set1_ps(-2.12194440e-4f), x);
  __m512 p = _mm512_set1_ps(1.9875691500E-4f);
  p = _mm512_fmadd_ps(p, x, _mm512_set1_ps(1.3981999507E-3f));
  p = _mm512_fmadd_ps(p, x, _mm512_set1_ps(8.3334519073E-3f));
  p = _mm512_fmadd_ps(p, x, _mm512_set1_ps(4.1665795894E-2f));
  p = _mm512_fmadd_ps(p, x, _mm512_set1_ps(1.6666665459E-1f));
  p = _mm512_fmadd_ps(p, x, _mm512_set1_ps(5.0000001201E-1f));
  const __m512 x2 = _mm512_mul_ps(x, x);
  p = _mm512_fmadd_ps(p, x2, _mm512_add_ps(x, _mm512_set1_ps(1.0f)));
  const __m512i e =
      _mm512_slli_epi32(_mm512_add_epi32(_mm512_cvtps_epi32(fx), _mm512_set1_epi32(127)), 23);
  return _mm512_mul_ps(p, _mm512_castsi512_ps(e));
}

void GeluTanhMul(int64_t n, const float* gate, const float* up, float* out) {
  // 0.5 * (1 + tanh(z)) == 1 / (1 + exp(-2z)), as in the AVX2 kernel.
  const __m512 k = _mm512_set1_ps(-2.0f * 0.7978845608028654f), c = _mm512_set1_ps(0.044715f);
  const __m512 one = _mm512_set1_ps(1.0f);
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m512 g = _mm512_loadu_ps(gate + i);
    const __m512 g3 = _mm512_mul_ps(_mm512_mul_ps(g, g), g);
    const __m512 z = _mm512_mul_ps(k, _mm512_fmadd_ps(c, g3, g));
    const __m512 s = _mm512_div_ps(one, _mm512_add_ps(one, Exp(z)));
    _mm512_storeu_ps(out + i, _mm512_mul_ps(_mm512_mul_ps(g, s), _mm512_loadu_ps(up + i)));
  }
  if (i < n) {  // the last 1-15 lanes, masked: the same arithmetic as the full vectors
    const __mmask16 m = static_cast<__mmask16>((1u << (n - i)) - 1);
    const __m512 g = _mm512_maskz_loadu_ps(m, gate + i);
    const __m512 g3 = _mm512_mul_ps(_mm512_mul_ps(g, g), g);
    const __m512 z = _mm512_mul_ps(k, _mm512_fmadd_ps(c, g3, g));
    const __m512 s = _mm512_div_ps(one, _mm512_add_ps(one, Exp(z)));
    _mm512_mask_storeu_ps(out + i, m,
                          _mm512_mul_ps(_mm512_mul_ps(g, s), _mm512_maskz_loadu_ps(m, up + i)));
  }
}

// Rounding half away from zero, as roundf (the scalar Q8_0 encoder) does.
inline __m512 RoundHalfAway(__m512 x) {
  const __m512 t = _mm512_roundscale_ps(x, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
  const __m512 frac = _mm512_abs_ps(_mm512_sub_ps(x, t));
  const __mmask16 up = _mm512_cmp_ps_mask(frac, _mm512_set1_ps(0.5f), _CMP_GE_OQ);
  const __m512 step = _mm512_castsi512_ps(_mm512_or_si512(
      _mm512_castps_si512(_mm512_set1_ps(1.0f)),
      _mm512_and_si512(_mm512_castps_si512(x), _mm512_set1_epi32(static_cast<int>(0x80000000u)))));
  return _mm512_mask_add_ps(t, up, t, step);
}

// The largest lane (all lanes are magnitudes, so the order of the maxima does not matter).
inline float MaxLane(__m512 v) { return _mm512_reduce_max_ps(v); }

void QuantizeQ8_0(const float* x, void* dst, int64_t n) {
  auto* y = static_cast<BlockQ8_0*>(dst);
  for (int64_t b = 0; b < n / 32; ++b, x += 32) {
    const __m512 v0 = _mm512_loadu_ps(x), v1 = _mm512_loadu_ps(x + 16);
    const float amax = MaxLane(_mm512_max_ps(_mm512_abs_ps(v0), _mm512_abs_ps(v1)));
    const float d = amax / 127;
    const float id = d != 0.f ? 1.0f / d : 0.0f;
    y[b].d = F32ToF16(d);
    const __m512 vid = _mm512_set1_ps(id);
    // |q| <= 127, so the saturating narrowing (vpmovsdb) is exact, and it keeps the order.
    const __m128i q0 =
        _mm512_cvtsepi32_epi8(_mm512_cvtps_epi32(RoundHalfAway(_mm512_mul_ps(v0, vid))));
    const __m128i q1 =
        _mm512_cvtsepi32_epi8(_mm512_cvtps_epi32(RoundHalfAway(_mm512_mul_ps(v1, vid))));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(y[b].qs), q0);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(y[b].qs + 16), q1);
  }
}

// As the scalar encoder: the first element of largest magnitude sets iscale = -127 / max,
// quants round to nearest even (cvtps_epi32 under the default rounding mode, as ggml's
// nearest_int below 2^22) capped at 127, and the 16-element sums.
void QuantizeQ8_K(const float* x, void* dst, int64_t n) {
  auto* y = static_cast<BlockQ8_K*>(dst);
  const __m512i cap = _mm512_set1_epi32(127);
  for (int64_t b = 0; b < n / 256; ++b, x += 256) {
    __m512 vmax = _mm512_setzero_ps();
    for (int i = 0; i < 256; i += 16)
      vmax = _mm512_max_ps(vmax, _mm512_abs_ps(_mm512_loadu_ps(x + i)));
    const float amax = MaxLane(vmax);
    if (amax == 0.0f) {
      std::memset(&y[b], 0, sizeof(BlockQ8_K));
      continue;
    }
    int first = 0;
    while (std::fabs(x[first]) != amax) ++first;
    const float iscale = -127.f / x[first];
    const __m512 vs = _mm512_set1_ps(iscale);
    for (int i = 0; i < 256; i += 16) {
      const __m512i q =
          _mm512_min_epi32(_mm512_cvtps_epi32(_mm512_mul_ps(vs, _mm512_loadu_ps(x + i))), cap);
      y[b].bsums[i / 16] = static_cast<int16_t>(_mm512_reduce_add_epi32(q));
      _mm_storeu_si128(reinterpret_cast<__m128i*>(y[b].qs + i), _mm512_cvtsepi32_epi8(q));
    }
    y[b].d = 1 / iscale;
  }
}

}  // namespace

void FillAvx512ElementwiseKernels(KernelTable* t) {
  t->gelu_tanh_mul = GeluTanhMul;
  t->quantize_act[static_cast<int>(DType::kQ8_0)] = QuantizeQ8_0;
  t->quantize_act[static_cast<int>(DType::kQ8_K)] = QuantizeQ8_K;
}

}  // namespace pocket::kernels
