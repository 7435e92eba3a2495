// The one place that knows how Hugging Face checkpoint tensor names map onto llama.cpp's GGUF
// names (spec gemma4-text.md §8, gemma4-multimodal.md §7). pocket's canonical naming is the
// GGUF one; a WeightSource over safetensors renames through this table so model code sees the
// same names and the same ggml shape order whichever file it came from.
//
// Byte layout: a row-major torch tensor [d0, ..., dn] is exactly a ggml tensor with
// ne = [dn, ..., d0], so a rename is all most tensors need. The few whose GGUF form differs in
// more than shape (the converter permutes or transforms them) are flagged with a Transform,
// which the encoder that consumes them applies at load.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace pocket {

enum class TensorTransform {
  kNone,
  kPatchEmbedHwcToChw,   // vision patch input_proj [D, 16*16*3] (HWC) vs GGUF conv kernel CHW
  kSoftplus,             // audio per_dim_scale: GGUF stores softplus(x)
  kSqueezeDepthwise,     // audio depthwise conv [C, 1, K] vs GGUF [C, K]
  kUnifiedPosPermute,    // 12B pos_embedding [P, 2, D] vs GGUF [2, P, D]
  kUnifiedPatchChw,      // 12B patch_dense / patch_ln1: GGUF applies a CHW permutation
};

struct MappedName {
  std::string name;  // canonical (GGUF) name
  TensorTransform transform = TensorTransform::kNone;
};

// Maps an HF checkpoint tensor name to the canonical name; nullopt for names pocket does not
// know (they stay visible under their original name).
std::optional<MappedName> HfToCanonicalName(std::string_view hf_name);

const char* TensorTransformName(TensorTransform t);

}  // namespace pocket
