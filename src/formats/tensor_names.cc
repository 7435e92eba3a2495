#include "formats/tensor_names.h"

#include <cctype>

namespace pocket {
namespace {

// A rule maps an HF module path to a GGUF module path; "{N}" stands for a layer index.
// Module rules accept the suffixes below (".linear.weight" collapses to ".weight", clip bounds
// keep their names); exact rules (kExact) match the whole remaining name.
enum RuleKind { kModule, kExact };

struct Rule {
  RuleKind kind;
  const char* hf;
  const char* gguf;
  TensorTransform transform = TensorTransform::kNone;
};

// Text decoder, after stripping "model.language_model." (multimodal) or "model." (text-only).
constexpr Rule kTextRules[] = {
    {kModule, "embed_tokens", "token_embd"},
    {kModule, "norm", "output_norm"},
    {kModule, "embed_tokens_per_layer", "per_layer_token_embd"},
    {kModule, "per_layer_model_projection", "per_layer_model_proj"},
    {kModule, "per_layer_projection_norm", "per_layer_proj_norm"},
    {kModule, "layers.{N}.input_layernorm", "blk.{N}.attn_norm"},
    {kModule, "layers.{N}.self_attn.q_proj", "blk.{N}.attn_q"},
    {kModule, "layers.{N}.self_attn.k_proj", "blk.{N}.attn_k"},
    {kModule, "layers.{N}.self_attn.v_proj", "blk.{N}.attn_v"},
    {kModule, "layers.{N}.self_attn.o_proj", "blk.{N}.attn_output"},
    {kModule, "layers.{N}.self_attn.q_norm", "blk.{N}.attn_q_norm"},
    {kModule, "layers.{N}.self_attn.k_norm", "blk.{N}.attn_k_norm"},
    {kModule, "layers.{N}.post_attention_layernorm", "blk.{N}.post_attention_norm"},
    {kModule, "layers.{N}.pre_feedforward_layernorm", "blk.{N}.ffn_norm"},
    {kModule, "layers.{N}.mlp.gate_proj", "blk.{N}.ffn_gate"},
    {kModule, "layers.{N}.mlp.up_proj", "blk.{N}.ffn_up"},
    {kModule, "layers.{N}.mlp.down_proj", "blk.{N}.ffn_down"},
    {kModule, "layers.{N}.post_feedforward_layernorm", "blk.{N}.post_ffw_norm"},
    {kExact, "layers.{N}.layer_scalar", "blk.{N}.layer_output_scale.weight"},
    {kModule, "layers.{N}.per_layer_input_gate", "blk.{N}.inp_gate"},
    {kModule, "layers.{N}.per_layer_projection", "blk.{N}.proj"},
    {kModule, "layers.{N}.post_per_layer_input_norm", "blk.{N}.post_norm"},
    {kModule, "layers.{N}.router.proj", "blk.{N}.ffn_gate_inp"},
    {kExact, "layers.{N}.router.scale", "blk.{N}.ffn_gate_inp.scale"},
    {kExact, "layers.{N}.router.per_expert_scale", "blk.{N}.ffn_down_exps.scale"},
    {kExact, "layers.{N}.experts.gate_up_proj", "blk.{N}.ffn_gate_up_exps.weight"},
    {kExact, "layers.{N}.experts.down_proj", "blk.{N}.ffn_down_exps.weight"},
    {kModule, "layers.{N}.pre_feedforward_layernorm_2", "blk.{N}.pre_ffw_norm_2"},
    {kModule, "layers.{N}.post_feedforward_layernorm_1", "blk.{N}.post_ffw_norm_1"},
    {kModule, "layers.{N}.post_feedforward_layernorm_2", "blk.{N}.post_ffw_norm_2"},
};

// Vision encoder, after stripping "model.vision_tower.".
constexpr Rule kVisionRules[] = {
    {kModule, "patch_embedder.input_proj", "v.patch_embd", TensorTransform::kPatchEmbedHwcToChw},
    {kExact, "patch_embedder.position_embedding_table", "v.position_embd.weight"},
    {kModule, "encoder.layers.{N}.input_layernorm", "v.blk.{N}.ln1"},
    {kModule, "encoder.layers.{N}.self_attn.q_proj", "v.blk.{N}.attn_q"},
    {kModule, "encoder.layers.{N}.self_attn.k_proj", "v.blk.{N}.attn_k"},
    {kModule, "encoder.layers.{N}.self_attn.v_proj", "v.blk.{N}.attn_v"},
    {kModule, "encoder.layers.{N}.self_attn.o_proj", "v.blk.{N}.attn_out"},
    {kModule, "encoder.layers.{N}.self_attn.q_norm", "v.blk.{N}.attn_q_norm"},
    {kModule, "encoder.layers.{N}.self_attn.k_norm", "v.blk.{N}.attn_k_norm"},
    {kModule, "encoder.layers.{N}.post_attention_layernorm", "v.blk.{N}.attn_post_norm"},
    {kModule, "encoder.layers.{N}.pre_feedforward_layernorm", "v.blk.{N}.ln2"},
    {kModule, "encoder.layers.{N}.mlp.gate_proj", "v.blk.{N}.ffn_gate"},
    {kModule, "encoder.layers.{N}.mlp.up_proj", "v.blk.{N}.ffn_up"},
    {kModule, "encoder.layers.{N}.mlp.down_proj", "v.blk.{N}.ffn_down"},
    {kModule, "encoder.layers.{N}.post_feedforward_layernorm", "v.blk.{N}.ffn_post_norm"},
    {kExact, "encoder.layers.{N}.layer_scalar", "v.blk.{N}.out_scale.weight"},
    {kExact, "std_bias", "v.std_bias"},
    {kExact, "std_scale", "v.std_scale"},
};

// Audio conformer, after stripping "model.audio_tower.".
constexpr Rule kAudioRules[] = {
    {kModule, "subsample_conv_projection.layer{N}.conv", "a.conv1d.{N}"},
    {kModule, "subsample_conv_projection.layer{N}.norm", "a.conv1d.{N}.norm"},
    {kModule, "subsample_conv_projection.input_proj_linear", "a.input_projection"},
    {kModule, "layers.{N}.feed_forward1.pre_layer_norm", "a.blk.{N}.ffn_norm"},
    {kModule, "layers.{N}.feed_forward1.ffw_layer_1", "a.blk.{N}.ffn_up"},
    {kModule, "layers.{N}.feed_forward1.ffw_layer_2", "a.blk.{N}.ffn_down"},
    {kModule, "layers.{N}.feed_forward1.post_layer_norm", "a.blk.{N}.ffn_post_norm"},
    {kModule, "layers.{N}.feed_forward2.pre_layer_norm", "a.blk.{N}.ffn_norm_1"},
    {kModule, "layers.{N}.feed_forward2.ffw_layer_1", "a.blk.{N}.ffn_up_1"},
    {kModule, "layers.{N}.feed_forward2.ffw_layer_2", "a.blk.{N}.ffn_down_1"},
    {kModule, "layers.{N}.feed_forward2.post_layer_norm", "a.blk.{N}.ffn_post_norm_1"},
    {kModule, "layers.{N}.norm_pre_attn", "a.blk.{N}.attn_pre_norm"},
    {kModule, "layers.{N}.norm_post_attn", "a.blk.{N}.attn_post_norm"},
    {kModule, "layers.{N}.self_attn.q_proj", "a.blk.{N}.attn_q"},
    {kModule, "layers.{N}.self_attn.k_proj", "a.blk.{N}.attn_k"},
    {kModule, "layers.{N}.self_attn.v_proj", "a.blk.{N}.attn_v"},
    {kModule, "layers.{N}.self_attn.post", "a.blk.{N}.attn_out"},
    {kModule, "layers.{N}.self_attn.relative_k_proj", "a.blk.{N}.attn_k_rel"},
    {kExact, "layers.{N}.self_attn.per_dim_scale", "a.blk.{N}.per_dim_scale.weight",
     TensorTransform::kSoftplus},
    {kExact, "layers.{N}.self_attn.per_dim_key_scale", "a.blk.{N}.per_dim_k_scale.weight",
     TensorTransform::kSoftplus},
    // The GGUF names of the two conv norms are swapped relative to their HF names (spec §7.2).
    {kModule, "layers.{N}.lconv1d.pre_layer_norm", "a.blk.{N}.conv_norm"},
    {kModule, "layers.{N}.lconv1d.conv_norm", "a.blk.{N}.norm_conv"},
    {kModule, "layers.{N}.lconv1d.linear_start", "a.blk.{N}.conv_pw1"},
    {kModule, "layers.{N}.lconv1d.linear_end", "a.blk.{N}.conv_pw2"},
    {kModule, "layers.{N}.lconv1d.depthwise_conv1d", "a.blk.{N}.conv_dw",
     TensorTransform::kSqueezeDepthwise},
    {kModule, "layers.{N}.norm_out", "a.blk.{N}.ln2"},
    {kModule, "output_proj", "a.pre_encode.out"},
};

// 12B unified vision embedder, after stripping "model.vision_embedder.".
constexpr Rule kUnifiedVisionRules[] = {
    {kModule, "patch_dense", "v.patch_embd", TensorTransform::kUnifiedPatchChw},
    {kModule, "patch_ln1", "v.patch_norm.1", TensorTransform::kUnifiedPatchChw},
    {kModule, "patch_ln2", "v.patch_norm.2"},
    {kModule, "pos_norm", "v.patch_norm.3"},
    {kExact, "pos_embedding", "v.position_embd.weight", TensorTransform::kUnifiedPosPermute},
};

constexpr Rule kEmbedVisionRules[] = {{kModule, "embedding_projection", "mm.input_projection"}};
constexpr Rule kEmbedAudioRules[] = {{kModule, "embedding_projection", "mm.a.input_projection"}};

// Matches `name` against `pattern` ("{N}" = one or more digits). On success stores the digits.
bool MatchPattern(std::string_view pattern, std::string_view name, std::string* digits) {
  const size_t pos = pattern.find("{N}");
  if (pos == std::string_view::npos) return pattern == name;
  const std::string_view head = pattern.substr(0, pos);
  const std::string_view tail = pattern.substr(pos + 3);
  if (name.size() < head.size() + tail.size() + 1) return false;
  if (name.substr(0, head.size()) != head) return false;
  if (name.substr(name.size() - tail.size()) != tail) return false;
  const std::string_view mid = name.substr(head.size(), name.size() - head.size() - tail.size());
  if (mid.empty() || mid.size() > 6) return false;
  for (char c : mid) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
  }
  *digits = std::string(mid);
  return true;
}

std::string Substitute(std::string_view pattern, const std::string& digits) {
  std::string out(pattern);
  const size_t pos = out.find("{N}");
  if (pos != std::string::npos) out.replace(pos, 3, digits);
  return out;
}

template <size_t kN>
std::optional<MappedName> ApplyRules(const Rule (&rules)[kN], std::string_view rest) {
  static constexpr std::pair<const char*, const char*> kSuffixes[] = {
      {".linear.weight", ".weight"}, {".weight", ".weight"},       {".bias", ".bias"},
      {".input_min", ".input_min"},  {".input_max", ".input_max"}, {".output_min", ".output_min"},
      {".output_max", ".output_max"},
  };
  std::string digits;
  for (const Rule& r : rules) {
    if (r.kind == kExact) {
      if (MatchPattern(r.hf, rest, &digits)) return MappedName{Substitute(r.gguf, digits), r.transform};
      continue;
    }
    for (const auto& [hf_suffix, gguf_suffix] : kSuffixes) {
      const std::string_view suffix(hf_suffix);
      if (rest.size() <= suffix.size() || rest.substr(rest.size() - suffix.size()) != suffix) continue;
      if (MatchPattern(r.hf, rest.substr(0, rest.size() - suffix.size()), &digits)) {
        const bool is_weight = std::string_view(gguf_suffix) == ".weight";
        return MappedName{Substitute(r.gguf, digits) + gguf_suffix,
                          is_weight ? r.transform : TensorTransform::kNone};
      }
    }
  }
  return std::nullopt;
}

bool StripPrefix(std::string_view* s, std::string_view prefix) {
  if (s->substr(0, prefix.size()) != prefix) return false;
  s->remove_prefix(prefix.size());
  return true;
}

}  // namespace

std::optional<MappedName> HfToCanonicalName(std::string_view name) {
  std::string_view rest = name;
  if (StripPrefix(&rest, "model.vision_tower.")) return ApplyRules(kVisionRules, rest);
  if (StripPrefix(&rest, "model.audio_tower.")) return ApplyRules(kAudioRules, rest);
  if (StripPrefix(&rest, "model.vision_embedder.")) return ApplyRules(kUnifiedVisionRules, rest);
  if (StripPrefix(&rest, "model.embed_vision.")) return ApplyRules(kEmbedVisionRules, rest);
  if (StripPrefix(&rest, "model.embed_audio.")) return ApplyRules(kEmbedAudioRules, rest);
  if (name == "lm_head.weight") return MappedName{"output.weight"};
  // MTP assistant heads (top level in assistant checkpoints).
  if (name == "pre_projection.weight") return MappedName{"nextn.pre_projection.weight"};
  if (name == "post_projection.weight") return MappedName{"nextn.post_projection.weight"};
  if (name == "masked_embedding.centroids.weight") return MappedName{"masked_embd_centroids.weight"};
  if (name == "masked_embedding.token_ordering") return MappedName{"masked_embd_ordering"};
  if (StripPrefix(&rest, "model.language_model.") || StripPrefix(&rest, "model.")) {
    return ApplyRules(kTextRules, rest);
  }
  return std::nullopt;
}

const char* TensorTransformName(TensorTransform t) {
  switch (t) {
    case TensorTransform::kNone: return "none";
    case TensorTransform::kPatchEmbedHwcToChw: return "patch_embed_hwc_to_chw";
    case TensorTransform::kSoftplus: return "softplus";
    case TensorTransform::kSqueezeDepthwise: return "squeeze_depthwise";
    case TensorTransform::kUnifiedPosPermute: return "unified_pos_permute";
    case TensorTransform::kUnifiedPatchChw: return "unified_patch_chw";
  }
  return "?";
}

}  // namespace pocket
