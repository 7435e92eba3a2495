// make-test-model: llama.cpp's tensor-type mixtures, the real shapes, the synthetic vocabulary
// with real special ids, determinism, and that pocket loads and runs what it writes.
#include "model/test_model.h"

#include <set>

#include "common/test_util.h"
#include "formats/weight_source.h"
#include "model/config.h"
#include "model/variants.h"
#include "model/weights.h"
#include "quant/mixture.h"
#include "tokenizer/synthetic_vocab.h"
#include "tokenizer/tokenizer.h"

namespace pocket {
namespace {

TEST(Mixture, Q4KMFollowsLlamaCppForE2B) {
  // quant-mixtures.md: ffn_down / attn_v get Q6_K in layers 0-3, 6, 9, ..., 27, 30-34 of 35.
  std::set<int> more_bits = {0, 1, 2, 3, 6, 9, 12, 15, 18, 21, 24, 27, 30, 31, 32, 33, 34};
  for (int il = 0; il < 35; ++il) {
    const DType want = more_bits.count(il) ? DType::kQ6_K : DType::kQ4_K;
    EXPECT_EQ(MixtureTensorType(FileType::kQ4_K_M, "blk." + std::to_string(il) + ".ffn_down.weight", 2, 6144, il, 35), want) << il;
    EXPECT_EQ(MixtureTensorType(FileType::kQ4_K_M, "blk." + std::to_string(il) + ".attn_v.weight", 2, 1536, il, 35), want) << il;
    EXPECT_EQ(MixtureTensorType(FileType::kQ4_K_M, "blk." + std::to_string(il) + ".ffn_up.weight", 2, 1536, il, 35), DType::kQ4_K);
  }
  EXPECT_EQ(MixtureTensorType(FileType::kQ4_K_M, "token_embd.weight", 2, 1536, -1, 35), DType::kQ6_K);
  EXPECT_EQ(MixtureTensorType(FileType::kQ4_K_M, "per_layer_token_embd.weight", 2, 8960, -1, 35), DType::kQ6_K);
  EXPECT_EQ(MixtureTensorType(FileType::kQ4_K_M, "per_layer_model_proj.weight", 2, 1536, -1, 35), DType::kF16);
  EXPECT_EQ(MixtureTensorType(FileType::kQ4_K_M, "blk.0.attn_norm.weight", 1, 1536, 0, 35), DType::kF32);
  EXPECT_EQ(MixtureTensorType(FileType::kQ4_K_M, "blk.0.layer_output_scale.weight", 1, 1, 0, 35), DType::kF32);
  EXPECT_EQ(MixtureTensorType(FileType::kQ4_K_M, "blk.0.ffn_gate_inp.weight", 2, 2816, 0, 30), DType::kF32);
  EXPECT_EQ(MixtureTensorType(FileType::kQ4_K_M, "blk.0.ffn_gate_inp.scale", 1, 2816, 0, 30), DType::kF32);
}

TEST(Mixture, OtherTypesAndFallbacks) {
  EXPECT_EQ(MixtureTensorType(FileType::kQ4_0, "token_embd.weight", 2, 1536, -1, 35), DType::kQ6_K);
  EXPECT_EQ(MixtureTensorType(FileType::kQ4_0, "blk.3.attn_q.weight", 2, 1536, 3, 35), DType::kQ4_0);
  EXPECT_EQ(MixtureTensorType(FileType::kQ8_0, "token_embd.weight", 2, 1536, -1, 35), DType::kQ8_0);
  EXPECT_EQ(MixtureTensorType(FileType::kQ8_0, "per_layer_model_proj.weight", 2, 1536, -1, 35), DType::kF16);
  EXPECT_EQ(MixtureTensorType(FileType::kBF16, "blk.3.attn_q.weight", 2, 1536, 3, 35), DType::kBF16);
  EXPECT_EQ(MixtureTensorType(FileType::kF32, "blk.3.attn_q.weight", 2, 1536, 3, 35), DType::kF32);
  // Rows that are not whole 256-blocks: Q4_K -> Q5_0, Q6_K -> Q8_0 (26B-A4B widths 704, 2112).
  EXPECT_EQ(MixtureTensorType(FileType::kQ4_K_M, "blk.4.ffn_down_exps.weight", 3, 704, 4, 30), DType::kQ5_0);
  EXPECT_EQ(MixtureTensorType(FileType::kQ4_K_M, "blk.0.ffn_down_exps.weight", 3, 704, 0, 30), DType::kQ8_0);
  EXPECT_EQ(MixtureTensorType(FileType::kQ4_K_M, "blk.4.ffn_down.weight", 2, 2112, 4, 30), DType::kQ5_0);
  // Not even whole 32-blocks: F16.
  EXPECT_EQ(MixtureTensorType(FileType::kQ4_0, "blk.0.proj.weight", 2, 8, 0, 4), DType::kF16);
  // Q5_K_M: Q4_K_M's choices with Q5_K as the base type (its fallback: Q5_1).
  EXPECT_EQ(MixtureTensorType(FileType::kQ5_K_M, "blk.3.ffn_down.weight", 2, 6144, 3, 35), DType::kQ6_K);
  EXPECT_EQ(MixtureTensorType(FileType::kQ5_K_M, "blk.4.ffn_down.weight", 2, 6144, 4, 35), DType::kQ5_K);
  EXPECT_EQ(MixtureTensorType(FileType::kQ5_K_M, "blk.4.attn_q.weight", 2, 1536, 4, 35), DType::kQ5_K);
  EXPECT_EQ(MixtureTensorType(FileType::kQ5_K_M, "token_embd.weight", 2, 1536, -1, 35), DType::kQ6_K);
  EXPECT_EQ(MixtureTensorType(FileType::kQ5_K_M, "blk.4.ffn_down_exps.weight", 3, 704, 4, 30), DType::kQ5_1);
  EXPECT_EQ(LlamaFileTypeId(FileType::kQ5_K_M), 17u);
  EXPECT_FALSE(ParseFileType("Q3_K").ok());
  EXPECT_EQ(*ParseFileType("q4_k_m"), FileType::kQ4_K_M);
}

TEST(Variants, RealShapesMatchTheSpecTable) {
  auto e2b = VariantTextConfig("e2b");
  ASSERT_TRUE(e2b.ok()) << e2b.status().message();
  EXPECT_EQ(e2b->n_layer, 35);
  EXPECT_EQ(e2b->first_kv_shared_layer(), 15);
  EXPECT_EQ(e2b->n_ff[14], 6144);
  EXPECT_EQ(e2b->n_ff[15], 12288);
  int n_full = 0;
  for (int il = 0; il < 35; ++il) n_full += !e2b->is_sliding(il);
  EXPECT_EQ(n_full, 7);
  EXPECT_FALSE(e2b->is_sliding(4));
  auto moe = VariantTextConfig("26B-A4B");
  ASSERT_TRUE(moe.ok());
  EXPECT_EQ(moe->n_expert, 128);
  EXPECT_EQ(moe->n_head_kv[5], 2);
  EXPECT_EQ(moe->n_head_kv[4], 8);
  EXPECT_TRUE(moe->attention_k_eq_v);
  for (const std::string& s : VariantShapeNames()) EXPECT_TRUE(VariantTextConfig(s).ok()) << s;
  EXPECT_FALSE(VariantTextConfig("e3b").ok());
}

TEST(Variants, PlannedSizesAreRealistic) {
  // Sizes of the files users download, within a few percent (token tables dominate).
  TestModelOptions o;
  o.shape = "e2b";
  o.type = FileType::kQ8_0;
  auto plan = PlanTestModel(o);
  ASSERT_TRUE(plan.ok()) << plan.status().message();
  const double gib = static_cast<double>(plan->file_bytes) / (1u << 30);
  EXPECT_GT(gib, 4.5);  // ~5.1 B parameters at 8.5 bits
  EXPECT_LT(gib, 5.5);
  o.shape = "31b";
  o.type = FileType::kQ4_K_M;
  plan = PlanTestModel(o);
  ASSERT_TRUE(plan.ok());
  EXPECT_GT(static_cast<double>(plan->file_bytes) / (1u << 30), 15.0);
}

TEST(SyntheticVocab, RealSpecialIds) {
  const SyntheticVocab v = MakeSyntheticGemma4Vocab();
  ASSERT_EQ(v.tokens.size(), 262144u);
  EXPECT_EQ(v.tokens[105], "<|turn>");
  EXPECT_EQ(v.tokens[106], "<turn|>");
  EXPECT_EQ(v.tokens[258880], "<|image|>");
  EXPECT_EQ(v.tokens[238], "<0x00>");
  EXPECT_EQ(v.types[238], 6);
  EXPECT_EQ(v.tokens[236743], "\xE2\x96\x81");
  std::set<std::string> unique(v.tokens.begin(), v.tokens.end());
  EXPECT_EQ(unique.size(), v.tokens.size()) << "pieces must be unique";
}

class TinyModel : public ::testing::Test {
 protected:
  static std::string Write(FileType type, int threads, uint64_t seed, const std::string& name) {
    TestModelOptions o;
    o.shape = "tiny";
    o.type = type;
    o.threads = threads;
    o.seed = seed;
    o.out_path = testing::TempDir() + "/" + name;
    auto plan = WriteTestModel(o);
    EXPECT_TRUE(plan.ok()) << plan.status().message();
    return o.out_path;
  }
};

TEST_F(TinyModel, LoadsBackWithTheSameConfigAndTokenizer) {
  for (FileType type : {FileType::kF32, FileType::kBF16, FileType::kQ8_0, FileType::kQ4_0,
                        FileType::kQ4_K_M, FileType::kQ5_K_M}) {
    const std::string path = Write(type, 2, 0, std::string("tiny-") + FileTypeName(type) + ".gguf");
    auto ws = WeightSource::Open(path);
    ASSERT_TRUE(ws.ok()) << ws.status().message();
    auto c = LoadTextConfig(**ws);
    ASSERT_TRUE(c.ok()) << c.status().message();
    const Gemma4TextConfig want = *VariantTextConfig("tiny");
    EXPECT_EQ(c->n_layer, want.n_layer);
    EXPECT_EQ(c->n_embd, want.n_embd);
    EXPECT_EQ(c->n_vocab, 262144);
    EXPECT_EQ(c->n_ff, want.n_ff);
    EXPECT_EQ(c->n_head_kv, want.n_head_kv);
    EXPECT_EQ(c->layer_types, want.layer_types);
    EXPECT_EQ(c->n_kv_shared_layers, want.n_kv_shared_layers);
    EXPECT_EQ(c->n_embd_per_layer, want.n_embd_per_layer);
    EXPECT_EQ(c->sliding_window, want.sliding_window);
    EXPECT_DOUBLE_EQ(c->partial_rotary_factor_full, 0.25);
    auto w = Gemma4Weights::Bind(**ws, *c);
    EXPECT_TRUE(w.ok()) << w.status().message();
    auto tok = Tokenizer::Load(path);
    ASSERT_TRUE(tok.ok()) << tok.status().message();
    EXPECT_EQ((*tok)->Find("<|turn>"), 105);
    EXPECT_EQ((*tok)->Find("<|tool_response>"), 50);
    EXPECT_TRUE((*tok)->IsEog(106));
    EXPECT_TRUE((*tok)->IsEog(50));
    EXPECT_TRUE((*tok)->IsEog(1));
    Tokenizer::EncodeOptions eo;
    eo.parse_special = true;
    const std::string text = "<|turn>user\nhello there<turn|>\n";
    const std::vector<int32_t> ids = (*tok)->Encode(text, eo);
    EXPECT_EQ(ids.front(), 2);
    EXPECT_EQ(ids[1], 105);
    EXPECT_LT(ids.size(), 16u) << "letters should merge into two-letter pieces";
    EXPECT_EQ((*tok)->Decode(ids, /*special=*/true), "<bos>" + text);
  }
}

TEST_F(TinyModel, AssistantIsLoadableAndRefusesToRunAlone) {
  TestModelOptions o;
  o.shape = "tiny-assistant";
  o.type = FileType::kQ8_0;
  o.out_path = testing::TempDir() + "/assistant.gguf";
  ASSERT_TRUE(WriteTestModel(o).ok());
  auto ws = WeightSource::Open(o.out_path);
  ASSERT_TRUE(ws.ok());
  auto c = LoadTextConfig(**ws);
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->architecture, "gemma4-assistant");
  EXPECT_TRUE(c->is_assistant());
  EXPECT_EQ(c->n_embd_backbone, 32);
  auto w = Gemma4Weights::Bind(**ws, *c);
  ASSERT_TRUE(w.ok()) << w.status().message();
  EXPECT_EQ(w->pre_projection.cols, 64);
  EXPECT_EQ(w->post_projection.rows, 32);
  auto r = testing::RunPocket({"inspect", o.out_path});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("MTP assistant"), std::string::npos) << r.out;
  r = testing::RunPocket({"run", "-m", o.out_path, "-p", "hi"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("assistant"), std::string::npos) << r.err;
  EXPECT_TRUE(PlanTestModel(TestModelOptions{"e2b-assistant", FileType::kQ8_0, "", 0, 0, {}}).ok());
}

TEST_F(TinyModel, DeterministicWhateverTheThreadCount) {
  const std::string a = testing::ReadFile(Write(FileType::kQ4_K_M, 1, 7, "a.gguf"));
  const std::string b = testing::ReadFile(Write(FileType::kQ4_K_M, 2, 7, "b.gguf"));
  const std::string c = testing::ReadFile(Write(FileType::kQ4_K_M, 2, 8, "c.gguf"));
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
}

TEST(MakeTestModelCli, WritesARunnableModelAndRejectsBadUsage) {
  const std::string dir = testing::TempDir();
  const std::string out = dir + "/cli-tiny.gguf";
  auto r = testing::RunPocket({"make-test-model", "--shape", "tiny", "--type", "Q8_0", "--out", out});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  testing::WriteFile(dir + "/tokens.json", "[2, 105, 2364, 107]");
  r = testing::RunPocket({"logits", "-m", out, "--tokens", dir + "/tokens.json", "--out", dir + "/l.f32"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(testing::ReadF32(dir + "/l.f32").size(), 4u * 262144u);
  r = testing::RunPocket({"inspect", out, "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("\"variant\": \"custom\""), std::string::npos) << r.out;
  EXPECT_EQ(testing::RunPocket({"make-test-model", "--shape", "e3b", "--type", "Q8_0", "--out", out}).exit_code, 2);
  EXPECT_EQ(testing::RunPocket({"make-test-model", "--shape", "tiny", "--type", "Q3_K", "--out", out}).exit_code, 2);
  EXPECT_EQ(testing::RunPocket({"make-test-model", "--shape", "tiny", "--type", "Q8_0"}).exit_code, 2);
  r = testing::RunPocket({"make-test-model", "--shape", "tiny", "--type", "Q8_0", "--out", "/nonexistent/dir/x.gguf"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("/nonexistent/dir/x.gguf"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace pocket
