#include "model/test_model.h"

#include <sys/statvfs.h>

#include <atomic>
#include <cmath>
#include <cstdio>
#include <mutex>
#include <vector>

#include "base/thread_pool.h"
#include "formats/gguf_writer.h"
#include "model/variants.h"
#include "quant/quant.h"
#include "tokenizer/synthetic_vocab.h"

namespace pocket {
namespace {

// How a tensor's values are drawn. Weights are uniform with unit output variance; norms and
// scales sit near 1 so activations stay in a realistic range through many layers.
enum class Init { kWeight, kNearOne, kLayerScale, kRopeFreqs };

struct TensorSpec {
  std::string name;
  std::vector<int64_t> ne;  // ggml order
  int layer = -1;
  Init init = Init::kWeight;
};

std::vector<TensorSpec> TensorList(const Gemma4TextConfig& c) {
  std::vector<TensorSpec> t;
  const int64_t H = c.n_embd, V = c.n_vocab, P = c.n_embd_per_layer, LP = int64_t{c.n_layer} * P;
  t.push_back({"token_embd.weight", {H, V}});
  if (c.has_ple()) {
    t.push_back({"per_layer_token_embd.weight", {LP, c.n_vocab_per_layer}});
    t.push_back({"per_layer_model_proj.weight", {H, LP}});
    t.push_back({"per_layer_proj_norm.weight", {P}, -1, Init::kNearOne});
  }
  t.push_back({"rope_freqs.weight", {c.head_dim_full / 2}, -1, Init::kRopeFreqs});
  if (c.is_assistant()) {
    t.push_back({"nextn.pre_projection.weight", {2 * c.n_embd_backbone, H}});
    t.push_back({"nextn.post_projection.weight", {H, c.n_embd_backbone}});
  }
  for (int il = 0; il < c.n_layer; ++il) {
    const std::string p = "blk." + std::to_string(il) + ".";
    const int64_t d = c.head_dim(il), nq = c.n_head, nkv = c.n_head_kv[static_cast<size_t>(il)];
    const int64_t F = c.n_ff[static_cast<size_t>(il)];
    auto add = [&](const std::string& n, std::vector<int64_t> ne, Init init = Init::kWeight) {
      t.push_back({p + n, std::move(ne), il, init});
    };
    add("attn_norm.weight", {H}, Init::kNearOne);
    add("attn_q.weight", {H, nq * d});
    add("attn_q_norm.weight", {d}, Init::kNearOne);
    if (il < c.first_kv_shared_layer()) {
      add("attn_k.weight", {H, nkv * d});
      if (c.is_sliding(il) || !c.attention_k_eq_v) add("attn_v.weight", {H, nkv * d});
      add("attn_k_norm.weight", {d}, Init::kNearOne);
    }
    add("attn_output.weight", {nq * d, H});
    add("post_attention_norm.weight", {H}, Init::kNearOne);
    add("ffn_norm.weight", {H}, Init::kNearOne);
    add("ffn_gate.weight", {H, F});
    add("ffn_up.weight", {H, F});
    add("ffn_down.weight", {F, H});
    add("post_ffw_norm.weight", {H}, Init::kNearOne);
    add("layer_output_scale.weight", {1}, Init::kLayerScale);
    if (c.has_ple()) {
      add("inp_gate.weight", {H, P});
      add("proj.weight", {P, H});
      add("post_norm.weight", {H}, Init::kNearOne);
    }
    if (c.has_moe()) {
      const int64_t E = c.n_expert, Fe = c.n_ff_expert;
      add("ffn_gate_inp.weight", {H, E});
      add("ffn_gate_inp.scale", {H}, Init::kNearOne);
      add("ffn_down_exps.scale", {E}, Init::kNearOne);
      add("ffn_gate_up_exps.weight", {H, 2 * Fe, E});
      add("ffn_down_exps.weight", {Fe, H, E});
      add("pre_ffw_norm_2.weight", {H}, Init::kNearOne);
      add("post_ffw_norm_1.weight", {H}, Init::kNearOne);
      add("post_ffw_norm_2.weight", {H}, Init::kNearOne);
    }
  }
  t.push_back({"output_norm.weight", {H}, -1, Init::kNearOne});
  return t;
}

uint64_t Fnv1a(const std::string& s) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char ch : s) h = (h ^ ch) * 1099511628211ull;
  return h;
}

uint64_t SplitMix(uint64_t* state) {
  uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// Row `row` of tensor `spec`, deterministic in (seed, name, row).
void FillRow(const TensorSpec& spec, uint64_t seed, int64_t row, float* out, int64_t n) {
  if (spec.init == Init::kRopeFreqs) {
    // 1 for the rotated pairs of the proportional partial RoPE (a quarter), 1e30 = unrotated.
    for (int64_t i = 0; i < n; ++i) out[i] = i < n / 4 ? 1.0f : 1e30f;
    return;
  }
  uint64_t state = seed ^ Fnv1a(spec.name) ^ (static_cast<uint64_t>(row) + 1) * 0xD1B54A32D192ED03ull;
  const float a = std::sqrt(3.0f / static_cast<float>(spec.ne[0]));
  for (int64_t i = 0; i < n; ++i) {
    const float u = static_cast<float>(SplitMix(&state) >> 40) * (2.0f / 16777216.0f) - 1.0f;  // [-1, 1)
    switch (spec.init) {
      case Init::kWeight: out[i] = a * u; break;
      case Init::kNearOne: out[i] = 1.0f + 0.1f * u; break;
      case Init::kLayerScale: out[i] = 0.75f + 0.25f * u; break;
      case Init::kRopeFreqs: break;
    }
  }
}

void SetMetadata(const Gemma4TextConfig& c, const TestModelOptions& o, GgufWriter* w) {
  const std::string a = c.architecture + ".";
  w->SetString("general.architecture", c.architecture);
  w->SetString("general.type", "model");
  w->SetString("general.name", "pocket-test-" + o.shape + " (random weights)");
  w->SetU32("general.file_type", LlamaFileTypeId(o.type));
  w->SetU32("general.quantization_version", 2);
  w->SetU32(a + "block_count", static_cast<uint32_t>(c.n_layer));
  w->SetU32(a + "context_length", static_cast<uint32_t>(c.context_length));
  w->SetU32(a + "embedding_length", static_cast<uint32_t>(c.n_embd));
  std::vector<uint32_t> ff(c.n_ff.begin(), c.n_ff.end()), kv(c.n_head_kv.begin(), c.n_head_kv.end());
  auto uniform = [](const std::vector<uint32_t>& v) {
    for (uint32_t x : v) if (x != v.front()) return false;
    return true;
  };
  if (uniform(ff)) w->SetU32(a + "feed_forward_length", ff.front()); else w->SetArrayU32(a + "feed_forward_length", ff);
  w->SetU32(a + "attention.head_count", static_cast<uint32_t>(c.n_head));
  if (uniform(kv)) w->SetU32(a + "attention.head_count_kv", kv.front()); else w->SetArrayU32(a + "attention.head_count_kv", kv);
  w->SetF32(a + "rope.freq_base", static_cast<float>(c.rope_theta_full));
  w->SetF32(a + "rope.freq_base_swa", static_cast<float>(c.rope_theta_swa));
  w->SetF32(a + "attention.layer_norm_rms_epsilon", static_cast<float>(c.rms_norm_eps));
  w->SetU32(a + "attention.key_length", static_cast<uint32_t>(c.head_dim_full));
  w->SetU32(a + "attention.value_length", static_cast<uint32_t>(c.head_dim_full));
  w->SetU32(a + "attention.key_length_swa", static_cast<uint32_t>(c.head_dim_swa));
  w->SetU32(a + "attention.value_length_swa", static_cast<uint32_t>(c.head_dim_swa));
  if (c.final_logit_softcap > 0) w->SetF32(a + "final_logit_softcapping", static_cast<float>(c.final_logit_softcap));
  if (c.is_assistant()) {
    w->SetU32(a + "embedding_length_out", static_cast<uint32_t>(c.n_embd_backbone));
    w->SetU32(a + "nextn_predict_layers", static_cast<uint32_t>(c.n_layer));
  }
  w->SetU32(a + "attention.sliding_window", static_cast<uint32_t>(c.sliding_window));
  w->SetU32(a + "attention.shared_kv_layers", static_cast<uint32_t>(c.n_kv_shared_layers));
  w->SetU32(a + "embedding_length_per_layer_input", static_cast<uint32_t>(c.n_embd_per_layer));
  std::vector<bool> pattern;
  for (LayerType t : c.layer_types) pattern.push_back(t == LayerType::kSliding);
  w->SetArrayBool(a + "attention.sliding_window_pattern", pattern);
  w->SetU32(a + "rope.dimension_count", static_cast<uint32_t>(c.head_dim_full));
  w->SetU32(a + "rope.dimension_count_swa", static_cast<uint32_t>(c.head_dim_swa));
  if (c.has_moe()) {
    w->SetU32(a + "expert_count", static_cast<uint32_t>(c.n_expert));
    w->SetU32(a + "expert_used_count", static_cast<uint32_t>(c.n_expert_used));
    w->SetU32(a + "expert_feed_forward_length", static_cast<uint32_t>(c.n_ff_expert));
  }
  SyntheticVocab vocab = MakeSyntheticGemma4Vocab(c.n_vocab);
  w->SetString("tokenizer.ggml.model", "gemma4");
  w->SetArrayString("tokenizer.ggml.tokens", vocab.tokens);
  w->SetArrayF32("tokenizer.ggml.scores", std::vector<float>(vocab.tokens.size(), 0.0f));
  w->SetArrayI32("tokenizer.ggml.token_type", vocab.types);
  w->SetArrayString("tokenizer.ggml.merges", vocab.merges);
  w->SetU32("tokenizer.ggml.bos_token_id", 2);
  w->SetU32("tokenizer.ggml.eos_token_id", 1);
  w->SetU32("tokenizer.ggml.unknown_token_id", 3);
  w->SetU32("tokenizer.ggml.padding_token_id", 0);
  w->SetBool("tokenizer.ggml.add_bos_token", true);
  w->SetBool("tokenizer.ggml.add_eos_token", false);
  w->SetBool("tokenizer.ggml.add_space_prefix", false);
}

struct Prepared {
  TestModelPlan plan;
  std::unique_ptr<GgufWriter> writer;
  std::shared_ptr<ThreadPool> pool;
};

Result<Prepared> Prepare(const TestModelOptions& o) {
  ASSIGN_OR_RETURN(Gemma4TextConfig c, VariantTextConfig(o.shape));
  Prepared p;
  p.plan.config = c;
  p.writer = std::make_unique<GgufWriter>();
  p.pool = std::make_shared<ThreadPool>(o.threads > 0 ? o.threads : ThreadPool::HardwareThreads());
  SetMetadata(c, o, p.writer.get());
  for (const TensorSpec& spec0 : TensorList(c)) {
    auto spec = std::make_shared<TensorSpec>(spec0);
    const DType type = MixtureTensorType(o.type, spec->name, static_cast<int>(spec->ne.size()), spec->ne[0],
                                         spec->layer, c.n_layer);
    ASSIGN_OR_RETURN(const uint64_t row_bytes, RowBytes(type, spec->ne[0]));
    const uint64_t seed = o.seed;
    std::shared_ptr<ThreadPool> pool = p.pool;
    auto rows = [spec, type, row_bytes, seed, pool](int64_t first, int64_t n_rows, uint8_t* dst) -> Status {
      const int64_t ne0 = spec->ne[0];
      std::vector<std::vector<float>> scratch(static_cast<size_t>(pool->size()), std::vector<float>(static_cast<size_t>(ne0)));
      std::mutex mu;
      Status first_error;
      pool->ParallelFor(n_rows, [&](int64_t r, int thread) {
        float* buf = scratch[static_cast<size_t>(thread)].data();
        FillRow(*spec, seed, first + r, buf, ne0);
        Status s = QuantizeRow(type, buf, dst + static_cast<uint64_t>(r) * row_bytes, ne0);
        if (!s.ok()) {
          std::lock_guard<std::mutex> lock(mu);
          if (first_error.ok()) first_error = s;
        }
      });
      return first_error;
    };
    RETURN_IF_ERROR(p.writer->AddTensorRows(spec->name, type, spec->ne, rows));
  }
  p.plan.n_tensors = p.writer->n_tensors();
  p.plan.file_bytes = p.writer->FileBytes();
  return p;
}

std::string ParentDir(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

}  // namespace

Result<TestModelPlan> PlanTestModel(const TestModelOptions& options) {
  ASSIGN_OR_RETURN(Prepared p, Prepare(options));
  return p.plan;
}

Result<TestModelPlan> WriteTestModel(const TestModelOptions& options) {
  if (options.out_path.empty()) return InvalidArgument("no output path given");
  ASSIGN_OR_RETURN(Prepared p, Prepare(options));
  struct statvfs fs;
  const std::string dir = ParentDir(options.out_path);
  if (statvfs(dir.c_str(), &fs) == 0) {
    const uint64_t free_bytes = static_cast<uint64_t>(fs.f_bavail) * fs.f_frsize;
    const uint64_t need = p.plan.file_bytes + (64u << 20);
    if (free_bytes < need) {
      return ResourceExhausted(StrFormat("%s: a %s %s model needs %.2f GiB but only %.2f GiB is free in %s",
                                         options.out_path.c_str(), options.shape.c_str(), FileTypeName(options.type),
                                         static_cast<double>(need) / (1u << 30), static_cast<double>(free_bytes) / (1u << 30),
                                         dir.c_str()));
    }
  }
  if (options.progress) p.writer->set_progress(options.progress);
  const std::string part = options.out_path + ".part";
  Status s = p.writer->WriteFile(part);
  if (!s.ok()) {
    std::remove(part.c_str());
    return s;
  }
  if (std::rename(part.c_str(), options.out_path.c_str()) != 0) {
    std::remove(part.c_str());
    return IoError(options.out_path + ": cannot rename the finished file into place");
  }
  return p.plan;
}

}  // namespace pocket
