// Scalar reference kernels: plain loops, the oracle every ISA variant is tested against.
// Quantized dot products follow ggml's integer formulation (integer sums per block, scaled
// in f32), so the ISA kernels can reproduce them up to summation order.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "kernels/scalar/unpack.h"
#include "kernels/table_fill.h"
#include "quant/quant.h"

namespace pocket::kernels {
namespace {

using quant::BlockQ8_0;
using quant::BlockQ8_K;

template <UnpackFn kUnpack, int kBlockBytes>
float VecDotLegacy(int64_t n, const void* w, const void* a) {
  const auto* wb = static_cast<const uint8_t*>(w);
  const auto* ab = static_cast<const BlockQ8_0*>(a);
  float sum = 0.0f;
  UnpackedBlock u;
  for (int64_t b = 0; b < n / 32; ++b) {
    kUnpack(wb + b * kBlockBytes, &u);
    int32_t sumi = 0, suma = 0;
    for (int i = 0; i < 32; ++i) {
      sumi += static_cast<int32_t>(u.q[i]) * ab[b].qs[i];
      suma += ab[b].qs[i];
    }
    const float da = F16ToF32(ab[b].d);
    sum += u.d * da * static_cast<float>(sumi) + u.m * da * static_cast<float>(suma);
  }
  return sum;
}

// K-quants and IQ4_XS against Q8_K: dequantize one 256-element weight block and dot it with
// the integer activations, scaled by the activation block scale.
template <DType kType>
float VecDotK(int64_t n, const void* w, const void* a) {
  const int64_t block_bytes = GetDTypeTraits(kType)->block_bytes;
  const auto* wb = static_cast<const uint8_t*>(w);
  const auto* ab = static_cast<const BlockQ8_K*>(a);
  float wf[256];
  float sum = 0.0f;
  for (int64_t b = 0; b < n / 256; ++b) {
    (void)DequantizeRow(kType, wb + b * block_bytes, wf, 256);
    float s = 0.0f;
    for (int i = 0; i < 256; ++i) s += wf[i] * static_cast<float>(ab[b].qs[i]);
    sum += s * ab[b].d;
  }
  return sum;
}

float VecDotF32(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const float*>(w);
  const auto* y = static_cast<const float*>(a);
  float sum = 0.0f;
  for (int64_t i = 0; i < n; ++i) sum += x[i] * y[i];
  return sum;
}

float VecDotF16(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const uint16_t*>(w);
  const auto* y = static_cast<const uint16_t*>(a);
  float sum = 0.0f;
  for (int64_t i = 0; i < n; ++i) sum += F16ToF32(x[i]) * F16ToF32(y[i]);
  return sum;
}

float VecDotBF16(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const uint16_t*>(w);
  const auto* y = static_cast<const uint16_t*>(a);
  float sum = 0.0f;
  for (int64_t i = 0; i < n; ++i) sum += BF16ToF32(x[i]) * BF16ToF32(y[i]);
  return sum;
}

void QuantizeQ8_0(const float* x, void* dst, int64_t n) {
  (void)QuantizeRow(DType::kQ8_0, x, dst, n);
}
void QuantizeQ8_K(const float* x, void* dst, int64_t n) {
  (void)QuantizeRow(DType::kQ8_K, x, dst, n);
}
void QuantizeF16(const float* x, void* dst, int64_t n) {
  auto* y = static_cast<uint16_t*>(dst);
  for (int64_t i = 0; i < n; ++i) y[i] = F32ToF16(x[i]);
}
void QuantizeBF16(const float* x, void* dst, int64_t n) {
  auto* y = static_cast<uint16_t*>(dst);
  for (int64_t i = 0; i < n; ++i) y[i] = F32ToBF16(x[i]);
}
void QuantizeF32(const float* x, void* dst, int64_t n) {
  auto* y = static_cast<float*>(dst);
  for (int64_t i = 0; i < n; ++i) y[i] = x[i];
}

float DotF32(int64_t n, const float* a, const float* b) { return VecDotF32(n, a, b); }
void AxpyF32(int64_t n, float a, const float* x, float* y) {
  for (int64_t i = 0; i < n; ++i) y[i] += a * x[i];
}
void ScaleF32(int64_t n, float a, float* y) {
  for (int64_t i = 0; i < n; ++i) y[i] *= a;
}
void AddF32(int64_t n, const float* x, float* y) {
  for (int64_t i = 0; i < n; ++i) y[i] += x[i];
}

void RmsNorm(const float* x, const float* w, int64_t n, float eps, float* y) {
  double ss = 0.0;
  for (int64_t i = 0; i < n; ++i) ss += static_cast<double>(x[i]) * x[i];
  const float scale = static_cast<float>(1.0 / std::sqrt(ss / static_cast<double>(n) + eps));
  for (int64_t i = 0; i < n; ++i) y[i] = w ? x[i] * scale * w[i] : x[i] * scale;
}

void SigmoidMul(int64_t n, const float* gate, const float* x, float* out) {
  for (int64_t i = 0; i < n; ++i)
    out[i] = static_cast<float>(x[i] / (1.0 + std::exp(-static_cast<double>(gate[i]))));
}

void GeluTanhMul(int64_t n, const float* gate, const float* up, float* out) {
  constexpr float kSqrt2OverPi = 0.7978845608028654f;
  for (int64_t i = 0; i < n; ++i) {
    const float g = gate[i];
    const float t = std::tanh(kSqrt2OverPi * (g + 0.044715f * g * g * g));
    out[i] = 0.5f * g * (1.0f + t) * up[i];
  }
}

void Softmax(int64_t n, float* x) {
  float mx = x[0];
  for (int64_t i = 1; i < n; ++i) mx = std::max(mx, x[i]);
  float sum = 0.0f;
  for (int64_t i = 0; i < n; ++i) {
    const float dx = x[i] - mx;
    x[i] = dx < kSoftmaxCutoff ? 0.0f : std::exp(dx);
    sum += x[i];
  }
  const float inv = 1.0f / sum;
  for (int64_t i = 0; i < n; ++i) x[i] *= inv;
}

void Softcap(int64_t n, float cap, float* y) {
  for (int64_t i = 0; i < n; ++i) y[i] = cap * std::tanh(y[i] / cap);
}

void KvStoreF32(const float* x, void* dst, int64_t n) { QuantizeF32(x, dst, n); }
void KvStoreF16(const float* x, void* dst, int64_t n) { QuantizeF16(x, dst, n); }
void KvStoreBF16(const float* x, void* dst, int64_t n) { QuantizeBF16(x, dst, n); }
void KvAxpyF32(int64_t n, float a, const void* v, float* y) {
  AxpyF32(n, a, static_cast<const float*>(v), y);
}
void KvAxpyF16(int64_t n, float a, const void* v, float* y) {
  const auto* vh = static_cast<const uint16_t*>(v);
  for (int64_t i = 0; i < n; ++i) y[i] += a * F16ToF32(vh[i]);
}
void KvAxpyBF16(int64_t n, float a, const void* v, float* y) {
  const auto* vh = static_cast<const uint16_t*>(v);
  for (int64_t i = 0; i < n; ++i) y[i] += a * BF16ToF32(vh[i]);
}

// kv_scores reference: the canonical score arithmetic (kernels.h) spelled out per pair.
inline float KvElement(KvType t, const void* row, int64_t i) {
  const auto* h = static_cast<const uint16_t*>(row);
  if (t == KvType::kF16) return F16ToF32(h[i]);
  if (t == KvType::kBF16) return BF16ToF32(h[i]);
  return static_cast<const float*>(row)[i];
}

template <KvType kType>
void KvScores(int64_t n_keys, int d, int nh, const float* q, int64_t q_stride, const void* k,
              uint64_t k_stride, float* s, int64_t s_stride) {
  const int d8 = d - d % 8;
  for (int h = 0; h < nh; ++h) {
    const float* qh = q + h * q_stride;
    for (int64_t j = 0; j < n_keys; ++j) {
      const void* kj = static_cast<const uint8_t*>(k) + static_cast<uint64_t>(j) * k_stride;
      float lane[8] = {};
      for (int i = 0; i < d8; i += 8) {
        for (int l = 0; l < 8; ++l)
          lane[l] = std::fma(qh[i + l], KvElement(kType, kj, i + l), lane[l]);
      }
      float sum =
          ((lane[0] + lane[4]) + (lane[1] + lane[5])) + ((lane[2] + lane[6]) + (lane[3] + lane[7]));
      for (int i = d8; i < d; ++i) sum = std::fma(qh[i], KvElement(kType, kj, i), sum);
      s[h * s_stride + j] = sum;
    }
  }
}

// kv_weighted_sum reference: n_keys kv_axpy calls per head.
template <void (*kAxpy)(int64_t, float, const void*, float*)>
void KvWeightedSum(int64_t n_keys, int d, int nh, const float* p, int64_t p_stride, const void* v,
                   uint64_t v_stride, float* o, int64_t o_stride) {
  for (int h = 0; h < nh; ++h) {
    for (int64_t j = 0; j < n_keys; ++j) {
      kAxpy(d, p[h * p_stride + j], static_cast<const uint8_t*>(v) + j * v_stride,
            o + h * o_stride);
    }
  }
}

constexpr int Id(DType t) { return static_cast<int>(t); }

}  // namespace

void SgemmNN(int64_t M, int64_t N, int64_t K, const float* A, int64_t lda, const float* B,
             int64_t ldb, float* C, int64_t ldc) {
  for (int64_t m = 0; m < M; ++m) {
    float* c = C + m * ldc;
    for (int64_t n = 0; n < N; ++n) c[n] = 0.0f;
    for (int64_t k = 0; k < K; ++k) {
      const float a = A[m * lda + k];
      const float* b = B + k * ldb;
      for (int64_t n = 0; n < N; ++n) c[n] += a * b[n];
    }
  }
}

// Packed GEMM references (layout in kernels/packed.h). The ISA variants compute exactly
// this, eight rows at a time, and must match it bit for bit.

// The loops every packed reference shares: for each group, activation row and block,
// `block_fn(group_block, activation_block, info, acc)` adds one block to the eight rows'
// accumulators, which are then stored.
template <typename ActBlock, typename Info, typename BlockFn>
void ForPackedBlocks(int64_t nb, int group_block, const uint8_t* w, int n_groups, const uint8_t* a,
                     uint64_t a_stride, const uint8_t* info, uint64_t info_stride, int nc,
                     float* out, int64_t ldo, BlockFn block_fn) {
  for (int g = 0; g < n_groups; ++g) {
    const uint8_t* wg = w + static_cast<uint64_t>(g) * static_cast<uint64_t>(nb) * group_block;
    for (int c = 0; c < nc; ++c) {
      const auto* ya = reinterpret_cast<const ActBlock*>(a + static_cast<uint64_t>(c) * a_stride);
      const auto* in = reinterpret_cast<const Info*>(info + c * info_stride);
      float acc[kPackRows] = {};
      for (int64_t b = 0; b < nb; ++b) block_fn(wg + b * group_block, ya[b], in[b], acc);
      for (int r = 0; r < kPackRows; ++r) out[c * ldo + g * kPackRows + r] = acc[r];
    }
  }
}

// Quant byte x (in the file's order) of row r in interleaved quant bytes q.
inline int PackedByte(const uint8_t* q, int r, int x) { return q[32 * (x / 4) + 4 * r + x % 4]; }

inline float F16At(const uint8_t* p) {
  uint16_t h;
  std::memcpy(&h, p, 2);
  return F16ToF32(h);
}

// Q4_0 / Q8_0: per output and block, the exact integer sum of quant products (Q4_0: minus
// 8 · Σa), then acc = fma(d_w · d_a, sum, acc).
template <bool kQ4>
void GemmPacked(int64_t n, const uint8_t* w, int n_groups, const uint8_t* a, uint64_t a_stride,
                const uint8_t* info, uint64_t info_stride, int nc, float* out, int64_t ldo) {
  ForPackedBlocks<BlockQ8_0, ActBlockInfo>(
      n / 32, kPackRows * (kQ4 ? 18 : 34), w, n_groups, a, a_stride, info, info_stride, nc, out,
      ldo, [](const uint8_t* blk, const BlockQ8_0& ya, const ActBlockInfo& in, float* acc) {
        const uint8_t* q = blk + 2 * kPackRows;
        for (int r = 0; r < kPackRows; ++r) {
          int32_t sum = 0;
          if constexpr (kQ4) {
            for (int i = 0; i < 16; ++i) {
              const int v = PackedByte(q, r, i);
              sum += (v & 15) * ya.qs[i] + (v >> 4) * ya.qs[16 + i];
            }
            sum -= 8 * in.sum;
          } else {
            for (int i = 0; i < 32; ++i) sum += static_cast<int8_t>(PackedByte(q, r, i)) * ya.qs[i];
          }
          acc[r] = std::fma(F16At(blk + 2 * r) * in.d, static_cast<float>(sum), acc[r]);
        }
      });
}

// Q5_0 / Q4_1 / Q5_1: per output and block, the exact integer sum of the 4- or 5-bit codes
// times the quants; then Q5_0: acc = fma(d_w · d_a, sum - 16 · Σa, acc); Q4_1 / Q5_1:
// acc = fma(d_w · d_a, sum, acc) and acc = fma(m_w · d_a, Σa, acc).
template <bool kFifth, bool kMin>
void GemmPackedNibbles(int64_t n, const uint8_t* w, int n_groups, const uint8_t* a,
                       uint64_t a_stride, const uint8_t* info, uint64_t info_stride, int nc,
                       float* out, int64_t ldo) {
  constexpr int kHeader = kMin ? 32 : 16;
  constexpr int kGroupBlock = kHeader + 128 + (kFifth ? 32 : 0);
  ForPackedBlocks<BlockQ8_0, ActBlockInfo>(
      n / 32, kGroupBlock, w, n_groups, a, a_stride, info, info_stride, nc, out, ldo,
      [](const uint8_t* blk, const BlockQ8_0& ya, const ActBlockInfo& in, float* acc) {
        const uint8_t* q = blk + kHeader;
        for (int r = 0; r < kPackRows; ++r) {
          int32_t sum = 0;
          for (int i = 0; i < 16; ++i) {
            const int v = PackedByte(q, r, i);
            const int h = kFifth ? blk[kHeader + 128 + 8 * (i / 4) + r] : 0;
            sum += ((v & 15) | ((h >> (i % 4)) & 1) << 4) * ya.qs[i] +
                   ((v >> 4) | ((h >> (4 + i % 4)) & 1) << 4) * ya.qs[16 + i];
          }
          if constexpr (!kMin) sum -= 16 * in.sum;
          acc[r] = std::fma(F16At(blk + 2 * r) * in.d, static_cast<float>(sum), acc[r]);
          if constexpr (kMin) {
            acc[r] = std::fma(F16At(blk + 16 + 2 * r) * in.d, static_cast<float>(in.sum), acc[r]);
          }
        }
      });
}

// IQ4_NL / MXFP4: as Q4_0 with the nibbles mapped through the codebook (no offset); the
// scales are f16 (IQ4_NL, d[8]) or E8M0 bytes (MXFP4, e[8]).
template <bool kMXFP4>
void GemmPackedCodebook(int64_t n, const uint8_t* w, int n_groups, const uint8_t* a,
                        uint64_t a_stride, const uint8_t* info, uint64_t info_stride, int nc,
                        float* out, int64_t ldo) {
  constexpr int kHeader = kMXFP4 ? 8 : 16;
  ForPackedBlocks<BlockQ8_0, ActBlockInfo>(
      n / 32, kHeader + 128, w, n_groups, a, a_stride, info, info_stride, nc, out, ldo,
      [](const uint8_t* blk, const BlockQ8_0& ya, const ActBlockInfo& in, float* acc) {
        const int8_t* values = kMXFP4 ? quant::kMXFP4Values : quant::kIQ4NLValues;
        const uint8_t* q = blk + kHeader;
        for (int r = 0; r < kPackRows; ++r) {
          int32_t sum = 0;
          for (int i = 0; i < 16; ++i) {
            const int v = PackedByte(q, r, i);
            sum += values[v & 15] * ya.qs[i] + values[v >> 4] * ya.qs[16 + i];
          }
          const float dw = kMXFP4 ? E8M0ToF32Half(blk[r]) : F16At(blk + 2 * r);
          acc[r] = std::fma(dw * in.d, static_cast<float>(sum), acc[r]);
        }
      });
}

// IQ4_XS: per row and super-block, sumi = Σ_s (ls_s - 32) · Σ v·a over sub-block s (exact
// integer, v the table value), then acc = fma(d · d_a, sumi, acc).
void GemmPackedIQ4XS(int64_t n, const uint8_t* w, int n_groups, const uint8_t* a, uint64_t a_stride,
                     const uint8_t* info, uint64_t info_stride, int nc, float* out, int64_t ldo) {
  ForPackedBlocks<BlockQ8_K, ActSuperBlockInfo>(
      n / 256, kPackRows * 138, w, n_groups, a, a_stride, info, info_stride, nc, out, ldo,
      [](const uint8_t* blk, const BlockQ8_K& ya, const ActSuperBlockInfo& in, float* acc) {
        const uint8_t* q = blk + 80;
        for (int r = 0; r < kPackRows; ++r) {
          int32_t sumi = 0;
          for (int s = 0; s < 8; ++s) {
            int32_t sub = 0;
            for (int i = 0; i < 16; ++i) {
              const int v = PackedByte(q, r, 16 * s + i);
              sub += quant::kIQ4NLValues[v & 15] * ya.qs[32 * s + i] +
                     quant::kIQ4NLValues[v >> 4] * ya.qs[32 * s + 16 + i];
            }
            sumi += static_cast<int8_t>(blk[16 + 8 * s + r]) * sub;
          }
          acc[r] = std::fma(F16At(blk + 2 * r) * in.d, static_cast<float>(sumi), acc[r]);
        }
      });
}

// Row r's sixteen 16-element sub-block sums Σ u·a of a packed Q2_K / Q3_K group-block: the
// 2-bit quants at q (quant byte x = 32i + b holds elements 128i + 32s + b in bits 2s, 2s + 1)
// and, for Q3_K, the third bit from the hmask bytes at hm (bit 4i + s of byte b).
void LowBitSubSums(const uint8_t* q, const uint8_t* hm, int r, const BlockQ8_K& ya, int32_t* sub) {
  for (int g = 0; g < 16; ++g) sub[g] = 0;
  for (int x = 0; x < 64; ++x) {
    const int v = PackedByte(q, r, x), i = x / 32, b = x % 32;
    const int h = hm != nullptr ? PackedByte(hm, r, b) : 0;
    for (int s = 0; s < 4; ++s) {
      const int e = 128 * i + 32 * s + b;
      const int u = ((v >> (2 * s)) & 3) | ((h >> (4 * i + s)) & 1) << 2;
      sub[e / 16] += u * ya.qs[e];
    }
  }
}

// Q2_K: per row and super-block, sumi = Σ_s scale_s · Σ q·a over 16-element sub-block s
// (exact integer), mins = Σ_s min_s · asum_s in s order (exact: integers below 2^24), then
// acc = fma(d · d_a, sumi, acc) and acc = fma(-(dmin · d_a), mins, acc).
void GemmPackedQ2K(int64_t n, const uint8_t* w, int n_groups, const uint8_t* a, uint64_t a_stride,
                   const uint8_t* info, uint64_t info_stride, int nc, float* out, int64_t ldo) {
  ForPackedBlocks<BlockQ8_K, ActSuperBlockInfo>(
      n / 256, kPackRows * 84, w, n_groups, a, a_stride, info, info_stride, nc, out, ldo,
      [](const uint8_t* blk, const BlockQ8_K& ya, const ActSuperBlockInfo& in, float* acc) {
        for (int r = 0; r < kPackRows; ++r) {
          int32_t sub[16];
          LowBitSubSums(blk + 160, nullptr, r, ya, sub);
          int32_t sumi = 0;
          float mins = 0.0f;
          for (int g = 0; g < 16; ++g) {
            const int sm = blk[32 + 8 * g + r];
            sumi += (sm & 15) * sub[g];
            mins = std::fma(static_cast<float>(sm >> 4), in.sums16[g], mins);
          }
          acc[r] = std::fma(F16At(blk + 2 * r) * in.d, static_cast<float>(sumi), acc[r]);
          acc[r] = std::fma(-(F16At(blk + 16 + 2 * r) * in.d), mins, acc[r]);
        }
      });
}

// Q3_K: per row and super-block, total = Σ_s scale_s · Σ u·a over 16-element sub-block s
// (u = q | hbit << 2, the code plus 4) - 4 · Σ_s scale_s · asum_s (exact integers), then
// acc = fma(d · d_a, total, acc).
void GemmPackedQ3K(int64_t n, const uint8_t* w, int n_groups, const uint8_t* a, uint64_t a_stride,
                   const uint8_t* info, uint64_t info_stride, int nc, float* out, int64_t ldo) {
  ForPackedBlocks<BlockQ8_K, ActSuperBlockInfo>(
      n / 256, kPackRows * 114, w, n_groups, a, a_stride, info, info_stride, nc, out, ldo,
      [](const uint8_t* blk, const BlockQ8_K& ya, const ActSuperBlockInfo& in, float* acc) {
        for (int r = 0; r < kPackRows; ++r) {
          int32_t sub[16];
          LowBitSubSums(blk + 144, blk + 656, r, ya, sub);
          int32_t sumi = 0, corr = 0;
          for (int g = 0; g < 16; ++g) {
            const int sc = static_cast<int8_t>(blk[16 + 8 * g + r]);
            sumi += sc * sub[g];
            corr += sc * static_cast<int32_t>(in.sums16[g]);
          }
          acc[r] = std::fma(F16At(blk + 2 * r) * in.d, static_cast<float>(sumi - 4 * corr), acc[r]);
        }
      });
}

// Q4_K / Q5_K: per row and super-block, sumi = Σ_s scale_s · Σ q·a over sub-block s (exact
// integer; Q5_K ORs each code's fifth bit in), mins = Σ_s min_s · asum_s in s order (exact:
// integers below 2^24), then acc = fma(d · d_a, sumi, acc) and acc = fma(-(dmin · d_a), mins,
// acc).
template <bool kFifth>
void GemmPackedQ4Q5K(int64_t n, const uint8_t* w, int n_groups, const uint8_t* a, uint64_t a_stride,
                     const uint8_t* info, uint64_t info_stride, int nc, float* out, int64_t ldo) {
  ForPackedBlocks<BlockQ8_K, ActSuperBlockInfo>(
      n / 256, kPackRows * (kFifth ? 180 : 148), w, n_groups, a, a_stride, info, info_stride, nc,
      out, ldo,
      [](const uint8_t* blk, const BlockQ8_K& ya, const ActSuperBlockInfo& in, float* acc) {
        const uint8_t* q = blk + 160;
        for (int r = 0; r < kPackRows; ++r) {
          int32_t sumi = 0;
          for (int p = 0; p < 4; ++p) {
            int32_t lo = 0, hi = 0;
            for (int i = 0; i < 32; ++i) {
              const int v = PackedByte(q, r, 32 * p + i);
              const int h = kFifth ? blk[1184 + 8 * (8 * p + i / 4) + r] : 0;
              lo += ((v & 15) | ((h >> (i % 4)) & 1) << 4) * ya.qs[64 * p + i];
              hi += ((v >> 4) | ((h >> (4 + i % 4)) & 1) << 4) * ya.qs[64 * p + 32 + i];
            }
            sumi += blk[32 + 8 * (2 * p) + r] * lo + blk[32 + 8 * (2 * p + 1) + r] * hi;
          }
          float mins = 0.0f;
          for (int sb = 0; sb < 8; ++sb)
            mins = std::fma(static_cast<float>(blk[96 + 8 * sb + r]), in.sums[sb], mins);
          acc[r] = std::fma(F16At(blk + 2 * r) * in.d, static_cast<float>(sumi), acc[r]);
          acc[r] = std::fma(-(F16At(blk + 16 + 2 * r) * in.d), mins, acc[r]);
        }
      });
}

// Q6_K: per row and super-block, total = Σ_s scale_s · Σ q·a over 16-element sub-block s
// (q the unsigned 6-bit code) - 32 · Σ_s scale_s · asum_s (the latter summed in f32 in s
// order, exact), then acc = fma(d · d_a, total, acc).
void GemmPackedQ6K(int64_t n, const uint8_t* w, int n_groups, const uint8_t* a, uint64_t a_stride,
                   const uint8_t* info, uint64_t info_stride, int nc, float* out, int64_t ldo) {
  ForPackedBlocks<BlockQ8_K, ActSuperBlockInfo>(
      n / 256, kPackRows * 210, w, n_groups, a, a_stride, info, info_stride, nc, out, ldo,
      [](const uint8_t* blk, const BlockQ8_K& ya, const ActSuperBlockInfo& in, float* acc) {
        for (int r = 0; r < kPackRows; ++r) {
          int32_t sub[16] = {};
          for (int t = 0; t < 16; ++t) {  // triple t: half t / 8, 4-element chunk t % 8
            const uint8_t* x = blk + 144 + 96 * t + 4 * r;
            for (int i = 0; i < 4; ++i) {
              const int x0 = x[i], x1 = x[32 + i], x2 = x[64 + i];
              const int q[4] = {x0 & 63, x1 & 63, x2 & 63,
                                (x0 >> 6) | ((x1 >> 6) << 2) | ((x2 >> 6) << 4)};
              for (int k = 0; k < 4; ++k) {
                const int e = 128 * (t / 8) + 32 * k + 4 * (t % 8) + i;
                sub[e / 16] += q[k] * ya.qs[e];
              }
            }
          }
          int32_t sumi = 0;
          float corr = 0.0f;
          for (int s = 0; s < 16; ++s) {
            const int sc = static_cast<int8_t>(blk[16 + 8 * s + r]);
            sumi += sc * sub[s];
            corr = std::fma(static_cast<float>(sc), in.sums16[s], corr);
          }
          const int32_t total = sumi - 32 * static_cast<int32_t>(corr);
          acc[r] = std::fma(F16At(blk + 2 * r) * in.d, static_cast<float>(total), acc[r]);
        }
      });
}

void FillScalarKernels(KernelTable* t) {
  t->isa = Isa::kScalar;
  t->vec_dot[Id(DType::kF32)] = VecDotF32;
  t->vec_dot[Id(DType::kF16)] = VecDotF16;
  t->vec_dot[Id(DType::kBF16)] = VecDotBF16;
  t->vec_dot[Id(DType::kQ8_0)] = VecDotLegacy<UnpackQ8_0, 34>;
  t->vec_dot[Id(DType::kQ4_0)] = VecDotLegacy<UnpackQ4_0, 18>;
  t->vec_dot[Id(DType::kQ4_1)] = VecDotLegacy<UnpackQ4_1, 20>;
  t->vec_dot[Id(DType::kQ5_0)] = VecDotLegacy<UnpackQ5_0, 22>;
  t->vec_dot[Id(DType::kQ5_1)] = VecDotLegacy<UnpackQ5_1, 24>;
  t->vec_dot[Id(DType::kIQ4_NL)] = VecDotLegacy<UnpackIQ4NL, 18>;
  t->vec_dot[Id(DType::kMXFP4)] = VecDotLegacy<UnpackMXFP4, 17>;
  t->vec_dot[Id(DType::kQ2_K)] = VecDotK<DType::kQ2_K>;
  t->vec_dot[Id(DType::kQ3_K)] = VecDotK<DType::kQ3_K>;
  t->vec_dot[Id(DType::kQ4_K)] = VecDotK<DType::kQ4_K>;
  t->vec_dot[Id(DType::kQ5_K)] = VecDotK<DType::kQ5_K>;
  t->vec_dot[Id(DType::kQ6_K)] = VecDotK<DType::kQ6_K>;
  t->vec_dot[Id(DType::kIQ4_XS)] = VecDotK<DType::kIQ4_XS>;
  t->gemm_packed[Id(DType::kQ8_0)] = GemmPacked<false>;
  t->gemm_packed[Id(DType::kQ4_0)] = GemmPacked<true>;
  t->gemm_packed[Id(DType::kQ4_1)] = GemmPackedNibbles<false, true>;
  t->gemm_packed[Id(DType::kQ5_0)] = GemmPackedNibbles<true, false>;
  t->gemm_packed[Id(DType::kQ5_1)] = GemmPackedNibbles<true, true>;
  t->gemm_packed[Id(DType::kIQ4_NL)] = GemmPackedCodebook<false>;
  t->gemm_packed[Id(DType::kMXFP4)] = GemmPackedCodebook<true>;
  t->gemm_packed[Id(DType::kIQ4_XS)] = GemmPackedIQ4XS;
  t->gemm_packed[Id(DType::kQ2_K)] = GemmPackedQ2K;
  t->gemm_packed[Id(DType::kQ3_K)] = GemmPackedQ3K;
  t->gemm_packed[Id(DType::kQ4_K)] = GemmPackedQ4Q5K<false>;
  t->gemm_packed[Id(DType::kQ5_K)] = GemmPackedQ4Q5K<true>;
  t->gemm_packed[Id(DType::kQ6_K)] = GemmPackedQ6K;
  t->quantize_act[Id(DType::kF32)] = QuantizeF32;
  t->quantize_act[Id(DType::kF16)] = QuantizeF16;
  t->quantize_act[Id(DType::kBF16)] = QuantizeBF16;
  t->quantize_act[Id(DType::kQ8_0)] = QuantizeQ8_0;
  t->quantize_act[Id(DType::kQ8_K)] = QuantizeQ8_K;
  t->dot_f32 = DotF32;
  t->sgemm_nn = SgemmNN;
  t->axpy_f32 = AxpyF32;
  t->scale_f32 = ScaleF32;
  t->add_f32 = AddF32;
  t->rms_norm = RmsNorm;
  t->gelu_tanh_mul = GeluTanhMul;
  t->sigmoid_mul = SigmoidMul;
  t->softcap = Softcap;
  t->softmax = Softmax;
  t->kv_store[0] = KvStoreF32;
  t->kv_store[1] = KvStoreF16;
  t->kv_store[2] = KvStoreBF16;
  t->kv_axpy[0] = KvAxpyF32;
  t->kv_axpy[1] = KvAxpyF16;
  t->kv_axpy[2] = KvAxpyBF16;
  t->kv_scores[0] = KvScores<KvType::kF32>;
  t->kv_scores[1] = KvScores<KvType::kF16>;
  t->kv_scores[2] = KvScores<KvType::kBF16>;
  t->kv_weighted_sum[0] = KvWeightedSum<KvAxpyF32>;
  t->kv_weighted_sum[1] = KvWeightedSum<KvAxpyF16>;
  t->kv_weighted_sum[2] = KvWeightedSum<KvAxpyBF16>;
}

}  // namespace pocket::kernels
