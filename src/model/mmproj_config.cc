#include "model/mmproj_config.h"

#include <algorithm>

namespace pocket {
namespace {

int CountLayers(const WeightSource& ws, const char* pattern) {
  int n = 0;
  while (ws.Find(StrFormat(pattern, n)) != nullptr) ++n;
  return n;
}

// The last ggml dimension of a tensor (its PyTorch "out" size), or 0 if absent.
int64_t OuterDim(const WeightSource& ws, const std::string& name) {
  const TensorInfo* t = ws.Find(name);
  return t ? t->ne[std::max(0, t->n_dims - 1)] : 0;
}
int64_t InnerDim(const WeightSource& ws, const std::string& name) {
  const TensorInfo* t = ws.Find(name);
  return t ? t->ne[0] : 0;
}

Status ReadVision(const WeightSource& ws, VisionConfig* v) {
  const Metadata& md = ws.metadata();
  const bool gguf = ws.format() == SourceFormat::kGguf;
  const std::string type = md.GetStringOr("clip.vision.projector_type", "");
  if (gguf && !type.empty() && type != "gemma4v" && type != "gemma4uv") {
    return Unimplemented("vision projector type '" + type +
                         "' is not a Gemma 4 projector (pocket knows gemma4v and gemma4uv)");
  }
  const bool unified = ws.Find("v.patch_norm.1.weight") != nullptr;
  const bool encoder = ws.Find("v.blk.0.ln1.weight") != nullptr;
  if (!unified && !encoder) return Status::Ok();
  v->n_embd_text = OuterDim(ws, "mm.input_projection.weight");
  if (v->n_embd_text <= 0) return NotFound("tensor 'mm.input_projection.weight' is missing");
  const std::string hp = "vision_config.";
  if (unified) {
    v->kind = VisionKind::kUnified;
    v->n_embd = InnerDim(ws, "v.patch_embd.bias");
    const TensorInfo* pos = ws.Find("v.position_embd.weight");
    if (pos == nullptr) return NotFound("tensor 'v.position_embd.weight' is missing");
    v->n_pos = pos->transform == TensorTransform::kUnifiedPosPermute ? pos->ne[2] : pos->ne[1];
    v->pool = static_cast<int>(md.GetIntOr(hp + "pooling_kernel_size", 3));
    v->patch = static_cast<int>(
        md.GetIntOr(hp + "model_patch_size", md.GetIntOr("clip.vision.patch_size", 16) * v->pool));
    v->ln_eps = md.GetDoubleOr(hp + "layer_norm_eps", 1e-5);
    v->eps = md.GetDoubleOr(hp + "rms_norm_eps", 1e-6);
  } else {
    v->kind = VisionKind::kEncoder;
    v->n_embd = OuterDim(ws, "v.patch_embd.weight");
    v->n_layer = CountLayers(ws, "v.blk.%d.ln1.weight");
    v->n_head = static_cast<int>(gguf ? md.GetIntOr("clip.vision.attention.head_count", 0)
                                      : md.GetIntOr(hp + "num_attention_heads", 0));
    v->head_dim = static_cast<int>(InnerDim(ws, "v.blk.0.attn_q_norm.weight"));
    if (v->head_dim <= 0 && v->n_head > 0) v->head_dim = static_cast<int>(v->n_embd / v->n_head);
    v->n_ff = OuterDim(ws, "v.blk.0.ffn_gate.weight");
    const TensorInfo* pos = ws.Find("v.position_embd.weight");
    if (pos == nullptr) return NotFound("tensor 'v.position_embd.weight' is missing");
    v->n_pos = pos->ne[1];
    v->patch = static_cast<int>(gguf ? md.GetIntOr("clip.vision.patch_size", 16)
                                     : md.GetIntOr(hp + "patch_size", 16));
    v->pool = static_cast<int>(md.GetIntOr("clip.vision.projector.scale_factor",
                                           md.GetIntOr(hp + "pooling_kernel_size", 3)));
    v->eps = gguf ? md.GetDoubleOr("clip.vision.attention.layer_norm_epsilon", 1e-6)
                  : md.GetDoubleOr(hp + "rms_norm_eps", 1e-6);
    v->rope_theta = md.GetDoubleOr(hp + "rope_parameters.rope_theta", 100.0);
    v->standardize = ws.Find("v.std_bias") != nullptr;
    if (v->n_head <= 0 || v->head_dim <= 0 || v->n_head * v->head_dim != v->n_embd) {
      return InvalidArgument(StrFormat(
          "vision encoder: %d heads of %d do not make its width %lld (check the head count key)",
          v->n_head, v->head_dim, (long long)v->n_embd));
    }
    if (v->head_dim % 4 != 0) {
      return InvalidArgument(
          StrFormat("vision encoder: head size %d is not a multiple of 4 (2-D RoPE)", v->head_dim));
    }
  }
  if (v->n_embd <= 0 || v->n_pos <= 0 || v->patch <= 0 || v->pool <= 0) {
    return InvalidArgument(
        "vision projector: could not determine its width, position table or patch size");
  }
  return Status::Ok();
}

Status ReadAudio(const WeightSource& ws, AudioConfig* a) {
  const Metadata& md = ws.metadata();
  const bool gguf = ws.format() == SourceFormat::kGguf;
  const std::string type = md.GetStringOr("clip.audio.projector_type", "");
  if (gguf && !type.empty() && type != "gemma4a" && type != "gemma4ua") {
    return Unimplemented("audio projector type '" + type +
                         "' is not a Gemma 4 projector (pocket knows gemma4a and gemma4ua)");
  }
  if (ws.Find("mm.a.input_projection.weight") == nullptr) return Status::Ok();
  a->n_embd_text = OuterDim(ws, "mm.a.input_projection.weight");
  const std::string hp = "audio_config.";
  if (ws.Find("a.blk.0.ffn_norm.weight") == nullptr) {
    a->kind = AudioKind::kUnified;
    a->frame_size = static_cast<int>(InnerDim(ws, "mm.a.input_projection.weight"));
    a->n_embd = a->frame_size;
    a->eps = md.GetDoubleOr(hp + "rms_norm_eps", 1e-6);
    if (a->frame_size <= 0) return InvalidArgument("audio projection has no input width");
    return Status::Ok();
  }
  a->kind = AudioKind::kConformer;
  a->n_embd = OuterDim(ws, "a.input_projection.weight");
  a->n_layer = CountLayers(ws, "a.blk.%d.ffn_norm.weight");
  a->n_head = static_cast<int>(gguf ? md.GetIntOr("clip.audio.attention.head_count", 0)
                                    : md.GetIntOr(hp + "num_attention_heads", 0));
  a->head_dim = a->n_head > 0 ? static_cast<int>(a->n_embd / a->n_head) : 0;
  a->n_ff = OuterDim(ws, "a.blk.0.ffn_up.weight");
  a->sscp_channels0 = static_cast<int>(OuterDim(ws, "a.conv1d.0.weight"));
  a->sscp_channels1 = static_cast<int>(OuterDim(ws, "a.conv1d.1.weight"));
  const int64_t proj_in = InnerDim(ws, "a.input_projection.weight");
  a->n_mel = static_cast<int>(md.GetIntOr("clip.audio.num_mel_bins", 128));
  a->n_out = OuterDim(ws, "a.pre_encode.out.weight");
  a->conv_kernel = static_cast<int>(md.GetIntOr(hp + "conv_kernel_size", 5));
  if (const TensorInfo* dw = ws.Find("a.blk.0.conv_dw.weight"))
    a->conv_kernel = static_cast<int>(dw->ne[0]);
  a->chunk = static_cast<int>(md.GetIntOr(hp + "attention_chunk_size", 12));
  a->context_left = static_cast<int>(md.GetIntOr(hp + "attention_context_left", 13));
  a->logit_cap = md.GetDoubleOr(hp + "attention_logit_cap", 50.0);
  a->residual_weight = md.GetDoubleOr(hp + "residual_weight", 0.5);
  a->eps = gguf ? 1e-6 : md.GetDoubleOr(hp + "rms_norm_eps", 1e-6);  // LC overrides the GGUF value
  if (a->n_head <= 0 || a->head_dim * a->n_head != a->n_embd) {
    return InvalidArgument(StrFormat("audio conformer: %d heads do not divide its width %lld",
                                     a->n_head, (long long)a->n_embd));
  }
  if (a->sscp_channels1 <= 0 || proj_in != static_cast<int64_t>(a->n_mel / 4) * a->sscp_channels1) {
    return InvalidArgument(
        StrFormat("audio conformer: input projection takes %lld values, expected (%d mel bins / 4) "
                  "x %d channels",
                  (long long)proj_in, a->n_mel, a->sscp_channels1));
  }
  if (a->chunk <= 0 || a->context_left < 1 || a->conv_kernel <= 0) {
    return InvalidArgument("audio conformer: invalid chunk/context/kernel sizes in the config");
  }
  return Status::Ok();
}

}  // namespace

const char* VisionKindName(VisionKind k) {
  switch (k) {
    case VisionKind::kEncoder:
      return "gemma4v";
    case VisionKind::kUnified:
      return "gemma4uv";
    default:
      return "none";
  }
}

const char* AudioKindName(AudioKind k) {
  switch (k) {
    case AudioKind::kConformer:
      return "gemma4a";
    case AudioKind::kUnified:
      return "gemma4ua";
    default:
      return "none";
  }
}

Result<MmprojConfig> MmprojConfig::FromSource(const WeightSource& ws) {
  MmprojConfig c;
  RETURN_IF_ERROR(ReadVision(ws, &c.vision).WithContext(ws.path()));
  RETURN_IF_ERROR(ReadAudio(ws, &c.audio).WithContext(ws.path()));
  if (!c.has_vision() && !c.has_audio()) {
    return InvalidArgument(ws.path() +
                           ": holds no Gemma 4 vision or audio projector (no 'v.*' / 'a.*' / "
                           "'mm.*' tensors); pass the mmproj file of the model");
  }
  return c;
}

}  // namespace pocket
