// ARM row-major dot products of every quantized weight type against its activation encoding
// (Q8_0 for the 32-element formats, Q8_K for the K-quants), for the matrices the packer leaves
// in the file's layout (row counts not a multiple of 8, or past the packing budget). Each
// block's codes are expanded in registers (nibbles, fifth-bit planes through one table
// lookup, codebooks through another) and multiplied as exact integers by the dot-product step
// of dot_step.h, so results match the scalar references up to f32 summation order. Compiled
// twice like packed_tiles.h (SDOT for `dotprod`, emulated for `neon`); internal linkage.
#pragma once

#include <arm_neon.h>

#include <cstdint>
#include <cstring>

#include "kernels/arm/dot_step.h"
#include "kernels/kernels.h"
#include "quant/blocks.h"
#include "tensor/fp16.h"

namespace pocket::kernels {
namespace {  // NOLINT(build/namespaces): internal linkage per ISA file, see above

inline float F16Value(uint16_t h) {
  return vgetq_lane_f32(vcvt_f32_f16(vreinterpret_f16_u16(vdup_n_u16(h))), 0);
}

// ---- The 32-element formats against Q8_0 activations: w = d·q (+ m) per block. ----
// Each format gives its block's 32 codes as two signed byte vectors (elements 0-15, 16-31),
// its scale and, for Q4_1 / Q5_1, its minimum.

inline uint16_t HalfAt(const uint8_t* p) {
  uint16_t h;
  std::memcpy(&h, p, 2);
  return h;
}

// Low nibbles (elements 0-15) and high nibbles (16-31) of the 16 bytes at p.
inline void Nibbles(const uint8_t* p, uint8x16_t* lo, uint8x16_t* hi) {
  const uint8x16_t raw = vld1q_u8(p);
  *lo = vandq_u8(raw, vdupq_n_u8(0x0F));
  *hi = vshrq_n_u8(raw, 4);
}

// The 32 fifth bits at p (bit i of the little-endian word: element i) as 0x10 in byte i.
inline void FifthBits32(const uint8_t* p, uint8x16_t* lo, uint8x16_t* hi) {
  static constexpr uint8_t kByte[16] = {0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1};
  static constexpr uint8_t kBit[16] = {1, 2, 4, 8, 16, 32, 64, 128, 1, 2, 4, 8, 16, 32, 64, 128};
  uint32_t word;
  std::memcpy(&word, p, 4);
  const uint8x16_t bytes = vreinterpretq_u8_u32(vdupq_n_u32(word));
  const uint8x16_t sel = vld1q_u8(kByte), bit = vld1q_u8(kBit), b4 = vdupq_n_u8(0x10);
  *lo = vandq_u8(vtstq_u8(vqtbl1q_u8(bytes, sel), bit), b4);
  *hi = vandq_u8(vtstq_u8(vqtbl1q_u8(bytes, vaddq_u8(sel, vdupq_n_u8(2))), bit), b4);
}

struct Q4_0Format {
  static constexpr int kBytes = 18;
  static constexpr bool kHasMin = false;
  static void Codes(const uint8_t* p, int8x16_t* lo, int8x16_t* hi) {
    uint8x16_t l, h;
    Nibbles(p + 2, &l, &h);
    *lo = vsubq_s8(vreinterpretq_s8_u8(l), vdupq_n_s8(8));
    *hi = vsubq_s8(vreinterpretq_s8_u8(h), vdupq_n_s8(8));
  }
  static float Scale(const uint8_t* p) { return F16Value(HalfAt(p)); }
  static float Min(const uint8_t*) { return 0.0f; }
};

struct Q8_0Format {
  static constexpr int kBytes = 34;
  static constexpr bool kHasMin = false;
  static void Codes(const uint8_t* p, int8x16_t* lo, int8x16_t* hi) {
    *lo = vld1q_s8(reinterpret_cast<const int8_t*>(p + 2));
    *hi = vld1q_s8(reinterpret_cast<const int8_t*>(p + 18));
  }
  static float Scale(const uint8_t* p) { return F16Value(HalfAt(p)); }
  static float Min(const uint8_t*) { return 0.0f; }
};

struct Q4_1Format {
  static constexpr int kBytes = 20;
  static constexpr bool kHasMin = true;
  static void Codes(const uint8_t* p, int8x16_t* lo, int8x16_t* hi) {
    uint8x16_t l, h;
    Nibbles(p + 4, &l, &h);
    *lo = vreinterpretq_s8_u8(l);
    *hi = vreinterpretq_s8_u8(h);
  }
  static float Scale(const uint8_t* p) { return F16Value(HalfAt(p)); }
  static float Min(const uint8_t* p) { return F16Value(HalfAt(p + 2)); }
};

// Q5_0 / Q5_1: the nibble plus the fifth bit (Q5_0 then less 16).
template <int kQh, int kQs, bool kHasMinimum>
struct Q5Format {
  static constexpr int kBytes = kQs + 16;
  static constexpr bool kHasMin = kHasMinimum;
  static void Codes(const uint8_t* p, int8x16_t* lo, int8x16_t* hi) {
    uint8x16_t l, h, fl, fh;
    Nibbles(p + kQs, &l, &h);
    FifthBits32(p + kQh, &fl, &fh);
    *lo = vreinterpretq_s8_u8(vorrq_u8(l, fl));
    *hi = vreinterpretq_s8_u8(vorrq_u8(h, fh));
    if constexpr (!kHasMinimum) {
      *lo = vsubq_s8(*lo, vdupq_n_s8(16));
      *hi = vsubq_s8(*hi, vdupq_n_s8(16));
    }
  }
  static float Scale(const uint8_t* p) { return F16Value(HalfAt(p)); }
  static float Min(const uint8_t* p) { return kHasMinimum ? F16Value(HalfAt(p + 2)) : 0.0f; }
};
using Q5_0Format = Q5Format<2, 6, false>;
using Q5_1Format = Q5Format<4, 8, true>;

// IQ4_NL / MXFP4: the nibbles through the format's 16-value codebook.
template <bool kMX>
struct CodebookFormat {
  static constexpr int kBytes = kMX ? 17 : 18;
  static constexpr bool kHasMin = false;
  static void Codes(const uint8_t* p, int8x16_t* lo, int8x16_t* hi) {
    const int8x16_t book = vld1q_s8(kMX ? quant::kMXFP4Values : quant::kIQ4NLValues);
    uint8x16_t l, h;
    Nibbles(p + (kMX ? 1 : 2), &l, &h);
    *lo = vqtbl1q_s8(book, l);
    *hi = vqtbl1q_s8(book, h);
  }
  static float Scale(const uint8_t* p) { return kMX ? E8M0ToF32Half(p[0]) : F16Value(HalfAt(p)); }
  static float Min(const uint8_t*) { return 0.0f; }
};

template <typename F>
float VecDotLegacy(int64_t n, const void* w, const void* act) {
  const auto* x = static_cast<const uint8_t*>(w);
  const auto* y = static_cast<const quant::BlockQ8_0*>(act);
  const int8x16_t ones = vdupq_n_s8(1);
  float32x4_t acc = vdupq_n_f32(0.0f);
  for (int64_t b = 0; b < n / 32; ++b, x += F::kBytes) {
    int8x16_t lo, hi;
    F::Codes(x, &lo, &hi);
    const int8x16_t a_lo = vld1q_s8(y[b].qs), a_hi = vld1q_s8(y[b].qs + 16);
    const float da = F16Value(y[b].d);
    const int32x4_t sum = Dot(Dot(vdupq_n_s32(0), lo, a_lo), hi, a_hi);
    acc = vfmaq_n_f32(acc, vcvtq_f32_s32(sum), F::Scale(x) * da);
    if constexpr (F::kHasMin) {
      const int32x4_t asum = Dot(Dot(vdupq_n_s32(0), ones, a_lo), ones, a_hi);
      acc = vfmaq_n_f32(acc, vcvtq_f32_s32(asum), F::Min(x) * da);
    }
  }
  return vaddvq_f32(acc);
}

// ---- K-quants against Q8_K (256 elements; bsums: sums of 16-element activation groups). ----
// Each group's exact int32 sums are scaled by its integer scale in the vector accumulator.

// Σ_k q[k] · a[k] over 32 codes (two vectors) in four int32 lanes.
inline int32x4_t Dot32(uint8x16_t q0, uint8x16_t q1, const int8_t* a) {
  return Dot(Dot(vdupq_n_s32(0), vreinterpretq_s8_u8(q0), vld1q_s8(a)), vreinterpretq_s8_u8(q1),
             vld1q_s8(a + 16));
}

// Q2_K: w = d·(sc & 15)·q − dmin·(sc >> 4), q in [0, 3], 16 groups of 16. Within each 128
// elements, 32 bytes of qs give four 32-element runs (bits 2s, 2s + 1), groups in order.
float VecDotQ2K(int64_t n, const void* w, const void* act) {
  const auto* x = static_cast<const quant::BlockQ2_K*>(w);
  const auto* y = static_cast<const quant::BlockQ8_K*>(act);
  const uint8x16_t m3 = vdupq_n_u8(3);
  const int32x4_t zero = vdupq_n_s32(0);
  float sum = 0.0f;
  for (int64_t b = 0; b < n / 256; ++b) {
    const uint8_t* sc = x[b].scales;
    const int8_t* a = y[b].qs;
    int32x4_t acc = zero;
    int32_t mins = 0;
    for (int g = 0; g < 16; ++g) mins += (sc[g] >> 4) * y[b].bsums[g];
    for (int i = 0; i < 2; ++i) {
      const uint8x16_t q0 = vld1q_u8(x[b].qs + 32 * i), q1 = vld1q_u8(x[b].qs + 32 * i + 16);
      for (int s = 0; s < 4; ++s) {
        const int g = 8 * i + 2 * s;
        const int8x16_t shift = vdupq_n_s8(static_cast<int8_t>(-2 * s));
        const int8_t* as = a + 128 * i + 32 * s;
        const int8x16_t c0 = vreinterpretq_s8_u8(vandq_u8(vshlq_u8(q0, shift), m3));
        const int8x16_t c1 = vreinterpretq_s8_u8(vandq_u8(vshlq_u8(q1, shift), m3));
        acc = vmlaq_n_s32(acc, Dot(zero, c0, vld1q_s8(as)), sc[g] & 15);
        acc = vmlaq_n_s32(acc, Dot(zero, c1, vld1q_s8(as + 16)), sc[g + 1] & 15);
      }
    }
    sum += y[b].d * (F16Value(x[b].d) * static_cast<float>(vaddvq_s32(acc)) -
                     F16Value(x[b].dmin) * static_cast<float>(mins));
  }
  return sum;
}

// Q3_K: w = d·sc·(u − 4) with u = q | hbit << 2 in [0, 7] (q 2 bits, hbit from hmask), 16
// groups of 16: Σ w·a = d·Σ_g sc_g·(Σ u·a − 4·Σ a_g). Run s of half i uses hmask bit 4i + s.
float VecDotQ3K(int64_t n, const void* w, const void* act) {
  const auto* x = static_cast<const quant::BlockQ3_K*>(w);
  const auto* y = static_cast<const quant::BlockQ8_K*>(act);
  const uint8x16_t m3 = vdupq_n_u8(3), one = vdupq_n_u8(1);
  const int32x4_t zero = vdupq_n_s32(0);
  float sum = 0.0f;
  for (int64_t b = 0; b < n / 256; ++b) {
    int sc[16];
    for (int g = 0; g < 16; ++g) sc[g] = quant::ScaleQ3K(g, x[b].scales);
    int32_t offset = 0;
    for (int g = 0; g < 16; ++g) offset += sc[g] * y[b].bsums[g];
    const int8_t* a = y[b].qs;
    const uint8x16_t h0 = vld1q_u8(x[b].hmask), h1 = vld1q_u8(x[b].hmask + 16);
    int32x4_t acc = zero;
    for (int i = 0; i < 2; ++i) {
      const uint8x16_t q0 = vld1q_u8(x[b].qs + 32 * i), q1 = vld1q_u8(x[b].qs + 32 * i + 16);
      for (int s = 0; s < 4; ++s) {
        const int g = 8 * i + 2 * s;
        const int8x16_t shift = vdupq_n_s8(static_cast<int8_t>(-2 * s));
        const int8x16_t hshift = vdupq_n_s8(static_cast<int8_t>(-(4 * i + s)));
        const int8_t* as = a + 128 * i + 32 * s;
        const uint8x16_t u0 = vorrq_u8(vandq_u8(vshlq_u8(q0, shift), m3),
                                       vshlq_n_u8(vandq_u8(vshlq_u8(h0, hshift), one), 2));
        const uint8x16_t u1 = vorrq_u8(vandq_u8(vshlq_u8(q1, shift), m3),
                                       vshlq_n_u8(vandq_u8(vshlq_u8(h1, hshift), one), 2));
        acc = vmlaq_n_s32(acc, Dot(zero, vreinterpretq_s8_u8(u0), vld1q_s8(as)), sc[g]);
        acc = vmlaq_n_s32(acc, Dot(zero, vreinterpretq_s8_u8(u1), vld1q_s8(as + 16)), sc[g + 1]);
      }
    }
    sum += y[b].d * F16Value(x[b].d) *
           (static_cast<float>(vaddvq_s32(acc)) - 4.0f * static_cast<float>(offset));
  }
  return sum;
}

// Q5_K: w = d·sc·q − dmin·m, q = nibble | hbit << 4 in [0, 31], 8 groups of 32 with 6-bit
// scales and minimums; group 2j takes the low nibbles of qs[32j..] and qh bit 2j, group 2j+1
// the high nibbles and bit 2j + 1.
float VecDotQ5K(int64_t n, const void* w, const void* act) {
  const auto* x = static_cast<const quant::BlockQ5_K*>(w);
  const auto* y = static_cast<const quant::BlockQ8_K*>(act);
  const uint8x16_t m4 = vdupq_n_u8(0x0F), one = vdupq_n_u8(1);
  float sum = 0.0f;
  for (int64_t b = 0; b < n / 256; ++b) {
    uint8_t sc[8], mn[8];
    for (int g = 0; g < 8; ++g) quant::ScaleMinK4(g, x[b].scales, &sc[g], &mn[g]);
    const int8_t* a = y[b].qs;
    const uint8x16_t h0 = vld1q_u8(x[b].qh), h1 = vld1q_u8(x[b].qh + 16);
    int32x4_t acc = vdupq_n_s32(0);
    for (int j = 0; j < 4; ++j) {
      const uint8x16_t q0 = vld1q_u8(x[b].qs + 32 * j), q1 = vld1q_u8(x[b].qs + 32 * j + 16);
      const int8x16_t s_lo = vdupq_n_s8(static_cast<int8_t>(-2 * j));
      const int8x16_t s_hi = vdupq_n_s8(static_cast<int8_t>(-2 * j - 1));
      auto fifth = [&](uint8x16_t h, int8x16_t s) {
        return vshlq_n_u8(vandq_u8(vshlq_u8(h, s), one), 4);
      };
      const uint8x16_t lo0 = vorrq_u8(vandq_u8(q0, m4), fifth(h0, s_lo));
      const uint8x16_t lo1 = vorrq_u8(vandq_u8(q1, m4), fifth(h1, s_lo));
      const uint8x16_t hi0 = vorrq_u8(vshrq_n_u8(q0, 4), fifth(h0, s_hi));
      const uint8x16_t hi1 = vorrq_u8(vshrq_n_u8(q1, 4), fifth(h1, s_hi));
      acc = vmlaq_n_s32(acc, Dot32(lo0, lo1, a + 64 * j), sc[2 * j]);
      acc = vmlaq_n_s32(acc, Dot32(hi0, hi1, a + 64 * j + 32), sc[2 * j + 1]);
    }
    int32_t mins = 0;  // Σ_g m_g·Σ a_g (a group of 32 = two bsums)
    for (int g = 0; g < 8; ++g) mins += mn[g] * (y[b].bsums[2 * g] + y[b].bsums[2 * g + 1]);
    sum += y[b].d * (F16Value(x[b].d) * static_cast<float>(vaddvq_s32(acc)) -
                     F16Value(x[b].dmin) * static_cast<float>(mins));
  }
  return sum;
}

// IQ4_XS: w = d·(ls − 32)·kIQ4NLValues[code], 8 groups of 32 with 6-bit scales ls; the
// codebook by one table lookup, signed times signed.
float VecDotIQ4XS(int64_t n, const void* w, const void* act) {
  const auto* x = static_cast<const quant::BlockIQ4XS*>(w);
  const auto* y = static_cast<const quant::BlockQ8_K*>(act);
  const int8x16_t book = vld1q_s8(quant::kIQ4NLValues);
  const int32x4_t zero = vdupq_n_s32(0);
  float sum = 0.0f;
  for (int64_t b = 0; b < n / 256; ++b) {
    int32x4_t acc = zero;
    for (int g = 0; g < 8; ++g) {
      uint8x16_t l, h;
      Nibbles(x[b].qs + 16 * g, &l, &h);
      const int8_t* ag = y[b].qs + 32 * g;
      const int32x4_t s =
          Dot(Dot(zero, vqtbl1q_s8(book, l), vld1q_s8(ag)), vqtbl1q_s8(book, h), vld1q_s8(ag + 16));
      acc = vmlaq_n_s32(acc, s, quant::ScaleIQ4XS(g, x[b]));
    }
    sum += y[b].d * F16Value(x[b].d) * static_cast<float>(vaddvq_s32(acc));
  }
  return sum;
}

// Σ_i q[i] · a[i] over 16 bytes (q codes below 128 taken as signed bytes).
inline int32_t Dot16(uint8x16_t q, const int8_t* a) {
  return vaddvq_s32(Dot(vdupq_n_s32(0), vreinterpretq_s8_u8(q), vld1q_s8(a)));
}

// Q4_K row-major: w = d · sc[g] · q - dmin · m[g], q in [0, 15], eight groups of 32 with
// 6-bit scales and minimums; Σ w·a = d_a · (d · Σ_g sc[g] · Σ q·a - dmin · Σ_g m[g] · Σ a_g).
float VecDotQ4K(int64_t n, const void* w, const void* act) {
  const auto* x = static_cast<const quant::BlockQ4_K*>(w);
  const auto* y = static_cast<const quant::BlockQ8_K*>(act);
  const uint8x16_t m4 = vdupq_n_u8(0x0F);
  float sum = 0.0f;
  for (int64_t b = 0; b < n / 256; ++b) {
    uint8_t sc[8], mn[8];
    for (int g = 0; g < 8; ++g) quant::ScaleMinK4(g, x[b].scales, &sc[g], &mn[g]);
    const int8_t* a = y[b].qs;
    int32_t isum = 0, mins = 0;
    for (int j = 0; j < 4; ++j) {
      const uint8x16_t q0 = vld1q_u8(x[b].qs + 32 * j), q1 = vld1q_u8(x[b].qs + 32 * j + 16);
      const int32_t lo =
          Dot16(vandq_u8(q0, m4), a + 64 * j) + Dot16(vandq_u8(q1, m4), a + 64 * j + 16);
      const int32_t hi =
          Dot16(vshrq_n_u8(q0, 4), a + 64 * j + 32) + Dot16(vshrq_n_u8(q1, 4), a + 64 * j + 48);
      isum += sc[2 * j] * lo + sc[2 * j + 1] * hi;
    }
    for (int g = 0; g < 8; ++g) mins += mn[g] * (y[b].bsums[2 * g] + y[b].bsums[2 * g + 1]);
    sum += y[b].d * (F16Value(x[b].d) * static_cast<float>(isum) -
                     F16Value(x[b].dmin) * static_cast<float>(mins));
  }
  return sum;
}

// Q6_K row-major: w = d · sc[g] · (q - 32), q in [0, 63] from four low and two high bits,
// sixteen groups of 16; Σ w·a = d · d_a · (Σ_g sc[g] · Σ q·a - 32 · Σ_g sc[g] · Σ a_g).
float VecDotQ6K(int64_t n, const void* w, const void* act) {
  const auto* x = static_cast<const quant::BlockQ6_K*>(w);
  const auto* y = static_cast<const quant::BlockQ8_K*>(act);
  const uint8x16_t m4 = vdupq_n_u8(0x0F), m2 = vdupq_n_u8(0x03);
  float sum = 0.0f;
  for (int64_t b = 0; b < n / 256; ++b) {
    int32_t isum = 0;
    for (int half = 0; half < 2; ++half) {
      const uint8_t* ql = x[b].ql + 64 * half;
      const uint8_t* qh = x[b].qh + 32 * half;
      const int8_t* sc = x[b].scales + 8 * half;
      const int8_t* a = y[b].qs + 128 * half;
      for (int part = 0; part < 2; ++part) {  // bytes [16 part, 16 part + 16) of each run
        const uint8x16_t l0 = vld1q_u8(ql + 16 * part), l1 = vld1q_u8(ql + 32 + 16 * part);
        const uint8x16_t h = vld1q_u8(qh + 16 * part);
        const uint8x16_t q[4] = {
            vorrq_u8(vandq_u8(l0, m4), vshlq_n_u8(vandq_u8(h, m2), 4)),
            vorrq_u8(vandq_u8(l1, m4), vshlq_n_u8(vandq_u8(vshrq_n_u8(h, 2), m2), 4)),
            vorrq_u8(vshrq_n_u8(l0, 4), vshlq_n_u8(vandq_u8(vshrq_n_u8(h, 4), m2), 4)),
            vorrq_u8(vshrq_n_u8(l1, 4), vshlq_n_u8(vshrq_n_u8(h, 6), 4))};
        for (int k = 0; k < 4; ++k) isum += sc[2 * k + part] * Dot16(q[k], a + 32 * k + 16 * part);
      }
    }
    int32_t offset = 0;
    for (int g = 0; g < 16; ++g) offset += x[b].scales[g] * y[b].bsums[g];
    sum += F16Value(x[b].d) * y[b].d * static_cast<float>(isum - 32 * offset);
  }
  return sum;
}

// Every row-major dot product of this file into table t.
void SetArmRowDots(KernelTable* t) {
  auto set = [t](DType type, VecDotFn f) { t->vec_dot[static_cast<int>(type)] = f; };
  set(DType::kQ4_0, VecDotLegacy<Q4_0Format>);
  set(DType::kQ4_1, VecDotLegacy<Q4_1Format>);
  set(DType::kQ5_0, VecDotLegacy<Q5_0Format>);
  set(DType::kQ5_1, VecDotLegacy<Q5_1Format>);
  set(DType::kQ8_0, VecDotLegacy<Q8_0Format>);
  set(DType::kIQ4_NL, VecDotLegacy<CodebookFormat<false>>);
  set(DType::kMXFP4, VecDotLegacy<CodebookFormat<true>>);
  set(DType::kQ2_K, VecDotQ2K);
  set(DType::kQ3_K, VecDotQ3K);
  set(DType::kQ4_K, VecDotQ4K);
  set(DType::kQ5_K, VecDotQ5K);
  set(DType::kQ6_K, VecDotQ6K);
  set(DType::kIQ4_XS, VecDotIQ4XS);
}

}  // namespace
}  // namespace pocket::kernels
