// Packed GEMM tiles for x86 CPUs with VNNI (layout in kernels/packed.h, frame in
// packed_frame.h). `vpdpbusd` multiplies 32 unsigned by 32 signed bytes and adds each group of
// four products to an int32 lane in one instruction, where AVX2 needs maddubs (saturating
// int16 pairs), madd (widening) and add, plus a sign trick for signed weights. So:
//   * 4-bit codes (Q4_0, Q4_1, Q5_0, Q5_1, Q4_K, Q5_K) and Q6_K's 6-bit codes are unsigned
//     already: one dpbusd per code vector and activation row;
//   * signed weights (Q8_0, and IQ4_NL / MXFP4 after the codebook lookup) are offset to
//     unsigned by flipping the top bit (w + 128, one xor per weight vector, shared by every
//     activation row), and 128 · Σa is subtracted from the block's sum, as the nibble formats
//     already do for their offset of 8 or 16. No per-row sign fix-up remains.
// The integer block sums equal the scalar reference's exactly and the f32 epilogue is the
// frame's, so every output equals the scalar kernel's bit for bit (kernels_test checks).
//
// Included by exactly one file per VNNI ISA, which defines POCKET_VNNI_EVEX first: 0 for
// AVX-VNNI (the VEX encoding: Alder Lake and later client cores, Zen 5), 1 for AVX-512 VNNI
// with VL (Ice Lake and later servers, Zen 4), where the same 256-bit code gets EVEX encodings
// and 32 vector registers. 256-bit vectors on purpose: a 512-bit dpbusd runs on one port of
// Intel's server cores and double-pumped on Zen 4, so it multiplies no more bytes per cycle,
// and the packed layout (eight rows per group) stays the one AVX2 uses. The exception is
// decoding Q8_0 and Q4_K with AVX-512 (ZmmQ8_0Decode, ZmmQ4_KDecode): there the same bytes
// in half the instructions leave more of the core to the loads.
#pragma once

#if !defined(POCKET_VNNI_EVEX)
#error "define POCKET_VNNI_EVEX (0: AVX-VNNI, 1: AVX-512 VNNI) before including this file"
#endif

#include "kernels/x86/packed_frame.h"

namespace pocket::kernels {
namespace {  // NOLINT(build/namespaces): internal linkage per ISA file (packed_frame.h)

// acc + Σ_k u[4l + k] · s[4l + k] per int32 lane l (u unsigned, s signed bytes; no saturation).
inline __m256i Dpbusd(__m256i acc, __m256i u, __m256i s) {
#if POCKET_VNNI_EVEX
  return _mm256_dpbusd_epi32(acc, u, s);
#else
  return _mm256_dpbusd_avx_epi32(acc, u, s);
#endif
}

// Signed bytes w as the unsigned bytes w + 128.
inline __m256i Unsigned(__m256i w) { return _mm256_xor_si256(w, _mm256_set1_epi8(-128)); }

// The nibble formats: Q4_0 and Q5_0 / Q4_1 / Q5_1 (fifth bits OR-ed in, and/or a minimum).
template <int NC, bool kFifth, bool kMin>
void VnniNibbles(int64_t nb, const uint8_t* wg, const uint8_t* a, uint64_t a_stride,
                 const uint8_t* info, uint64_t info_stride, float* out, int64_t ldo) {
  constexpr int kHeader = kMin ? 32 : 16;
  constexpr int kGroupBlock = kHeader + 128 + (kFifth ? 32 : 0);
  constexpr int kOffset = kFifth ? 16 : 8;  // codes are value + kOffset when there is no min
  const __m256i m4 = _mm256_set1_epi8(0x0F);
  __m256 acc[NC];
  for (int c = 0; c < NC; ++c) acc[c] = _mm256_setzero_ps();
  for (int64_t b = 0; b < nb; ++b) {
    const uint8_t* blk = wg + b * kGroupBlock;
    PrefetchAhead<NC, kGroupBlock, true>(blk);
    const int8_t* qa[NC];
    __m256i s32[NC];
    for (int c = 0; c < NC; ++c) {
      qa[c] = QuantsOf(a, a_stride, c, b);
      s32[c] = _mm256_setzero_si256();
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
      for (int c = 0; c < NC; ++c) {
        s32[c] = Dpbusd(s32[c], lo, Broadcast4(qa[c] + 4 * j));
        s32[c] = Dpbusd(s32[c], hi, Broadcast4(qa[c] + 16 + 4 * j));
      }
    }
    const __m256 dw = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(blk)));
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

// Signed 32-element blocks: Q8_0 (kCodebook false: the quants themselves), IQ4_NL / MXFP4
// (the nibbles mapped through the codebook; MXFP4's scales are E8M0 bytes).
template <int NC, int kCodebook>  // 0: Q8_0, 1: IQ4_NL, 2: MXFP4
void VnniSigned(int64_t nb, const uint8_t* wg, const uint8_t* a, uint64_t a_stride,
                const uint8_t* info, uint64_t info_stride, float* out, int64_t ldo) {
  constexpr int kHeader = kCodebook == 2 ? 8 : 16;
  constexpr int kGroupBlock = kCodebook == 0 ? kQ8GroupBlock : kHeader + 128;
  const __m256i m4 = _mm256_set1_epi8(0x0F);
  const __m128i table16 = _mm_loadu_si128(
      reinterpret_cast<const __m128i*>(kCodebook == 2 ? quant::kMXFP4Values : quant::kIQ4NLValues));
  const __m256i table = _mm256_set_m128i(table16, table16);
  __m256 acc[NC];
  for (int c = 0; c < NC; ++c) acc[c] = _mm256_setzero_ps();
  for (int64_t b = 0; b < nb; ++b) {
    const uint8_t* blk = wg + b * kGroupBlock;
    PrefetchAhead<NC, kGroupBlock, true>(blk);
    const int8_t* qa[NC];
    __m256i s32[NC];
    for (int c = 0; c < NC; ++c) {
      qa[c] = QuantsOf(a, a_stride, c, b);
      s32[c] = _mm256_setzero_si256();
    }
    if constexpr (kCodebook == 0) {
      for (int j = 0; j < 8; ++j) {
        const __m256i u = Unsigned(Load32(blk + 16 + 32 * j));
        for (int c = 0; c < NC; ++c) s32[c] = Dpbusd(s32[c], u, Broadcast4(qa[c] + 4 * j));
      }
    } else {
      for (int j = 0; j < 4; ++j) {
        const __m256i raw = Load32(blk + kHeader + 32 * j);
        const __m256i lo = Unsigned(_mm256_shuffle_epi8(table, _mm256_and_si256(raw, m4)));
        const __m256i hi =
            Unsigned(_mm256_shuffle_epi8(table, _mm256_and_si256(_mm256_srli_epi16(raw, 4), m4)));
        for (int c = 0; c < NC; ++c) {
          s32[c] = Dpbusd(s32[c], lo, Broadcast4(qa[c] + 4 * j));
          s32[c] = Dpbusd(s32[c], hi, Broadcast4(qa[c] + 16 + 4 * j));
        }
      }
    }
    const __m256 dw = kCodebook == 2
                          ? E8M0HalfScales(blk)
                          : _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(blk)));
    for (int c = 0; c < NC; ++c) {
      const ActBlockInfo& in = InfoOf<ActBlockInfo>(info, info_stride, c)[b];
      acc[c] = AccumulateBlock(acc[c], dw, in.d,
                               _mm256_sub_epi32(s32[c], _mm256_set1_epi32(128 * in.sum)));
    }
  }
  for (int c = 0; c < NC; ++c) _mm256_storeu_ps(out + c * ldo, acc[c]);
}

// Q4_K / Q5_K: per sub-block, eight dpbusd per activation row give its int32 sums, scaled by
// the rows' 6-bit scales in one 32-bit multiply. The low nibbles (sub-block 2p) and the high
// ones (2p + 1) go in two passes over the same eight quant vectors, so that four activation
// rows fit AVX-VNNI's sixteen registers.
template <int NC, bool kFifth>
void VnniQ4Q5_K(int64_t nb, const uint8_t* wg, const uint8_t* a, uint64_t a_stride,
                const uint8_t* info, uint64_t info_stride, float* out, int64_t ldo) {
  constexpr int kGroupBlock = kFifth ? kQ5KGroupBlock : kQ4KGroupBlock;
  const __m256i m4 = _mm256_set1_epi8(0x0F);
  __m256 acc[NC];
  for (int c = 0; c < NC; ++c) acc[c] = _mm256_setzero_ps();
  for (int64_t b = 0; b < nb; ++b) {
    const uint8_t* blk = wg + b * kGroupBlock;
    PrefetchAhead<NC, kGroupBlock, true>(blk);
    const int8_t* qa[NC];
    __m256i s32[NC];
    for (int c = 0; c < NC; ++c) {
      qa[c] = SuperQuantsOf(a, a_stride, c, b);
      s32[c] = _mm256_setzero_si256();
    }
    for (int p = 0; p < 4; ++p) {
      for (int high = 0; high < 2; ++high) {
        __m256i sub[NC];
        for (int c = 0; c < NC; ++c) sub[c] = _mm256_setzero_si256();
        for (int j = 0; j < 8; ++j) {
          const __m256i raw = Load32(blk + 160 + 32 * (8 * p + j));
          __m256i q = _mm256_and_si256(high ? _mm256_srli_epi16(raw, 4) : raw, m4);
          if constexpr (kFifth) {
            __m256i h_lo, h_hi;
            FifthBits(blk + 1184 + 8 * (8 * p + j), &h_lo, &h_hi);
            q = _mm256_or_si256(q, high ? h_hi : h_lo);
          }
          for (int c = 0; c < NC; ++c)
            sub[c] = Dpbusd(sub[c], q, Broadcast4(qa[c] + 64 * p + 32 * high + 4 * j));
        }
        const __m256i scale = _mm256_cvtepu8_epi32(
            _mm_loadl_epi64(reinterpret_cast<const __m128i*>(blk + 32 + 16 * p + 8 * high)));
        for (int c = 0; c < NC; ++c)
          s32[c] = _mm256_add_epi32(s32[c], _mm256_mullo_epi32(sub[c], scale));
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

#if POCKET_VNNI_EVEX
// Decode (one activation row) of Q4_K in 512-bit registers: a 64-byte load holds two
// consecutive quant chunks of the group (lanes 0-7: chunk j's eight rows, lanes 8-15: chunk
// j + 1's), so each dpbusd takes twice the bytes of the 256-bit tile, with the activation
// dwords of chunks j and j + 1 permuted into the two halves. Both halves of a lane pair
// belong to the same row and sub-block, so the sums are scaled in 512 bits and the halves
// added once per super-block: the int32 totals, and so the f32 epilogue, are the 256-bit
// tile's. Decoding is bound by memory, but not only: the tile's instructions share the core
// with the loads that keep the memory busy, and this one issues about half as many.
inline __m512i PairBroadcastIndex(int jj) {
  return _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_set1_epi32(2 * jj)),
                            _mm256_set1_epi32(2 * jj + 1), 1);
}

// Eight scale bytes at p (one per row) in both 256-bit halves, as int32.
inline __m512i RowScalesTwice(const uint8_t* p) {
  int64_t v;
  std::memcpy(&v, p, 8);
  return _mm512_cvtepu8_epi32(_mm_set1_epi64x(v));
}

// 32 activation quants at p as the low eight dwords of a 512-bit register (the permutes'
// source).
inline __m512i ActivationDwords(const int8_t* p) {
  return _mm512_castsi256_si512(Load32(reinterpret_cast<const uint8_t*>(p)));
}

inline __m256i FoldHalves(__m512i v) {
  return _mm256_add_epi32(_mm512_castsi512_si256(v), _mm512_extracti64x4_epi64(v, 1));
}

void ZmmQ4_KDecode(int64_t nb, const uint8_t* wg, const uint8_t* a, uint64_t a_stride,
                   const uint8_t* info, uint64_t info_stride, float* out, int64_t ldo) {
  (void)a_stride;
  (void)ldo;
  const __m512i m4 = _mm512_set1_epi8(0x0F);
  const __m512i idx[4] = {PairBroadcastIndex(0), PairBroadcastIndex(1), PairBroadcastIndex(2),
                          PairBroadcastIndex(3)};
  __m256 acc = _mm256_setzero_ps();
  for (int64_t b = 0; b < nb; ++b) {
    const uint8_t* blk = wg + b * kQ4KGroupBlock;
    PrefetchAhead<1, kQ4KGroupBlock, true>(blk);
    const int8_t* qa = SuperQuantsOf(a, 0, 0, b);
    __m512i s32 = _mm512_setzero_si512();
    for (int p = 0; p < 4; ++p) {
      const __m512i act_lo = ActivationDwords(qa + 64 * p);
      const __m512i act_hi = ActivationDwords(qa + 64 * p + 32);
      __m512i sub_lo = _mm512_setzero_si512(), sub_hi = _mm512_setzero_si512();
      for (int jj = 0; jj < 4; ++jj) {
        const __m512i raw = _mm512_loadu_si512(blk + 160 + 32 * (8 * p + 2 * jj));
        sub_lo = _mm512_dpbusd_epi32(sub_lo, _mm512_and_si512(raw, m4),
                                     _mm512_permutexvar_epi32(idx[jj], act_lo));
        sub_hi = _mm512_dpbusd_epi32(sub_hi, _mm512_and_si512(_mm512_srli_epi16(raw, 4), m4),
                                     _mm512_permutexvar_epi32(idx[jj], act_hi));
      }
      s32 = _mm512_add_epi32(s32, _mm512_mullo_epi32(sub_lo, RowScalesTwice(blk + 32 + 16 * p)));
      s32 = _mm512_add_epi32(s32, _mm512_mullo_epi32(sub_hi, RowScalesTwice(blk + 40 + 16 * p)));
    }
    const __m256 d = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(blk)));
    const __m256 dmin =
        _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(blk + 16)));
    const ActSuperBlockInfo& in = InfoOf<ActSuperBlockInfo>(info, 0, 0)[b];
    acc = AccumulateBlock(acc, d, in.d, FoldHalves(s32));
    acc = _mm256_fnmadd_ps(_mm256_mul_ps(dmin, _mm256_set1_ps(in.d)), KQuantMins(blk, in), acc);
  }
  _mm256_storeu_ps(out, acc);
}

// Q8_0 decode in 512-bit registers: four 64-byte loads per group-block, offset to unsigned as
// in VnniSigned.
void ZmmQ8_0Decode(int64_t nb, const uint8_t* wg, const uint8_t* a, uint64_t a_stride,
                   const uint8_t* info, uint64_t info_stride, float* out, int64_t ldo) {
  (void)a_stride;
  (void)ldo;
  const __m512i flip = _mm512_set1_epi8(-128);
  const __m512i idx[4] = {PairBroadcastIndex(0), PairBroadcastIndex(1), PairBroadcastIndex(2),
                          PairBroadcastIndex(3)};
  __m256 acc = _mm256_setzero_ps();
  for (int64_t b = 0; b < nb; ++b) {
    const uint8_t* blk = wg + b * kQ8GroupBlock;
    PrefetchAhead<1, kQ8GroupBlock, true>(blk);
    const __m512i act = ActivationDwords(QuantsOf(a, 0, 0, b));
    __m512i s32 = _mm512_setzero_si512();
    for (int jj = 0; jj < 4; ++jj) {
      const __m512i u = _mm512_xor_si512(_mm512_loadu_si512(blk + 16 + 64 * jj), flip);
      s32 = _mm512_dpbusd_epi32(s32, u, _mm512_permutexvar_epi32(idx[jj], act));
    }
    const __m256 dw = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(blk)));
    const ActBlockInfo& in = InfoOf<ActBlockInfo>(info, 0, 0)[b];
    acc = AccumulateBlock(acc, dw, in.d,
                          _mm256_sub_epi32(FoldHalves(s32), _mm256_set1_epi32(128 * in.sum)));
  }
  _mm256_storeu_ps(out, acc);
}

// The one-row tiles of Q8_0 and Q4_K: 512-bit where the encoding has them. Measured on the
// Sapphire Rapids-class machine (E2B decode at 2 threads, alternating builds): Q4_K_M
// 75% -> 81-82% of the measured bandwidth, Q8_0 +1-3%. Not for Q4_0 (1-3% slower: with two
// loads per group-block, the permutes and the per-block fold weigh more than the 256-bit
// tile's broadcasts, which are loads) nor Q6_K (no faster: each register needs two 32-byte
// loads, the code triples of chunks j and j + 1 lie 96 bytes apart).
constexpr TileFn kQ8_0Decode = ZmmQ8_0Decode;
constexpr TileFn kQ4_KDecode = ZmmQ4_KDecode;
#else
constexpr TileFn kQ8_0Decode = VnniSigned<1, 0>;
constexpr TileFn kQ4_KDecode = VnniQ4Q5_K<1, false>;
#endif

// Q6_K: one 16-element sub-block at a time (half h, code k of the triple, chunks j0..j0+3):
// four dpbusd per activation row, then the rows' int8 scales in one 32-bit multiply. The
// -32 offset goes through the sub-block sums once per super-block, as in the AVX2 tile.
template <int NC>
void VnniQ6_K(int64_t nb, const uint8_t* wg, const uint8_t* a, uint64_t a_stride,
              const uint8_t* info, uint64_t info_stride, float* out, int64_t ldo) {
  const __m256i m63 = _mm256_set1_epi8(0x3F), m3 = _mm256_set1_epi8(0x03),
                m12 = _mm256_set1_epi8(0x0C), m48 = _mm256_set1_epi8(0x30);
  __m256 acc[NC];
  for (int c = 0; c < NC; ++c) acc[c] = _mm256_setzero_ps();
  __m256 scale_f[16];
  for (int64_t b = 0; b < nb; ++b) {
    const uint8_t* blk = wg + b * kQ6KGroupBlock;
    PrefetchAhead<NC, kQ6KGroupBlock, true>(blk);
    const int8_t* qa[NC];
    __m256i s32[NC];
    for (int c = 0; c < NC; ++c) {
      qa[c] = SuperQuantsOf(a, a_stride, c, b);
      s32[c] = _mm256_setzero_si256();
    }
    for (int half = 0; half < 2; ++half) {
      // Unrolled, so that `k < 3` is decided at compile time and no sum is copied between
      // registers at a loop's end (GCC 12 does both when these loops stay rolled).
#pragma GCC unroll 4
      for (int k = 0; k < 4; ++k) {
        for (int j0 = 0; j0 < 8; j0 += 4) {
          __m256i sub[NC];
          for (int c = 0; c < NC; ++c) sub[c] = _mm256_setzero_si256();
#pragma GCC unroll 4
          for (int j = j0; j < j0 + 4; ++j) {
            const uint8_t* x = blk + 144 + 96 * (8 * half + j);
            __m256i q;
            if (k < 3) {
              q = _mm256_and_si256(Load32(x + 32 * k), m63);
            } else {
              q = _mm256_or_si256(
                  _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(Load32(x), 6), m3),
                                  _mm256_and_si256(_mm256_srli_epi16(Load32(x + 32), 4), m12)),
                  _mm256_and_si256(_mm256_srli_epi16(Load32(x + 64), 2), m48));
            }
            for (int c = 0; c < NC; ++c)
              sub[c] = Dpbusd(sub[c], q, Broadcast4(qa[c] + 128 * half + 32 * k + 4 * j));
          }
          const int s = 8 * half + 2 * k + j0 / 4;
          const __m256i scale = _mm256_cvtepi8_epi32(
              _mm_loadl_epi64(reinterpret_cast<const __m128i*>(blk + 16 + 8 * s)));
          scale_f[s] = _mm256_cvtepi32_ps(scale);
          for (int c = 0; c < NC; ++c)
            s32[c] = _mm256_add_epi32(s32[c], _mm256_mullo_epi32(sub[c], scale));
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

// Overrides the packed kernels of the formats above; the rest (IQ4_XS, Q2_K, Q3_K) keep the
// AVX2 tiles the table inherited.
void FillVnniPackedKernels(KernelTable* t) {
  auto set = [t](DType type, GemmPackedFn fn) { t->gemm_packed[static_cast<int>(type)] = fn; };
  set(DType::kQ4_0, GemmPacked<VnniNibbles<1, false, false>, VnniNibbles<2, false, false>,
                               VnniNibbles<3, false, false>, VnniNibbles<4, false, false>, 32,
                               kQ4GroupBlock, VnniNibbles<6, false, false>>);
  set(DType::kQ4_1, GemmPacked<VnniNibbles<1, false, true>, VnniNibbles<2, false, true>,
                               VnniNibbles<3, false, true>, VnniNibbles<4, false, true>, 32, 160>);
  set(DType::kQ5_0, GemmPacked<VnniNibbles<1, true, false>, VnniNibbles<2, true, false>,
                               VnniNibbles<3, true, false>, VnniNibbles<4, true, false>, 32, 176>);
  set(DType::kQ5_1, GemmPacked<VnniNibbles<1, true, true>, VnniNibbles<2, true, true>,
                               VnniNibbles<3, true, true>, VnniNibbles<4, true, true>, 32, 192>);
  set(DType::kQ8_0, GemmPacked<kQ8_0Decode, VnniSigned<2, 0>, VnniSigned<3, 0>, VnniSigned<4, 0>,
                               32, kQ8GroupBlock, VnniSigned<6, 0>>);
  set(DType::kIQ4_NL, GemmPacked<VnniSigned<1, 1>, VnniSigned<2, 1>, VnniSigned<3, 1>,
                                 VnniSigned<4, 1>, 32, kQ4GroupBlock>);
  set(DType::kMXFP4,
      GemmPacked<VnniSigned<1, 2>, VnniSigned<2, 2>, VnniSigned<3, 2>, VnniSigned<4, 2>, 32, 136>);
  set(DType::kQ4_K, GemmPacked<kQ4_KDecode, VnniQ4Q5_K<2, false>, VnniQ4Q5_K<3, false>,
                               VnniQ4Q5_K<4, false>, 256, kQ4KGroupBlock>);
  set(DType::kQ5_K, GemmPacked<VnniQ4Q5_K<1, true>, VnniQ4Q5_K<2, true>, VnniQ4Q5_K<3, true>,
                               VnniQ4Q5_K<4, true>, 256, kQ5KGroupBlock>);
  set(DType::kQ6_K,
      GemmPacked<VnniQ6_K<1>, VnniQ6_K<2>, VnniQ6_K<3>, VnniQ6_K<4>, 256, kQ6KGroupBlock>);
}

}  // namespace
}  // namespace pocket::kernels
