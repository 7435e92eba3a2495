// Gemma4Weights: every decoder tensor bound by canonical name from a WeightSource and checked
// against the config's expected shape (errors name the tensor, expected vs got). Matrices stay
// in the file's type (views into the mapping); small vectors (norms, scales) are converted to
// f32 and owned here. Does not own the WeightSource, which must outlive it. Immutable after
// Bind; safe to share between threads.
#pragma once

#include <vector>

#include "model/config.h"
#include "model/ops_ref.h"

namespace pocket {

struct LayerWeights {
  std::vector<float> attn_norm, q_norm, k_norm, post_attention_norm, ffn_norm, post_ffw_norm;
  ref::MatView wq, wk, wv, wo;  // wk/wv.t null on KV-shared layers; wv.t null when V := K
  ref::MatView ffn_gate, ffn_up, ffn_down;
  float layer_scale = 1.0f;
  // PLE
  ref::MatView inp_gate, proj;
  std::vector<float> post_norm;
  // MoE
  ref::MatView router;                        // [E, H]
  std::vector<float> router_scale, expert_scale, pre_ffw_norm_2, post_ffw_norm_1, post_ffw_norm_2;
  const TensorInfo* gate_up_exps = nullptr;   // ne {H, 2F, E} (or separate gate/up below)
  const TensorInfo* gate_exps = nullptr;      // ne {H, F, E}
  const TensorInfo* up_exps = nullptr;
  const TensorInfo* down_exps = nullptr;      // ne {F, H, E}
};

struct Gemma4Weights {
  ref::MatView token_embd;   // [V, H]
  ref::MatView output;       // LM head; token_embd when tied
  std::vector<float> output_norm;
  ref::MatView ple_embd;     // [V_ple, L*P]
  ref::MatView ple_proj;     // [L*P, H]
  std::vector<float> ple_proj_norm;
  std::vector<LayerWeights> layers;
  // MTP assistant only: [H_a, 2·H_b] in, [H_b, H_a] back to the target's width.
  ref::MatView pre_projection;
  ref::MatView post_projection;

  static Result<Gemma4Weights> Bind(const WeightSource& ws, const Gemma4TextConfig& c);
};

}  // namespace pocket
