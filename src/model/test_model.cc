#include "model/test_model.h"

#include <sys/statvfs.h>

#include <atomic>
#include <cctype>
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
enum class Init { kWeight, kNearOne, kLayerScale, kRopeFreqs, kSmall, kBoundLow, kBoundHigh };

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
      case Init::kSmall: out[i] = 0.1f * u; break;
      case Init::kBoundLow: out[i] = -4.0f + 0.5f * u; break;
      case Init::kBoundHigh: out[i] = 4.0f + 0.5f * u; break;
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

// ---- Random projectors (mmproj) ----

struct MmprojShape {
  bool vision = false, unified = false, audio = false;
  int64_t v_embd = 0, v_ff = 0, v_pos = 0;
  int v_layers = 0, v_heads = 0;
  bool v_clipped = false, v_standardize = false;
  int64_t a_embd = 0, a_ff = 0, a_out = 0;
  int a_layers = 0, a_heads = 0;
  int64_t text_embd = 0;
};

Result<MmprojShape> MmprojShapeFor(std::string shape, const Gemma4TextConfig& c) {
  for (char& ch : shape) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  MmprojShape m;
  m.text_embd = c.n_embd;
  m.vision = true;
  if (shape == "e2b" || shape == "e4b") {
    m.v_embd = 768, m.v_layers = 16, m.v_heads = 12, m.v_ff = 3072, m.v_pos = 10240, m.v_clipped = true;
    m.audio = true;
    m.a_embd = 1024, m.a_layers = 12, m.a_heads = 8, m.a_ff = 4096, m.a_out = 1536;
  } else if (shape == "26b-a4b" || shape == "31b") {
    m.v_embd = 1152, m.v_layers = 27, m.v_heads = 16, m.v_ff = 4304, m.v_pos = 10240, m.v_standardize = true;
  } else if (shape == "12b") {
    m.unified = true, m.audio = true;
    m.v_embd = c.n_embd, m.v_pos = 1120;
  } else if (shape == "tiny") {
    m.v_embd = 32, m.v_layers = 2, m.v_heads = 2, m.v_ff = 64, m.v_pos = 128, m.v_clipped = true;
    m.audio = true;
    m.a_embd = 32, m.a_layers = 2, m.a_heads = 2, m.a_ff = 64, m.a_out = 48;
  } else {
    return InvalidArgument("shape '" + shape + "' has no vision/audio projector");
  }
  return m;
}

std::vector<TensorSpec> MmprojTensorList(const MmprojShape& m) {
  std::vector<TensorSpec> t;
  auto add = [&](const std::string& n, std::vector<int64_t> ne, Init init = Init::kWeight) { t.push_back({n, std::move(ne), -1, init}); };
  auto bounds = [&](const std::string& p) {
    add(p + ".input_min", {1}, Init::kBoundLow);
    add(p + ".input_max", {1}, Init::kBoundHigh);
    add(p + ".output_min", {1}, Init::kBoundLow);
    add(p + ".output_max", {1}, Init::kBoundHigh);
  };
  const int64_t D = m.v_embd, H = m.text_embd;
  if (m.vision && m.unified) {
    const int64_t P = 48 * 48 * 3;
    add("v.patch_norm.1.weight", {P}, Init::kNearOne);
    add("v.patch_norm.1.bias", {P}, Init::kSmall);
    add("v.patch_embd.weight", {P, D});
    add("v.patch_embd.bias", {D}, Init::kSmall);
    add("v.patch_norm.2.weight", {D}, Init::kNearOne);
    add("v.patch_norm.2.bias", {D}, Init::kSmall);
    add("v.position_embd.weight", {D, m.v_pos, 2});
    add("v.patch_norm.3.weight", {D}, Init::kNearOne);
    add("v.patch_norm.3.bias", {D}, Init::kSmall);
    add("mm.input_projection.weight", {D, H});
  } else if (m.vision) {
    const int64_t hd = D / m.v_heads, F = m.v_ff;
    add("v.patch_embd.weight", {16, 16, 3, D});
    add("v.position_embd.weight", {D, m.v_pos, 2});
    for (int il = 0; il < m.v_layers; ++il) {
      const std::string p = "v.blk." + std::to_string(il) + ".";
      add(p + "ln1.weight", {D}, Init::kNearOne);
      for (const char* n : {"attn_q", "attn_k", "attn_v", "attn_out"}) {
        add(p + n + ".weight", {D, D});
        if (m.v_clipped) bounds(p + n);
      }
      add(p + "attn_q_norm.weight", {hd}, Init::kNearOne);
      add(p + "attn_k_norm.weight", {hd}, Init::kNearOne);
      add(p + "attn_post_norm.weight", {D}, Init::kNearOne);
      add(p + "ln2.weight", {D}, Init::kNearOne);
      add(p + "ffn_gate.weight", {D, F});
      add(p + "ffn_up.weight", {D, F});
      add(p + "ffn_down.weight", {F, D});
      if (m.v_clipped) {
        for (const char* n : {"ffn_gate", "ffn_up", "ffn_down"}) bounds(p + n);
      }
      add(p + "ffn_post_norm.weight", {D}, Init::kNearOne);
    }
    if (m.v_standardize) {
      add("v.std_bias", {D}, Init::kSmall);
      add("v.std_scale", {D}, Init::kNearOne);
    }
    add("mm.input_projection.weight", {D, H});
  }
  if (m.audio && m.unified) {
    add("mm.a.input_projection.weight", {640, H});
  } else if (m.audio) {
    const int64_t A = m.a_embd, F = m.a_ff, hd = A / m.a_heads;
    add("a.conv1d.0.weight", {3, 3, 1, 128});
    add("a.conv1d.0.norm.weight", {128}, Init::kNearOne);
    add("a.conv1d.1.weight", {3, 3, 128, 32});
    add("a.conv1d.1.norm.weight", {32}, Init::kNearOne);
    add("a.input_projection.weight", {32 * 32, A});
    for (int il = 0; il < m.a_layers; ++il) {
      const std::string p = "a.blk." + std::to_string(il) + ".";
      for (const char* sfx : {"", "_1"}) {
        add(p + "ffn_norm" + sfx + ".weight", {A}, Init::kNearOne);
        add(p + "ffn_up" + sfx + ".weight", {A, F});
        bounds(p + "ffn_up" + sfx);
        add(p + "ffn_down" + sfx + ".weight", {F, A});
        bounds(p + "ffn_down" + sfx);
        add(p + "ffn_post_norm" + sfx + ".weight", {A}, Init::kNearOne);
      }
      add(p + "attn_pre_norm.weight", {A}, Init::kNearOne);
      add(p + "attn_post_norm.weight", {A}, Init::kNearOne);
      add(p + "ln2.weight", {A}, Init::kNearOne);
      for (const char* n : {"attn_q", "attn_k", "attn_v", "attn_out"}) {
        add(p + n + ".weight", {A, A});
        bounds(p + n);
      }
      add(p + "attn_k_rel.weight", {A, A});
      add(p + "per_dim_scale.weight", {hd}, Init::kNearOne);
      add(p + "conv_norm.weight", {A}, Init::kNearOne);
      add(p + "conv_pw1.weight", {A, 2 * A});
      bounds(p + "conv_pw1");
      add(p + "conv_dw.weight", {5, A});
      add(p + "norm_conv.weight", {A}, Init::kNearOne);
      add(p + "conv_pw2.weight", {A, A});
      bounds(p + "conv_pw2");
    }
    add("a.pre_encode.out.weight", {A, m.a_out});
    add("a.pre_encode.out.bias", {m.a_out}, Init::kSmall);
    add("mm.a.input_projection.weight", {m.a_out, H});
  }
  return t;
}

void SetMmprojMetadata(const MmprojShape& m, const std::string& shape, GgufWriter* w) {
  w->SetString("general.architecture", "clip");
  w->SetString("general.type", "mmproj");
  w->SetString("general.name", "pocket-test-" + shape + "-mmproj (random weights)");
  w->SetBool("clip.has_vision_encoder", m.vision);
  w->SetBool("clip.has_audio_encoder", m.audio);
  if (m.vision) {
    w->SetString("clip.vision.projector_type", m.unified ? "gemma4uv" : "gemma4v");
    w->SetU32("clip.vision.projection_dim", static_cast<uint32_t>(m.text_embd));
    w->SetU32("clip.vision.image_size", 224);
    w->SetU32("clip.vision.patch_size", 16);
    w->SetU32("clip.vision.embedding_length", static_cast<uint32_t>(m.v_embd));
    w->SetU32("clip.vision.feed_forward_length", static_cast<uint32_t>(m.v_ff));
    w->SetU32("clip.vision.block_count", static_cast<uint32_t>(m.v_layers));
    w->SetU32("clip.vision.attention.head_count", static_cast<uint32_t>(m.v_heads));
    w->SetF32("clip.vision.attention.layer_norm_epsilon", 1e-6f);
    w->SetArrayF32("clip.vision.image_mean", {0.0f, 0.0f, 0.0f});
    w->SetArrayF32("clip.vision.image_std", {1.0f, 1.0f, 1.0f});
    w->SetBool("clip.use_gelu", true);
  }
  if (m.audio) {
    w->SetString("clip.audio.projector_type", m.unified ? "gemma4ua" : "gemma4a");
    w->SetU32("clip.audio.projection_dim", static_cast<uint32_t>(m.text_embd));
    w->SetU32("clip.audio.num_mel_bins", m.unified ? 640 : 128);
    w->SetU32("clip.audio.embedding_length", static_cast<uint32_t>(m.unified ? 640 : m.a_embd));
    w->SetU32("clip.audio.feed_forward_length", static_cast<uint32_t>(m.a_ff));
    w->SetU32("clip.audio.block_count", static_cast<uint32_t>(m.a_layers));
    w->SetU32("clip.audio.attention.head_count", static_cast<uint32_t>(m.a_heads));
    w->SetF32("clip.audio.attention.layer_norm_epsilon", 1e-6f);
  }
}

// Projector tensor types: matrices follow the file type (F32, else F16; Q8_0 for quantized
// types, as published mmproj files keep at least 8 bits); vectors, tables and convs stay F32.
DType MmprojTensorType(FileType ft, const TensorSpec& t) {
  const bool matrix = t.ne.size() == 2 && t.ne[0] >= 32 && t.ne[1] > 1 && t.name.find("position_embd") == std::string::npos &&
                      t.name.find("conv_dw") == std::string::npos;
  const bool conv = t.name == "v.patch_embd.weight" && t.ne.size() == 4;
  if (!matrix && !conv) return DType::kF32;
  if (ft == FileType::kF32) return DType::kF32;
  if (matrix && ft != FileType::kF16 && ft != FileType::kBF16 && t.ne[0] % 32 == 0) {
    return DType::kQ8_0;
  }
  return DType::kF16;
}

struct Prepared {
  TestModelPlan plan;
  std::unique_ptr<GgufWriter> writer;
  std::shared_ptr<ThreadPool> pool;
};

Result<Prepared> Prepare(const TestModelOptions& o, bool mmproj) {
  ASSIGN_OR_RETURN(Gemma4TextConfig c, VariantTextConfig(o.shape));
  Prepared p;
  p.plan.config = c;
  p.writer = std::make_unique<GgufWriter>();
  p.pool = std::make_shared<ThreadPool>(o.threads > 0 ? o.threads : ThreadPool::HardwareThreads());
  std::vector<TensorSpec> specs;
  if (mmproj) {
    ASSIGN_OR_RETURN(MmprojShape m, MmprojShapeFor(o.shape, c));
    SetMmprojMetadata(m, o.shape, p.writer.get());
    specs = MmprojTensorList(m);
  } else {
    SetMetadata(c, o, p.writer.get());
    specs = TensorList(c);
  }
  for (const TensorSpec& spec0 : specs) {
    auto spec = std::make_shared<TensorSpec>(spec0);
    const DType type = mmproj ? MmprojTensorType(o.type, *spec)
                              : MixtureTensorType(o.type, spec->name, static_cast<int>(spec->ne.size()), spec->ne[0],
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
  ASSIGN_OR_RETURN(Prepared p, Prepare(options, /*mmproj=*/false));
  return p.plan;
}

static Result<TestModelPlan> Write(const TestModelOptions& options, bool mmproj);

Result<TestModelPlan> WriteTestModel(const TestModelOptions& options) { return Write(options, false); }
Result<TestModelPlan> WriteTestMmproj(const TestModelOptions& options) { return Write(options, true); }

static Result<TestModelPlan> Write(const TestModelOptions& options, bool mmproj) {
  if (options.out_path.empty()) return InvalidArgument("no output path given");
  ASSIGN_OR_RETURN(Prepared p, Prepare(options, mmproj));
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
