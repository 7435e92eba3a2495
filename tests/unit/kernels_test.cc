// Every kernel of every ISA this CPU runs, against the scalar reference table.
#include "kernels/kernels.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>

#include "kernels/attention.h"
#include "kernels/matmul.h"
#include "kernels/packed.h"
#include "quant/quant.h"
#include "tensor/fp16.h"

namespace pocket::kernels {
namespace {

const KernelTable& Ref() { return *KernelsFor(Isa::kScalar); }

std::vector<float> RandomVector(int64_t n, uint32_t seed, float scale = 1.0f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, scale);
  std::vector<float> v(static_cast<size_t>(n));
  for (float& x : v) x = dist(rng);
  return v;
}

// Encodes f32 weights into `type`. Types without a quantizer (IQ4_NL, IQ4_XS) get random
// codes with a sane block scale.
std::vector<uint8_t> MakeWeights(DType type, int64_t rows, int64_t cols, uint32_t seed) {
  const uint64_t row_bytes = *RowBytes(type, cols);
  std::vector<uint8_t> w(row_bytes * static_cast<uint64_t>(rows));
  if (CanQuantize(type) || type == DType::kF32) {
    for (int64_t r = 0; r < rows; ++r) {
      const std::vector<float> x = RandomVector(cols, seed + static_cast<uint32_t>(r), 0.5f);
      if (type == DType::kF32) {
        std::memcpy(w.data() + r * row_bytes, x.data(), row_bytes);
      } else {
        EXPECT_TRUE(QuantizeRow(type, x.data(), w.data() + r * row_bytes, cols).ok());
      }
    }
    return w;
  }
  std::mt19937 rng(seed);
  for (uint8_t& b : w) b = static_cast<uint8_t>(rng());
  const int64_t bb = GetDTypeTraits(type)->block_bytes;
  for (size_t off = 0; off < w.size(); off += static_cast<size_t>(bb)) {
    const uint16_t d = F32ToF16(0.01f);
    std::memcpy(w.data() + off, &d, 2);  // both formats start with an f16 scale
  }
  return w;
}

std::vector<uint8_t> Encode(const KernelTable& k, DType act, const std::vector<float>& x,
                            int64_t rows, int64_t cols) {
  const uint64_t rb = *RowBytes(act, cols);
  std::vector<uint8_t> out(rb * static_cast<uint64_t>(rows));
  for (int64_t r = 0; r < rows; ++r)
    k.quantize_act[static_cast<int>(act)](x.data() + r * cols, out.data() + r * rb, cols);
  return out;
}

class IsaTest : public ::testing::TestWithParam<Isa> {
 protected:
  const KernelTable& K() const { return *KernelsFor(GetParam()); }
};

const DType kWeightTypes[] = {DType::kF32,    DType::kF16,   DType::kBF16, DType::kQ8_0,
                              DType::kQ4_0,   DType::kQ4_1,  DType::kQ5_0, DType::kQ5_1,
                              DType::kIQ4_NL, DType::kMXFP4, DType::kQ2_K, DType::kQ3_K,
                              DType::kQ4_K,   DType::kQ5_K,  DType::kQ6_K, DType::kIQ4_XS};

TEST_P(IsaTest, VecDotMatchesScalarForEveryType) {
  const int64_t n = 512;
  for (DType t : kWeightTypes) {
    SCOPED_TRACE(DTypeName(t));
    const int id = static_cast<int>(t);
    ASSERT_NE(K().vec_dot[id], nullptr);
    const DType act = ActivationType(t);
    const std::vector<uint8_t> w = MakeWeights(t, 4, n, 11);
    const std::vector<float> x = RandomVector(n, 7);
    const std::vector<uint8_t> a = Encode(Ref(), act, x, 1, n);
    const std::vector<uint8_t> a_isa = Encode(K(), act, x, 1, n);
    EXPECT_EQ(a, a_isa) << "activation encoding differs";
    const uint64_t rb = *RowBytes(t, n);
    for (int r = 0; r < 4; ++r) {
      const float want = Ref().vec_dot[id](n, w.data() + r * rb, a.data());
      const float got = K().vec_dot[id](n, w.data() + r * rb, a.data());
      // Same integer sums per block; only the f32 summation order differs.
      std::vector<float> wf(static_cast<size_t>(n));
      ASSERT_TRUE(DequantizeRow(t, w.data() + r * rb, wf.data(), n).ok());
      double mag = 0.0;
      for (int64_t i = 0; i < n; ++i)
        mag += std::fabs(wf[static_cast<size_t>(i)] * x[static_cast<size_t>(i)]);
      EXPECT_NEAR(got, want, 1e-5 * mag + 1e-6) << "row " << r;
      // And the dot is the dot of the decoded values (up to activation rounding).
      std::vector<float> af(static_cast<size_t>(n));
      if (act == DType::kF32) {
        af = x;
      } else {
        ASSERT_TRUE(DequantizeRow(act, a.data(), af.data(), n).ok());
      }
      double exact = 0.0;
      for (int64_t i = 0; i < n; ++i)
        exact += static_cast<double>(wf[static_cast<size_t>(i)]) * af[static_cast<size_t>(i)];
      EXPECT_NEAR(want, exact, 1e-4 * mag + 1e-6) << "row " << r;
    }
  }
}

// Random block bytes reach every code, high bit, sign and scale the quantizers may never
// write (Q3_K's negative scales, Q5 high-bit planes, MXFP4's exponents). Blocks whose values
// are not finite (random f16 scales can be inf or NaN) are replaced by quantized ones.
TEST_P(IsaTest, VecDotOnRandomBlockBytes) {
  const int64_t n = 512;
  std::mt19937 rng(99);
  for (DType t : kWeightTypes) {
    const DTypeTraits* tr = GetDTypeTraits(t);
    if (t == DType::kF32 || t == DType::kF16 || t == DType::kBF16) continue;
    SCOPED_TRACE(DTypeName(t));
    const uint64_t rb = *RowBytes(t, n);
    const std::vector<uint8_t> sane = MakeWeights(t, 1, n, 5);
    std::vector<uint8_t> w(rb);
    for (uint8_t& b : w) b = static_cast<uint8_t>(rng());
    std::vector<float> block(static_cast<size_t>(tr->block_elems));
    for (uint64_t off = 0; off < rb; off += static_cast<uint64_t>(tr->block_bytes)) {
      ASSERT_TRUE(DequantizeRow(t, w.data() + off, block.data(), tr->block_elems).ok());
      for (float v : block) {
        if (!std::isfinite(v) || std::fabs(v) > 1e6f) {
          std::memcpy(w.data() + off, sane.data() + off, static_cast<size_t>(tr->block_bytes));
          break;
        }
      }
    }
    const DType act = ActivationType(t);
    const std::vector<float> x = RandomVector(n, 17);
    const std::vector<uint8_t> a = Encode(Ref(), act, x, 1, n);
    std::vector<float> wf(static_cast<size_t>(n)), af(static_cast<size_t>(n));
    ASSERT_TRUE(DequantizeRow(t, w.data(), wf.data(), n).ok());
    ASSERT_TRUE(DequantizeRow(act, a.data(), af.data(), n).ok());
    double exact = 0.0, mag = 0.0;
    for (size_t i = 0; i < wf.size(); ++i) {
      exact += static_cast<double>(wf[i]) * af[i];
      mag += std::fabs(static_cast<double>(wf[i]) * af[i]);
    }
    const int id = static_cast<int>(t);
    EXPECT_NEAR(K().vec_dot[id](n, w.data(), a.data()), exact, 1e-5 * mag + 1e-6);
    EXPECT_NEAR(Ref().vec_dot[id](n, w.data(), a.data()), exact, 1e-5 * mag + 1e-6);
  }
}

TEST_P(IsaTest, MatMulMatchesVecDotAtEveryShape) {
  ThreadPool pool(3);
  for (DType t :
       {DType::kQ8_0, DType::kQ4_0, DType::kQ4_K, DType::kQ6_K, DType::kF16, DType::kBF16,
        DType::kF32}) {
    for (int64_t n_tok : {1, 3, 5, 70}) {
      for (int64_t cols : {256, 9, 100}) {
        if (cols % 32 != 0 && t != DType::kF16 && t != DType::kBF16 && t != DType::kF32)
          continue;  // block formats need whole blocks
        SCOPED_TRACE(std::string(DTypeName(t)) + " n_tok=" + std::to_string(n_tok) +
                     " cols=" + std::to_string(cols));
        const int64_t rows = 37;
        const std::vector<uint8_t> w = MakeWeights(t, rows, cols, 3);
        const std::vector<float> x = RandomVector(n_tok * cols, 5);
        WeightMatrix m{t, w.data(), rows, cols, *RowBytes(t, cols)};
        std::vector<float> y(static_cast<size_t>(n_tok * rows)), y1(y.size());
        MatMulScratch s;
        MatMul(K(), &pool, m, x.data(), cols, n_tok, y.data(), rows, &s);
        MatMul(Ref(), nullptr, m, x.data(), cols, n_tok, y1.data(), rows, &s);
        for (size_t i = 0; i < y.size(); ++i)
          EXPECT_NEAR(y[i], y1[i], 1e-3f * (1.0f + std::fabs(y1[i]))) << i;
      }
    }
  }
}

// A token's output must not depend on whether it is computed alone (decode: the dot product)
// or in a chunk (prefill: the GEMM tile), so incremental and chunked logits agree exactly.
TEST_P(IsaTest, GemmTilesAgreeBitwiseWithTheDotProduct) {
  for (DType t : {DType::kF32, DType::kF16, DType::kBF16, DType::kQ4_K, DType::kQ6_K,
                  DType::kQ4_0, DType::kQ8_0}) {
    SCOPED_TRACE(DTypeName(t));
    const int64_t rows = 13, cols = 512, n_tok = 7;
    const std::vector<uint8_t> w = MakeWeights(t, rows, cols, 4);
    const std::vector<float> x = RandomVector(n_tok * cols, 6);
    WeightMatrix m{t, w.data(), rows, cols, *RowBytes(t, cols)};
    std::vector<float> chunk(static_cast<size_t>(n_tok * rows)), one(static_cast<size_t>(rows));
    MatMulScratch s;
    MatMul(K(), nullptr, m, x.data(), cols, n_tok, chunk.data(), rows, &s);
    for (int64_t tok = 0; tok < n_tok; ++tok) {
      MatMul(K(), nullptr, m, x.data() + tok * cols, cols, 1, one.data(), rows, &s);
      for (int64_t r = 0; r < rows; ++r)
        ASSERT_EQ(one[static_cast<size_t>(r)], chunk[static_cast<size_t>(tok * rows + r)])
            << tok << "," << r;
    }
  }
}

// Packed weights: the ISA kernel equals the scalar packed kernel bit for bit, a token's outputs
// do not depend on how many tokens share the call, and the values agree with the row-major
// dot products up to f32 summation order. Rows cover whole groups and a partial last chunk of
// activation rows (nc % 4 != 0); Q8_0 includes -128 quants (|w| = 128 in the sign trick).
TEST_P(IsaTest, PackedGemmMatchesScalarBitwiseAndTheDotProduct) {
  for (DType t : {DType::kQ4_0, DType::kQ4_1, DType::kQ5_0, DType::kQ5_1, DType::kQ8_0,
                  DType::kIQ4_NL, DType::kMXFP4, DType::kIQ4_XS, DType::kQ2_K, DType::kQ3_K,
                  DType::kQ4_K, DType::kQ5_K, DType::kQ6_K}) {
    for (const int64_t n_tok : {15, 37}) {
      SCOPED_TRACE(DTypeName(t));
      SCOPED_TRACE(n_tok);
      // 15 tokens: six- or four-row tiles and a remainder of three; 37: two AMX row tiles of 16
      // and a remainder of five, over more blocks than the AMX kernel prepares at once (64):
      // 65 32-element blocks (an odd count), or 9 super-blocks (72 sub-blocks). Three row
      // groups: a pair of groups and an odd one.
      const int64_t rows = 24;
      const int64_t cols = n_tok == 15                            ? 512
                           : GetDTypeTraits(t)->block_elems == 32 ? 65 * 32
                                                                  : 9 * 256;
      std::vector<uint8_t> w = MakeWeights(t, rows, cols, 8);
      const uint64_t rb = *RowBytes(t, cols);
      if (t == DType::kQ8_0) {
        for (int64_t r = 0; r < rows; r += 5) w[r * rb + 2 + r % 32] = 0x80;  // quant -128
      }
      if (t == DType::kQ4_K) {  // the largest 6-bit scales and minimums in one block per row
        for (int64_t r = 0; r < rows; r += 3) std::memset(w.data() + r * rb + 4, 0xFF, 12);
      }
      if (t == DType::kQ6_K) {  // extreme codes (63) and scales (-128) in one block per row
        for (int64_t r = 0; r < rows; r += 3) {
          std::memset(w.data() + r * rb, 0xFF, 192);
          std::memset(w.data() + r * rb + 192, 0x80, 16);
        }
      }
      if (t == DType::kQ5_K) {  // largest scales and minimums, every code 31, in one block per row
        for (int64_t r = 0; r < rows; r += 3) std::memset(w.data() + r * rb + 4, 0xFF, 172);
      }
      if (t == DType::kIQ4_NL || t == DType::kIQ4_XS) {  // code 0 (-127) everywhere in one row
        for (int64_t b = 0; b < static_cast<int64_t>(rb); b += GetDTypeTraits(t)->block_bytes) {
          const int64_t q0 = t == DType::kIQ4_NL ? 2 : 8;
          std::memset(w.data() + 3 * rb + b + q0, 0,
                      static_cast<size_t>(GetDTypeTraits(t)->block_bytes - q0));
        }
      }
      if (t ==
          DType::kQ3_K) {  // codes 7 with the scales at -32 (rows 0, 3, ...), at +31 (1, 4, ...)
        for (int64_t r = 0; r < rows; ++r) {
          if (r % 3 == 2) continue;
          std::memset(w.data() + r * rb, 0xFF, 96);
          std::memset(w.data() + r * rb + 96, r % 3 == 0 ? 0x00 : 0xFF, 12);
        }
      }
      if (t == DType::kQ2_K) {  // largest scales, minimums and codes in one block per row
        for (int64_t r = 0; r < rows; r += 3) std::memset(w.data() + r * rb, 0xFF, 80);
      }
      if (t == DType::kMXFP4) {  // subnormal (e 0, 1) and large (e 200) scales, code -12
        for (int64_t r = 0; r < rows; r += 3) {
          for (int b = 0; b < 3; ++b) w[r * rb + 17 * b] = static_cast<uint8_t>(b < 2 ? b : 200);
          std::memset(w.data() + r * rb + 1, 0xFF, 16);
        }
      }
      if (t == DType::kQ5_0) {  // every code 31 (nibbles and fifth bits set) in one block per row
        for (int64_t r = 0; r < rows; r += 3) std::memset(w.data() + r * rb + 2, 0xFF, 20);
      }
      if (t == DType::kQ4_1 || t == DType::kQ5_1) {  // every code at its largest, one block per row
        const size_t q0 = 4, bytes = t == DType::kQ4_1 ? 16 : 20;
        for (int64_t r = 0; r < rows; r += 3) std::memset(w.data() + r * rb + q0, 0xFF, bytes);
      }
      ASSERT_TRUE(CanPack(K(), t, rows, cols));
      const uint64_t prb = PackedRowBytes(t, cols);
      std::vector<uint8_t> packed(prb * rows);
      PackRowGroups(t, w.data(), cols, 0, rows / kPackRows, packed.data());
      const DType act = ActivationType(t);
      std::vector<float> x = RandomVector(n_tok * cols, 9);
      // Token 0: every activation quant at +127, the largest same-sign integer partial sums.
      std::fill(x.begin(), x.begin() + cols, 1.0f);
      const std::vector<uint8_t> a = Encode(Ref(), act, x, n_tok, cols);
      const uint64_t ab = *RowBytes(act, cols), ib = ActivationInfoBytes(t, cols);
      std::vector<uint8_t> info(ib * n_tok);
      for (int64_t c = 0; c < n_tok; ++c)
        ActivationInfos(t, a.data() + c * ab, cols, info.data() + c * ib);
      const int id = static_cast<int>(t);
      std::vector<float> got(static_cast<size_t>(n_tok * rows)), want(got.size()),
          one(static_cast<size_t>(rows));
      K().gemm_packed[id](cols, packed.data(), rows / kPackRows, a.data(), ab, info.data(), ib,
                          n_tok, got.data(), rows);
      Ref().gemm_packed[id](cols, packed.data(), rows / kPackRows, a.data(), ab, info.data(), ib,
                            n_tok, want.data(), rows);
      for (size_t i = 0; i < got.size(); ++i) ASSERT_EQ(got[i], want[i]) << i;
      for (int64_t c = 0; c < n_tok; ++c) {
        K().gemm_packed[id](cols, packed.data(), rows / kPackRows, a.data() + c * ab, ab,
                            info.data() + c * ib, ib, 1, one.data(), rows);
        std::vector<float> af(static_cast<size_t>(cols)), wf(static_cast<size_t>(cols));
        ASSERT_TRUE(DequantizeRow(act, a.data() + c * ab, af.data(), cols).ok());
        for (int64_t r = 0; r < rows; ++r) {
          ASSERT_EQ(one[static_cast<size_t>(r)], got[static_cast<size_t>(c * rows + r)])
              << c << "," << r;
          // The exact dot of the decoded values, to f32 rounding of the terms (the integer
          // block sums are exact; the scalar row-major dot, which sums f32 products, drifts
          // further than this on token 0's same-sign activations).
          ASSERT_TRUE(DequantizeRow(t, w.data() + r * rb, wf.data(), cols).ok());
          double mag = 0.0, exact = 0.0;
          for (size_t i = 0; i < af.size(); ++i) {
            exact += static_cast<double>(wf[i]) * af[i];
            mag += std::fabs(static_cast<double>(wf[i]) * af[i]);
          }
          EXPECT_NEAR(got[static_cast<size_t>(c * rows + r)], exact, 1e-6 * mag + 1e-6)
              << c << "," << r;
        }
      }
    }
  }
}

// MatMul through a PackedWeights store: packed rows where the view is group-aligned, the
// mapped rows elsewhere, and the same values either way.
TEST_P(IsaTest, MatMulUsesPackedViewsOnlyWhereAligned) {
  ThreadPool pool(2);
  const int64_t rows = 48, cols = 256;
  for (DType t :
       {DType::kQ4_0, DType::kQ5_0, DType::kQ8_0, DType::kQ4_K, DType::kQ5_K, DType::kQ6_K}) {
    SCOPED_TRACE(DTypeName(t));
    const std::vector<uint8_t> w = MakeWeights(t, rows, cols, 12);
    std::unique_ptr<PackedWeights> store =
        PackedWeights::Build(K(), {{t, w.data(), rows, cols}, {t, w.data(), rows, cols}}, &pool);
    ASSERT_EQ(store->count(), 1u);  // one address, packed once
    EXPECT_EQ(store->bytes(), PackedRowBytes(t, cols) * rows);
    EXPECT_TRUE(PackedWeights::View(store.get(), K(), t, w.data(), 8, 16, cols).packed);
    EXPECT_FALSE(
        PackedWeights::View(store.get(), K(), t, w.data(), 4, 16, cols).packed);  // mid-group
    EXPECT_FALSE(
        PackedWeights::View(store.get(), K(), t, w.data(), 8, 12, cols).packed);  // partial group
    EXPECT_FALSE(
        PackedWeights::View(store.get(), K(), t, w.data(), 0, 24, 512).packed);  // other shape
    EXPECT_FALSE(PackedWeights::View(nullptr, K(), t, w.data(), 0, 48, cols).packed);
    for (int64_t n_tok : {1, 5, 70}) {
      const std::vector<float> x = RandomVector(n_tok * cols, 13);
      std::vector<float> y(static_cast<size_t>(n_tok * 32)), y_plain(y.size());
      MatMulScratch s;
      MatMul(K(), &pool, PackedWeights::View(store.get(), K(), t, w.data(), 16, 32, cols), x.data(),
             cols, n_tok, y.data(), 32, &s);
      MatMul(K(), &pool, PackedWeights::View(nullptr, K(), t, w.data(), 16, 32, cols), x.data(),
             cols, n_tok, y_plain.data(), 32, &s);
      for (size_t i = 0; i < y.size(); ++i)
        EXPECT_NEAR(y[i], y_plain[i], 1e-5f * (1.0f + std::fabs(y_plain[i]))) << i;
    }
  }
  // A byte budget packs sources in order while they fit.
  const std::vector<uint8_t> w1 = MakeWeights(DType::kQ8_0, 16, 256, 2),
                             w2 = MakeWeights(DType::kQ8_0, 16, 256, 3);
  std::unique_ptr<PackedWeights> budget = PackedWeights::Build(
      K(), {{DType::kQ8_0, w1.data(), 16, 256}, {DType::kQ8_0, w2.data(), 16, 256}}, nullptr, {},
      w1.size() + 1);
  EXPECT_EQ(budget->count(), 1u);
  EXPECT_TRUE(PackedWeights::View(budget.get(), K(), DType::kQ8_0, w1.data(), 0, 16, 256).packed);
  EXPECT_FALSE(PackedWeights::View(budget.get(), K(), DType::kQ8_0, w2.data(), 0, 16, 256).packed);
  // Types and shapes without a packed layout are left out.
  const std::vector<uint8_t> f = MakeWeights(DType::kQ8_1, 8, 256, 1);  // an activation format
  const std::vector<uint8_t> odd = MakeWeights(DType::kQ4_0, 12, 256, 1);
  EXPECT_EQ(
      PackedWeights::Build(
          K(), {{DType::kQ8_1, f.data(), 8, 256}, {DType::kQ4_0, odd.data(), 12, 256}}, nullptr)
          ->count(),
      0u);
}

TEST_P(IsaTest, ActivationEncodersMatchScalarBitExactly) {
  const KernelTable& ref = *KernelsFor(Isa::kScalar);
  std::vector<float> x = RandomVector(1024, 21);
  // A block whose scale is exactly 1 with values on .5 ties (roundf rounds them away from 0).
  const float ties[] = {127.0f, 63.5f, -63.5f,      0.5f,         -0.5f,
                        1.5f,   -2.5f, 0.49999997f, -0.49999997f, 0.0f};
  for (size_t i = 0; i < std::size(ties); ++i) x[i] = ties[i];
  for (size_t i = 32; i < 64; ++i) x[i] = 0.0f;    // an all-zero block
  for (size_t i = 512; i < 768; ++i) x[i] = 0.0f;  // an all-zero Q8_K block
  x[770] = -9.0f;  // Q8_K: the first of two opposite extremes sets the scale's sign
  x[900] = 9.0f;
  for (DType act : {DType::kQ8_0, DType::kQ8_K, DType::kF16, DType::kBF16, DType::kF32}) {
    SCOPED_TRACE(DTypeName(act));
    EXPECT_EQ(Encode(K(), act, x, 4, 256), Encode(ref, act, x, 4, 256));
  }
}

TEST_P(IsaTest, SgemmMatchesScalar) {
  for (auto [M, N, Kd] : {std::tuple<int64_t, int64_t, int64_t>{1, 1, 1},
                          {4, 16, 64},
                          {7, 37, 64},
                          {13, 64, 300},
                          {256, 100, 16},
                          {13, 300, 600},  // two K blocks, three column panels, 8 + 4 tail
                          {7, 9, 513}}) {
    SCOPED_TRACE(std::to_string(M) + "x" + std::to_string(N) + "x" + std::to_string(Kd));
    const std::vector<float> a = RandomVector(M * (Kd + 3), 11), b = RandomVector(Kd * (N + 5), 12);
    std::vector<float> c(static_cast<size_t>(M * (N + 2)), -1.0f), c1 = c;
    K().sgemm_nn(M, N, Kd, a.data(), Kd + 3, b.data(), N + 5, c.data(), N + 2);
    Ref().sgemm_nn(M, N, Kd, a.data(), Kd + 3, b.data(), N + 5, c1.data(), N + 2);
    for (size_t i = 0; i < c.size(); ++i) {
      double exact = 0;
      const int64_t m = static_cast<int64_t>(i) / (N + 2), n = static_cast<int64_t>(i) % (N + 2);
      if (n >= N) {
        EXPECT_EQ(c[i], -1.0f);  // outside the output: untouched
        continue;
      }
      for (int64_t k = 0; k < Kd; ++k)
        exact += static_cast<double>(a[static_cast<size_t>(m * (Kd + 3) + k)]) *
                 b[static_cast<size_t>(k * (N + 5) + n)];
      EXPECT_NEAR(c[i], exact, 1e-4 * (1 + std::fabs(exact)));
      EXPECT_NEAR(c[i], c1[i], 1e-4 * (1 + std::fabs(exact)));
    }
  }
}

TEST_P(IsaTest, VectorOps) {
  const int64_t n = 1000 + 3;
  const std::vector<float> x = RandomVector(n, 1, 2.0f), w = RandomVector(n, 2),
                           y0 = RandomVector(n, 3);
  EXPECT_NEAR(K().dot_f32(n, x.data(), w.data()), Ref().dot_f32(n, x.data(), w.data()), 1e-3);
  std::vector<float> a = y0, b = y0;
  K().axpy_f32(n, 0.7f, x.data(), a.data());
  Ref().axpy_f32(n, 0.7f, x.data(), b.data());
  for (int64_t i = 0; i < n; ++i)
    ASSERT_NEAR(a[static_cast<size_t>(i)], b[static_cast<size_t>(i)], 1e-6);
  a = y0, b = y0;
  K().rms_norm(x.data(), w.data(), n, 1e-6f, a.data());
  Ref().rms_norm(x.data(), w.data(), n, 1e-6f, b.data());
  for (int64_t i = 0; i < n; ++i)
    ASSERT_NEAR(a[static_cast<size_t>(i)], b[static_cast<size_t>(i)],
                1e-6f * (1 + std::fabs(b[static_cast<size_t>(i)])));
  K().gelu_tanh_mul(n, x.data(), w.data(), a.data());
  Ref().gelu_tanh_mul(n, x.data(), w.data(), b.data());
  for (int64_t i = 0; i < n; ++i)
    ASSERT_NEAR(a[static_cast<size_t>(i)], b[static_cast<size_t>(i)],
                2e-6f * (1 + std::fabs(b[static_cast<size_t>(i)])));
  std::vector<float> big = RandomVector(n, 9, 40.0f);
  K().sigmoid_mul(n, big.data(), x.data(), a.data());
  Ref().sigmoid_mul(n, big.data(), x.data(), b.data());
  for (int64_t i = 0; i < n; ++i)
    ASSERT_NEAR(a[static_cast<size_t>(i)], b[static_cast<size_t>(i)],
                2e-6f * (1 + std::fabs(b[static_cast<size_t>(i)])));
  a = big, b = big;
  K().softcap(n, 30.0f, a.data());
  Ref().softcap(n, 30.0f, b.data());
  for (int64_t i = 0; i < n; ++i)
    ASSERT_NEAR(a[static_cast<size_t>(i)], b[static_cast<size_t>(i)], 1e-5f);
  a = big, b = big;
  K().softmax(n, a.data());
  Ref().softmax(n, b.data());
  for (int64_t i = 0; i < n; ++i)
    ASSERT_NEAR(a[static_cast<size_t>(i)], b[static_cast<size_t>(i)], 1e-6f);
}

// Far-off scores get weight exactly 0 (kSoftmaxCutoff), never a subnormal: P·V products with
// subnormal weights cost microcode assists. The weights of the rest are unchanged.
TEST_P(IsaTest, SoftmaxFlushesNegligibleWeightsToZero) {
  const int64_t n = 37;  // vector bodies and a scalar tail
  std::vector<float> x(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) x[static_cast<size_t>(i)] = -3.0f * static_cast<float>(i);
  std::vector<float> want = x;
  Ref().softmax(n, want.data());
  K().softmax(n, x.data());
  double sum = 0.0;
  for (int64_t i = 0; i < n; ++i) sum += std::exp(-3.0 * static_cast<double>(i));
  for (int64_t i = 0; i < n; ++i) {
    const float got = x[static_cast<size_t>(i)];
    EXPECT_FALSE(std::fpclassify(got) == FP_SUBNORMAL) << i;
    if (-3.0f * static_cast<float>(i) < kSoftmaxCutoff) {
      EXPECT_EQ(got, 0.0f) << i;
      EXPECT_EQ(want[static_cast<size_t>(i)], 0.0f) << i;
    } else {
      const double exact = std::exp(-3.0 * static_cast<double>(i)) / sum;
      EXPECT_NEAR(got, exact, 1e-6 * exact) << i;
    }
  }
}

TEST_P(IsaTest, KvRowOps) {
  const int64_t d = 72;
  const std::vector<float> q = RandomVector(d, 4), v = RandomVector(d, 5);
  for (int t = 0; t < kNumKvTypes; ++t) {
    SCOPED_TRACE(KvTypeName(static_cast<KvType>(t)));
    std::vector<uint8_t> s1(static_cast<size_t>(d) * 4), s2(s1.size());
    K().kv_store[t](v.data(), s1.data(), d);
    Ref().kv_store[t](v.data(), s2.data(), d);
    EXPECT_EQ(s1, s2);  // rounding to f16/bf16 is exact RNE in both
    std::vector<float> y1(static_cast<size_t>(d), 1.0f), y2 = y1;
    K().kv_axpy[t](d, 0.3f, s1.data(), y1.data());
    Ref().kv_axpy[t](d, 0.3f, s1.data(), y2.data());
    for (int64_t i = 0; i < d; ++i)
      ASSERT_NEAR(y1[static_cast<size_t>(i)], y2[static_cast<size_t>(i)], 1e-6);
  }
}

// Q·Kᵀ scores: every ISA equals the scalar reference bit for bit whatever the head count,
// key count and width (tile remainders, 8-element tails), every tile shape gives a pair the
// same bits as computing it alone (so prefill and decode agree), and the values are the
// float64 dot products within rounding.
TEST_P(IsaTest, KvScoresAreCanonicalDotProducts) {
  for (int t = 0; t < kNumKvTypes; ++t) {
    SCOPED_TRACE(KvTypeName(static_cast<KvType>(t)));
    for (const int d : {8, 20, 64, 512}) {
      const int64_t max_keys = 31, q_stride = d + 3, s_stride = max_keys + 2;
      const uint64_t k_stride = static_cast<uint64_t>(d + 5) * 4;
      std::vector<uint8_t> k(static_cast<size_t>(max_keys) * k_stride);
      std::vector<std::vector<float>> rows;
      for (int64_t j = 0; j < max_keys; ++j) {
        rows.push_back(RandomVector(d, static_cast<uint32_t>(300 + j)));
        K().kv_store[t](rows.back().data(), k.data() + j * k_stride, d);
      }
      const std::vector<float> q = RandomVector(9 * q_stride, 31);
      for (const int nh : {1, 2, 3, 4, 5, 8, 9}) {
        for (const int64_t n_keys : {int64_t{1}, int64_t{2}, int64_t{4}, int64_t{25}, max_keys}) {
          std::vector<float> got(static_cast<size_t>(nh * s_stride), -7.0f), ref = got;
          K().kv_scores[t](n_keys, d, nh, q.data(), q_stride, k.data(), k_stride, got.data(),
                           s_stride);
          Ref().kv_scores[t](n_keys, d, nh, q.data(), q_stride, k.data(), k_stride, ref.data(),
                             s_stride);
          ASSERT_EQ(got, ref) << "d=" << d << " nh=" << nh << " keys=" << n_keys;
          for (int h = 0; h < nh; ++h) {
            for (int64_t j = 0; j < n_keys; ++j) {
              float alone = 0;
              K().kv_scores[t](1, d, 1, q.data() + h * q_stride, q_stride, k.data() + j * k_stride,
                               k_stride, &alone, 1);
              const float g = got[static_cast<size_t>(h * s_stride + j)];
              ASSERT_EQ(alone, g) << "h=" << h << " j=" << j;
              // The stored (rounded) key row read back: y = 0 + 1 · k_j.
              std::vector<float> row(static_cast<size_t>(d), 0.0f);
              Ref().kv_axpy[t](d, 1.0f, k.data() + j * k_stride, row.data());
              double want = 0, mag = 0;
              for (int i = 0; i < d; ++i) {
                const double prod = static_cast<double>(q[static_cast<size_t>(h * q_stride + i)]) *
                                    row[static_cast<size_t>(i)];
                want += prod;
                mag += std::fabs(prod);
              }
              ASSERT_NEAR(g, want, 1e-6 * mag + 1e-12) << "h=" << h << " j=" << j;
            }
          }
          EXPECT_EQ(got[static_cast<size_t>(n_keys)], -7.0f);  // nothing past n_keys written
        }
      }
    }
  }
}

// P·V for several heads at once equals one kv_axpy per (head, key) bit for bit on every ISA
// (decode and prefill then agree), and the scalar reference within rounding; head counts
// 1..6 and widths with 16-, 8- and 1-element tails, rows strided, outputs accumulated.
TEST_P(IsaTest, KvWeightedSumEqualsAxpyCalls) {
  for (int t = 0; t < kNumKvTypes; ++t) {
    SCOPED_TRACE(KvTypeName(static_cast<KvType>(t)));
    for (const int d : {8, 27, 64, 256}) {
      for (const int nh : {1, 2, 3, 4, 5, 6, 8}) {  // 4 and 8: four-head tiles
        const int64_t n_keys = 13, p_stride = 17;
        const uint64_t v_stride = static_cast<uint64_t>(d + 5) * 4;
        std::vector<uint8_t> v(static_cast<size_t>(n_keys) * v_stride);
        for (int64_t j = 0; j < n_keys; ++j) {
          const std::vector<float> row = RandomVector(d, static_cast<uint32_t>(100 + j));
          K().kv_store[t](row.data(), v.data() + j * v_stride, d);
        }
        const std::vector<float> p = RandomVector(nh * p_stride, 7);
        const std::vector<float> o0 = RandomVector(nh * d, 8);
        std::vector<float> got = o0, want = o0, ref = o0;
        K().kv_weighted_sum[t](n_keys, d, nh, p.data(), p_stride, v.data(), v_stride, got.data(),
                               d);
        Ref().kv_weighted_sum[t](n_keys, d, nh, p.data(), p_stride, v.data(), v_stride, ref.data(),
                                 d);
        for (int h = 0; h < nh; ++h)
          for (int64_t j = 0; j < n_keys; ++j)
            K().kv_axpy[t](d, p[static_cast<size_t>(h * p_stride + j)], v.data() + j * v_stride,
                           want.data() + h * d);
        ASSERT_EQ(got, want) << "d=" << d << " nh=" << nh;
        for (size_t i = 0; i < got.size(); ++i) ASSERT_NEAR(got[i], ref[i], 1e-4) << i;
        EXPECT_NE(got, o0);
      }
    }
  }
}

// Attention over a ring-buffer cache equals a naive softmax over the visible keys, for short
// chunks (one query per task) and long ones (blocks of queries whose key ranges cross 64-key
// chunks and the ring's wrap), with and without a window and bidirectional groups; and every
// token's outputs equal, bit for bit, those of the token computed alone (decode's path).
TEST_P(IsaTest, AttentionMatchesNaive) {
  struct Case {
    int64_t pos0, n_tok, window;
    bool groups;
    int nh = 4;  // over nkv KV heads
    int nkv = 2;
  };
  std::vector<Case> cases = {Case{9, 6, 5, false},     Case{9, 6, 0, false},
                             Case{100, 40, 70, false}, Case{0, 130, 0, false},
                             Case{150, 37, 0, false},  Case{30, 24, 9, true}};
  // Each also with four query heads per KV head: two are batched across a block's queries,
  // four go one query at a time.
  for (size_t i = 0, n = cases.size(); i < n; ++i) {
    cases.push_back(cases[i]);
    cases.back().nh = 8;
  }
  // One KV head for eight and for twelve query heads (E2B's shape, and one whose halves are
  // not a multiple of four): a decoded token's P·V splits the heads between the two threads.
  cases.push_back(Case{100, 40, 70, false, 8, 1});
  cases.push_back(Case{0, 130, 0, false, 12, 1});
  cases.push_back(Case{30, 24, 9, true, 8, 1});
  for (const Case& c : cases) {
    SCOPED_TRACE(::testing::Message()
                 << "pos0 " << c.pos0 << " n_tok " << c.n_tok << " window " << c.window
                 << (c.groups ? " groups" : "") << " heads " << c.nh << "/" << c.nkv);
    ThreadPool pool(2);
    const int nh = c.nh, nkv = c.nkv, d = 20;
    const int64_t pos0 = c.pos0, n_tok = c.n_tok, total = pos0 + n_tok;
    const int64_t cap = c.window ? c.window - 1 + n_tok : total;
    const std::vector<float> keys = RandomVector(total * nkv * d, 21),
                             vals = RandomVector(total * nkv * d, 22);
    const std::vector<float> q = RandomVector(n_tok * nh * d, 23);
    std::vector<float> kc(static_cast<size_t>(cap * nkv * d)), vc(kc.size());
    for (int64_t j = 0; j < total; ++j) {  // later positions overwrite ring slots, as in use
      std::memcpy(&kc[static_cast<size_t>((j % cap) * nkv * d)],
                  &keys[static_cast<size_t>(j * nkv * d)], sizeof(float) * nkv * d);
      std::memcpy(&vc[static_cast<size_t>((j % cap) * nkv * d)],
                  &vals[static_cast<size_t>(j * nkv * d)], sizeof(float) * nkv * d);
    }
    // Groups: tokens 5..12 and 15..20 of the chunk see each other (an image's soft tokens).
    std::vector<int64_t> group_first(static_cast<size_t>(n_tok), -1), group_last = group_first;
    if (c.groups) {
      for (auto [g0, g1] : {std::pair<int64_t, int64_t>{5, 12}, {15, 20}}) {
        for (int64_t i = g0; i <= g1; ++i) {
          group_first[static_cast<size_t>(i)] = pos0 + g0;
          group_last[static_cast<size_t>(i)] = pos0 + g1;
        }
      }
    }
    AttentionParams p{nh, nkv, d, c.window};
    if (c.groups) {
      p.group_first = group_first.data();
      p.group_last = group_last.data();
    }
    KvLayerView view{reinterpret_cast<const uint8_t*>(kc.data()),
                     reinterpret_cast<const uint8_t*>(vc.data()), cap, KvType::kF32};
    std::vector<float> out(q.size());
    AttentionScratch scratch;
    Attention(K(), &pool, p, view, q.data(), n_tok, pos0, out.data(), &scratch);
    for (int64_t i = 0; i < n_tok; ++i) {
      std::vector<float> one(static_cast<size_t>(nh * d));
      AttentionParams p1 = p;
      if (c.groups) {
        p1.group_first = group_first.data() + i;
        p1.group_last = group_last.data() + i;
      }
      Attention(K(), &pool, p1, view, q.data() + i * nh * d, 1, pos0 + i, one.data(), &scratch);
      for (size_t e = 0; e < one.size(); ++e)
        ASSERT_EQ(one[e], out[static_cast<size_t>(i * nh * d) + e]) << "tok " << i;
    }
    for (int64_t i = 0; i < n_tok; ++i) {
      const int64_t pos = pos0 + i;
      int64_t first = c.window ? std::max<int64_t>(0, pos - c.window + 1) : 0, last = pos;
      if (group_first[static_cast<size_t>(i)] >= 0) {
        first = std::min(first, group_first[static_cast<size_t>(i)]);
        last = std::max(last, group_last[static_cast<size_t>(i)]);
      }
      for (int h = 0; h < nh; ++h) {
        const int g = h / (nh / nkv);
        std::vector<double> s;
        for (int64_t j = first; j <= last; ++j) {
          double dot = 0;
          for (int e = 0; e < d; ++e)
            dot += q[static_cast<size_t>((i * nh + h) * d + e)] *
                   keys[static_cast<size_t>((j * nkv + g) * d + e)];
          s.push_back(dot);
        }
        double mx = *std::max_element(s.begin(), s.end()), sum = 0;
        for (double& v : s) sum += (v = std::exp(v - mx));
        for (int e = 0; e < d; ++e) {
          double o = 0;
          for (int64_t j = first; j <= last; ++j)
            o += s[static_cast<size_t>(j - first)] / sum *
                 vals[static_cast<size_t>((j * nkv + g) * d + e)];
          ASSERT_NEAR(out[static_cast<size_t>((i * nh + h) * d + e)], o, 1e-5)
              << "tok " << i << " head " << h;
        }
      }
    }
  }
}

std::string IsaParamName(const ::testing::TestParamInfo<Isa>& info) { return IsaName(info.param); }
INSTANTIATE_TEST_SUITE_P(AllIsas, IsaTest, ::testing::ValuesIn(SupportedIsas()), IsaParamName);

// A scratch reserved for a context and head grouping serves every call within them without
// allocating (the decoder reserves once; prefill chunks must not allocate), including the
// batched blocks of two heads per KV head, whose score rows need room past one query's keys.
// The AVX-512 GELU gate does per lane what the AVX2 one does, so on the 16-lane steps the
// two give the same bits (the last n % 16 lanes differ: masked lanes against scalar tanh).
TEST(Dispatch, Avx512GeluEqualsAvx2OnFullVectors) {
  const KernelTable* avx2 = KernelsFor(Isa::kAvx2);
  const KernelTable* avx512 = KernelsFor(Isa::kAvx512);
  if (avx2 == nullptr || avx512 == nullptr) GTEST_SKIP() << "no AVX-512 on this CPU";
  const int64_t n = 4096;
  const std::vector<float> g = RandomVector(n, 5, 6.0f), u = RandomVector(n, 6);
  std::vector<float> a(static_cast<size_t>(n)), b(static_cast<size_t>(n));
  avx2->gelu_tanh_mul(n, g.data(), u.data(), a.data());
  avx512->gelu_tanh_mul(n, g.data(), u.data(), b.data());
  EXPECT_EQ(a, b);
}

// The AVX-512 one-row dot products of F32 / F16 / BF16 rows run the AVX2 dot's FMA sequence
// in 512-bit registers: the same bits, for lengths with and without the 8-element step and
// the scalar tail (a token decoded alone must equal the same token inside a prefill chunk).
TEST(Dispatch, Avx512FloatDotsEqualAvx2) {
  const KernelTable* avx2 = KernelsFor(Isa::kAvx2);
  const KernelTable* avx512 = KernelsFor(Isa::kAvx512);
  if (avx2 == nullptr || avx512 == nullptr) GTEST_SKIP() << "no AVX-512 on this CPU";
  for (DType t : {DType::kF32, DType::kF16, DType::kBF16}) {
    for (int64_t n : {16, 29, 1536, 1541, 1544}) {
      const std::vector<float> wf = RandomVector(n, 7), af = RandomVector(n, 8);
      const std::vector<uint8_t> w = Encode(Ref(), t, wf, 1, n), a = Encode(Ref(), t, af, 1, n);
      const int id = static_cast<int>(t);
      EXPECT_EQ(avx2->vec_dot[id](n, w.data(), a.data()),
                avx512->vec_dot[id](n, w.data(), a.data()))
          << DTypeName(t) << " n=" << n;
    }
  }
}

TEST(AttentionScratchTest, ReservedScratchServesPrefillWithoutGrowing) {
  const int nh = 4, nkv = 2, d = 20;
  const int64_t n_ctx = 96, pos0 = 32, n_tok = n_ctx - pos0;  // the last query sees all n_ctx
  ThreadPool pool(2);
  AttentionScratch scratch;
  scratch.Reserve(pool.size(), n_ctx, nh, nh / nkv, d);
  std::vector<const float*> before;
  for (const auto& v : scratch.scores) before.push_back(v.data());
  for (const auto& v : scratch.block_rows) before.push_back(v.data());
  before.push_back(scratch.single.data());
  const std::vector<float> kc = RandomVector(n_ctx * nkv * d, 1), vc = RandomVector(kc.size(), 2);
  const std::vector<float> q = RandomVector(n_tok * nh * d, 3);
  std::vector<float> out(q.size());
  KvLayerView view{reinterpret_cast<const uint8_t*>(kc.data()),
                   reinterpret_cast<const uint8_t*>(vc.data()), n_ctx, KvType::kF32};
  Attention(Kernels(), &pool, AttentionParams{nh, nkv, d, 0}, view, q.data(), n_tok, pos0,
            out.data(), &scratch);
  std::vector<const float*> after;
  for (const auto& v : scratch.scores) after.push_back(v.data());
  for (const auto& v : scratch.block_rows) after.push_back(v.data());
  after.push_back(scratch.single.data());
  EXPECT_EQ(before, after);
}

// --kv-type's names: each type's name parses back to it; anything else is refused.
TEST(Dispatch, KvTypeNamesParseBack) {
  for (int i = 0; i < kNumKvTypes; ++i) {
    const KvType t = static_cast<KvType>(i);
    KvType got = t == KvType::kF32 ? KvType::kF16 : KvType::kF32;
    ASSERT_TRUE(ParseKvType(KvTypeName(t), &got)) << KvTypeName(t);
    EXPECT_EQ(got, t);
  }
  KvType untouched = KvType::kBF16;
  for (const char* bad : {"", "F16", "q8_0", "f16 ", "fp16"}) {
    EXPECT_FALSE(ParseKvType(bad, &untouched)) << bad;
    EXPECT_EQ(untouched, KvType::kBF16);
  }
}

TEST(Dispatch, BestTableIsSupportedAndComplete) {
  const KernelTable& k = Kernels();
  EXPECT_NE(KernelsFor(k.isa), nullptr);
  for (DType t : kWeightTypes) EXPECT_TRUE(HasMatMulKernel(t)) << DTypeName(t);
  EXPECT_FALSE(HasMatMulKernel(DType::kIQ2_XXS));
  EXPECT_EQ(ActivationType(DType::kQ4_K), DType::kQ8_K);
  EXPECT_EQ(ActivationType(DType::kQ4_0), DType::kQ8_0);
}

}  // namespace
}  // namespace pocket::kernels
