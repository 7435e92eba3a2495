// Binding decoder weights: a missing tensor or a wrong shape fails with the tensor's name and
// expected vs got.
#include "common/test_util.h"
#include "formats/gguf_writer.h"
#include "model/weights.h"

namespace pocket {
namespace {

// Rewrites the golden e_style GGUF through our writer, optionally dropping or reshaping one
// tensor, and tries to bind it.
Status BindModified(const std::string& drop, const std::string& reshape) {
  auto src = WeightSource::Open(testing::GoldenDir() + "/text/e_style/model.gguf");
  EXPECT_TRUE(src.ok());
  const Metadata& md = (*src)->metadata();
  GgufWriter w;
  for (const auto& [key, v] : md.entries()) {
    if (v.type() == ValueType::kString) w.SetString(key, std::string(*v.AsString()));
    else if (v.type() == ValueType::kF32) w.SetF32(key, static_cast<float>(*v.AsDouble()));
    else if (v.type() == ValueType::kBool) w.SetBool(key, *v.AsBool());
    else if (!v.is_array()) w.SetU32(key, static_cast<uint32_t>(*v.AsInt()));
    else if (v.elem_type() == ValueType::kBool) {
      std::vector<bool> b;
      for (uint64_t i = 0; i < v.size(); ++i) b.push_back(*v.IntAt(i) != 0);
      w.SetArrayBool(key, b);
    } else if (v.elem_type() == ValueType::kString) {
      w.SetArrayString(key, std::vector<std::string>(v.strings().begin(), v.strings().end()));
    } else if (IsFloatType(v.elem_type())) {
      std::vector<float> f;
      for (uint64_t i = 0; i < v.size(); ++i) f.push_back(static_cast<float>(*v.DoubleAt(i)));
      w.SetArrayF32(key, f);
    } else {
      std::vector<int32_t> n;
      for (uint64_t i = 0; i < v.size(); ++i) n.push_back(static_cast<int32_t>(*v.IntAt(i)));
      w.SetArrayI32(key, n);
    }
  }
  for (const TensorInfo& t : (*src)->tensors()) {
    if (t.name == drop) continue;
    std::vector<int64_t> ne(t.ne, t.ne + t.n_dims);
    if (t.name == reshape) std::swap(ne[0], ne[1]);
    EXPECT_TRUE(w.AddTensor(t.name, t.type, ne, t.data, t.nbytes).ok());
  }
  const std::string path = testing::TempDir() + "/mod.gguf";
  EXPECT_TRUE(w.WriteFile(path).ok());
  auto ws = WeightSource::Open(path);
  if (!ws.ok()) return ws.status();
  auto c = LoadTextConfig(**ws);
  if (!c.ok()) return c.status();
  return Gemma4Weights::Bind(**ws, *c).status();
}

TEST(Weights, RewrittenGoldenModelBinds) {
  POCKET_REQUIRE_GOLDEN_OR_SKIP();
  const Status st = BindModified("", "");
  EXPECT_TRUE(st.ok()) << st.message();
}

TEST(Weights, MissingTensorIsNamed) {
  POCKET_REQUIRE_GOLDEN_OR_SKIP();
  const Status st = BindModified("blk.2.ffn_up.weight", "");
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("blk.2.ffn_up.weight"), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("missing"), std::string::npos) << st.message();
}

TEST(Weights, WrongShapeSaysExpectedAndGot) {
  POCKET_REQUIRE_GOLDEN_OR_SKIP();
  const Status st = BindModified("", "blk.3.attn_q.weight");
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("blk.3.attn_q.weight"), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("expected shape [64, 128]"), std::string::npos) << st.message();
}

TEST(Weights, KvSharedLayersIgnoreUnusedKv) {
  POCKET_REQUIRE_GOLDEN_OR_SKIP();
  // Layer 5 is KV-shared in e_style: its k/v weights are optional and unused.
  const Status st = BindModified("blk.5.attn_k.weight", "");
  EXPECT_TRUE(st.ok()) << st.message();
}

}  // namespace
}  // namespace pocket
