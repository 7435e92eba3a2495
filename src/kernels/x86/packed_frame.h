// The frame shared by the packed GEMM tiles of every x86 ISA (layout in kernels/packed.h):
// group-block sizes, activation access, prefetching and the per-block f32 epilogues (the
// driver that walks row groups and activation rows is kernels/packed_driver.h). Included by
// avx2_packed.cc and by the VNNI tiles (vnni_packed_tiles.h), each compiled with its own -m
// flags.
//
// Everything here has internal linkage (an anonymous namespace) on purpose: an inline
// function with external linkage compiled under -mavx512f in one file and -mavx2 in another
// is one symbol to the linker, which may keep the AVX-512 copy and call it on an AVX2-only
// CPU. Include only from kernels/x86/ files that are compiled for an ISA.
#pragma once

#include <immintrin.h>

#include <cstdint>
#include <cstring>

#include "kernels/kernels.h"
#include "kernels/packed_driver.h"
#include "quant/blocks.h"

namespace pocket::kernels {
namespace {  // NOLINT(build/namespaces): internal linkage per ISA file, see above

using quant::BlockQ8_0;
using quant::BlockQ8_K;

inline __m256i Broadcast4(const int8_t* p) {
  int32_t v;
  std::memcpy(&v, p, 4);
  return _mm256_set1_epi32(v);
}

// An empty asm statement that "modifies" v: keeps the compiler from hoisting every product of
// a block ahead of the additions (GCC reassociates the integer sums and then spills them).
inline void KeepInRegister(__m256i& v) { __asm__("" : "+x"(v)); }

// The eight rows' minimums of sub-block sb of a Q4_K group-block, as floats.
inline __m256 MinsOf(const uint8_t* blk, int sb) {
  return _mm256_cvtepi32_ps(
      _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(blk + 96 + 8 * sb))));
}

// Decode (one activation row) reads every weight byte once, straight from memory: each tile
// prefetches the group-block 1 KB ahead, which the hardware prefetcher alone does not keep
// up with (E2B Q4_0 decode at 2 threads: +15%, measured alternating). Prefetching past the
// end of the weights is harmless (a hint never faults).
// kToL2 (the VNNI tiles): also ask for the bytes 4 KB ahead into L2. On the Sapphire
// Rapids-class machine of session 14 that took E2B Q4_0 decode at 2 threads from 65-68% to
// 79-82% of the measured bandwidth (alternating builds; 2 KB ahead: 72-74%, 8 KB: 78-79%); the
// AVX2 tiles keep the single hint, as the Zen 3 machine they were tuned on could not be
// measured again.
constexpr int kPrefetchBytes = 1024;
constexpr int kPrefetchL2Bytes = 4096;
template <int NC, int kBlockBytes, bool kToL2 = false>
inline void PrefetchAhead(const uint8_t* blk) {
  if constexpr (NC == 1) {
    for (int o = 0; o < kBlockBytes; o += 64) {
      _mm_prefetch(reinterpret_cast<const char*>(blk + kPrefetchBytes + o), _MM_HINT_T0);
      if constexpr (kToL2)
        _mm_prefetch(reinterpret_cast<const char*>(blk + kPrefetchL2Bytes + o), _MM_HINT_T1);
    }
  }
}

inline __m256i Load32(const uint8_t* p) {
  return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
}

template <typename Info>
inline const Info* InfoOf(const uint8_t* info, uint64_t info_stride, int c) {
  return reinterpret_cast<const Info*>(info + static_cast<uint64_t>(c) * info_stride);
}

inline const int8_t* QuantsOf(const uint8_t* a, uint64_t a_stride, int c, int64_t b) {
  return reinterpret_cast<const BlockQ8_0*>(a + static_cast<uint64_t>(c) * a_stride)[b].qs;
}

// The fifth bits of one quant vector (Q5_0, Q5_1, Q5_K): eight bytes at p, byte r holding row r's
// bits for its four low-nibble elements (bits 0..3) and four high-nibble ones (bits 4..7).
// Spread to the vector's 32 lanes (lane 4r + k) and tested: 0x10 where the bit is set.
inline void FifthBits(const uint8_t* p, __m256i* lo, __m256i* hi) {
  const __m256i spread = _mm256_setr_epi8(0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4,
                                          4, 5, 5, 5, 5, 6, 6, 6, 6, 7, 7, 7, 7);
  const __m256i bit_lo = _mm256_set1_epi32(0x08040201);
  const __m256i bit_hi = _mm256_set1_epi32(static_cast<int32_t>(0x80402010u));
  const __m256i b4 = _mm256_set1_epi8(0x10);
  int64_t bytes;
  std::memcpy(&bytes, p, 8);
  const __m256i h = _mm256_shuffle_epi8(_mm256_set1_epi64x(bytes), spread);
  *lo = _mm256_and_si256(_mm256_cmpeq_epi8(_mm256_and_si256(h, bit_lo), bit_lo), b4);
  *hi = _mm256_and_si256(_mm256_cmpeq_epi8(_mm256_and_si256(h, bit_hi), bit_hi), b4);
}

// The eight rows' MXFP4 scales (E8M0 bytes at p) as f32, exactly as E8M0ToF32Half: 2^(e-128),
// i.e. bits (e - 1) << 23, and the subnormals 0x00200000 << e for e < 2.
inline __m256 E8M0HalfScales(const uint8_t* p) {
  const __m256i e = _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p)));
  const __m256i normal = _mm256_slli_epi32(_mm256_sub_epi32(e, _mm256_set1_epi32(1)), 23);
  const __m256i subnormal = _mm256_sllv_epi32(_mm256_set1_epi32(0x00200000), e);
  const __m256i is_normal = _mm256_cmpgt_epi32(e, _mm256_set1_epi32(1));
  return _mm256_castsi256_ps(_mm256_blendv_epi8(subnormal, normal, is_normal));
}

inline const int8_t* SuperQuantsOf(const uint8_t* a, uint64_t a_stride, int c, int64_t b) {
  return reinterpret_cast<const BlockQ8_K*>(a + static_cast<uint64_t>(c) * a_stride)[b].qs;
}

// acc + (dw · da) · total: one block's integer sum into a row lane's f32 accumulator, the
// only floating-point step per block (the scalar reference does the same, so every ISA
// agrees bit for bit).
inline __m256 AccumulateBlock(__m256 acc, __m256 dw, float da, __m256i total) {
  return _mm256_fmadd_ps(_mm256_mul_ps(dw, _mm256_set1_ps(da)), _mm256_cvtepi32_ps(total), acc);
}

// Σ_g w[g] · s[g] over 16 sub-blocks in four independent chains (one 16-deep FMA chain's
// latency, not the arithmetic, was the cost). Callers pass exact small integers, so the
// order does not change the result.
inline __m256 SumOf16Products(const __m256 w[16], const float s[16]) {
  __m256 part[4];
  for (int g = 0; g < 4; ++g) part[g] = _mm256_mul_ps(w[g], _mm256_set1_ps(s[g]));
  for (int g = 4; g < 16; ++g)
    part[g % 4] = _mm256_fmadd_ps(w[g], _mm256_set1_ps(s[g]), part[g % 4]);
  return _mm256_add_ps(_mm256_add_ps(part[0], part[1]), _mm256_add_ps(part[2], part[3]));
}

// Q4_K / Q5_K: the eight rows' Σ_s min_s · asum_s (exact small integers in f32).
inline __m256 KQuantMins(const uint8_t* blk, const ActSuperBlockInfo& in) {
  __m256 part[2];  // two independent chains
  for (int sb = 0; sb < 2; ++sb)
    part[sb] = _mm256_mul_ps(MinsOf(blk, sb), _mm256_set1_ps(in.sums[sb]));
  for (int sb = 2; sb < 8; ++sb)
    part[sb % 2] = _mm256_fmadd_ps(MinsOf(blk, sb), _mm256_set1_ps(in.sums[sb]), part[sb % 2]);
  return _mm256_add_ps(part[0], part[1]);
}

}  // namespace
}  // namespace pocket::kernels
