// MmprojConfig: what a multimodal projector file holds — an image path, an audio path, or
// both — read from an mmproj GGUF (llama.cpp's `clip.*` keys) or from an HF checkpoint's
// `vision_config` / `audio_config` (spec gemma4-multimodal.md §1, §7). Shapes that the file
// format does not record (position-table size, head size, clipping, standardize) are taken
// from the tensors themselves. Plain value type.
#pragma once

#include <cstdint>
#include <string>

#include "base/status.h"
#include "formats/weight_source.h"

namespace pocket {

// gemma4v: the ViT encoder of E2B/E4B/26B/31B. gemma4uv: the 12B's encoder-free embedder.
enum class VisionKind { kNone, kEncoder, kUnified };
// gemma4a: the conformer of E2B/E4B. gemma4ua: the 12B's raw-frame projection.
enum class AudioKind { kNone, kConformer, kUnified };
const char* VisionKindName(VisionKind k);  // "gemma4v", "gemma4uv", "none"
const char* AudioKindName(AudioKind k);    // "gemma4a", "gemma4ua", "none"

struct VisionConfig {
  VisionKind kind = VisionKind::kNone;
  int64_t n_embd = 0;  // D: tower width (unified: embedder width)
  int n_layer = 0;
  int n_head = 0;
  int head_dim = 0;
  int64_t n_ff = 0;
  int64_t n_pos = 0;     // position-table entries per axis
  int patch = 16;        // pixels per patch side (unified: 48 after the 3x3 merge)
  int pool = 3;          // pooling kernel (encoder) or merge (unified)
  double eps = 1e-6;     // RMSNorm eps
  double ln_eps = 1e-5;  // unified LayerNorm eps
  double rope_theta = 100.0;
  bool standardize = false;
  int64_t n_embd_text = 0;  // projection output: the text model's width
  int side_multiple() const { return kind == VisionKind::kUnified ? patch : patch * pool; }
};

struct AudioConfig {
  AudioKind kind = AudioKind::kNone;
  int64_t n_embd = 0;  // conformer width (unified: frame size 640)
  int n_layer = 0;
  int n_head = 0;
  int head_dim = 0;
  int64_t n_ff = 0;
  int n_mel = 128;
  int sscp_channels0 = 128, sscp_channels1 = 32;
  int64_t n_out = 0;  // output_proj width (1536 in E2B)
  int conv_kernel = 5;
  int chunk = 12;
  int context_left = 13;  // attention_context_left (max past + 1)
  double logit_cap = 50.0;
  double residual_weight = 0.5;
  double eps = 1e-6;
  int frame_size = 640;  // unified only
  int64_t n_embd_text = 0;
};

struct MmprojConfig {
  VisionConfig vision;
  AudioConfig audio;
  bool has_vision() const { return vision.kind != VisionKind::kNone; }
  bool has_audio() const { return audio.kind != AudioKind::kNone; }

  // Reads the config of an mmproj GGUF or HF checkpoint; an error if it has neither path.
  static Result<MmprojConfig> FromSource(const WeightSource& ws);
};

}  // namespace pocket
