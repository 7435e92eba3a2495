// GGUF round trips through our writer and reader: every value type, nested arrays,
// alignment, tensor data, and split files through WeightSource.
#include <cstring>

#include "common/test_util.h"
#include "formats/gguf_reader.h"
#include "formats/gguf_writer.h"
#include "formats/weight_source.h"

namespace pocket {
namespace {

TEST(GgufReader, RoundTripsEveryValueType) {
  GgufWriter w;
  w.SetU8("a.u8", 200);
  w.SetU32("a.u32", 4000000000u);
  w.SetI32("a.i32", -7);
  w.SetU64("a.u64", 1ull << 40);
  w.SetF32("a.f32", 0.25f);
  w.SetBool("a.bool", true);
  w.SetString("a.str", "héllo ▁world");
  w.SetArrayI32("a.arr_i32", {1, -2, 3});
  w.SetArrayF32("a.arr_f32", {0.5f, 1.5f});
  w.SetArrayBool("a.arr_bool", {true, false, true});
  w.SetArrayString("a.arr_str", {"<bos>", "", "▁the"});
  w.SetNestedArrayI32("a.nested", {{1, 2}, {}, {3}});
  auto bytes = w.WriteToString();
  ASSERT_TRUE(bytes.ok());
  auto f = GgufFile::ParseBuffer(reinterpret_cast<const uint8_t*>(bytes->data()), bytes->size(), "mem");
  ASSERT_TRUE(f.ok()) << f.status().message();
  const Metadata& md = f->metadata();
  EXPECT_EQ(f->version(), 3u);
  EXPECT_EQ(md.size(), 12u);
  EXPECT_EQ(*md.GetInt("a.u8"), 200);
  EXPECT_EQ(*md.GetInt("a.u32"), 4000000000ll);
  EXPECT_EQ(*md.GetInt("a.i32"), -7);
  EXPECT_EQ(*md.GetInt("a.u64"), 1ll << 40);
  EXPECT_EQ(*md.GetDouble("a.f32"), 0.25);
  EXPECT_TRUE(*md.GetBool("a.bool"));
  EXPECT_EQ(*md.GetString("a.str"), "héllo ▁world");
  EXPECT_EQ(*md.GetIntArray("a.arr_i32"), (std::vector<int64_t>{1, -2, 3}));
  EXPECT_EQ(*md.GetDoubleArray("a.arr_f32"), (std::vector<double>{0.5, 1.5}));
  EXPECT_EQ(*md.GetIntArray("a.arr_bool"), (std::vector<int64_t>{1, 0, 1}));
  EXPECT_EQ(*md.GetStringArray("a.arr_str"), (std::vector<std::string>{"<bos>", "", "▁the"}));
  const Value* nested = md.Find("a.nested");
  ASSERT_NE(nested, nullptr);
  ASSERT_EQ(nested->size(), 3u);
  EXPECT_EQ(nested->ItemAt(0).size(), 2u);
  EXPECT_EQ(*nested->ItemAt(0).IntAt(1), 2);
  EXPECT_EQ(nested->ItemAt(1).size(), 0u);
  EXPECT_EQ(*nested->ItemAt(2).IntAt(0), 3);
  // Type errors name the key.
  auto wrong = md.GetString("a.u32");
  ASSERT_FALSE(wrong.ok());
  EXPECT_NE(wrong.status().message().find("a.u32"), std::string::npos);
  EXPECT_EQ(md.GetInt("missing").status().code(), StatusCode::kNotFound);
}

TEST(GgufReader, TensorsAreAlignedAndPointIntoTheMapping) {
  GgufWriter w(64);
  w.SetU32("general.alignment", 64);
  std::vector<float> a(3 * 5), b(32);
  for (size_t i = 0; i < a.size(); ++i) a[i] = static_cast<float>(i);
  for (size_t i = 0; i < b.size(); ++i) b[i] = -static_cast<float>(i);
  ASSERT_TRUE(w.AddTensor("a", DType::kF32, {3, 5}, a.data(), a.size() * 4).ok());
  ASSERT_TRUE(w.AddTensor("b", DType::kF32, {32}, b.data(), b.size() * 4).ok());
  auto bytes = w.WriteToString();
  ASSERT_TRUE(bytes.ok());
  auto f = GgufFile::ParseBuffer(reinterpret_cast<const uint8_t*>(bytes->data()), bytes->size(), "mem");
  ASSERT_TRUE(f.ok()) << f.status().message();
  EXPECT_EQ(f->alignment(), 64u);
  ASSERT_EQ(f->tensors().size(), 2u);
  const TensorInfo& ta = f->tensors()[0];
  EXPECT_EQ(ta.n_dims, 2);
  EXPECT_EQ(ta.ne[0], 3);
  EXPECT_EQ(ta.ne[1], 5);
  EXPECT_EQ(ta.nbytes, 60u);
  EXPECT_EQ(ta.offset % 64, 0u);
  EXPECT_EQ(std::memcmp(ta.data, a.data(), 60), 0);
  const TensorInfo& tb = f->tensors()[1];
  EXPECT_EQ(tb.offset % 64, 0u);
  EXPECT_EQ(std::memcmp(tb.data, b.data(), 128), 0);
}

TEST(GgufReader, QuantizedTensorSizes) {
  GgufWriter w;
  std::vector<uint8_t> q4k(2 * 144), q8(3 * 34);
  ASSERT_TRUE(w.AddTensor("k", DType::kQ4_K, {256, 2}, q4k.data(), q4k.size()).ok());
  ASSERT_TRUE(w.AddTensor("q", DType::kQ8_0, {96}, q8.data(), q8.size()).ok());
  // Rows that are not a whole number of blocks are refused at write time.
  EXPECT_FALSE(w.AddTensor("bad", DType::kQ4_K, {100}, q8.data(), 10).ok());
  auto bytes = w.WriteToString();
  auto f = GgufFile::ParseBuffer(reinterpret_cast<const uint8_t*>(bytes->data()), bytes->size(), "mem");
  ASSERT_TRUE(f.ok()) << f.status().message();
  EXPECT_EQ(f->tensors()[0].nbytes, 288u);
  EXPECT_EQ(f->tensors()[1].nbytes, 102u);
}

TEST(GgufReader, SplitPathsParse) {
  auto p = GgufSplitPaths("/m/model-00002-of-00003.gguf");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(*p, (std::vector<std::string>{"/m/model-00001-of-00003.gguf", "/m/model-00002-of-00003.gguf",
                                          "/m/model-00003-of-00003.gguf"}));
  EXPECT_EQ(*GgufSplitPaths("/m/model.gguf"), std::vector<std::string>{"/m/model.gguf"});
  EXPECT_FALSE(GgufSplitPaths("/m/model-00004-of-00003.gguf").ok());
}

void WriteSplit(const std::string& path, int no, int count, int total_tensors, const std::string& tensor, float value) {
  GgufWriter w;
  w.SetString("general.architecture", "gemma4");
  w.SetU32("split.no", static_cast<uint32_t>(no));
  w.SetU32("split.count", static_cast<uint32_t>(count));
  w.SetI32("split.tensors.count", total_tensors);
  std::vector<float> data(8, value);
  ASSERT_TRUE(w.AddTensor(tensor, DType::kF32, {8}, data.data(), 32).ok());
  ASSERT_TRUE(w.WriteFile(path).ok());
}

TEST(GgufReader, SplitFilesOpenAsOneSource) {
  const std::string dir = testing::TempDir();
  WriteSplit(dir + "/m-00001-of-00002.gguf", 0, 2, 2, "t0", 1.0f);
  WriteSplit(dir + "/m-00002-of-00002.gguf", 1, 2, 2, "t1", 2.0f);
  auto ws = WeightSource::Open(dir + "/m-00001-of-00002.gguf");
  ASSERT_TRUE(ws.ok()) << ws.status().message();
  EXPECT_EQ((*ws)->files().size(), 2u);
  ASSERT_NE((*ws)->Find("t1"), nullptr);
  float v;
  std::memcpy(&v, (*ws)->Find("t1")->data, 4);
  EXPECT_EQ(v, 2.0f);
  EXPECT_EQ((*ws)->Find("t1")->source_index, 1);

  // A missing part is a clear error naming it.
  std::remove((dir + "/m-00002-of-00002.gguf").c_str());
  auto missing = WeightSource::Open(dir + "/m-00001-of-00002.gguf");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("m-00002-of-00002.gguf"), std::string::npos);
}

TEST(GgufReader, SplitWithWrongIndexIsRejected) {
  const std::string dir = testing::TempDir();
  WriteSplit(dir + "/m-00001-of-00002.gguf", 0, 2, 2, "t0", 1.0f);
  WriteSplit(dir + "/m-00002-of-00002.gguf", 0, 2, 2, "t1", 2.0f);  // claims to be part 0
  auto ws = WeightSource::Open(dir + "/m-00001-of-00002.gguf");
  ASSERT_FALSE(ws.ok());
  EXPECT_NE(ws.status().message().find("split.no"), std::string::npos);
}

}  // namespace
}  // namespace pocket
