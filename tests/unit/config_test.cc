// Gemma4TextConfig from GGUF and from HF must agree on every golden model, and inconsistent
// configs must fail with a message naming the key.
#include "common/test_util.h"
#include "formats/gguf_writer.h"
#include "model/config.h"

namespace pocket {
namespace {

Gemma4TextConfig Load(const std::string& path) {
  auto ws = WeightSource::Open(path);
  EXPECT_TRUE(ws.ok()) << ws.status().message();
  auto c = LoadTextConfig(**ws);
  EXPECT_TRUE(c.ok()) << c.status().message();
  return c.ok() ? *c : Gemma4TextConfig{};
}

class GoldenConfig : public ::testing::TestWithParam<const char*> {};

TEST_P(GoldenConfig, GgufAndHfAgree) {
  POCKET_REQUIRE_GOLDEN_OR_SKIP();
  const std::string dir = testing::GoldenDir() + "/text/" + GetParam();
  const Gemma4TextConfig g = Load(dir + "/model.gguf");
  const Gemma4TextConfig h = Load(dir + "/hf");
  EXPECT_EQ(g.n_vocab, h.n_vocab);
  EXPECT_EQ(g.n_embd, h.n_embd);
  EXPECT_EQ(g.n_layer, h.n_layer);
  EXPECT_EQ(g.n_head, h.n_head);
  EXPECT_EQ(g.n_head_kv, h.n_head_kv);
  EXPECT_EQ(g.head_dim_swa, h.head_dim_swa);
  EXPECT_EQ(g.head_dim_full, h.head_dim_full);
  EXPECT_EQ(g.layer_types, h.layer_types);
  EXPECT_EQ(g.sliding_window, h.sliding_window);
  EXPECT_EQ(g.n_kv_shared_layers, h.n_kv_shared_layers);
  EXPECT_EQ(g.n_ff, h.n_ff);
  EXPECT_EQ(g.n_embd_per_layer, h.n_embd_per_layer);
  EXPECT_EQ(g.attention_k_eq_v, h.attention_k_eq_v);
  EXPECT_EQ(g.n_expert, h.n_expert);
  EXPECT_EQ(g.n_expert_used, h.n_expert_used);
  EXPECT_EQ(g.n_ff_expert, h.n_ff_expert);
  EXPECT_DOUBLE_EQ(g.rope_theta_full, h.rope_theta_full);
  EXPECT_DOUBLE_EQ(g.rope_theta_swa, h.rope_theta_swa);
  EXPECT_DOUBLE_EQ(g.partial_rotary_factor_full, h.partial_rotary_factor_full);
  EXPECT_NEAR(g.rms_norm_eps, h.rms_norm_eps, 1e-12);
  EXPECT_DOUBLE_EQ(g.final_logit_softcap, h.final_logit_softcap);
  for (int il = 0; il < g.n_layer; ++il) EXPECT_EQ(g.kv_source_layer(il), h.kv_source_layer(il));
}

INSTANTIATE_TEST_SUITE_P(Styles, GoldenConfig, ::testing::Values("e_style", "moe_style", "dense_style"));

TEST(Config, EStyleKvSharingMatchesTheReadme) {
  POCKET_REQUIRE_GOLDEN_OR_SKIP();
  const Gemma4TextConfig c = Load(testing::GoldenDir() + "/text/e_style/model.gguf");
  // golden/text/e_style/README.md: K/V source per layer [0, 1, 2, 3, 2, 2, 2, 3].
  const std::vector<int> want = {0, 1, 2, 3, 2, 2, 2, 3};
  for (int il = 0; il < c.n_layer; ++il) EXPECT_EQ(c.kv_source_layer(il), want[static_cast<size_t>(il)]) << il;
  EXPECT_TRUE(c.has_ple());
  EXPECT_TRUE(c.has_double_wide_mlp());
}

// A minimal valid GGUF decoder header that tests then break one key at a time.
GgufWriter BaseWriter() {
  GgufWriter w;
  w.SetString("general.architecture", "gemma4");
  w.SetU32("gemma4.embedding_length", 8);
  w.SetU32("gemma4.block_count", 2);
  w.SetU32("gemma4.attention.head_count", 2);
  w.SetU32("gemma4.attention.head_count_kv", 1);
  w.SetU32("gemma4.attention.key_length", 4);
  w.SetU32("gemma4.attention.key_length_swa", 4);
  w.SetU32("gemma4.attention.sliding_window", 4);
  w.SetArrayBool("gemma4.attention.sliding_window_pattern", {true, false});
  w.SetU32("gemma4.feed_forward_length", 16);
  return w;
}

Status LoadFrom(GgufWriter& w, bool with_embd = true) {
  if (with_embd) {
    std::vector<float> emb(8 * 4);
    EXPECT_TRUE(w.AddTensor("token_embd.weight", DType::kF32, {8, 4}, emb.data(), emb.size() * 4).ok());
  }
  const std::string path = testing::TempDir() + "/m.gguf";
  EXPECT_TRUE(w.WriteFile(path).ok());
  auto ws = WeightSource::Open(path);
  if (!ws.ok()) return ws.status();
  return LoadTextConfig(**ws).status();
}

TEST(Config, MinimalGgufIsValid) {
  GgufWriter w = BaseWriter();
  EXPECT_TRUE(LoadFrom(w).ok()) << LoadFrom(w).message();
}

TEST(Config, MissingKeyIsNamed) {
  GgufWriter w;
  w.SetString("general.architecture", "gemma4");
  w.SetU32("gemma4.block_count", 2);
  const Status st = LoadFrom(w);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("gemma4.embedding_length"), std::string::npos) << st.message();
}

TEST(Config, MissingEmbeddingTensorIsNamed) {
  GgufWriter w = BaseWriter();
  const Status st = LoadFrom(w, /*with_embd=*/false);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("token_embd.weight"), std::string::npos) << st.message();
}

TEST(Config, InconsistentPerLayerArrays) {
  GgufWriter w;
  w.SetString("general.architecture", "gemma4");
  w.SetU32("gemma4.embedding_length", 8);
  w.SetU32("gemma4.block_count", 2);
  w.SetU32("gemma4.attention.head_count", 2);
  w.SetArrayU32("gemma4.attention.head_count_kv", {3, 3});
  w.SetU32("gemma4.attention.key_length", 4);
  w.SetU32("gemma4.attention.sliding_window", 4);
  w.SetArrayBool("gemma4.attention.sliding_window_pattern", {true, false});
  w.SetArrayU32("gemma4.feed_forward_length", {16, 16, 16});
  Status st = LoadFrom(w);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("gemma4.feed_forward_length"), std::string::npos) << st.message();
}

TEST(Config, HeadsNotDivisible) {
  GgufWriter w;
  w.SetString("general.architecture", "gemma4");
  w.SetU32("gemma4.embedding_length", 8);
  w.SetU32("gemma4.block_count", 2);
  w.SetU32("gemma4.attention.head_count", 2);
  w.SetArrayU32("gemma4.attention.head_count_kv", {3, 3});
  w.SetU32("gemma4.attention.key_length", 4);
  w.SetU32("gemma4.attention.sliding_window", 4);
  w.SetArrayBool("gemma4.attention.sliding_window_pattern", {true, false});
  w.SetU32("gemma4.feed_forward_length", 16);
  const Status st = LoadFrom(w);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("not a multiple of 3 KV heads"), std::string::npos) << st.message();
}

TEST(Config, KvSharingNeedsASourceLayer) {
  GgufWriter w = BaseWriter();
  w.SetU32("gemma4.attention.shared_kv_layers", 1);  // layer 1 (full) has no earlier full layer
  const Status st = LoadFrom(w);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("KV-shared layer 1"), std::string::npos) << st.message();
}

TEST(Config, HfLayerTypesLengthMismatch) {
  const std::string dir = testing::TempDir();
  testing::WriteFile(dir + "/config.json",
                     R"({"text_config":{"vocab_size":4,"hidden_size":8,"num_hidden_layers":3,"num_attention_heads":2,
                        "num_key_value_heads":1,"head_dim":4,"intermediate_size":16,"sliding_window":4,
                        "layer_types":["sliding_attention","full_attention"]}})");
  auto ws = WeightSource::Open(dir);
  ASSERT_TRUE(ws.ok()) << ws.status().message();
  auto c = LoadTextConfig(**ws);
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("text_config.layer_types"), std::string::npos) << c.status().message();
}

TEST(Config, HfAssistantAndUnifiedConfigs) {
  // An MTP assistant checkpoint: backbone width at the top, 4 layers that all read the
  // target's KV cache.
  std::string dir = testing::TempDir();
  testing::WriteFile(dir + "/config.json",
                     R"({"model_type":"gemma4_assistant","backbone_hidden_size":1536,"use_ordered_embeddings":true,
                        "text_config":{"model_type":"gemma4_text","vocab_size":262144,"hidden_size":256,
                        "num_hidden_layers":4,"num_attention_heads":4,"num_key_value_heads":1,"head_dim":256,
                        "global_head_dim":512,"intermediate_size":2048,"sliding_window":512,"num_kv_shared_layers":4,
                        "layer_types":["sliding_attention","sliding_attention","sliding_attention","full_attention"]}})");
  auto ws = WeightSource::Open(dir);
  ASSERT_TRUE(ws.ok()) << ws.status().message();
  auto c = LoadTextConfig(**ws);
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_TRUE(c->is_assistant());
  EXPECT_EQ(c->n_embd_backbone, 1536);
  EXPECT_EQ(c->first_kv_shared_layer(), 0);
  EXPECT_EQ(c->final_logit_softcap, 0.0);
  // The 12B unified text tower: gemma4_unified_text, k_eq_v, one global KV head, no PLE.
  dir = testing::TempDir();
  testing::WriteFile(dir + "/config.json",
                     R"({"model_type":"gemma4_unified","text_config":{"model_type":"gemma4_unified_text",
                        "vocab_size":262144,"hidden_size":3840,"num_hidden_layers":48,"num_attention_heads":16,
                        "num_key_value_heads":8,"num_global_key_value_heads":1,"head_dim":256,"global_head_dim":512,
                        "attention_k_eq_v":true,"intermediate_size":15360,"sliding_window":1024,
                        "final_logit_softcapping":30.0,"max_position_embeddings":262144}})");
  ws = WeightSource::Open(dir);
  ASSERT_TRUE(ws.ok()) << ws.status().message();
  c = LoadTextConfig(**ws);
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_FALSE(c->is_assistant());
  EXPECT_EQ(c->architecture, "gemma4_unified_text");
  EXPECT_EQ(c->n_head_kv[5], 1);
  EXPECT_EQ(c->n_head_kv[4], 8);
  EXPECT_FALSE(c->is_sliding(47));
  EXPECT_TRUE(c->attention_k_eq_v);
  EXPECT_FALSE(c->has_ple());
}

TEST(TensorNames, AssistantHeads) {
  EXPECT_EQ(HfToCanonicalName("pre_projection.weight")->name, "nextn.pre_projection.weight");
  EXPECT_EQ(HfToCanonicalName("post_projection.weight")->name, "nextn.post_projection.weight");
  EXPECT_EQ(HfToCanonicalName("model.layers.3.self_attn.q_proj.weight")->name, "blk.3.attn_q.weight");
}

TEST(Config, MmprojHasNoDecoder) {
  POCKET_REQUIRE_GOLDEN_OR_SKIP();
  auto ws = WeightSource::Open(testing::GoldenDir() + "/vision/gemma4v_test1/mmproj.gguf");
  ASSERT_TRUE(ws.ok());
  EXPECT_FALSE(HasTextDecoder(**ws));
  EXPECT_EQ(LoadTextConfig(**ws).status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace pocket
