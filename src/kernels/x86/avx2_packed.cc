// AVX2 packed GEMM (layout in kernels/packed.h): one 32-byte load holds four quants of each of
// eight weight rows; a broadcast of four activation quants and one maddubs give the eight
// rows' partial sums side by side, so no horizontal reduction is ever needed. Each output is
// accumulated exactly as the scalar reference does (integer block sum, then one f32 FMA per
// block), which makes the two bit-identical. Compiled with -mavx2 -mfma -mf16c.
#include <immintrin.h>

#include <cstring>

#include "kernels/table_fill.h"
#include "kernels/x86/avx2_util.h"
#include "kernels/x86/packed_frame.h"
#include "quant/blocks.h"

namespace pocket::kernels {
namespace {

using avx2::Table16;

// The eight rows' 6-bit scales of one sub-block (bytes at p) as int32 lanes holding the scale
// in both 16-bit halves, so madd(int16 pair sums, it) sums a row's pair and scales it.
inline __m256i PairScale(const uint8_t* p) {
  const __m256i v = _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p)));
  return _mm256_or_si256(v, _mm256_slli_epi32(v, 16));
}

// MXFP4's codebook (kMXFP4Values) plus 12: unsigned bytes 0..24, so its products need no sign
// trick and their int16 sums last two chunks (4 x 2 x 24 x 127 < 2^15), like Q5_0's.
struct Codebook16 {
  alignas(16) int8_t v[16];
};
constexpr Codebook16 MXFP4Plus12() {
  Codebook16 c{};
  for (int i = 0; i < 16; ++i) c.v[i] = static_cast<int8_t>(quant::kMXFP4Values[i] + 12);
  return c;
}
constexpr Codebook16 kMXFP4Plus12 = MXFP4Plus12();
static_assert(kMXFP4Plus12.v[7] == 24 && kMXFP4Plus12.v[15] == 0, "MXFP4 codes span 0..24");

// Eight weight rows (one packed group) x NC activation rows, for the nibble formats: Q4_0,
// and Q5_0 / Q4_1 / Q5_1 with the fifth bits OR-ed in (FifthBits) and/or a minimum, and MXFP4
// with its nibbles mapped through kMXFP4Plus12. Sums of 4-bit codes stay in int16 for the
// whole block (8 maddubs x 2 x 15 x 127 < 2^15), of 5-bit codes and MXFP4's for two chunks.
// Q4_0 / Q5_0 / MXFP4 subtract their offset (8 / 16 / 12) · Σa from the integer sum; Q4_1 /
// Q5_1 add their minimum times Σa in a second FMA. MXFP4's scales are E8M0 bytes (e[8]:
// 136-byte group-blocks).
template <int NC, bool kFifth, bool kMin, bool kMXFP4 = false>
void TileNibbles(int64_t nb, const uint8_t* wg, const uint8_t* a, uint64_t a_stride,
                 const uint8_t* info, uint64_t info_stride, float* out, int64_t ldo) {
  constexpr int kHeader = kMXFP4 ? 8 : kMin ? 32 : 16;
  constexpr int kGroupBlock = kHeader + 128 + (kFifth ? 32 : 0);
  constexpr int kWidenEvery = kFifth || kMXFP4 ? 2 : 4;
  // Codes are value + kOffset when there is no minimum.
  constexpr int kOffset = kMXFP4 ? 12 : kFifth ? 16 : 8;
  const __m256i m4 = _mm256_set1_epi8(0x0F);
  const __m256i ones = _mm256_set1_epi16(1);
  const __m256i table = Table16(kMXFP4Plus12.v);
  __m256 acc[NC];
  for (int c = 0; c < NC; ++c) acc[c] = _mm256_setzero_ps();
  for (int64_t b = 0; b < nb; ++b) {
    const uint8_t* blk = wg + b * kGroupBlock;
    PrefetchAhead<NC, kGroupBlock>(blk);
    const int8_t* qa[NC];
    __m256i s16[NC], s32[NC];
    for (int c = 0; c < NC; ++c) {
      qa[c] = QuantsOf(a, a_stride, c, b);
      s16[c] = s32[c] = _mm256_setzero_si256();
    }
    for (int j = 0; j < 4; ++j) {
      const __m256i raw = Load32(blk + kHeader + 32 * j);
      __m256i lo = _mm256_and_si256(raw, m4);
      __m256i hi = _mm256_and_si256(_mm256_srli_epi16(raw, 4), m4);
      if constexpr (kFifth) {
        __m256i h_lo, h_hi;
        FifthBits(blk + kHeader + 128 + 8 * j, &h_lo, &h_hi);
        lo = _mm256_or_si256(lo, h_lo);
        hi = _mm256_or_si256(hi, h_hi);
      }
      if constexpr (kMXFP4) {
        lo = _mm256_shuffle_epi8(table, lo);
        hi = _mm256_shuffle_epi8(table, hi);
      }
      for (int c = 0; c < NC; ++c) {
        const __m256i p =
            _mm256_add_epi16(_mm256_maddubs_epi16(lo, Broadcast4(qa[c] + 4 * j)),
                             _mm256_maddubs_epi16(hi, Broadcast4(qa[c] + 16 + 4 * j)));
        s16[c] = _mm256_add_epi16(s16[c], p);
        KeepInRegister(s16[c]);
        if (j % kWidenEvery == kWidenEvery - 1) {
          s32[c] = _mm256_add_epi32(s32[c], _mm256_madd_epi16(s16[c], ones));
          s16[c] = _mm256_setzero_si256();
        }
      }
    }
    const __m256 dw = kMXFP4
                          ? E8M0HalfScales(blk)
                          : _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(blk)));
    for (int c = 0; c < NC; ++c) {
      const ActBlockInfo& in = InfoOf<ActBlockInfo>(info, info_stride, c)[b];
      if constexpr (kMin) {
        const __m256 mw =
            _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(blk + 16)));
        acc[c] = AccumulateBlock(acc[c], dw, in.d, s32[c]);
        acc[c] = _mm256_fmadd_ps(_mm256_mul_ps(mw, _mm256_set1_ps(in.d)),
                                 _mm256_set1_ps(static_cast<float>(in.sum)), acc[c]);
      } else {
        acc[c] = AccumulateBlock(acc[c], dw, in.d,
                                 _mm256_sub_epi32(s32[c], _mm256_set1_epi32(kOffset * in.sum)));
      }
    }
  }
  for (int c = 0; c < NC; ++c) _mm256_storeu_ps(out + c * ldo, acc[c]);
}

// IQ4_NL: the Q4_0 nibbles mapped through the codebook to signed bytes, then the Q8_0 sign
// trick (its values reach -127, too far for an unsigned offset). A pair of products reaches
// 2 x 127 x 127, so each maddubs is widened on its own. 144-byte group-blocks (d[8] f16).
template <int NC>
void TileIQ4_NL(int64_t nb, const uint8_t* wg, const uint8_t* a, uint64_t a_stride,
                const uint8_t* info, uint64_t info_stride, float* out, int64_t ldo) {
  constexpr int kHeader = 16;
  constexpr int kGroupBlock = kHeader + 128;
  const __m256i m4 = _mm256_set1_epi8(0x0F);
  const __m256i table = Table16(quant::kIQ4NLValues);
  const __m256i ones = _mm256_set1_epi16(1);
  __m256 acc[NC];
  for (int c = 0; c < NC; ++c) acc[c] = _mm256_setzero_ps();
  for (int64_t b = 0; b < nb; ++b) {
    const uint8_t* blk = wg + b * kGroupBlock;
    PrefetchAhead<NC, kGroupBlock>(blk);
    const int8_t* qa[NC];
    __m256i s32[NC];
    for (int c = 0; c < NC; ++c) {
      qa[c] = QuantsOf(a, a_stride, c, b);
      s32[c] = _mm256_setzero_si256();
    }
    for (int j = 0; j < 4; ++j) {
      const __m256i raw = Load32(blk + kHeader + 32 * j);
      const __m256i lo = _mm256_shuffle_epi8(table, _mm256_and_si256(raw, m4));
      const __m256i hi =
          _mm256_shuffle_epi8(table, _mm256_and_si256(_mm256_srli_epi16(raw, 4), m4));
      const __m256i alo = _mm256_sign_epi8(lo, lo), ahi = _mm256_sign_epi8(hi, hi);
      for (int c = 0; c < NC; ++c) {
        const __m256i plo =
            _mm256_maddubs_epi16(alo, _mm256_sign_epi8(Broadcast4(qa[c] + 4 * j), lo));
        const __m256i phi =
            _mm256_maddubs_epi16(ahi, _mm256_sign_epi8(Broadcast4(qa[c] + 16 + 4 * j), hi));
        s32[c] = _mm256_add_epi32(
            s32[c], _mm256_add_epi32(_mm256_madd_epi16(plo, ones), _mm256_madd_epi16(phi, ones)));
        KeepInRegister(s32[c]);
      }
    }
    const __m256 dw = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(blk)));
    for (int c = 0; c < NC; ++c)
      acc[c] = AccumulateBlock(acc[c], dw, InfoOf<ActBlockInfo>(info, info_stride, c)[b].d, s32[c]);
  }
  for (int c = 0; c < NC; ++c) _mm256_storeu_ps(out + c * ldo, acc[c]);
}

// Row r's int8 value at p[r] into both int16 halves of lane r (sign-extended): the high byte
// of each half is filled by the shuffle, then an arithmetic shift.
inline __m256i RowScalesI16(const uint8_t* p) {
  const __m256i spread = _mm256_setr_epi8(-1, 0, -1, 0, -1, 1, -1, 1, -1, 2, -1, 2, -1, 3, -1, 3,
                                          -1, 4, -1, 4, -1, 5, -1, 5, -1, 6, -1, 6, -1, 7, -1, 7);
  const __m256i bytes =
      _mm256_broadcastq_epi64(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p)));
  return _mm256_srai_epi16(_mm256_shuffle_epi8(bytes, spread), 8);
}

// IQ4_XS: the IQ4_NL products per 32-element sub-block, each widened by a madd with the
// sub-block's signed scale (ls - 32) instead of ones.
template <int NC>
void TileIQ4_XS(int64_t nb, const uint8_t* wg, const uint8_t* a, uint64_t a_stride,
                const uint8_t* info, uint64_t info_stride, float* out, int64_t ldo) {
  const __m256i m4 = _mm256_set1_epi8(0x0F), table = Table16(quant::kIQ4NLValues);
  __m256 acc[NC];
  for (int c = 0; c < NC; ++c) acc[c] = _mm256_setzero_ps();
  for (int64_t b = 0; b < nb; ++b) {
    const uint8_t* blk = wg + b * kIQ4XSGroupBlock;
    PrefetchAhead<NC, kIQ4XSGroupBlock>(blk);
    const int8_t* qa[NC];
    __m256i s32[NC];
    for (int c = 0; c < NC; ++c) {
      qa[c] = SuperQuantsOf(a, a_stride, c, b);
      s32[c] = _mm256_setzero_si256();
    }
    for (int s = 0; s < 8; ++s) {
      const __m256i sc = RowScalesI16(blk + 16 + 8 * s);
      for (int j = 0; j < 4; ++j) {
        const __m256i raw = Load32(blk + 80 + 32 * (4 * s + j));
        const __m256i lo = _mm256_shuffle_epi8(table, _mm256_and_si256(raw, m4));
        const __m256i hi =
            _mm256_shuffle_epi8(table, _mm256_and_si256(_mm256_srli_epi16(raw, 4), m4));
        const __m256i alo = _mm256_sign_epi8(lo, lo), ahi = _mm256_sign_epi8(hi, hi);
        for (int c = 0; c < NC; ++c) {
          const int8_t* as = qa[c] + 32 * s + 4 * j;
          const __m256i plo = _mm256_maddubs_epi16(alo, _mm256_sign_epi8(Broadcast4(as), lo));
          const __m256i phi = _mm256_maddubs_epi16(ahi, _mm256_sign_epi8(Broadcast4(as + 16), hi));
          s32[c] = _mm256_add_epi32(
              s32[c], _mm256_add_epi32(_mm256_madd_epi16(plo, sc), _mm256_madd_epi16(phi, sc)));
          KeepInRegister(s32[c]);
        }
      }
    }
    const __m256 d = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(blk)));
    for (int c = 0; c < NC; ++c) {
      const ActSuperBlockInfo& in = InfoOf<ActSuperBlockInfo>(info, info_stride, c)[b];
      acc[c] = AccumulateBlock(acc[c], d, in.d, s32[c]);
    }
  }
  for (int c = 0; c < NC; ++c) _mm256_storeu_ps(out + c * ldo, acc[c]);
}

template <int NC>
void TileQ8_0(int64_t nb, const uint8_t* wg, const uint8_t* a, uint64_t a_stride,
              const uint8_t* info, uint64_t info_stride, float* out, int64_t ldo) {
  const __m256i ones = _mm256_set1_epi16(1);
  __m256 acc[NC];
  for (int c = 0; c < NC; ++c) acc[c] = _mm256_setzero_ps();
  for (int64_t b = 0; b < nb; ++b) {
    const uint8_t* blk = wg + b * kQ8GroupBlock;
    PrefetchAhead<NC, kQ8GroupBlock>(blk);
    const int8_t* qa[NC];
    __m256i s32[NC];
    for (int c = 0; c < NC; ++c) {
      qa[c] = QuantsOf(a, a_stride, c, b);
      s32[c] = _mm256_setzero_si256();
    }
    for (int j = 0; j < 8; ++j) {
      const __m256i w = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk + 16 + 32 * j));
      const __m256i aw = _mm256_sign_epi8(w, w);  // |w| as unsigned bytes (-128 -> 128)
      for (int c = 0; c < NC; ++c) {
        const __m256i sa = _mm256_sign_epi8(Broadcast4(qa[c] + 4 * j), w);
        s32[c] = _mm256_add_epi32(s32[c], _mm256_madd_epi16(_mm256_maddubs_epi16(aw, sa), ones));
        KeepInRegister(s32[c]);
      }
    }
    const __m256 dw = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(blk)));
    for (int c = 0; c < NC; ++c)
      acc[c] = AccumulateBlock(acc[c], dw, InfoOf<ActBlockInfo>(info, info_stride, c)[b].d, s32[c]);
  }
  for (int c = 0; c < NC; ++c) _mm256_storeu_ps(out + c * ldo, acc[c]);
}

// Q2_K / Q3_K: each 32-byte vector of 2-bit quants (bytes 4jj.. of half i) serves four
// element runs (s: bits 2s, 2s + 1, elements 128i + 32s + 4jj + k); Q3_K ORs in the third
// bit from hmask bit 4i + s (u = code + 4 in [0, 7]). Four vectors make a 16-element
// sub-block's int16 sums (4 x 2 x 7 x 127 < 2^15), scaled in one madd. Q3_K's -4 offset and
// Q2_K's minimums go through the sub-block sums (exact small integers in f32).
template <bool kQ3>
inline __m256i LowBitCodes(const uint8_t* blk, int i, int s, int jj) {
  const __m256i qv = Load32(blk + (kQ3 ? 144 : 160) + 32 * (8 * i + jj));
  const __m256i q = _mm256_and_si256(_mm256_srli_epi16(qv, 2 * s), _mm256_set1_epi8(3));
  if constexpr (!kQ3) return q;
  const __m256i hv = Load32(blk + 656 + 32 * jj);
  const int t = 4 * i + s;  // hmask bit, moved to bit 2
  const __m256i h = t >= 2 ? _mm256_srli_epi16(hv, t - 2) : _mm256_slli_epi16(hv, 2 - t);
  return _mm256_or_si256(q, _mm256_and_si256(h, _mm256_set1_epi8(4)));
}

template <int NC, bool kQ3>
void TileLowBitK(int64_t nb, const uint8_t* wg, const uint8_t* a, uint64_t a_stride,
                 const uint8_t* info, uint64_t info_stride, float* out, int64_t ldo) {
  constexpr int kGroupBlock = kQ3 ? kQ3KGroupBlock : kQ2KGroupBlock;
  __m256 acc[NC];
  for (int c = 0; c < NC; ++c) acc[c] = _mm256_setzero_ps();
  __m256i scale[16];
  __m256 corr_w[16];  // Q3_K: the scale; Q2_K: the minimum (per row lane, as f32)
  for (int64_t b = 0; b < nb; ++b) {
    const uint8_t* blk = wg + b * kGroupBlock;
    PrefetchAhead<NC, kGroupBlock>(blk);
    for (int g = 0; g < 16; ++g) {
      if constexpr (kQ3) {
        scale[g] = RowScalesI16(blk + 16 + 8 * g);
        corr_w[g] = _mm256_cvtepi32_ps(_mm256_srai_epi32(scale[g], 16));
      } else {
        const __m256i v = _mm256_cvtepu8_epi32(
            _mm_loadl_epi64(reinterpret_cast<const __m128i*>(blk + 32 + 8 * g)));
        const __m256i sc = _mm256_and_si256(v, _mm256_set1_epi32(15));
        scale[g] = _mm256_or_si256(sc, _mm256_slli_epi32(sc, 16));
        corr_w[g] = _mm256_cvtepi32_ps(_mm256_srli_epi32(v, 4));
      }
    }
    const int8_t* qa[NC];
    __m256i s32[NC];
    for (int c = 0; c < NC; ++c) {
      qa[c] = SuperQuantsOf(a, a_stride, c, b);
      s32[c] = _mm256_setzero_si256();
    }
    // Unrolled so that the shift counts are immediates.
#pragma GCC unroll 2
    for (int i = 0; i < 2; ++i) {
#pragma GCC unroll 4
      for (int s = 0; s < 4; ++s) {
        for (int half = 0; half < 2; ++half) {
          __m256i s16[NC];
          for (int c = 0; c < NC; ++c) s16[c] = _mm256_setzero_si256();
          for (int jj = 4 * half; jj < 4 * half + 4; ++jj) {
            const __m256i u = LowBitCodes<kQ3>(blk, i, s, jj);
            for (int c = 0; c < NC; ++c) {
              s16[c] = _mm256_add_epi16(
                  s16[c], _mm256_maddubs_epi16(u, Broadcast4(qa[c] + 128 * i + 32 * s + 4 * jj)));
              KeepInRegister(s16[c]);
            }
          }
          const __m256i& sc = scale[8 * i + 2 * s + half];
          for (int c = 0; c < NC; ++c)
            s32[c] = _mm256_add_epi32(s32[c], _mm256_madd_epi16(s16[c], sc));
        }
      }
    }
    const __m256 d = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(blk)));
    for (int c = 0; c < NC; ++c) {
      const ActSuperBlockInfo& in = InfoOf<ActSuperBlockInfo>(info, info_stride, c)[b];
      const __m256 corr = SumOf16Products(corr_w, in.sums16);
      if constexpr (kQ3) {
        const __m256i total =
            _mm256_sub_epi32(s32[c], _mm256_slli_epi32(_mm256_cvttps_epi32(corr), 2));
        acc[c] = AccumulateBlock(acc[c], d, in.d, total);
      } else {
        const __m256 dmin =
            _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(blk + 16)));
        acc[c] = AccumulateBlock(acc[c], d, in.d, s32[c]);
        acc[c] = _mm256_fnmadd_ps(_mm256_mul_ps(dmin, _mm256_set1_ps(in.d)), corr, acc[c]);
      }
    }
  }
  for (int c = 0; c < NC; ++c) _mm256_storeu_ps(out + c * ldo, acc[c]);
}

// Q4_K / Q5_K: per 256-element super-block, four sub-block pairs of eight 32-byte quant
// loads; the low nibbles belong to sub-block 2p, the high ones to 2p + 1 (Q5_K ORs in each
// vector's fifth bits, FifthBits). Each sub-block's products are summed in int16 — over all
// eight vectors for 4-bit codes (8 x 2 x 15 x 127 < 2^15), four for 5-bit ones (4 x 2 x 31 x
// 127) — then scaled by its 6-bit scale in one madd (scale in both int16 halves of a row's
// lane). Minimums: Σ_s min_s · asum_s as exact small integers in f32.
template <int NC, bool kFifth>
void TileQ4Q5_K(int64_t nb, const uint8_t* wg, const uint8_t* a, uint64_t a_stride,
                const uint8_t* info, uint64_t info_stride, float* out, int64_t ldo) {
  constexpr int kGroupBlock = kFifth ? kQ5KGroupBlock : kQ4KGroupBlock;
  constexpr int kRun = kFifth ? 4 : 8;  // quant vectors summed in int16
  const __m256i m4 = _mm256_set1_epi8(0x0F);
  __m256 acc[NC];
  for (int c = 0; c < NC; ++c) acc[c] = _mm256_setzero_ps();
  for (int64_t b = 0; b < nb; ++b) {
    const uint8_t* blk = wg + b * kGroupBlock;
    PrefetchAhead<NC, kGroupBlock>(blk);
    const int8_t* qa[NC];
    __m256i s32[NC];
    for (int c = 0; c < NC; ++c) {
      qa[c] = SuperQuantsOf(a, a_stride, c, b);
      s32[c] = _mm256_setzero_si256();
    }
    for (int p = 0; p < 4; ++p) {
      const __m256i sc_lo = PairScale(blk + 32 + 16 * p), sc_hi = PairScale(blk + 40 + 16 * p);
      for (int j0 = 0; j0 < 8; j0 += kRun) {
        __m256i slo[NC], shi[NC];
        for (int c = 0; c < NC; ++c) slo[c] = shi[c] = _mm256_setzero_si256();
#pragma GCC unroll 8  // rolled, GCC 12 copies every sum to another register each step (-10%)
        for (int j = j0; j < j0 + kRun; ++j) {
          const __m256i raw = Load32(blk + 160 + 32 * (8 * p + j));
          __m256i lo = _mm256_and_si256(raw, m4);
          __m256i hi = _mm256_and_si256(_mm256_srli_epi16(raw, 4), m4);
          if constexpr (kFifth) {
            __m256i h_lo, h_hi;
            FifthBits(blk + 1184 + 8 * (8 * p + j), &h_lo, &h_hi);
            lo = _mm256_or_si256(lo, h_lo);
            hi = _mm256_or_si256(hi, h_hi);
          }
          for (int c = 0; c < NC; ++c) {
            slo[c] = _mm256_add_epi16(slo[c],
                                      _mm256_maddubs_epi16(lo, Broadcast4(qa[c] + 64 * p + 4 * j)));
            shi[c] = _mm256_add_epi16(
                shi[c], _mm256_maddubs_epi16(hi, Broadcast4(qa[c] + 64 * p + 32 + 4 * j)));
            KeepInRegister(slo[c]);
            KeepInRegister(shi[c]);
          }
        }
        for (int c = 0; c < NC; ++c) {
          s32[c] = _mm256_add_epi32(s32[c], _mm256_add_epi32(_mm256_madd_epi16(slo[c], sc_lo),
                                                             _mm256_madd_epi16(shi[c], sc_hi)));
        }
      }
    }
    const __m256 d = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(blk)));
    const __m256 dmin =
        _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(blk + 16)));
    for (int c = 0; c < NC; ++c) {
      const ActSuperBlockInfo& in = InfoOf<ActSuperBlockInfo>(info, info_stride, c)[b];
      acc[c] = AccumulateBlock(acc[c], d, in.d, s32[c]);
      acc[c] =
          _mm256_fnmadd_ps(_mm256_mul_ps(dmin, _mm256_set1_ps(in.d)), KQuantMins(blk, in), acc[c]);
    }
  }
  for (int c = 0; c < NC; ++c) _mm256_storeu_ps(out + c * ldo, acc[c]);
}

// Q6_K: per half super-block and pair of 4-element chunks (j, j + 1: the same sub-blocks),
// two triples of loads give the 6-bit codes of elements l, l + 32, l + 64, l + 96 for the
// eight rows (three masks, and three shifts for the fourth code); each pair of maddubs (codes
// <= 63) is summed in int16 (2 x 2 x 63 x 127 < 2^15) and scaled by its 16-element
// sub-block's int8 scale in one madd. The -32 offset is applied once per super-block through
// the sub-block sums (exact small integers in f32).
template <int NC>
void TileQ6_K(int64_t nb, const uint8_t* wg, const uint8_t* a, uint64_t a_stride,
              const uint8_t* info, uint64_t info_stride, float* out, int64_t ldo) {
  const __m256i m63 = _mm256_set1_epi8(0x3F), m3 = _mm256_set1_epi8(0x03),
                m12 = _mm256_set1_epi8(0x0C), m48 = _mm256_set1_epi8(0x30);
  // Row r's int8 scale into the high byte of both int16 halves of lane r, then an
  // arithmetic shift sign-extends it.
  const __m256i spread = _mm256_setr_epi8(-1, 0, -1, 0, -1, 1, -1, 1, -1, 2, -1, 2, -1, 3, -1, 3,
                                          -1, 4, -1, 4, -1, 5, -1, 5, -1, 6, -1, 6, -1, 7, -1, 7);
  __m256 acc[NC];
  for (int c = 0; c < NC; ++c) acc[c] = _mm256_setzero_ps();
  __m256i scale[16];
  __m256 scale_f[16];
  for (int64_t b = 0; b < nb; ++b) {
    const uint8_t* blk = wg + b * kQ6KGroupBlock;
    PrefetchAhead<NC, kQ6KGroupBlock>(blk);
    for (int s = 0; s < 16; ++s) {
      const __m256i bytes = _mm256_broadcastq_epi64(
          _mm_loadl_epi64(reinterpret_cast<const __m128i*>(blk + 16 + 8 * s)));
      scale[s] = _mm256_srai_epi16(_mm256_shuffle_epi8(bytes, spread), 8);
      scale_f[s] = _mm256_cvtepi32_ps(_mm256_srai_epi32(scale[s], 16));
    }
    const int8_t* qa[NC];
    __m256i s32[NC];
    for (int c = 0; c < NC; ++c) {
      qa[c] = SuperQuantsOf(a, a_stride, c, b);
      s32[c] = _mm256_setzero_si256();
    }
    for (int half = 0; half < 2; ++half) {
#pragma GCC unroll 4  // rolled, GCC 12 copies sums between registers each step (-8%)
      for (int j = 0; j < 8; j += 2) {
        __m256i q[2][4];
        for (int u = 0; u < 2; ++u) {
          const uint8_t* x = blk + 144 + 96 * (8 * half + j + u);
          const __m256i x0 = Load32(x), x1 = Load32(x + 32), x2 = Load32(x + 64);
          q[u][0] = _mm256_and_si256(x0, m63);
          q[u][1] = _mm256_and_si256(x1, m63);
          q[u][2] = _mm256_and_si256(x2, m63);
          q[u][3] =
              _mm256_or_si256(_mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(x0, 6), m3),
                                              _mm256_and_si256(_mm256_srli_epi16(x1, 4), m12)),
                              _mm256_and_si256(_mm256_srli_epi16(x2, 2), m48));
        }
        for (int k = 0; k < 4; ++k) {
          const __m256i& sc = scale[8 * half + 2 * k + j / 4];
          for (int c = 0; c < NC; ++c) {
            const int8_t* ak = qa[c] + 128 * half + 32 * k + 4 * j;
            const __m256i p = _mm256_add_epi16(_mm256_maddubs_epi16(q[0][k], Broadcast4(ak)),
                                               _mm256_maddubs_epi16(q[1][k], Broadcast4(ak + 4)));
            s32[c] = _mm256_add_epi32(s32[c], _mm256_madd_epi16(p, sc));
            KeepInRegister(s32[c]);
          }
        }
      }
    }
    const __m256 d = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(blk)));
    for (int c = 0; c < NC; ++c) {
      const ActSuperBlockInfo& in = InfoOf<ActSuperBlockInfo>(info, info_stride, c)[b];
      const __m256 corr = SumOf16Products(scale_f, in.sums16);
      acc[c] = AccumulateBlock(
          acc[c], d, in.d,
          _mm256_sub_epi32(s32[c], _mm256_slli_epi32(_mm256_cvttps_epi32(corr), 5)));
    }
  }
  for (int c = 0; c < NC; ++c) _mm256_storeu_ps(out + c * ldo, acc[c]);
}

}  // namespace

void FillAvx2PackedKernels(KernelTable* t) {
  t->gemm_packed[static_cast<int>(DType::kQ4_0)] =
      GemmPacked<TileNibbles<1, false, false>, TileNibbles<2, false, false>,
                 TileNibbles<3, false, false>, TileNibbles<4, false, false>, 32, kQ4GroupBlock,
                 TileNibbles<6, false, false>>;
  t->gemm_packed[static_cast<int>(DType::kQ4_1)] =
      GemmPacked<TileNibbles<1, false, true>, TileNibbles<2, false, true>,
                 TileNibbles<3, false, true>, TileNibbles<4, false, true>, 32, 160>;
  t->gemm_packed[static_cast<int>(DType::kQ5_0)] =
      GemmPacked<TileNibbles<1, true, false>, TileNibbles<2, true, false>,
                 TileNibbles<3, true, false>, TileNibbles<4, true, false>, 32, 176>;
  t->gemm_packed[static_cast<int>(DType::kQ5_1)] =
      GemmPacked<TileNibbles<1, true, true>, TileNibbles<2, true, true>, TileNibbles<3, true, true>,
                 TileNibbles<4, true, true>, 32, 192>;
  t->gemm_packed[static_cast<int>(DType::kIQ4_NL)] =
      GemmPacked<TileIQ4_NL<1>, TileIQ4_NL<2>, TileIQ4_NL<3>, TileIQ4_NL<4>, 32, 144>;
  t->gemm_packed[static_cast<int>(DType::kMXFP4)] =
      GemmPacked<TileNibbles<1, false, false, true>, TileNibbles<2, false, false, true>,
                 TileNibbles<3, false, false, true>, TileNibbles<4, false, false, true>, 32, 136>;
  t->gemm_packed[static_cast<int>(DType::kIQ4_XS)] =
      GemmPacked<TileIQ4_XS<1>, TileIQ4_XS<2>, TileIQ4_XS<3>, TileIQ4_XS<4>, 256, kIQ4XSGroupBlock>;
  t->gemm_packed[static_cast<int>(DType::kQ2_K)] =
      GemmPacked<TileLowBitK<1, false>, TileLowBitK<2, false>, TileLowBitK<3, false>,
                 TileLowBitK<4, false>, 256, kQ2KGroupBlock>;
  t->gemm_packed[static_cast<int>(DType::kQ3_K)] =
      GemmPacked<TileLowBitK<1, true>, TileLowBitK<2, true>, TileLowBitK<3, true>,
                 TileLowBitK<4, true>, 256, kQ3KGroupBlock>;
  t->gemm_packed[static_cast<int>(DType::kQ4_K)] =
      GemmPacked<TileQ4Q5_K<1, false>, TileQ4Q5_K<2, false>, TileQ4Q5_K<3, false>,
                 TileQ4Q5_K<4, false>, 256, kQ4KGroupBlock>;
  t->gemm_packed[static_cast<int>(DType::kQ5_K)] =
      GemmPacked<TileQ4Q5_K<1, true>, TileQ4Q5_K<2, true>, TileQ4Q5_K<3, true>, TileQ4Q5_K<4, true>,
                 256, kQ5KGroupBlock>;
  t->gemm_packed[static_cast<int>(DType::kQ6_K)] =
      GemmPacked<TileQ6_K<1>, TileQ6_K<2>, TileQ6_K<3>, TileQ6_K<4>, 256, kQ6KGroupBlock>;
  t->gemm_packed[static_cast<int>(DType::kQ8_0)] =
      GemmPacked<TileQ8_0<1>, TileQ8_0<2>, TileQ8_0<3>, TileQ8_0<4>, 32, kQ8GroupBlock>;
}

}  // namespace pocket::kernels
