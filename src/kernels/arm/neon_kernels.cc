// The NEON table (every 64-bit ARM CPU: ASIMD is part of ARMv8-A): the activation encoders
// and the element-wise f32 kernels, bit-identical with the scalar ones; f32 / f16 / bf16 dot
// products and GEMM tiles; attention and the other f32 vector kernels in neon_attention.cc,
// RMSNorm, exp and what uses it in neon_math.cc; the int8 packed tiles with an emulated dot
// product in neon_packed.cc (the `dotprod` table has the same tiles on SDOT). Compiled with
// the baseline flags, so nothing here needs internal linkage for safety, but it has it
// anyway, as every ISA file does.
#include <arm_neon.h>

#include <cmath>
#include <cstring>

#include "kernels/arm/neon_util.h"
#include "kernels/table_fill.h"
#include "quant/blocks.h"
#include "tensor/fp16.h"

namespace pocket::kernels {
namespace {

using quant::BlockQ8_0;
using quant::BlockQ8_K;

// Q8_0 activation encoding, bit-identical with the scalar quantizer: d = max|x| / 127, the
// quants round(x · (1 / d)) with ties away from zero (vcvtaq is exactly std::round).
void QuantizeQ8_0Neon(const float* x, void* dst, int64_t n) {
  auto* y = static_cast<BlockQ8_0*>(dst);
  for (int64_t b = 0; b < n / 32; ++b, x += 32) {
    float32x4_t v[8];
    float32x4_t m = vdupq_n_f32(0.0f);
    for (int j = 0; j < 8; ++j) {
      v[j] = vld1q_f32(x + 4 * j);
      m = vmaxq_f32(m, vabsq_f32(v[j]));
    }
    const float amax = vmaxvq_f32(m);
    const float d = amax / 127;
    const float id = d != 0.f ? 1.0f / d : 0.0f;
    y[b].d = F32ToF16(d);
    for (int j = 0; j < 8; j += 2) {
      const int16x4_t lo = vqmovn_s32(vcvtaq_s32_f32(vmulq_n_f32(v[j], id)));
      const int16x4_t hi = vqmovn_s32(vcvtaq_s32_f32(vmulq_n_f32(v[j + 1], id)));
      vst1_s8(y[b].qs + 4 * j, vqmovn_s16(vcombine_s16(lo, hi)));
    }
  }
}

// Q8_K activation encoding, bit-identical with the scalar quantizer: the first element of
// largest magnitude sets iscale = -127 / max, quants round to nearest even (ggml's
// nearest_int, which vcvtnq matches below 2^22) capped at 127, and the 16-element sums.
void QuantizeQ8_KNeon(const float* x, void* dst, int64_t n) {
  auto* y = static_cast<BlockQ8_K*>(dst);
  for (int64_t b = 0; b < n / 256; ++b, x += 256) {
    float32x4_t m = vdupq_n_f32(0.0f);
    for (int i = 0; i < 256; i += 4) m = vmaxq_f32(m, vabsq_f32(vld1q_f32(x + i)));
    const float amax = vmaxvq_f32(m);
    if (amax == 0.0f) {
      std::memset(&y[b], 0, sizeof(BlockQ8_K));
      continue;
    }
    int first = 0;
    while (std::fabs(x[first]) != amax) ++first;
    const float iscale = -127.f / x[first];
    const int32x4_t cap = vdupq_n_s32(127);
    for (int i = 0; i < 256; i += 16) {
      int32x4_t q[4];
      for (int k = 0; k < 4; ++k)
        q[k] = vminq_s32(vcvtnq_s32_f32(vmulq_n_f32(vld1q_f32(x + i + 4 * k), iscale)), cap);
      y[b].bsums[i / 16] =
          static_cast<int16_t>(vaddvq_s32(vaddq_s32(vaddq_s32(q[0], q[1]), vaddq_s32(q[2], q[3]))));
      const int16x8_t lo = vcombine_s16(vqmovn_s32(q[0]), vqmovn_s32(q[1]));
      const int16x8_t hi = vcombine_s16(vqmovn_s32(q[2]), vqmovn_s32(q[3]));
      vst1q_s8(y[b].qs + i, vcombine_s8(vqmovn_s16(lo), vqmovn_s16(hi)));
    }
    y[b].d = 1 / iscale;
  }
}

// Dot products of f32 / f16 / bf16 rows (the activation in the weight's type): sixteen
// elements per step in four FMA chains. Matrices of these types (E2B's per-layer projection
// is F16; Hugging Face checkpoints are BF16) run these per token in decoding and the tile
// below in prefill.
template <int kType>
float VecDot(int64_t n, const void* w, const void* a) {
  float32x4_t s[4] = {vdupq_n_f32(0.0f), vdupq_n_f32(0.0f), vdupq_n_f32(0.0f), vdupq_n_f32(0.0f)};
  int64_t i = 0;
  for (; i + 16 <= n; i += 16)
    for (int k = 0; k < 4; ++k)
      s[k] = vfmaq_f32(s[k], Load4<kType>(w, i + 4 * k), Load4<kType>(a, i + 4 * k));
  float sum = vaddvq_f32(vaddq_f32(vaddq_f32(s[0], s[1]), vaddq_f32(s[2], s[3])));
  for (; i < n; ++i) sum = std::fma(Load1<kType>(w, i), Load1<kType>(a, i), sum);
  return sum;
}

float DotF32(int64_t n, const float* a, const float* b) { return VecDot<0>(n, a, b); }

// GEMM tile for the same types (prefill): RB weight rows x CB activation rows, each output
// with VecDot's four chains in its order (so a token's outputs do not depend on whether it
// runs alone or in a chunk); at 2 x 2, per 16 elements 16 loads feed 16 FMAs, where the dot
// product loads twice per FMA (2 x 3 needs more than the 32 registers).
template <int kType, int RB, int CB>
void MicroTile(int64_t n, const uint8_t* w, uint64_t w_stride, const uint8_t* a, uint64_t a_stride,
               float* out, int64_t ldo) {
  float32x4_t acc[RB][CB][4];
  for (int r = 0; r < RB; ++r)
    for (int c = 0; c < CB; ++c)
      for (int k = 0; k < 4; ++k) acc[r][c][k] = vdupq_n_f32(0.0f);
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    for (int k = 0; k < 4; ++k) {
      float32x4_t wv[RB];
      for (int r = 0; r < RB; ++r) wv[r] = Load4<kType>(w + r * w_stride, i + 4 * k);
      for (int c = 0; c < CB; ++c) {
        const float32x4_t av = Load4<kType>(a + c * a_stride, i + 4 * k);
        for (int r = 0; r < RB; ++r) acc[r][c][k] = vfmaq_f32(acc[r][c][k], wv[r], av);
      }
    }
  }
  // The reductions first, in loops of constant length (the accumulators then stay registers:
  // with the variable-length tail inside these loops, GCC kept them in memory too and stored
  // them on every step).
  float sum[RB][CB];
  for (int r = 0; r < RB; ++r) {
    for (int c = 0; c < CB; ++c) {
      sum[r][c] = vaddvq_f32(
          vaddq_f32(vaddq_f32(acc[r][c][0], acc[r][c][1]), vaddq_f32(acc[r][c][2], acc[r][c][3])));
    }
  }
  for (int r = 0; r < RB; ++r) {
    for (int c = 0; c < CB; ++c) {
      float s = sum[r][c];
      for (int64_t j = i; j < n; ++j)
        s = std::fma(Load1<kType>(w + r * w_stride, j), Load1<kType>(a + c * a_stride, j), s);
      out[c * ldo + r] = s;
    }
  }
}

template <int kType, int RB>
void RowBlock(int64_t n, const uint8_t* w, uint64_t w_stride, const uint8_t* a, uint64_t a_stride,
              int nc, float* out, int64_t ldo) {
  int c = 0;
  for (; c + 2 <= nc; c += 2)
    MicroTile<kType, RB, 2>(n, w, w_stride, a + c * a_stride, a_stride, out + c * ldo, ldo);
  if (c < nc)
    MicroTile<kType, RB, 1>(n, w, w_stride, a + c * a_stride, a_stride, out + c * ldo, ldo);
}

template <int kType>
void GemmTile(int64_t n, const uint8_t* w, uint64_t w_stride, int nr, const uint8_t* a,
              uint64_t a_stride, int nc, float* out, int64_t ldo) {
  int r = 0;
  for (; r + 2 <= nr; r += 2)
    RowBlock<kType, 2>(n, w + r * w_stride, w_stride, a, a_stride, nc, out + r, ldo);
  if (r < nr) RowBlock<kType, 1>(n, w + r * w_stride, w_stride, a, a_stride, nc, out + r, ldo);
}

void ScaleF32(int64_t n, float a, float* y) {
  int64_t i = 0;
  for (; i + 4 <= n; i += 4) vst1q_f32(y + i, vmulq_n_f32(vld1q_f32(y + i), a));
  for (; i < n; ++i) y[i] *= a;
}

void AddF32(int64_t n, const float* x, float* y) {
  int64_t i = 0;
  for (; i + 4 <= n; i += 4) vst1q_f32(y + i, vaddq_f32(vld1q_f32(y + i), vld1q_f32(x + i)));
  for (; i < n; ++i) y[i] += x[i];
}

}  // namespace

void FillNeonKernels(KernelTable* t) {
  t->isa = Isa::kNeon;
  t->vec_dot[static_cast<int>(DType::kF32)] = VecDot<0>;
  t->vec_dot[static_cast<int>(DType::kF16)] = VecDot<1>;
  t->vec_dot[static_cast<int>(DType::kBF16)] = VecDot<2>;
  t->gemm_tile[static_cast<int>(DType::kF32)] = GemmTile<0>;
  t->gemm_tile[static_cast<int>(DType::kF16)] = GemmTile<1>;
  t->gemm_tile[static_cast<int>(DType::kBF16)] = GemmTile<2>;
  t->dot_f32 = DotF32;
  t->quantize_act[static_cast<int>(DType::kQ8_0)] = QuantizeQ8_0Neon;
  t->quantize_act[static_cast<int>(DType::kQ8_K)] = QuantizeQ8_KNeon;
  t->scale_f32 = ScaleF32;
  t->add_f32 = AddF32;
  FillNeonAttentionKernels(t);
  FillNeonMathKernels(t);
  FillNeonPackedKernels(t);
}

}  // namespace pocket::kernels
