#include "model/config.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace pocket {
namespace {

// HF exports put decoder keys under text_config (multimodal) or at the top (text-only).
std::string HfTextPrefix(const Metadata& md) {
  return md.Has("text_config.hidden_size") ? "text_config." : "";
}

Result<int> ToInt(Result<int64_t> v, const std::string& key) {
  if (!v.ok()) return v.status();
  if (*v < 0 || *v > (1 << 30)) return InvalidArgument(StrFormat("%s = %lld is out of range", key.c_str(), (long long)*v));
  return static_cast<int>(*v);
}

Result<Gemma4TextConfig> FromGguf(const WeightSource& ws) {
  const Metadata& md = ws.metadata();
  Gemma4TextConfig c;
  ASSIGN_OR_RETURN(c.architecture, md.GetString("general.architecture"));
  const std::string a = c.architecture + ".";
  ASSIGN_OR_RETURN(c.n_embd, md.GetInt(a + "embedding_length"));
  ASSIGN_OR_RETURN(c.n_layer, ToInt(md.GetInt(a + "block_count"), a + "block_count"));
  ASSIGN_OR_RETURN(c.n_head, ToInt(md.GetInt(a + "attention.head_count"), a + "attention.head_count"));
  const size_t L = static_cast<size_t>(c.n_layer);
  ASSIGN_OR_RETURN(std::vector<int64_t> kv, md.GetIntArray(a + "attention.head_count_kv", L));
  c.n_head_kv.assign(kv.begin(), kv.end());
  ASSIGN_OR_RETURN(c.head_dim_full, ToInt(md.GetInt(a + "attention.key_length"), a + "attention.key_length"));
  c.head_dim_swa = static_cast<int>(md.GetIntOr(a + "attention.key_length_swa", c.head_dim_full));
  const int64_t vlen = md.GetIntOr(a + "attention.value_length", c.head_dim_full);
  const int64_t vlen_swa = md.GetIntOr(a + "attention.value_length_swa", c.head_dim_swa);
  if (vlen != c.head_dim_full || vlen_swa != c.head_dim_swa) {
    return InvalidArgument(StrFormat("value head dims (%lld/%lld) differ from key head dims (%d/%d): not supported",
                                     (long long)vlen_swa, (long long)vlen, c.head_dim_swa, c.head_dim_full));
  }
  c.sliding_window = md.GetIntOr(a + "attention.sliding_window", 0);
  if (const Value* pat = md.Find(a + "attention.sliding_window_pattern")) {
    if (!pat->is_array() || pat->size() != L) {
      return InvalidArgument(StrFormat("%sattention.sliding_window_pattern: expected %zu booleans", a.c_str(), L));
    }
    for (size_t i = 0; i < L; ++i) {
      c.layer_types.push_back(pat->IntAt(i).value_or(0) ? LayerType::kSliding : LayerType::kFull);
    }
  } else {
    for (size_t i = 0; i < L; ++i) c.layer_types.push_back((i + 1) % 6 == 0 || i + 1 == L ? LayerType::kFull : LayerType::kSliding);
  }
  c.n_kv_shared_layers = static_cast<int>(md.GetIntOr(a + "attention.shared_kv_layers", 0));
  ASSIGN_OR_RETURN(c.n_ff, md.GetIntArray(a + "feed_forward_length", L));
  c.n_embd_per_layer = static_cast<int>(md.GetIntOr(a + "embedding_length_per_layer_input", 0));
  c.n_expert = static_cast<int>(md.GetIntOr(a + "expert_count", 0));
  c.n_expert_used = static_cast<int>(md.GetIntOr(a + "expert_used_count", 0));
  c.n_ff_expert = md.GetIntOr(a + "expert_feed_forward_length", 0);
  c.rope_theta_full = md.GetDoubleOr(a + "rope.freq_base", 1e6);
  c.rope_theta_swa = md.GetDoubleOr(a + "rope.freq_base_swa", 1e4);
  c.rms_norm_eps = md.GetDoubleOr(a + "attention.layer_norm_rms_epsilon", 1e-6);
  c.final_logit_softcap = md.GetDoubleOr(a + "final_logit_softcapping", 0.0);
  c.context_length = md.GetIntOr(a + "context_length", 0);
  if (c.architecture == "gemma4-assistant") {
    ASSIGN_OR_RETURN(c.n_embd_backbone, md.GetInt(a + "embedding_length_out"));
    c.n_kv_shared_layers = c.n_layer;  // every layer attends to the target's cache
    c.final_logit_softcap = 0.0;       // the drafter's logits are not soft-capped
  }

  const TensorInfo* emb = ws.Find("token_embd.weight");
  if (emb == nullptr) return NotFound("tensor 'token_embd.weight' is missing");
  c.n_vocab = emb->n_dims >= 2 ? emb->ne[1] : 0;
  if (const TensorInfo* ple = ws.Find("per_layer_token_embd.weight")) c.n_vocab_per_layer = ple->n_dims >= 2 ? ple->ne[1] : 0;
  // GGUF has no k_eq_v flag: a full-attention layer that owns KV but has no attn_v uses K as V.
  for (int il = 0; il < std::min(c.n_layer, c.n_layer - c.n_kv_shared_layers); ++il) {
    if (c.layer_types[static_cast<size_t>(il)] == LayerType::kFull &&
        ws.Find(StrFormat("blk.%d.attn_v.weight", il)) == nullptr) {
      c.attention_k_eq_v = true;
    }
  }
  // The proportional partial RoPE is encoded in rope_freqs: 1.0 for rotated pairs, 1e30 else.
  if (const TensorInfo* rf = ws.Find("rope_freqs.weight"); rf && rf->type == DType::kF32 && rf->n_elements() > 0) {
    int64_t rotated = 0;
    for (int64_t i = 0; i < rf->n_elements(); ++i) {
      float f;
      std::memcpy(&f, rf->data + 4 * i, 4);
      if (f < 1e29f) ++rotated;
    }
    c.partial_rotary_factor_full = static_cast<double>(rotated) / static_cast<double>(rf->n_elements());
  }
  return c;
}

Result<Gemma4TextConfig> FromHf(const WeightSource& ws) {
  const Metadata& md = ws.metadata();
  const std::string p = HfTextPrefix(md);
  Gemma4TextConfig c;
  c.architecture = md.GetStringOr(p + "model_type", md.GetStringOr("model_type", "gemma4"));
  ASSIGN_OR_RETURN(c.n_vocab, md.GetInt(p + "vocab_size"));
  ASSIGN_OR_RETURN(c.n_embd, md.GetInt(p + "hidden_size"));
  ASSIGN_OR_RETURN(c.n_layer, ToInt(md.GetInt(p + "num_hidden_layers"), p + "num_hidden_layers"));
  ASSIGN_OR_RETURN(c.n_head, ToInt(md.GetInt(p + "num_attention_heads"), p + "num_attention_heads"));
  const size_t L = static_cast<size_t>(c.n_layer);
  ASSIGN_OR_RETURN(int kv_swa, ToInt(md.GetInt(p + "num_key_value_heads"), p + "num_key_value_heads"));
  c.attention_k_eq_v = md.GetBoolOr(p + "attention_k_eq_v", false);
  int kv_full = kv_swa;
  if (const Value* g = md.Find(p + "num_global_key_value_heads"); g && !g->is_null() && c.attention_k_eq_v) {
    ASSIGN_OR_RETURN(kv_full, ToInt(md.GetInt(p + "num_global_key_value_heads"), p + "num_global_key_value_heads"));
  }
  ASSIGN_OR_RETURN(c.head_dim_swa, ToInt(md.GetInt(p + "head_dim"), p + "head_dim"));
  c.head_dim_full = static_cast<int>(md.GetIntOr(p + "global_head_dim", 512));
  c.sliding_window = md.GetIntOr(p + "sliding_window", 0);
  if (md.Has(p + "layer_types")) {
    ASSIGN_OR_RETURN(std::vector<std::string> types, md.GetStringArray(p + "layer_types"));
    if (types.size() != L) {
      return InvalidArgument(StrFormat("%slayer_types has %zu entries, expected num_hidden_layers = %zu",
                                       p.c_str(), types.size(), L));
    }
    for (const std::string& t : types) {
      if (t == "sliding_attention") c.layer_types.push_back(LayerType::kSliding);
      else if (t == "full_attention") c.layer_types.push_back(LayerType::kFull);
      else return InvalidArgument(p + "layer_types: unknown layer type '" + t + "'");
    }
  } else {
    for (size_t i = 0; i < L; ++i) c.layer_types.push_back((i + 1) % 6 == 0 ? LayerType::kFull : LayerType::kSliding);
  }
  if (L > 0) c.layer_types.back() = LayerType::kFull;  // HF forces the last layer to full attention
  for (size_t i = 0; i < L; ++i) c.n_head_kv.push_back(c.layer_types[i] == LayerType::kFull ? kv_full : kv_swa);
  c.n_kv_shared_layers = static_cast<int>(md.GetIntOr(p + "num_kv_shared_layers", 0));
  ASSIGN_OR_RETURN(int64_t ff, md.GetInt(p + "intermediate_size"));
  const bool double_wide = md.GetBoolOr(p + "use_double_wide_mlp", false);
  for (size_t i = 0; i < L; ++i) {
    const bool shared = static_cast<int>(i) >= c.n_layer - c.n_kv_shared_layers;
    c.n_ff.push_back(double_wide && shared ? 2 * ff : ff);
  }
  c.n_embd_per_layer = static_cast<int>(md.GetIntOr(p + "hidden_size_per_layer_input", 0));
  c.n_vocab_per_layer = c.n_embd_per_layer > 0 ? md.GetIntOr(p + "vocab_size_per_layer_input", c.n_vocab) : 0;
  if (md.GetBoolOr(p + "enable_moe_block", false)) {
    c.n_expert = static_cast<int>(md.GetIntOr(p + "num_experts", 0));
    c.n_expert_used = static_cast<int>(md.GetIntOr(p + "top_k_experts", 0));
    c.n_ff_expert = md.GetIntOr(p + "moe_intermediate_size", md.GetIntOr(p + "expert_intermediate_size", 0));
  }
  c.rope_theta_full = md.GetDoubleOr(p + "rope_parameters.full_attention.rope_theta", 1e6);
  c.rope_theta_swa = md.GetDoubleOr(p + "rope_parameters.sliding_attention.rope_theta", 1e4);
  c.partial_rotary_factor_full = md.GetDoubleOr(p + "rope_parameters.full_attention.partial_rotary_factor", 1.0);
  c.rms_norm_eps = md.GetDoubleOr(p + "rms_norm_eps", 1e-6);
  c.final_logit_softcap = md.GetDoubleOr(p + "final_logit_softcapping", 0.0);
  c.context_length = md.GetIntOr(p + "max_position_embeddings", 0);
  // Assistant checkpoints (Gemma4AssistantForCausalLM): backbone width at the top or in the
  // text config; all layers KV-shared with the target.
  const int64_t backbone = md.GetIntOr("backbone_hidden_size", md.GetIntOr(p + "backbone_hidden_size", 0));
  if (backbone > 0) {
    c.n_embd_backbone = backbone;
    c.n_kv_shared_layers = c.n_layer;
    c.final_logit_softcap = 0.0;
    if (c.architecture.find("assistant") == std::string::npos) c.architecture = "gemma4_assistant";
  }
  return c;
}

}  // namespace

int Gemma4TextConfig::kv_source_layer(int il) const {
  const int first_shared = first_kv_shared_layer();
  if (il < first_shared) return il;
  for (int j = first_shared - 1; j >= 0; --j) {
    if (layer_types[static_cast<size_t>(j)] == layer_types[static_cast<size_t>(il)]) return j;
  }
  return il;  // Validate() rejects this case
}

bool Gemma4TextConfig::has_double_wide_mlp() const {
  for (int64_t f : n_ff) {
    if (f != n_ff.front()) return true;
  }
  return false;
}

Status Gemma4TextConfig::Validate() const {
  auto bad = [](const std::string& m) { return InvalidArgument("invalid config: " + m); };
  if (n_embd <= 0 || n_layer <= 0 || n_head <= 0 || n_vocab <= 0) {
    return bad(StrFormat("hidden size %lld, layers %d, heads %d, vocab %lld must all be positive",
                         (long long)n_embd, n_layer, n_head, (long long)n_vocab));
  }
  const size_t L = static_cast<size_t>(n_layer);
  if (layer_types.size() != L || n_head_kv.size() != L || n_ff.size() != L) {
    return bad("per-layer arrays do not match the layer count");
  }
  if (head_dim_swa <= 0 || head_dim_full <= 0 || head_dim_swa % 2 || head_dim_full % 2) {
    return bad(StrFormat("head dims %d/%d must be positive and even", head_dim_swa, head_dim_full));
  }
  for (size_t i = 0; i < L; ++i) {
    if (n_head_kv[i] <= 0 || n_head % n_head_kv[i] != 0) {
      return bad(StrFormat("layer %zu: %d query heads are not a multiple of %d KV heads", i, n_head, n_head_kv[i]));
    }
    if (n_ff[i] <= 0) return bad(StrFormat("layer %zu: feed-forward width %lld", i, (long long)n_ff[i]));
  }
  if (is_assistant()) {
    if (n_kv_shared_layers != n_layer) return bad("every assistant layer must read the target's KV cache");
  } else if (n_kv_shared_layers < 0 || n_kv_shared_layers >= n_layer) {
    return bad(StrFormat("%d KV-shared layers out of %d", n_kv_shared_layers, n_layer));
  }
  for (int il = first_kv_shared_layer(); il < n_layer && !is_assistant(); ++il) {
    if (kv_source_layer(il) == il) {
      return bad(StrFormat("KV-shared layer %d has no earlier layer of the same attention type", il));
    }
  }
  bool any_sliding = false;
  for (LayerType t : layer_types) any_sliding |= t == LayerType::kSliding;
  if (any_sliding && sliding_window <= 0) return bad("sliding layers need a positive sliding_window");
  if (n_expert > 0 && (n_expert_used <= 0 || n_expert_used > n_expert || n_ff_expert <= 0)) {
    return bad(StrFormat("MoE with %d experts, top-%d, width %lld", n_expert, n_expert_used, (long long)n_ff_expert));
  }
  if (n_embd_per_layer < 0) return bad("negative per-layer embedding width");
  if (!(partial_rotary_factor_full > 0.0 && partial_rotary_factor_full <= 1.0)) {
    return bad(StrFormat("partial rotary factor %g not in (0, 1]", partial_rotary_factor_full));
  }
  if (!(rms_norm_eps > 0.0) || !std::isfinite(rms_norm_eps)) return bad("rms_norm_eps must be positive");
  return Status::Ok();
}

bool HasTextDecoder(const WeightSource& ws) {
  if (ws.format() == SourceFormat::kGguf) {
    const std::string arch = ws.metadata().GetStringOr("general.architecture", "");
    return arch.rfind("gemma4", 0) == 0 && ws.metadata().Has(arch + ".block_count");
  }
  const Metadata& md = ws.metadata();
  return md.Has(HfTextPrefix(md) + "num_hidden_layers");
}

Result<Gemma4TextConfig> LoadTextConfig(const WeightSource& ws) {
  if (!HasTextDecoder(ws)) return NotFound(ws.path() + ": no Gemma 4 text decoder in this file");
  auto c = ws.format() == SourceFormat::kGguf ? FromGguf(ws) : FromHf(ws);
  if (!c.ok()) return c.status().WithContext(ws.path());
  if (ws.format() == SourceFormat::kGguf) {
    c->image_bidirectional = !c->has_ple();
  } else {
    const Metadata& md = ws.metadata();
    const std::string key = HfTextPrefix(md) + "use_bidirectional_attention";
    const std::string fallback = md.GetStringOr("model_type", "") == "gemma4_unified" ? "vision" : "";
    c->image_bidirectional =
        md.GetStringOr(key, md.GetStringOr("use_bidirectional_attention", fallback)) == "vision";
  }
  RETURN_IF_ERROR(c->Validate().WithContext(ws.path()));
  return c;
}

std::vector<double> Gemma4TextConfig::RopeFrequencies(bool sliding) const {
  const int d = sliding ? head_dim_swa : head_dim_full;
  const double theta = sliding ? rope_theta_swa : rope_theta_full;
  const double partial = sliding ? 1.0 : partial_rotary_factor_full;
  const int half = d / 2;
  const int rotated = static_cast<int>(partial * d) / 2;
  std::vector<double> f(static_cast<size_t>(half), 0.0);
  for (int i = 0; i < rotated && i < half; ++i) f[static_cast<size_t>(i)] = std::pow(theta, -2.0 * i / d);
  return f;
}

}  // namespace pocket
