#include "model/summary.h"

#include <algorithm>

#include "model/config.h"
#include "model/mmproj_config.h"

namespace pocket {
namespace {

struct KnownShape {
  const char* name;
  int n_layer;
  int64_t n_embd;
};

// Released shapes (spec gemma4-text.md §1.1). Used only to *name* a file; behaviour always
// comes from the file's own config.
constexpr KnownShape kKnownShapes[] = {
    {"E2B", 35, 1536}, {"E4B", 42, 2560}, {"26B-A4B", 30, 2816}, {"31B", 60, 5376}, {"12B", 48, 3840},
};

void AddFeature(ModelSummary* s, const std::string& f) {
  if (std::find(s->features.begin(), s->features.end(), f) == s->features.end()) s->features.push_back(f);
}

std::string FormatLayerTypes(const Gemma4TextConfig& c) {
  std::string s;
  for (LayerType t : c.layer_types) s += t == LayerType::kSliding ? 'S' : 'F';
  return s;
}

std::string JoinInts(const std::vector<int64_t>& v) {
  bool uniform = std::all_of(v.begin(), v.end(), [&](int64_t x) { return x == v.front(); });
  if (uniform && !v.empty()) return std::to_string(v.front());
  std::string s;
  for (size_t i = 0; i < v.size(); ++i) {
    if (i) s += ',';
    s += std::to_string(v[i]);
  }
  return s;
}

void SummarizeDecoder(const WeightSource& ws, ModelSummary* s) {
  auto cfg = LoadTextConfig(ws);
  if (!cfg.ok()) {
    s->config_error = cfg.status().message();
    return;
  }
  const Gemma4TextConfig& c = *cfg;
  s->variant = "custom";
  for (const KnownShape& k : kKnownShapes) {
    if (c.n_layer == k.n_layer && c.n_embd == k.n_embd) s->variant = k.name;
  }
  if (c.has_ple()) AddFeature(s, "ple");
  if (c.n_kv_shared_layers > 0) AddFeature(s, "kv_shared");
  if (c.has_moe()) AddFeature(s, "moe");
  if (c.attention_k_eq_v) AddFeature(s, "k_eq_v");
  if (c.has_double_wide_mlp()) AddFeature(s, "double_wide_mlp");
  std::vector<int64_t> kv(c.n_head_kv.begin(), c.n_head_kv.end());
  s->shape = StrFormat("L=%d H=%lld heads=%d kv_heads=%s head_dim=%d/%d vocab=%lld", c.n_layer,
                       (long long)c.n_embd, c.n_head, JoinInts(kv).c_str(), c.head_dim_swa,
                       c.head_dim_full, (long long)c.n_vocab);
  auto& h = s->hparams;
  h.emplace_back("n_vocab", std::to_string(c.n_vocab));
  h.emplace_back("n_embd", std::to_string(c.n_embd));
  h.emplace_back("n_layer", std::to_string(c.n_layer));
  h.emplace_back("n_head", std::to_string(c.n_head));
  h.emplace_back("n_head_kv", JoinInts(kv));
  h.emplace_back("head_dim (sliding/full)", StrFormat("%d/%d", c.head_dim_swa, c.head_dim_full));
  h.emplace_back("layer_types", FormatLayerTypes(c));
  h.emplace_back("sliding_window", std::to_string(c.sliding_window));
  h.emplace_back("n_ff", JoinInts(c.n_ff));
  h.emplace_back("n_kv_shared_layers", std::to_string(c.n_kv_shared_layers));
  h.emplace_back("n_embd_per_layer", std::to_string(c.n_embd_per_layer));
  if (c.has_moe()) {
    h.emplace_back("n_expert", std::to_string(c.n_expert));
    h.emplace_back("n_expert_used", std::to_string(c.n_expert_used));
    h.emplace_back("n_ff_expert", std::to_string(c.n_ff_expert));
  }
  h.emplace_back("attention_k_eq_v", c.attention_k_eq_v ? "true" : "false");
  h.emplace_back("rope_theta (sliding/full)", StrFormat("%g/%g", c.rope_theta_swa, c.rope_theta_full));
  h.emplace_back("partial_rotary_factor (full)", StrFormat("%g", c.partial_rotary_factor_full));
  h.emplace_back("rms_norm_eps", StrFormat("%g", c.rms_norm_eps));
  h.emplace_back("final_logit_softcap", StrFormat("%g", c.final_logit_softcap));
  h.emplace_back("context_length", std::to_string(c.context_length));
  if (c.is_assistant()) {
    h.emplace_back("assistant: target hidden size", std::to_string(c.n_embd_backbone));
    s->shape = "MTP assistant for H=" + std::to_string(c.n_embd_backbone) + " targets, " + s->shape;
  }
}

void SummarizeProjectors(const WeightSource& ws, ModelSummary* s) {
  const Metadata& md = ws.metadata();
  if (ws.format() == SourceFormat::kGguf) {
    const std::string vtype = md.GetStringOr("clip.vision.projector_type", md.GetStringOr("clip.projector_type", ""));
    const std::string atype = md.GetStringOr("clip.audio.projector_type", "");
    if (md.GetBoolOr("clip.has_vision_encoder", false) || !vtype.empty()) {
      AddFeature(s, vtype == "gemma4uv" ? "unified_vision" : "vision");
      s->hparams.emplace_back("vision.projector_type", vtype);
      for (const char* k : {"embedding_length", "block_count", "attention.head_count", "feed_forward_length", "projection_dim", "patch_size"}) {
        if (const Value* v = md.Find(std::string("clip.vision.") + k)) s->hparams.emplace_back(std::string("vision.") + k, v->ToString());
      }
    }
    if (md.GetBoolOr("clip.has_audio_encoder", false) || !atype.empty()) {
      AddFeature(s, atype == "gemma4ua" ? "unified_audio" : "audio");
      s->hparams.emplace_back("audio.projector_type", atype);
      for (const char* k : {"embedding_length", "block_count", "attention.head_count", "feed_forward_length", "projection_dim", "num_mel_bins"}) {
        if (const Value* v = md.Find(std::string("clip.audio.") + k)) s->hparams.emplace_back(std::string("audio.") + k, v->ToString());
      }
    }
    return;
  }
  const std::string model_type = md.GetStringOr("model_type", "");
  const bool unified = model_type.rfind("gemma4_unified", 0) == 0;
  auto has_config = [&](const std::string& prefix) {
    const Value* v = md.Find(prefix);
    if (v && v->is_null()) return false;
    for (const auto& [k, _] : md.entries()) {
      if (k.rfind(prefix + ".", 0) == 0) return true;
    }
    return false;
  };
  if (has_config("vision_config") || ws.Find("v.patch_embd.weight")) {
    AddFeature(s, unified ? "unified_vision" : "vision");
    if (const Value* v = md.Find("vision_config.hidden_size")) s->hparams.emplace_back("vision.hidden_size", v->ToString());
    if (const Value* v = md.Find("vision_config.num_hidden_layers")) s->hparams.emplace_back("vision.num_hidden_layers", v->ToString());
  }
  if (has_config("audio_config") || ws.Find("a.input_projection.weight") || ws.Find("mm.a.input_projection.weight")) {
    AddFeature(s, unified ? "unified_audio" : "audio");
    if (const Value* v = md.Find("audio_config.hidden_size")) s->hparams.emplace_back("audio.hidden_size", v->ToString());
    if (const Value* v = md.Find("audio_config.num_hidden_layers")) s->hparams.emplace_back("audio.num_hidden_layers", v->ToString());
  }
}

void SummarizeTokenizer(const WeightSource& ws, ModelSummary* s) {
  const Metadata& md = ws.metadata();
  if (const Value* toks = md.Find("tokenizer.ggml.tokens")) {
    const Value* merges = md.Find("tokenizer.ggml.merges");
    s->tokenizer = StrFormat("%s, %llu tokens, %llu merges", md.GetStringOr("tokenizer.ggml.model", "?").c_str(),
                             (unsigned long long)toks->size(), (unsigned long long)(merges ? merges->size() : 0));
  } else if (ws.has_tokenizer_json()) {
    s->tokenizer = "tokenizer.json";
    if (ws.has_tokenizer_config()) s->tokenizer += " + tokenizer_config.json";
    if (ws.has_chat_template()) s->tokenizer += " + chat_template.jinja";
  }
}

}  // namespace

ModelSummary Summarize(const WeightSource& ws) {
  ModelSummary s;
  const Metadata& md = ws.metadata();
  if (ws.format() == SourceFormat::kGguf) {
    s.architecture = md.GetStringOr("general.architecture", "unknown");
  } else {
    const std::string mt = md.GetStringOr("model_type", "");
    s.architecture = mt.empty() ? "unknown" : mt;
  }
  s.variant = "custom";
  if (HasTextDecoder(ws)) SummarizeDecoder(ws, &s);
  SummarizeProjectors(ws, &s);
  if (!HasTextDecoder(ws)) {  // a projector alone: name the variant it belongs to
    if (Result<MmprojConfig> m = MmprojConfig::FromSource(ws); m.ok()) {
      const VisionConfig& v = m->vision;
      const AudioConfig& a = m->audio;
      const bool e_series = v.kind == VisionKind::kEncoder && v.n_embd == 768 && v.n_layer == 16 &&
                            (a.kind == AudioKind::kNone || (a.n_embd == 1024 && a.n_layer == 12));
      const bool big = v.kind == VisionKind::kEncoder && v.n_embd == 1152 && v.n_layer == 27;
      const bool unified = (v.kind == VisionKind::kUnified || a.kind == AudioKind::kUnified) &&
                           (v.n_embd_text == 3840 || a.n_embd_text == 3840);
      std::string what = e_series ? "E2B/E4B projector" : big ? "26B-A4B/31B projector" : unified ? "12B projector" : "";
      if (!what.empty()) s.variant = what;
      s.shape = StrFormat("%s%s%s, text width %lld", VisionKindName(v.kind), m->has_audio() ? " + " : "",
                          m->has_audio() ? AudioKindName(a.kind) : "",
                          (long long)(v.n_embd_text ? v.n_embd_text : a.n_embd_text));
    }
  }
  SummarizeTokenizer(ws, &s);
  if (s.shape.empty()) s.shape = StrFormat("%zu tensors", ws.tensors().size());
  return s;
}

}  // namespace pocket
