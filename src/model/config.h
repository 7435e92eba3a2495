// Gemma4TextConfig: every hyper-parameter of the Gemma 4 text decoder, read from GGUF
// metadata (llama.cpp keys) or an HF config.json, validated, in one typed struct. This is the
// only code that reads decoder metadata keys. Variant facts come from the file; nothing here
// is keyed on a model name.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/status.h"
#include "formats/weight_source.h"

namespace pocket {

enum class LayerType { kSliding, kFull };

struct Gemma4TextConfig {
  std::string architecture;  // "gemma4", "gemma4-assistant", ...
  int64_t n_vocab = 0;
  int64_t n_embd = 0;   // H
  int n_layer = 0;      // L
  int n_head = 0;       // query heads (all layers)
  std::vector<int> n_head_kv;             // per layer
  int head_dim_swa = 0;                   // sliding layers
  int head_dim_full = 0;                  // full-attention layers
  std::vector<LayerType> layer_types;     // per layer
  int64_t sliding_window = 0;             // W: key j visible to query i iff 0 <= i-j < W
  int n_kv_shared_layers = 0;             // trailing layers reusing earlier KV
  std::vector<int64_t> n_ff;              // dense MLP width per layer
  int n_embd_per_layer = 0;               // PLE width P (0 = no PLE)
  int64_t n_vocab_per_layer = 0;          // PLE table rows
  bool attention_k_eq_v = false;          // full layers: V := K projection
  int n_expert = 0, n_expert_used = 0;    // MoE (0 = dense)
  int64_t n_ff_expert = 0;
  double rope_theta_full = 1e6, rope_theta_swa = 1e4;
  double partial_rotary_factor_full = 0.25;
  double rms_norm_eps = 1e-6;
  double final_logit_softcap = 30.0;
  int64_t context_length = 0;
  // MTP assistant ("gemma4-assistant"): the target model's hidden size H_b. Every assistant
  // layer reads the target's KV cache (S layers its last sliding layer, F its last full one).
  int64_t n_embd_backbone = 0;
  // HF `use_bidirectional_attention == "vision"` (26B, 31B, 12B): the soft tokens of one image
  // see each other in sliding layers during prefill (spec gemma4-multimodal.md §5.4). GGUF
  // does not record it; pocket follows the released configs (on for models without PLE).
  bool image_bidirectional = false;

  bool is_sliding(int il) const { return layer_types[static_cast<size_t>(il)] == LayerType::kSliding; }
  int head_dim(int il) const { return is_sliding(il) ? head_dim_swa : head_dim_full; }
  int first_kv_shared_layer() const { return n_layer - n_kv_shared_layers; }
  // The layer whose KV cache layer `il` reads (itself unless KV-shared): the last non-shared
  // layer of the same attention type.
  int kv_source_layer(int il) const;
  bool has_ple() const { return n_embd_per_layer > 0; }
  bool has_moe() const { return n_expert > 0; }
  bool has_double_wide_mlp() const;
  bool is_assistant() const { return n_embd_backbone > 0; }
  // RoPE frequency of each rotation pair (head_dim/2 entries) for sliding or full layers:
  // θ^(-2i/d) for the first int(partial·d)/2 pairs, 0 (unrotated) for the rest — the
  // proportional partial RoPE of spec gemma4-text.md §4.4.
  std::vector<double> RopeFrequencies(bool sliding) const;

  Status Validate() const;
};

// Reads the text config from a GGUF ("gemma4.*" keys) or HF folder ("text_config.*").
// NotFound if the source holds no text decoder (e.g. an mmproj file).
Result<Gemma4TextConfig> LoadTextConfig(const WeightSource& ws);

// True if the source looks like it carries a Gemma 4 text decoder.
bool HasTextDecoder(const WeightSource& ws);

}  // namespace pocket
