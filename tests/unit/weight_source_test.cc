// WeightSource over HF folders: config flattening, sharded index, HF -> GGUF names, and the
// folder-level errors (missing shards, path traversal, mismatched index).
#include "formats/weight_source.h"

#include <cstring>

#include "base/mapped_file.h"
#include "common/test_util.h"
#include "formats/tensor_names.h"

namespace pocket {
namespace {

std::string Safetensors(const std::vector<std::pair<std::string, std::vector<int>>>& tensors) {
  std::string header = "{";
  size_t off = 0;
  for (const auto& [name, shape] : tensors) {
    size_t n = 4;
    std::string s;
    for (int d : shape) {
      n *= static_cast<size_t>(d);
      if (!s.empty()) s += ',';
      s += std::to_string(d);
    }
    if (header.size() > 1) header += ",";
    header += "\"" + name + "\":{\"dtype\":\"F32\",\"shape\":[" + s + "],\"data_offsets\":[" + std::to_string(off) +
              "," + std::to_string(off + n) + "]}";
    off += n;
  }
  header += "}";
  std::string out(8, '\0');
  const uint64_t len = header.size();
  std::memcpy(out.data(), &len, 8);
  return out + header + std::string(off, '\0');
}

TEST(TensorNames, TextDecoderNames) {
  EXPECT_EQ(HfToCanonicalName("model.language_model.embed_tokens.weight")->name, "token_embd.weight");
  EXPECT_EQ(HfToCanonicalName("model.embed_tokens.weight")->name, "token_embd.weight");  // text-only export
  EXPECT_EQ(HfToCanonicalName("model.language_model.layers.12.self_attn.q_proj.weight")->name, "blk.12.attn_q.weight");
  EXPECT_EQ(HfToCanonicalName("model.language_model.layers.3.layer_scalar")->name, "blk.3.layer_output_scale.weight");
  EXPECT_EQ(HfToCanonicalName("model.language_model.layers.0.router.scale")->name, "blk.0.ffn_gate_inp.scale");
  EXPECT_EQ(HfToCanonicalName("model.language_model.layers.0.pre_feedforward_layernorm_2.weight")->name,
            "blk.0.pre_ffw_norm_2.weight");
  EXPECT_EQ(HfToCanonicalName("model.language_model.layers.0.experts.gate_up_proj")->name, "blk.0.ffn_gate_up_exps.weight");
  EXPECT_EQ(HfToCanonicalName("lm_head.weight")->name, "output.weight");
  EXPECT_FALSE(HfToCanonicalName("model.language_model.layers.x.self_attn.q_proj.weight").has_value());
  EXPECT_FALSE(HfToCanonicalName("something.else").has_value());
}

TEST(TensorNames, EncoderNamesAndTransforms) {
  auto q = HfToCanonicalName("model.vision_tower.encoder.layers.1.self_attn.q_proj.linear.weight");
  EXPECT_EQ(q->name, "v.blk.1.attn_q.weight");
  EXPECT_EQ(HfToCanonicalName("model.vision_tower.encoder.layers.1.self_attn.q_proj.input_min")->name,
            "v.blk.1.attn_q.input_min");
  auto patch = HfToCanonicalName("model.vision_tower.patch_embedder.input_proj.weight");
  EXPECT_EQ(patch->transform, TensorTransform::kPatchEmbedHwcToChw);
  auto pds = HfToCanonicalName("model.audio_tower.layers.0.self_attn.per_dim_scale");
  EXPECT_EQ(pds->name, "a.blk.0.per_dim_scale.weight");
  EXPECT_EQ(pds->transform, TensorTransform::kSoftplus);
  // The conv norms swap names between the formats.
  EXPECT_EQ(HfToCanonicalName("model.audio_tower.layers.0.lconv1d.pre_layer_norm.weight")->name, "a.blk.0.conv_norm.weight");
  EXPECT_EQ(HfToCanonicalName("model.audio_tower.layers.0.lconv1d.conv_norm.weight")->name, "a.blk.0.norm_conv.weight");
  EXPECT_EQ(HfToCanonicalName("model.embed_audio.embedding_projection.weight")->name, "mm.a.input_projection.weight");
}

class HfFolder : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::TempDir();
    testing::WriteFile(dir_ + "/config.json",
                       R"({"model_type":"gemma4","text_config":{"hidden_size":8,"layer_types":["sliding_attention","full_attention"],
                           "rope_parameters":{"full_attention":{"rope_theta":1000000.0}},"num_global_key_value_heads":null,
                           "eos":[1,106]}})");
    testing::WriteFile(dir_ + "/generation_config.json", R"({"top_k":64,"temperature":1.0})");
    testing::WriteFile(dir_ + "/tokenizer.json", "{}");
  }
  std::string dir_;
};

TEST_F(HfFolder, FlattensConfigAndFindsSideFiles) {
  testing::WriteFile(dir_ + "/model.safetensors", Safetensors({{"model.language_model.norm.weight", {8}}}));
  auto ws = WeightSource::Open(dir_);
  ASSERT_TRUE(ws.ok()) << ws.status().message();
  const Metadata& md = (*ws)->metadata();
  EXPECT_EQ(*md.GetInt("text_config.hidden_size"), 8);
  EXPECT_EQ(*md.GetDouble("text_config.rope_parameters.full_attention.rope_theta"), 1e6);
  EXPECT_TRUE(md.Find("text_config.num_global_key_value_heads")->is_null());
  EXPECT_EQ(*md.GetStringArray("text_config.layer_types"),
            (std::vector<std::string>{"sliding_attention", "full_attention"}));
  EXPECT_EQ(*md.GetIntArray("text_config.eos"), (std::vector<int64_t>{1, 106}));
  EXPECT_EQ(*md.GetInt("generation_config.top_k"), 64);
  EXPECT_TRUE((*ws)->has_tokenizer_json());
  EXPECT_FALSE((*ws)->has_chat_template());
  const TensorInfo* t = (*ws)->Find("output_norm.weight");
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->original_name, "model.language_model.norm.weight");
  EXPECT_EQ((*ws)->format(), SourceFormat::kHfFolder);
}

TEST_F(HfFolder, ShardedIndex) {
  testing::WriteFile(dir_ + "/model-00001-of-00002.safetensors",
                     Safetensors({{"model.language_model.layers.0.input_layernorm.weight", {8}}}));
  testing::WriteFile(dir_ + "/model-00002-of-00002.safetensors",
                     Safetensors({{"model.language_model.layers.1.input_layernorm.weight", {8}}}));
  testing::WriteFile(dir_ + "/model.safetensors.index.json",
                     R"({"metadata":{"total_size":64},"weight_map":{
                        "model.language_model.layers.0.input_layernorm.weight":"model-00001-of-00002.safetensors",
                        "model.language_model.layers.1.input_layernorm.weight":"model-00002-of-00002.safetensors"}})");
  auto ws = WeightSource::Open(dir_);
  ASSERT_TRUE(ws.ok()) << ws.status().message();
  EXPECT_EQ((*ws)->files().size(), 2u);
  ASSERT_NE((*ws)->Find("blk.1.attn_norm.weight"), nullptr);
  EXPECT_EQ((*ws)->Find("blk.1.attn_norm.weight")->source_index, 1);
}

TEST_F(HfFolder, IndexErrors) {
  testing::WriteFile(dir_ + "/model-00001-of-00001.safetensors", Safetensors({{"model.norm.weight", {8}}}));
  auto expect_error = [&](const std::string& index, const std::string& needle) {
    testing::WriteFile(dir_ + "/model.safetensors.index.json", index);
    auto ws = WeightSource::Open(dir_);
    ASSERT_FALSE(ws.ok()) << index;
    EXPECT_NE(ws.status().message().find(needle), std::string::npos) << ws.status().message();
  };
  expect_error("[]", "expected a JSON object");
  expect_error("{\"weight_map\":5}", "weight_map");
  expect_error("{\"weight_map\":{\"model.norm.weight\":\"../../etc/passwd\"}}", "not a file in the folder");
  expect_error("{\"weight_map\":{\"model.norm.weight\":\"missing.safetensors\"}}", "missing");
  expect_error("{\"weight_map\":{\"model.norm.weight\":\"model-00001-of-00001.safetensors\",\"model.x\":\"model-00001-of-00001.safetensors\"}}",
               "'model.x' is listed but not in any shard");
  expect_error("{not json", "not valid JSON");
}

TEST_F(HfFolder, BadConfigJson) {
  testing::WriteFile(dir_ + "/config.json", "[1,2]");
  auto ws = WeightSource::Open(dir_);
  ASSERT_FALSE(ws.ok());
  EXPECT_NE(ws.status().message().find("config.json"), std::string::npos);
}

TEST(WeightSource, NotAModel) {
  const std::string dir = testing::TempDir();
  testing::WriteFile(dir + "/notes.txt", "hello");
  auto ws = WeightSource::Open(dir + "/notes.txt");
  ASSERT_FALSE(ws.ok());
  EXPECT_NE(ws.status().message().find("not a model file"), std::string::npos);
  auto empty_dir = WeightSource::Open(testing::TempDir());
  ASSERT_FALSE(empty_dir.ok());
  EXPECT_NE(empty_dir.status().message().find("not a Hugging Face model folder"), std::string::npos);
  auto missing = WeightSource::Open(dir + "/nope");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace pocket
