// Checks of every tensor type against ../shared/golden/quant (made by ggml itself), bit-exact
// for the dequantization of the stored blocks, the quantization of the source rows and the
// activation formats (q8_0 / q8_1 / q8_K) that quantized dot products consume; within
// f32 rounding for the dot products of every ISA, row-major and packed.
#include <cmath>
#include <cstring>
#include <nlohmann/json.hpp>

#include "common/test_util.h"
#include "kernels/kernels.h"
#include "kernels/packed.h"
#include "quant/quant.h"
#include "tensor/dtype.h"

namespace pocket {
namespace {

using json = nlohmann::json;

struct GoldenType {
  json meta;
  std::string bytes;
  std::string Section(const std::string& name) const {
    const json& s = meta["sections"][name];
    return bytes.substr(s["offset"].get<size_t>(), s["nbytes"].get<size_t>());
  }
  bool HasSection(const std::string& name) const { return meta["sections"].contains(name); }
};

GoldenType LoadType(const std::string& type) {
  const std::string dir = testing::GoldenDir() + "/quant";
  const json manifest = json::parse(testing::ReadFile(dir + "/manifest.json"));
  GoldenType g;
  g.meta = manifest["types"][type];
  g.bytes = testing::ReadFile(dir + "/" + g.meta["file"].get<std::string>());
  return g;
}

std::vector<float> AsFloats(const std::string& bytes) {
  std::vector<float> v(bytes.size() / 4);
  std::memcpy(v.data(), bytes.data(), v.size() * 4);
  return v;
}

// Compares float bit patterns, so -0.0 vs 0.0 and NaN payloads count as differences.
void ExpectBitEqual(const std::vector<float>& got, const std::vector<float>& want,
                    const std::string& what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  int mismatches = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    uint32_t a, b;
    std::memcpy(&a, &got[i], 4);
    std::memcpy(&b, &want[i], 4);
    if (a != b && ++mismatches <= 5) {
      ADD_FAILURE() << what << ": element " << i << " (row " << i / 512 << ") got " << got[i]
                    << " want " << want[i];
    }
  }
  EXPECT_EQ(mismatches, 0) << what;
}

class QuantGolden : public ::testing::TestWithParam<const char*> {};

TEST_P(QuantGolden, DequantizeMatchesGgmlBitForBit) {
  POCKET_REQUIRE_GOLDEN_OR_SKIP();
  const std::string name = GetParam();
  const GoldenType g = LoadType(name);
  ASSERT_FALSE(g.meta.is_null()) << name << " missing from manifest";
  auto type = ParseDTypeName(name);
  ASSERT_TRUE(type.ok());
  EXPECT_EQ(static_cast<int>(*type), g.meta["ggml_type_id"].get<int>());
  const DTypeTraits* tr = GetDTypeTraits(*type);
  EXPECT_EQ(tr->block_elems, g.meta["block_elements"].get<int64_t>());
  EXPECT_EQ(tr->block_bytes, g.meta["block_bytes"].get<int64_t>());
  const std::string q = g.Section("q");
  const std::vector<float> want = AsFloats(g.Section("deq"));
  std::vector<float> got(want.size());
  const int64_t rows = 8, cols = 512;
  auto row_bytes = RowBytes(*type, cols);
  ASSERT_TRUE(row_bytes.ok());
  ASSERT_EQ(static_cast<uint64_t>(q.size()), *row_bytes * rows);
  for (int64_t r = 0; r < rows; ++r) {
    ASSERT_TRUE(DequantizeRow(*type, q.data() + r * *row_bytes, got.data() + r * cols, cols).ok());
  }
  ExpectBitEqual(got, want, name + " deq");
}

TEST_P(QuantGolden, QuantizeMatchesGgmlBytes) {
  POCKET_REQUIRE_GOLDEN_OR_SKIP();
  const std::string name = GetParam();
  auto type = ParseDTypeName(name);
  ASSERT_TRUE(type.ok());
  const GoldenType g = LoadType(name);
  if (!CanQuantize(*type)) {
    // Dequantize-only type: asking for a quantizer must be a clear error, not garbage.
    std::vector<uint8_t> out(static_cast<size_t>(*RowBytes(*type, 512)));
    std::vector<float> zeros(512, 0.0f);
    EXPECT_EQ(QuantizeRow(*type, zeros.data(), out.data(), 512).code(), StatusCode::kUnimplemented);
    return;
  }
  const std::vector<float> src = AsFloats(g.Section("src"));
  const std::string want = g.Section("q");
  std::string got(want.size(), '\0');
  const uint64_t row_bytes = *RowBytes(*type, 512);
  for (int r = 0; r < 8; ++r) {
    ASSERT_TRUE(QuantizeRow(*type, src.data() + r * 512, got.data() + r * row_bytes, 512).ok());
    EXPECT_EQ(got.substr(r * row_bytes, row_bytes), want.substr(r * row_bytes, row_bytes))
        << name << " row " << r << " (" << g.meta.dump().substr(0, 0) << ")";
  }
}

TEST_P(QuantGolden, ActivationFormatMatchesGgml) {
  POCKET_REQUIRE_GOLDEN_OR_SKIP();
  const std::string name = GetParam();
  const GoldenType g = LoadType(name);
  auto act_type = ParseDTypeName(g.meta["vec_dot_type"].get<std::string>());
  ASSERT_TRUE(act_type.ok()) << g.meta["vec_dot_type"];
  const std::vector<float> act = AsFloats(g.Section("act"));
  const std::string want_q = g.Section("act_q");
  std::string got_q(want_q.size(), '\0');
  ASSERT_TRUE(QuantizeRow(*act_type, act.data(), got_q.data(), 512).ok());
  EXPECT_EQ(got_q, want_q) << name << " activation as " << DTypeName(*act_type);
  std::vector<float> deq(512);
  ASSERT_TRUE(DequantizeRow(*act_type, want_q.data(), deq.data(), 512).ok());
  ExpectBitEqual(deq, AsFloats(g.Section("act_deq")), name + " act_deq");
}

// The matrix kernels on ggml's own blocks (outliers, tiny and zero rows, constant and
// one-hot blocks): every ISA's row-major dot product and, for the packed types, the packed
// GEMM (the eight rows are exactly one group) against ggml's dot product and the float64
// dot of the decoded values. pocket encodes the activation itself (Q4_1/Q5_1 take Q8_0
// activations with an exact Σa, ggml q8_1 with an f16 one, so theirs is the looser match).
TEST_P(QuantGolden, DotProductsMatchGgml) {
  POCKET_REQUIRE_GOLDEN_OR_SKIP();
  const std::string name = GetParam();
  auto type = ParseDTypeName(name);
  ASSERT_TRUE(type.ok());
  const GoldenType g = LoadType(name);
  const int64_t rows = 8, cols = 512;
  const uint64_t row_bytes = *RowBytes(*type, cols);
  const std::string q = g.Section("q");
  const std::vector<float> act = AsFloats(g.Section("act"));
  const std::vector<float> act_deq = AsFloats(g.Section("act_deq"));
  const std::vector<float> deq = AsFloats(g.Section("deq"));
  const std::vector<float> ggml_dot = AsFloats(g.Section("dot"));
  const std::string ref_bytes = g.Section("dot_ref_qact");
  std::vector<double> ref(rows);
  std::memcpy(ref.data(), ref_bytes.data(), rows * sizeof(double));
  const bool q8_1 = *type == DType::kQ4_1 || *type == DType::kQ5_1;
  const DType act_type = kernels::ActivationType(*type);
  for (kernels::Isa isa : kernels::SupportedIsas()) {
    SCOPED_TRACE(kernels::IsaName(isa));
    const kernels::KernelTable& k = *kernels::KernelsFor(isa);
    std::vector<uint8_t> a(*RowBytes(act_type, cols));
    k.quantize_act[static_cast<int>(act_type)](act.data(), a.data(), cols);
    std::vector<float> packed_out(rows);
    const bool packed = kernels::CanPack(k, *type, rows, cols);
    if (packed) {
      std::vector<uint8_t> w(kernels::PackedRowBytes(*type, cols) * rows);
      kernels::PackRowGroups(*type, reinterpret_cast<const uint8_t*>(q.data()), cols, 0, 1,
                             w.data());
      std::vector<uint8_t> info(kernels::ActivationInfoBytes(*type, cols));
      kernels::ActivationInfos(*type, a.data(), cols, info.data());
      k.gemm_packed[static_cast<int>(*type)](cols, w.data(), 1, a.data(), a.size(), info.data(),
                                             info.size(), 1, packed_out.data(), rows);
    }
    for (int64_t r = 0; r < rows; ++r) {
      double mag = 0.0;
      for (int64_t i = 0; i < cols; ++i) mag += std::fabs(double{deq[r * cols + i]} * act_deq[i]);
      const double tol = 1e-5 * mag + 1e-30;
      const float dot = k.vec_dot[static_cast<int>(*type)](
          cols, q.data() + static_cast<uint64_t>(r) * row_bytes, a.data());
      EXPECT_NEAR(dot, ref[r], tol) << name << " row " << r;
      EXPECT_NEAR(dot, ggml_dot[r], q8_1 ? 5e-3 * mag + 1e-30 : tol) << name << " row " << r;
      if (packed) {
        EXPECT_NEAR(packed_out[r], ref[r], tol) << name << " packed row " << r;
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(AllTypes, QuantGolden,
                         ::testing::Values("F16", "BF16", "Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1",
                                           "Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K", "IQ4_NL",
                                           "IQ4_XS", "MXFP4"),
                         [](const ::testing::TestParamInfo<const char*>& info) {
                           return std::string(info.param);
                         });

TEST(QuantGoldenUnsupported, GridTypesReportUnimplemented) {
  for (DType t : {DType::kIQ2_XXS, DType::kIQ2_XS, DType::kIQ3_XXS, DType::kIQ1_S, DType::kNVFP4}) {
    const DTypeTraits* tr = GetDTypeTraits(t);
    std::vector<uint8_t> block(static_cast<size_t>(tr->block_bytes));
    std::vector<float> out(static_cast<size_t>(tr->block_elems));
    const Status st = DequantizeRow(t, block.data(), out.data(), tr->block_elems);
    EXPECT_EQ(st.code(), StatusCode::kUnimplemented) << tr->name;
  }
}

TEST(QuantRoundTrip, RejectsPartialBlocks) {
  std::vector<float> x(40, 1.0f);
  std::vector<uint8_t> q(64);
  EXPECT_EQ(QuantizeRow(DType::kQ4_0, x.data(), q.data(), 40).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(DequantizeRow(DType::kQ4_0, q.data(), x.data(), 40).code(),
            StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace pocket
