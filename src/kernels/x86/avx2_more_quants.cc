// AVX2 row-major dot products of the legacy 32-element formats Q4_1, Q5_0, Q5_1, IQ4_NL and
// MXFP4 (against Q8_0 activations) and the K-quants Q2_K, Q3_K, Q5_K and IQ4_XS (against
// Q8_K), for matrices that are not packed (row counts not a multiple of 8, packing off or
// over its memory budget). Each block's quants are expanded in registers (nibbles, high-bit
// planes, 16-entry tables through pshufb) and multiplied as integers; the group sums are
// exact, so results match the scalar references up to f32 summation order. Prefill uses these
// per (row, column) too, so decode and prefill agree bit for bit. Compiled with -mavx2 -mfma
// -mf16c.
#include <immintrin.h>

#include <cstring>

#include "kernels/table_fill.h"
#include "kernels/x86/avx2_util.h"
#include "quant/blocks.h"
#include "tensor/fp16.h"

namespace pocket::kernels {
namespace {

using avx2::DotS8;
using avx2::HalfToFloat;
using avx2::HSum;
using avx2::HSumI32;
using avx2::Nibbles;
using avx2::ScaledDotU8;
using avx2::Scales16;
using avx2::SumS8;
using avx2::Table16;

using quant::BlockQ8_0;
using quant::BlockQ8_K;

inline __m256i Load256(const void* p) { return _mm256_loadu_si256(static_cast<const __m256i*>(p)); }

// The 32 bits at p as 32 bytes, 0xFF where bit i of the little-endian word is set.
inline __m256i BitsToBytes(const uint8_t* p) {
  uint32_t bits;
  std::memcpy(&bits, p, 4);
  const __m256i spread =
      _mm256_shuffle_epi8(_mm256_set1_epi32(static_cast<int32_t>(bits)),
                          _mm256_set_epi64x(0x0303030303030303, 0x0202020202020202,
                                            0x0101010101010101, 0x0000000000000000));
  // Byte k of the mask has every bit but bit k % 8 set: the OR is all ones iff that bit is.
  const __m256i with_others = _mm256_or_si256(spread, _mm256_set1_epi64x(0x7FBFDFEFF7FBFDFE));
  return _mm256_cmpeq_epi8(with_others, _mm256_set1_epi64x(-1));
}

// ---- Legacy 32-element formats: value = d·q + m per block. ----

struct Q4_1Format {
  static constexpr int kBytes = 20;
  static constexpr bool kHasMin = true;
  static __m256i Codes(const uint8_t* p) { return Nibbles(p + 4); }
  static float Scale(const uint8_t* p) { return HalfToFloat(Half(p)); }
  static float Min(const uint8_t* p) { return HalfToFloat(Half(p + 2)); }
  static uint16_t Half(const uint8_t* p) {
    uint16_t h;
    std::memcpy(&h, p, 2);
    return h;
  }
};

struct Q5_0Format {
  static constexpr int kBytes = 22;
  static constexpr bool kHasMin = false;
  static __m256i Codes(const uint8_t* p) {
    const __m256i high = _mm256_and_si256(BitsToBytes(p + 2), _mm256_set1_epi8(0x10));
    return _mm256_sub_epi8(_mm256_or_si256(Nibbles(p + 6), high), _mm256_set1_epi8(16));
  }
  static float Scale(const uint8_t* p) { return HalfToFloat(Q4_1Format::Half(p)); }
  static float Min(const uint8_t*) { return 0.0f; }
};

struct Q5_1Format {
  static constexpr int kBytes = 24;
  static constexpr bool kHasMin = true;
  static __m256i Codes(const uint8_t* p) {
    const __m256i high = _mm256_and_si256(BitsToBytes(p + 4), _mm256_set1_epi8(0x10));
    return _mm256_or_si256(Nibbles(p + 8), high);
  }
  static float Scale(const uint8_t* p) { return HalfToFloat(Q4_1Format::Half(p)); }
  static float Min(const uint8_t* p) { return HalfToFloat(Q4_1Format::Half(p + 2)); }
};

struct IQ4NLFormat {
  static constexpr int kBytes = 18;
  static constexpr bool kHasMin = false;
  static __m256i Codes(const uint8_t* p) {
    return _mm256_shuffle_epi8(Table16(quant::kIQ4NLValues), Nibbles(p + 2));
  }
  static float Scale(const uint8_t* p) { return HalfToFloat(Q4_1Format::Half(p)); }
  static float Min(const uint8_t*) { return 0.0f; }
};

struct MXFP4Format {
  static constexpr int kBytes = 17;
  static constexpr bool kHasMin = false;
  static __m256i Codes(const uint8_t* p) {
    return _mm256_shuffle_epi8(Table16(quant::kMXFP4Values), Nibbles(p + 1));
  }
  static float Scale(const uint8_t* p) { return E8M0ToF32Half(p[0]); }
  static float Min(const uint8_t*) { return 0.0f; }
};

template <typename F>
float VecDotLegacy(int64_t n, const void* w, const void* act) {
  const auto* x = static_cast<const uint8_t*>(w);
  const auto* y = static_cast<const BlockQ8_0*>(act);
  __m256 acc = _mm256_setzero_ps();
  for (int64_t b = 0; b < n / 32; ++b, x += F::kBytes) {
    const __m256i qa = Load256(y[b].qs);
    const float da = HalfToFloat(y[b].d);
    acc = _mm256_fmadd_ps(_mm256_set1_ps(F::Scale(x) * da),
                          _mm256_cvtepi32_ps(DotS8(F::Codes(x), qa)), acc);
    if constexpr (F::kHasMin)
      acc = _mm256_fmadd_ps(_mm256_set1_ps(F::Min(x) * da), _mm256_cvtepi32_ps(SumS8(qa)), acc);
  }
  return HSum(acc);
}

// ---- K-quants against Q8_K (256 elements, bsums = sums of 16-element activation groups). ----

// Q2_K: w = d·(sc & 15)·q − dmin·(sc >> 4), q in [0, 3], 16 groups of 16. Within each 128
// elements, 32 bytes of qs give four 32-element runs (2-bit fields 0..3), groups in order.
float VecDotQ2K(int64_t n, const void* w, const void* act) {
  const auto* x = static_cast<const quant::BlockQ2_K*>(w);
  const auto* y = static_cast<const BlockQ8_K*>(act);
  const __m256i m3 = _mm256_set1_epi8(3);
  float sum = 0.0f;
  for (int64_t b = 0; b < n / 256; ++b) {
    const uint8_t* sc = x[b].scales;
    const int8_t* a = y[b].qs;
    __m256i acc = _mm256_setzero_si256();
    int32_t mins = 0;
    for (int g = 0; g < 16; ++g) mins += (sc[g] >> 4) * y[b].bsums[g];
    for (int i = 0; i < 2; ++i) {
      const __m256i qv = Load256(x[b].qs + 32 * i);
      for (int s = 0; s < 4; ++s) {
        const int g = 8 * i + 2 * s;
        const __m256i q = _mm256_and_si256(_mm256_srli_epi16(qv, 2 * s), m3);
        acc = _mm256_add_epi32(
            acc, ScaledDotU8(q, a + 128 * i + 32 * s, Scales16(sc[g] & 15, sc[g + 1] & 15)));
      }
    }
    sum += y[b].d *
           (HalfToFloat(x[b].d) * HSumI32(acc) - HalfToFloat(x[b].dmin) * static_cast<float>(mins));
  }
  return sum;
}

// Q3_K: w = d·sc·(u − 4) with u = q | hbit << 2 in [0, 7] (q 2 bits, hbit from hmask), 16
// groups of 16: Σ w·a = d·Σ_g sc_g·(Σ u·a − 4·Σ a_g). Run s of half i uses hmask bit 4i + s.
float VecDotQ3K(int64_t n, const void* w, const void* act) {
  const auto* x = static_cast<const quant::BlockQ3_K*>(w);
  const auto* y = static_cast<const BlockQ8_K*>(act);
  const __m256i m3 = _mm256_set1_epi8(3), one = _mm256_set1_epi8(1);
  float sum = 0.0f;
  for (int64_t b = 0; b < n / 256; ++b) {
    int sc[16];
    for (int g = 0; g < 16; ++g) sc[g] = quant::ScaleQ3K(g, x[b].scales);
    const int8_t* a = y[b].qs;
    const __m256i hv = Load256(x[b].hmask);
    __m256i acc = _mm256_setzero_si256();
    int32_t offset = 0;
    for (int g = 0; g < 16; ++g) offset += sc[g] * y[b].bsums[g];
    for (int i = 0; i < 2; ++i) {
      const __m256i qv = Load256(x[b].qs + 32 * i);
      for (int s = 0; s < 4; ++s) {
        const int g = 8 * i + 2 * s;
        const __m256i hbit = _mm256_and_si256(_mm256_srli_epi16(hv, 4 * i + s), one);
        const __m256i u = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(qv, 2 * s), m3),
                                          _mm256_slli_epi16(hbit, 2));
        acc =
            _mm256_add_epi32(acc, ScaledDotU8(u, a + 128 * i + 32 * s, Scales16(sc[g], sc[g + 1])));
      }
    }
    sum += y[b].d * HalfToFloat(x[b].d) * (HSumI32(acc) - 4.0f * static_cast<float>(offset));
  }
  return sum;
}

// Q5_K: w = d·sc·q − dmin·m, q = nibble | hbit << 4 in [0, 31], 8 groups of 32 with 6-bit
// scales and minimums; group 2j takes the low nibbles of qs[32j..] and qh bit 2j, group 2j+1
// the high nibbles and bit 2j + 1.
float VecDotQ5K(int64_t n, const void* w, const void* act) {
  const auto* x = static_cast<const quant::BlockQ5_K*>(w);
  const auto* y = static_cast<const BlockQ8_K*>(act);
  const __m256i m4 = _mm256_set1_epi8(0x0F), one = _mm256_set1_epi8(1);
  float sum = 0.0f;
  for (int64_t b = 0; b < n / 256; ++b) {
    uint8_t sc[8], mn[8];
    for (int g = 0; g < 8; ++g) quant::ScaleMinK4(g, x[b].scales, &sc[g], &mn[g]);
    const int8_t* a = y[b].qs;
    const __m256i hv = Load256(x[b].qh);
    __m256i acc = _mm256_setzero_si256();
    for (int j = 0; j < 4; ++j) {
      const __m256i q = Load256(x[b].qs + 32 * j);
      const __m256i h0 = _mm256_and_si256(_mm256_srli_epi16(hv, 2 * j), one);
      const __m256i h1 = _mm256_and_si256(_mm256_srli_epi16(hv, 2 * j + 1), one);
      const __m256i lo = _mm256_or_si256(_mm256_and_si256(q, m4), _mm256_slli_epi16(h0, 4));
      const __m256i hi =
          _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(q, 4), m4), _mm256_slli_epi16(h1, 4));
      acc = _mm256_add_epi32(acc, ScaledDotU8(lo, a + 64 * j, Scales16(sc[2 * j], sc[2 * j])));
      acc = _mm256_add_epi32(
          acc, ScaledDotU8(hi, a + 64 * j + 32, Scales16(sc[2 * j + 1], sc[2 * j + 1])));
    }
    int32_t mins = 0;  // Σ_g m_g·Σ a_g (a group of 32 = two bsums)
    for (int g = 0; g < 8; ++g) mins += mn[g] * (y[b].bsums[2 * g] + y[b].bsums[2 * g + 1]);
    sum += y[b].d *
           (HalfToFloat(x[b].d) * HSumI32(acc) - HalfToFloat(x[b].dmin) * static_cast<float>(mins));
  }
  return sum;
}

// IQ4_XS: w = d·(ls − 32)·kIQ4NLValues[code], 8 groups of 32 with 6-bit scales ls; signed
// table values, so the sign trick, then each group's int16 pair sums scaled in one madd.
float VecDotIQ4XS(int64_t n, const void* w, const void* act) {
  const auto* x = static_cast<const quant::BlockIQ4XS*>(w);
  const auto* y = static_cast<const BlockQ8_K*>(act);
  const __m256i table = Table16(quant::kIQ4NLValues);
  float sum = 0.0f;
  for (int64_t b = 0; b < n / 256; ++b) {
    __m256i acc = _mm256_setzero_si256();
    for (int g = 0; g < 8; ++g) {
      const __m256i q = _mm256_shuffle_epi8(table, Nibbles(x[b].qs + 16 * g));
      const __m256i p16 = _mm256_maddubs_epi16(_mm256_sign_epi8(q, q),
                                               _mm256_sign_epi8(Load256(y[b].qs + 32 * g), q));
      acc = _mm256_add_epi32(
          acc, _mm256_madd_epi16(
                   p16, _mm256_set1_epi16(static_cast<int16_t>(quant::ScaleIQ4XS(g, x[b])))));
    }
    sum += y[b].d * HalfToFloat(x[b].d) * HSumI32(acc);
  }
  return sum;
}

constexpr int Id(DType t) { return static_cast<int>(t); }

}  // namespace

void FillAvx2MoreQuantKernels(KernelTable* t) {
  t->vec_dot[Id(DType::kQ4_1)] = VecDotLegacy<Q4_1Format>;
  t->vec_dot[Id(DType::kQ5_0)] = VecDotLegacy<Q5_0Format>;
  t->vec_dot[Id(DType::kQ5_1)] = VecDotLegacy<Q5_1Format>;
  t->vec_dot[Id(DType::kIQ4_NL)] = VecDotLegacy<IQ4NLFormat>;
  t->vec_dot[Id(DType::kMXFP4)] = VecDotLegacy<MXFP4Format>;
  t->vec_dot[Id(DType::kQ2_K)] = VecDotQ2K;
  t->vec_dot[Id(DType::kQ3_K)] = VecDotQ3K;
  t->vec_dot[Id(DType::kQ5_K)] = VecDotQ5K;
  t->vec_dot[Id(DType::kIQ4_XS)] = VecDotIQ4XS;
}

}  // namespace pocket::kernels
