// The ARM packed GEMM tiles (layout in kernels/packed.h), written once over the four-byte
// dot-product step of dot_step.h and compiled twice: with SDOT for the `dotprod` table
// (dotprod_packed.cc, -march=armv8.2-a+dotprod) and with that step emulated by widening
// multiplies for the baseline `neon` table (neon_packed.cc). A packed 32-byte quant vector
// holds four bytes of each of eight weight rows; its two 16-byte halves (rows 0-3, rows 4-7)
// each meet four activation bytes through one by-lane step, which adds four products into
// each row's int32 lane. Signed times signed, so Q8_0 needs neither a sign trick nor an
// offset. Each output is accumulated as the scalar reference does (integer block sum, then
// one f32 FMA per block): the two are bit-identical.
//
// The including file defines POCKET_ARM_SDOT (1 or 0). Everything has internal linkage so
// that no code built for the extension can be merged with baseline code
// (scripts/check-isa-objects).
#pragma once

#include <arm_neon.h>

#include <cstdint>

#include "kernels/arm/dot_step.h"
#include "kernels/packed_driver.h"
#include "quant/blocks.h"

namespace pocket::kernels {
namespace {  // NOLINT(build/namespaces): internal linkage per ISA file, see above

inline const int8_t* QuantsOf(const uint8_t* a, uint64_t a_stride, int c, int64_t b) {
  return reinterpret_cast<const quant::BlockQ8_0*>(a + static_cast<uint64_t>(c) * a_stride)[b].qs;
}

inline const int8_t* SuperQuantsOf(const uint8_t* a, uint64_t a_stride, int c, int64_t b) {
  return reinterpret_cast<const quant::BlockQ8_K*>(a + static_cast<uint64_t>(c) * a_stride)[b].qs;
}

// The start of a 32-element step: each of NC activation rows' 32 quants (row c's at
// quants(c)) as two vectors, and the rows' int32 sums (weight rows 0-3, 4-7) at zero.
template <int NC, typename Quants>
inline void StartStep(Quants quants, int8x16_t (&qa)[NC][2], int32x4_t (&s_lo)[NC],
                      int32x4_t (&s_hi)[NC]) {
  for (int c = 0; c < NC; ++c) {
    const int8_t* q = quants(c);
    qa[c][0] = vld1q_s8(q);
    qa[c][1] = vld1q_s8(q + 16);
    s_lo[c] = s_hi[c] = vdupq_n_s32(0);
  }
}

// Eight bytes at p, one per row, widened to two int32 vectors (rows 0-3, rows 4-7).
inline void RowBytesU8(const uint8_t* p, int32x4_t* lo, int32x4_t* hi) {
  const uint16x8_t v = vmovl_u8(vld1_u8(p));
  *lo = vreinterpretq_s32_u32(vmovl_u16(vget_low_u16(v)));
  *hi = vreinterpretq_s32_u32(vmovl_high_u16(v));
}
inline void RowBytesS8(const uint8_t* p, int32x4_t* lo, int32x4_t* hi) {
  const int16x8_t v = vmovl_s8(vld1_s8(reinterpret_cast<const int8_t*>(p)));
  *lo = vmovl_s16(vget_low_s16(v));
  *hi = vmovl_high_s16(v);
}

template <typename Info>
inline const Info& InfoOf(const uint8_t* info, uint64_t info_stride, int c, int64_t b) {
  return reinterpret_cast<const Info*>(info + static_cast<uint64_t>(c) * info_stride)[b];
}

// The eight rows' f16 scales at p as two f32 vectors (rows 0-3, rows 4-7).
inline void RowScales(const uint8_t* p, float32x4_t* lo, float32x4_t* hi) {
  const float16x8_t h = vreinterpretq_f16_u8(vld1q_u8(p));
  *lo = vcvt_f32_f16(vget_low_f16(h));
  *hi = vcvt_high_f32_f16(h);
}

// acc + (dw · da) · sum: one block's integer sums into the rows' f32 accumulators.
inline float32x4_t AccumulateBlock(float32x4_t acc, float32x4_t dw, float da, int32x4_t sum) {
  return vfmaq_f32(acc, vmulq_n_f32(dw, da), vcvtq_f32_s32(sum));
}

// The f32 accumulators of a tile: eight weight rows (rows 0-3 in lo, 4-7 in hi) for each of NC
// activation rows, stored as out[c * ldo + r].
template <int NC>
struct RowSums {
  float32x4_t lo[NC], hi[NC];
  RowSums() {
    for (int c = 0; c < NC; ++c) lo[c] = hi[c] = vdupq_n_f32(0.0f);
  }
  void Store(float* out, int64_t ldo) const {
    for (int c = 0; c < NC; ++c) {
      vst1q_f32(out + c * ldo, lo[c]);
      vst1q_f32(out + c * ldo + 4, hi[c]);
    }
  }
};

// Σ_g byte_g · s[g] over n groups of eight row bytes (group g at p + 8g; signed or unsigned,
// shifted right by kShift), as an f32 FMA chain in g order, rows 0-3 and 4-7: the K-quants'
// minimum and offset corrections (exact small integers, as in the scalar reference).
template <bool kSigned, int kShift>
inline void RowByteChain(const uint8_t* p, int n, const float* s, float32x4_t* lo,
                         float32x4_t* hi) {
  *lo = *hi = vdupq_n_f32(0.0f);
  for (int g = 0; g < n; ++g) {
    int32x4_t b_lo, b_hi;
    if constexpr (kSigned) {
      RowBytesS8(p + 8 * g, &b_lo, &b_hi);
    } else {
      RowBytesU8(p + 8 * g, &b_lo, &b_hi);
    }
    if constexpr (kShift != 0) {
      b_lo = vshrq_n_s32(b_lo, kShift);
      b_hi = vshrq_n_s32(b_hi, kShift);
    }
    *lo = vfmaq_n_f32(*lo, vcvtq_f32_s32(b_lo), s[g]);
    *hi = vfmaq_n_f32(*hi, vcvtq_f32_s32(b_hi), s[g]);
  }
}

// acc - (dmin · da) · mins: the K-quants' minimums, after the block sum.
inline float32x4_t SubtractMins(float32x4_t acc, float32x4_t dmin, float da, float32x4_t mins) {
  return vfmaq_f32(acc, vnegq_f32(vmulq_n_f32(dmin, da)), mins);
}

// The fifth bits of one quant vector (Q5_0, Q5_K): eight bytes at p, byte r holding row r's
// bits for its four low-nibble elements (bits 0-3) and four high-nibble ones (bits 4-7).
// `high` picks which; the result is 0x10 in byte 4r' + k of each half where element k of
// row r' (rows 0-3 in *lo, 4-7 in *hi) has its bit set.
inline void FifthBits(const uint8_t* p, bool high, uint8x16_t* lo, uint8x16_t* hi) {
  static constexpr uint8_t kSpread[16] = {0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3};
  static constexpr uint8_t kBitsLow[16] = {1, 2, 4, 8, 1, 2, 4, 8, 1, 2, 4, 8, 1, 2, 4, 8};
  const uint8x16_t bytes = vcombine_u8(vld1_u8(p), vld1_u8(p));
  const uint8x16_t spread = vld1q_u8(kSpread);
  uint8x16_t bits = vld1q_u8(kBitsLow);
  if (high) bits = vshlq_n_u8(bits, 4);
  const uint8x16_t b4 = vdupq_n_u8(0x10);
  *lo = vandq_u8(vtstq_u8(vqtbl1q_u8(bytes, spread), bits), b4);
  *hi = vandq_u8(vtstq_u8(vqtbl1q_u8(bytes, vaddq_u8(spread, vdupq_n_u8(4))), bits), b4);
}

// Q8_0: eight quant vectors per block; vector j holds elements 4j..4j+3 of each row.
template <int NC>
void TileQ8_0(int64_t nb, const uint8_t* wg, const uint8_t* a, uint64_t a_stride,
              const uint8_t* info, uint64_t info_stride, float* out, int64_t ldo) {
  RowSums<NC> acc;
  for (int64_t b = 0; b < nb; ++b) {
    const uint8_t* blk = wg + b * kQ8GroupBlock;
    int8x16_t qa[NC][2];
    int32x4_t s_lo[NC], s_hi[NC];
    StartStep<NC>([&](int c) { return QuantsOf(a, a_stride, c, b); }, qa, s_lo, s_hi);
    Unroll<8>([&]<int J>() {
      const int8x16_t w_lo = vld1q_s8(reinterpret_cast<const int8_t*>(blk + 16 + 32 * J));
      const int8x16_t w_hi = vld1q_s8(reinterpret_cast<const int8_t*>(blk + 32 + 32 * J));
      for (int c = 0; c < NC; ++c) {
        s_lo[c] = DotLane<J % 4>(s_lo[c], w_lo, qa[c][J / 4]);
        s_hi[c] = DotLane<J % 4>(s_hi[c], w_hi, qa[c][J / 4]);
      }
    });
    float32x4_t dw_lo, dw_hi;
    RowScales(blk, &dw_lo, &dw_hi);
    for (int c = 0; c < NC; ++c) {
      const float da = InfoOf<ActBlockInfo>(info, info_stride, c, b).d;
      acc.lo[c] = AccumulateBlock(acc.lo[c], dw_lo, da, s_lo[c]);
      acc.hi[c] = AccumulateBlock(acc.hi[c], dw_hi, da, s_hi[c]);
    }
  }
  acc.Store(out, ldo);
}

// The 32-element nibble formats. Q4_0 / Q5_0 use their codes (value + 8 / + 16) as they are
// and subtract 8 · Σa (16 · Σa) from each integer block sum; Q4_1 / Q5_1 add their minimum
// times Σa in a second FMA; IQ4_NL / MXFP4 map the nibbles through their 16-value codebook
// with one table lookup (MXFP4's scales are E8M0 bytes, halved as in the reference).
enum class Nibbles { kQ4_0, kQ5_0, kQ4_1, kQ5_1, kIQ4_NL, kMXFP4 };

constexpr int NibbleHeader(Nibbles k) {
  return k == Nibbles::kMXFP4 ? 8 : (k == Nibbles::kQ4_1 || k == Nibbles::kQ5_1) ? 32 : 16;
}
constexpr bool HasFifthBits(Nibbles k) { return k == Nibbles::kQ5_0 || k == Nibbles::kQ5_1; }
constexpr int NibbleGroupBlock(Nibbles k) {
  return NibbleHeader(k) + 128 + (HasFifthBits(k) ? 32 : 0);
}

// The eight rows' MXFP4 scales (E8M0 bytes at p) as f32, exactly as E8M0ToF32Half: 2^(e-128),
// i.e. bits (e - 1) << 23, and the subnormals 0x00200000 << e for e < 2.
inline void E8M0HalfScales(const uint8_t* p, float32x4_t* lo, float32x4_t* hi) {
  const uint16x8_t e16 = vmovl_u8(vld1_u8(p));
  for (int half = 0; half < 2; ++half) {
    const uint32x4_t e = half == 0 ? vmovl_u16(vget_low_u16(e16)) : vmovl_high_u16(e16);
    const uint32x4_t normal = vshlq_n_u32(vsubq_u32(e, vdupq_n_u32(1)), 23);
    const uint32x4_t subnormal = vshlq_u32(vdupq_n_u32(0x00200000u), vreinterpretq_s32_u32(e));
    const uint32x4_t bits = vbslq_u32(vcltq_u32(e, vdupq_n_u32(2)), subnormal, normal);
    (half == 0 ? *lo : *hi) = vreinterpretq_f32_u32(bits);
  }
}

template <int NC, Nibbles kKind>
void TileNibbles(int64_t nb, const uint8_t* wg, const uint8_t* a, uint64_t a_stride,
                 const uint8_t* info, uint64_t info_stride, float* out, int64_t ldo) {
  constexpr int kHeader = NibbleHeader(kKind);
  constexpr int kGroupBlock = NibbleGroupBlock(kKind);
  constexpr bool kFifth = HasFifthBits(kKind);
  constexpr bool kMin = kKind == Nibbles::kQ4_1 || kKind == Nibbles::kQ5_1;
  constexpr bool kCodebook = kKind == Nibbles::kIQ4_NL || kKind == Nibbles::kMXFP4;
  constexpr int kOffset = kKind == Nibbles::kQ4_0 ? 8 : kKind == Nibbles::kQ5_0 ? 16 : 0;
  const uint8x16_t m4 = vdupq_n_u8(0x0F);
  const int8x16_t table =
      vld1q_s8(kKind == Nibbles::kMXFP4 ? quant::kMXFP4Values : quant::kIQ4NLValues);
  RowSums<NC> acc;
  for (int64_t b = 0; b < nb; ++b) {
    const uint8_t* blk = wg + b * kGroupBlock;
    int8x16_t qa[NC][2];
    int32x4_t s_lo[NC], s_hi[NC];
    StartStep<NC>([&](int c) { return QuantsOf(a, a_stride, c, b); }, qa, s_lo, s_hi);
    Unroll<4>([&]<int J>() {
      const uint8x16_t raw_lo = vld1q_u8(blk + kHeader + 32 * J);
      const uint8x16_t raw_hi = vld1q_u8(blk + kHeader + 16 + 32 * J);
      uint8x16_t lo_lo = vandq_u8(raw_lo, m4), hi_lo = vshrq_n_u8(raw_lo, 4);
      uint8x16_t lo_hi = vandq_u8(raw_hi, m4), hi_hi = vshrq_n_u8(raw_hi, 4);
      if constexpr (kFifth) {
        uint8x16_t f_lo, f_hi;
        FifthBits(blk + kHeader + 128 + 8 * J, false, &f_lo, &f_hi);
        lo_lo = vorrq_u8(lo_lo, f_lo);
        lo_hi = vorrq_u8(lo_hi, f_hi);
        FifthBits(blk + kHeader + 128 + 8 * J, true, &f_lo, &f_hi);
        hi_lo = vorrq_u8(hi_lo, f_lo);
        hi_hi = vorrq_u8(hi_hi, f_hi);
      }
      int8x16_t w[4];  // low nibbles rows 0-3, high rows 0-3, low rows 4-7, high rows 4-7
      const uint8x16_t codes[4] = {lo_lo, hi_lo, lo_hi, hi_hi};
      for (int k = 0; k < 4; ++k)
        w[k] = kCodebook ? vqtbl1q_s8(table, codes[k]) : vreinterpretq_s8_u8(codes[k]);
      for (int c = 0; c < NC; ++c) {
        s_lo[c] = DotLane<J>(s_lo[c], w[0], qa[c][0]);
        s_lo[c] = DotLane<J>(s_lo[c], w[1], qa[c][1]);
        s_hi[c] = DotLane<J>(s_hi[c], w[2], qa[c][0]);
        s_hi[c] = DotLane<J>(s_hi[c], w[3], qa[c][1]);
      }
    });
    float32x4_t dw_lo, dw_hi;
    if constexpr (kKind == Nibbles::kMXFP4) {
      E8M0HalfScales(blk, &dw_lo, &dw_hi);
    } else {
      RowScales(blk, &dw_lo, &dw_hi);
    }
    for (int c = 0; c < NC; ++c) {
      const ActBlockInfo& in = InfoOf<ActBlockInfo>(info, info_stride, c, b);
      const int32x4_t offset = vdupq_n_s32(kOffset * in.sum);
      acc.lo[c] = AccumulateBlock(acc.lo[c], dw_lo, in.d, vsubq_s32(s_lo[c], offset));
      acc.hi[c] = AccumulateBlock(acc.hi[c], dw_hi, in.d, vsubq_s32(s_hi[c], offset));
      if constexpr (kMin) {
        float32x4_t mw_lo, mw_hi;
        RowScales(blk + 16, &mw_lo, &mw_hi);
        const float32x4_t asum = vdupq_n_f32(static_cast<float>(in.sum));
        acc.lo[c] = vfmaq_f32(acc.lo[c], vmulq_n_f32(mw_lo, in.d), asum);
        acc.hi[c] = vfmaq_f32(acc.hi[c], vmulq_n_f32(mw_hi, in.d), asum);
      }
    }
  }
  acc.Store(out, ldo);
}

// IQ4_XS: per 32-element sub-block s, four quant vectors (4s + j: elements 32s + 4j..+3 in
// the low nibbles, 32s + 16 + 4j..+3 in the high ones) through the IQ4_NL codebook; each
// sub-block's int32 sums are scaled by the rows' signed scales (ls - 32).
template <int NC>
void TileIQ4_XS(int64_t nb, const uint8_t* wg, const uint8_t* a, uint64_t a_stride,
                const uint8_t* info, uint64_t info_stride, float* out, int64_t ldo) {
  const uint8x16_t m4 = vdupq_n_u8(0x0F);
  const int8x16_t table = vld1q_s8(quant::kIQ4NLValues);
  RowSums<NC> acc;
  for (int64_t b = 0; b < nb; ++b) {
    const uint8_t* blk = wg + b * kIQ4XSGroupBlock;
    int32x4_t sumi_lo[NC], sumi_hi[NC];
    for (int c = 0; c < NC; ++c) sumi_lo[c] = sumi_hi[c] = vdupq_n_s32(0);
    for (int sb = 0; sb < 8; ++sb) {
      int8x16_t qa[NC][2];
      int32x4_t s_lo[NC], s_hi[NC];
      StartStep<NC>([&](int c) { return SuperQuantsOf(a, a_stride, c, b) + 32 * sb; }, qa, s_lo,
                    s_hi);
      Unroll<4>([&]<int J>() {
        const uint8_t* v = blk + 80 + 32 * (4 * sb + J);
        const uint8x16_t raw_lo = vld1q_u8(v), raw_hi = vld1q_u8(v + 16);
        const int8x16_t lo_lo = vqtbl1q_s8(table, vandq_u8(raw_lo, m4));
        const int8x16_t hi_lo = vqtbl1q_s8(table, vshrq_n_u8(raw_lo, 4));
        const int8x16_t lo_hi = vqtbl1q_s8(table, vandq_u8(raw_hi, m4));
        const int8x16_t hi_hi = vqtbl1q_s8(table, vshrq_n_u8(raw_hi, 4));
        for (int c = 0; c < NC; ++c) {
          s_lo[c] = DotLane<J>(s_lo[c], lo_lo, qa[c][0]);
          s_lo[c] = DotLane<J>(s_lo[c], hi_lo, qa[c][1]);
          s_hi[c] = DotLane<J>(s_hi[c], lo_hi, qa[c][0]);
          s_hi[c] = DotLane<J>(s_hi[c], hi_hi, qa[c][1]);
        }
      });
      int32x4_t sc_lo, sc_hi;
      RowBytesS8(blk + 16 + 8 * sb, &sc_lo, &sc_hi);
      for (int c = 0; c < NC; ++c) {
        sumi_lo[c] = vmlaq_s32(sumi_lo[c], s_lo[c], sc_lo);
        sumi_hi[c] = vmlaq_s32(sumi_hi[c], s_hi[c], sc_hi);
      }
    }
    float32x4_t d_lo, d_hi;
    RowScales(blk, &d_lo, &d_hi);
    for (int c = 0; c < NC; ++c) {
      const float da = InfoOf<ActSuperBlockInfo>(info, info_stride, c, b).d;
      acc.lo[c] = AccumulateBlock(acc.lo[c], d_lo, da, sumi_lo[c]);
      acc.hi[c] = AccumulateBlock(acc.hi[c], d_hi, da, sumi_hi[c]);
    }
  }
  acc.Store(out, ldo);
}

// Q2_K / Q3_K: quant vector 8i + jj holds, per row, bytes 32i + 4jj..+3 of the 2-bit codes,
// whose bits 2s, 2s + 1 are elements 128i + 32s + 4jj..+3 (s < 4): 16-element sub-block
// 8i + 2s + jj / 4, one 16-byte activation vector. Q3_K ORs in the third bit from hmask
// vector jj (bit 4i + s), making the code plus 4. Each pass over four vectors (jj / 4 fixed)
// completes four sub-blocks, scaled as they complete: Q2_K by the low nibble of its
// scale/min byte (the minimums, the high nibble, meet the activation's 16-element sums in an
// f32 FMA chain), Q3_K by its signed scale (the -4 offset through Σ scale · asum, integers).
template <int NC, bool kQ3>
void TileLowBitK(int64_t nb, const uint8_t* wg, const uint8_t* a, uint64_t a_stride,
                 const uint8_t* info, uint64_t info_stride, float* out, int64_t ldo) {
  constexpr int kGroupBlock = kQ3 ? kQ3KGroupBlock : kQ2KGroupBlock;
  constexpr int kQuants = kQ3 ? 144 : 160;
  const uint8x16_t m2 = vdupq_n_u8(3), b4 = vdupq_n_u8(4);
  RowSums<NC> acc;
  for (int64_t b = 0; b < nb; ++b) {
    const uint8_t* blk = wg + b * kGroupBlock;
    int32x4_t sumi_lo[NC], sumi_hi[NC];
    for (int c = 0; c < NC; ++c) sumi_lo[c] = sumi_hi[c] = vdupq_n_s32(0);
    for (int i = 0; i < 2; ++i) {
      for (int g4 = 0; g4 < 2; ++g4) {
        int32x4_t s_lo[NC][4], s_hi[NC][4];
        for (int c = 0; c < NC; ++c)
          for (int s = 0; s < 4; ++s) s_lo[c][s] = s_hi[c][s] = vdupq_n_s32(0);
        Unroll<4>([&]<int L>() {
          const int jj = 4 * g4 + L;
          for (int part = 0; part < 2; ++part) {  // rows 0-3, rows 4-7
            const uint8x16_t v = vld1q_u8(blk + kQuants + 32 * (8 * i + jj) + 16 * part);
            uint8x16_t h = vdupq_n_u8(0);
            if constexpr (kQ3) h = vld1q_u8(blk + 656 + 32 * jj + 16 * part);
            for (int c = 0; c < NC; ++c) {
              const int8_t* qa = SuperQuantsOf(a, a_stride, c, b) + 128 * i + 16 * g4;
              for (int s = 0; s < 4; ++s) {
                uint8x16_t code =
                    vandq_u8(vshlq_u8(v, vdupq_n_s8(static_cast<int8_t>(-2 * s))), m2);
                if constexpr (kQ3) {
                  const int t = 4 * i + s;  // hmask bit, moved to bit 2
                  const uint8x16_t hb = vshlq_u8(h, vdupq_n_s8(static_cast<int8_t>(2 - t)));
                  code = vorrq_u8(code, vandq_u8(hb, b4));
                }
                const int8x16_t av = vld1q_s8(qa + 32 * s);
                int32x4_t& acc = part == 0 ? s_lo[c][s] : s_hi[c][s];
                acc = DotLane<L>(acc, vreinterpretq_s8_u8(code), av);
              }
            }
          }
        });
        for (int s = 0; s < 4; ++s) {
          const int g = 8 * i + 2 * s + g4;
          int32x4_t sc_lo, sc_hi;
          if constexpr (kQ3) {
            RowBytesS8(blk + 16 + 8 * g, &sc_lo, &sc_hi);
          } else {
            RowBytesU8(blk + 32 + 8 * g, &sc_lo, &sc_hi);
            sc_lo = vandq_s32(sc_lo, vdupq_n_s32(15));
            sc_hi = vandq_s32(sc_hi, vdupq_n_s32(15));
          }
          for (int c = 0; c < NC; ++c) {
            sumi_lo[c] = vmlaq_s32(sumi_lo[c], s_lo[c][s], sc_lo);
            sumi_hi[c] = vmlaq_s32(sumi_hi[c], s_hi[c][s], sc_hi);
          }
        }
      }
    }
    float32x4_t d_lo, d_hi;
    RowScales(blk, &d_lo, &d_hi);
    for (int c = 0; c < NC; ++c) {
      const ActSuperBlockInfo& in = InfoOf<ActSuperBlockInfo>(info, info_stride, c, b);
      if constexpr (kQ3) {
        int32x4_t corr_lo = vdupq_n_s32(0), corr_hi = vdupq_n_s32(0);
        for (int g = 0; g < 16; ++g) {
          int32x4_t sc_lo, sc_hi;
          RowBytesS8(blk + 16 + 8 * g, &sc_lo, &sc_hi);
          const int32_t asum = static_cast<int32_t>(in.sums16[g]);
          corr_lo = vmlaq_n_s32(corr_lo, sc_lo, asum);
          corr_hi = vmlaq_n_s32(corr_hi, sc_hi, asum);
        }
        acc.lo[c] =
            AccumulateBlock(acc.lo[c], d_lo, in.d, vsubq_s32(sumi_lo[c], vshlq_n_s32(corr_lo, 2)));
        acc.hi[c] =
            AccumulateBlock(acc.hi[c], d_hi, in.d, vsubq_s32(sumi_hi[c], vshlq_n_s32(corr_hi, 2)));
      } else {
        float32x4_t mins_lo, mins_hi;
        RowByteChain<false, 4>(blk + 32, 16, in.sums16, &mins_lo, &mins_hi);
        float32x4_t dmin_lo, dmin_hi;
        RowScales(blk + 16, &dmin_lo, &dmin_hi);
        acc.lo[c] = AccumulateBlock(acc.lo[c], d_lo, in.d, sumi_lo[c]);
        acc.hi[c] = AccumulateBlock(acc.hi[c], d_hi, in.d, sumi_hi[c]);
        acc.lo[c] = SubtractMins(acc.lo[c], dmin_lo, in.d, mins_lo);
        acc.hi[c] = SubtractMins(acc.hi[c], dmin_hi, in.d, mins_hi);
      }
    }
  }
  acc.Store(out, ldo);
}

// Q4_K / Q5_K: 32 quant vectors per super-block, vector 8p + j holding, per row, elements
// 64p + 4j..+3 (low nibbles, sub-block 2p) and 64p + 32 + 4j..+3 (high, sub-block 2p + 1);
// Q5_K ORs in each code's fifth bit.
// Each sub-block's int32 sums are scaled by the rows' 6-bit scales and summed; the minimums
// meet the activation's 32-element sums in an f32 FMA chain in sub-block order (exact small
// integers, as in the scalar reference).
template <int NC, bool kFifth>
void TileQ4Q5_K(int64_t nb, const uint8_t* wg, const uint8_t* a, uint64_t a_stride,
                const uint8_t* info, uint64_t info_stride, float* out, int64_t ldo) {
  constexpr int kGroupBlock = kFifth ? kQ5KGroupBlock : kQ4KGroupBlock;
  const uint8x16_t m4 = vdupq_n_u8(0x0F);
  RowSums<NC> acc;
  for (int64_t b = 0; b < nb; ++b) {
    const uint8_t* blk = wg + b * kGroupBlock;
    int32x4_t sumi_lo[NC], sumi_hi[NC];
    for (int c = 0; c < NC; ++c) sumi_lo[c] = sumi_hi[c] = vdupq_n_s32(0);
    for (int p = 0; p < 4; ++p) {
      for (int half = 0; half < 2; ++half) {  // 0: low nibbles (sub-block 2p), 1: high
        int8x16_t qa[NC][2];
        int32x4_t s_lo[NC], s_hi[NC];
        StartStep<NC>([&](int c) { return SuperQuantsOf(a, a_stride, c, b) + 64 * p + 32 * half; },
                      qa, s_lo, s_hi);
        Unroll<8>([&]<int J>() {
          const uint8_t* v = blk + 160 + 32 * (8 * p + J);
          uint8x16_t w_lo = vld1q_u8(v), w_hi = vld1q_u8(v + 16);
          if (half == 0) {
            w_lo = vandq_u8(w_lo, m4);
            w_hi = vandq_u8(w_hi, m4);
          } else {
            w_lo = vshrq_n_u8(w_lo, 4);
            w_hi = vshrq_n_u8(w_hi, 4);
          }
          if constexpr (kFifth) {
            uint8x16_t f_lo, f_hi;
            FifthBits(blk + 1184 + 8 * (8 * p + J), half == 1, &f_lo, &f_hi);
            w_lo = vorrq_u8(w_lo, f_lo);
            w_hi = vorrq_u8(w_hi, f_hi);
          }
          for (int c = 0; c < NC; ++c) {
            s_lo[c] = DotLane<J % 4>(s_lo[c], vreinterpretq_s8_u8(w_lo), qa[c][J / 4]);
            s_hi[c] = DotLane<J % 4>(s_hi[c], vreinterpretq_s8_u8(w_hi), qa[c][J / 4]);
          }
        });
        int32x4_t sc_lo, sc_hi;
        RowBytesU8(blk + 32 + 8 * (2 * p + half), &sc_lo, &sc_hi);
        for (int c = 0; c < NC; ++c) {
          sumi_lo[c] = vmlaq_s32(sumi_lo[c], s_lo[c], sc_lo);
          sumi_hi[c] = vmlaq_s32(sumi_hi[c], s_hi[c], sc_hi);
        }
      }
    }
    float32x4_t d_lo, d_hi, dmin_lo, dmin_hi;
    RowScales(blk, &d_lo, &d_hi);
    RowScales(blk + 16, &dmin_lo, &dmin_hi);
    for (int c = 0; c < NC; ++c) {
      const ActSuperBlockInfo& in = InfoOf<ActSuperBlockInfo>(info, info_stride, c, b);
      float32x4_t mins_lo, mins_hi;
      RowByteChain<false, 0>(blk + 96, 8, in.sums, &mins_lo, &mins_hi);
      acc.lo[c] = AccumulateBlock(acc.lo[c], d_lo, in.d, sumi_lo[c]);
      acc.hi[c] = AccumulateBlock(acc.hi[c], d_hi, in.d, sumi_hi[c]);
      acc.lo[c] = SubtractMins(acc.lo[c], dmin_lo, in.d, mins_lo);
      acc.hi[c] = SubtractMins(acc.hi[c], dmin_hi, in.d, mins_hi);
    }
  }
  acc.Store(out, ldo);
}

// Q6_K: 16 code triples per super-block; triple 8h + j gives, per row, the unsigned 6-bit
// codes of elements 128h + 32k + 4j..+3 for k = 0..3 (three masks, the fourth from the top
// bits), i.e. of 16-element sub-block 8h + 2k + j / 4, whose activation bytes are one 16-byte
// vector. The four sub-blocks of a (h, j / 4) pass are scaled by the rows' int8 scales as they
// complete; the -32 offset goes through Σ scale · asum (an f32 FMA chain in sub-block order,
// exact small integers, as in the scalar reference).
template <int NC>
void TileQ6_K(int64_t nb, const uint8_t* wg, const uint8_t* a, uint64_t a_stride,
              const uint8_t* info, uint64_t info_stride, float* out, int64_t ldo) {
  const uint8x16_t m6 = vdupq_n_u8(63);
  RowSums<NC> acc;
  for (int64_t b = 0; b < nb; ++b) {
    const uint8_t* blk = wg + b * kQ6KGroupBlock;
    int32x4_t sumi_lo[NC], sumi_hi[NC];
    for (int c = 0; c < NC; ++c) sumi_lo[c] = sumi_hi[c] = vdupq_n_s32(0);
    for (int h = 0; h < 2; ++h) {
      for (int g = 0; g < 2; ++g) {  // j = 4g .. 4g + 3
        int32x4_t s_lo[NC][4], s_hi[NC][4];
        for (int c = 0; c < NC; ++c)
          for (int k = 0; k < 4; ++k) s_lo[c][k] = s_hi[c][k] = vdupq_n_s32(0);
        Unroll<4>([&]<int L>() {
          const uint8_t* x = blk + 144 + 96 * (8 * h + 4 * g + L);
          for (int part = 0; part < 2; ++part) {  // rows 0-3, rows 4-7
            const uint8x16_t x0 = vld1q_u8(x + 16 * part), x1 = vld1q_u8(x + 32 + 16 * part),
                             x2 = vld1q_u8(x + 64 + 16 * part);
            const uint8x16_t top =
                vorrq_u8(vorrq_u8(vshrq_n_u8(x0, 6), vshlq_n_u8(vshrq_n_u8(x1, 6), 2)),
                         vshlq_n_u8(vshrq_n_u8(x2, 6), 4));
            const int8x16_t q[4] = {
                vreinterpretq_s8_u8(vandq_u8(x0, m6)), vreinterpretq_s8_u8(vandq_u8(x1, m6)),
                vreinterpretq_s8_u8(vandq_u8(x2, m6)), vreinterpretq_s8_u8(top)};
            for (int c = 0; c < NC; ++c) {
              const int8_t* qa = SuperQuantsOf(a, a_stride, c, b) + 128 * h + 16 * g;
              for (int k = 0; k < 4; ++k) {
                const int8x16_t av = vld1q_s8(qa + 32 * k);
                int32x4_t& s = part == 0 ? s_lo[c][k] : s_hi[c][k];
                s = DotLane<L>(s, q[k], av);
              }
            }
          }
        });
        for (int k = 0; k < 4; ++k) {
          int32x4_t sc_lo, sc_hi;
          RowBytesS8(blk + 16 + 8 * (8 * h + 2 * k + g), &sc_lo, &sc_hi);
          for (int c = 0; c < NC; ++c) {
            sumi_lo[c] = vmlaq_s32(sumi_lo[c], s_lo[c][k], sc_lo);
            sumi_hi[c] = vmlaq_s32(sumi_hi[c], s_hi[c][k], sc_hi);
          }
        }
      }
    }
    float32x4_t d_lo, d_hi;
    RowScales(blk, &d_lo, &d_hi);
    for (int c = 0; c < NC; ++c) {
      const ActSuperBlockInfo& in = InfoOf<ActSuperBlockInfo>(info, info_stride, c, b);
      float32x4_t corr_lo, corr_hi;
      RowByteChain<true, 0>(blk + 16, 16, in.sums16, &corr_lo, &corr_hi);
      const int32x4_t total_lo = vsubq_s32(sumi_lo[c], vshlq_n_s32(vcvtq_s32_f32(corr_lo), 5));
      const int32x4_t total_hi = vsubq_s32(sumi_hi[c], vshlq_n_s32(vcvtq_s32_f32(corr_hi), 5));
      acc.lo[c] = AccumulateBlock(acc.lo[c], d_lo, in.d, total_lo);
      acc.hi[c] = AccumulateBlock(acc.hi[c], d_hi, in.d, total_hi);
    }
  }
  acc.Store(out, ldo);
}

// Activation rows [0, kNA) through tile kA, the rest through kB: wider tiles of the types
// whose accumulators would not fit 32 registers four rows at a time.
template <TileFn kA, int kNA, TileFn kB>
void TwoTiles(int64_t nb, const uint8_t* wg, const uint8_t* a, uint64_t a_stride,
              const uint8_t* info, uint64_t info_stride, float* out, int64_t ldo) {
  kA(nb, wg, a, a_stride, info, info_stride, out, ldo);
  kB(nb, wg, a + kNA * a_stride, a_stride, info + kNA * info_stride, info_stride, out + kNA * ldo,
     ldo);
}

template <Nibbles kKind>
void SetNibbles(KernelTable* t, DType type) {
  t->gemm_packed[static_cast<int>(type)] =
      GemmPacked<TileNibbles<1, kKind>, TileNibbles<2, kKind>, TileNibbles<3, kKind>,
                 TileNibbles<4, kKind>, 32, NibbleGroupBlock(kKind)>;
}

// Every packed tile of this file into table t.
void SetArmPackedKernels(KernelTable* t) {
  t->gemm_packed[static_cast<int>(DType::kQ8_0)] =
      GemmPacked<TileQ8_0<1>, TileQ8_0<2>, TileQ8_0<3>, TileQ8_0<4>, 32, kQ8GroupBlock>;
  SetNibbles<Nibbles::kQ4_0>(t, DType::kQ4_0);
  SetNibbles<Nibbles::kQ5_0>(t, DType::kQ5_0);
  SetNibbles<Nibbles::kQ4_1>(t, DType::kQ4_1);
  SetNibbles<Nibbles::kQ5_1>(t, DType::kQ5_1);
  SetNibbles<Nibbles::kIQ4_NL>(t, DType::kIQ4_NL);
  SetNibbles<Nibbles::kMXFP4>(t, DType::kMXFP4);
  t->gemm_packed[static_cast<int>(DType::kIQ4_XS)] =
      GemmPacked<TileIQ4_XS<1>, TileIQ4_XS<2>, TileIQ4_XS<3>, TileIQ4_XS<4>, 256, kIQ4XSGroupBlock>;
  t->gemm_packed[static_cast<int>(DType::kQ2_K)] =
      GemmPacked<TileLowBitK<1, false>, TileLowBitK<2, false>,
                 TwoTiles<TileLowBitK<2, false>, 2, TileLowBitK<1, false>>,
                 TwoTiles<TileLowBitK<2, false>, 2, TileLowBitK<2, false>>, 256, kQ2KGroupBlock>;
  t->gemm_packed[static_cast<int>(DType::kQ3_K)] =
      GemmPacked<TileLowBitK<1, true>, TileLowBitK<2, true>,
                 TwoTiles<TileLowBitK<2, true>, 2, TileLowBitK<1, true>>,
                 TwoTiles<TileLowBitK<2, true>, 2, TileLowBitK<2, true>>, 256, kQ3KGroupBlock>;
  t->gemm_packed[static_cast<int>(DType::kQ4_K)] =
      GemmPacked<TileQ4Q5_K<1, false>, TileQ4Q5_K<2, false>, TileQ4Q5_K<3, false>,
                 TileQ4Q5_K<4, false>, 256, kQ4KGroupBlock>;
  t->gemm_packed[static_cast<int>(DType::kQ5_K)] =
      GemmPacked<TileQ4Q5_K<1, true>, TileQ4Q5_K<2, true>, TileQ4Q5_K<3, true>, TileQ4Q5_K<4, true>,
                 256, kQ5KGroupBlock>;
  t->gemm_packed[static_cast<int>(DType::kQ6_K)] =
      GemmPacked<TileQ6_K<1>, TileQ6_K<2>, TwoTiles<TileQ6_K<2>, 2, TileQ6_K<1>>,
                 TwoTiles<TileQ6_K<2>, 2, TileQ6_K<2>>, 256, kQ6KGroupBlock>;
}

}  // namespace
}  // namespace pocket::kernels
