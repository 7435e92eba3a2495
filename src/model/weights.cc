#include "model/weights.h"

#include "model/binder.h"
#include "quant/quant.h"

namespace pocket {

Result<Gemma4Weights> Gemma4Weights::Bind(const WeightSource& ws, const Gemma4TextConfig& c) {
  Binder b(ws);
  Gemma4Weights w;
  const int64_t H = c.n_embd, V = c.n_vocab;
  RETURN_IF_ERROR(b.Matrix("token_embd.weight", V, H, &w.token_embd));
  w.output = w.token_embd;
  RETURN_IF_ERROR(b.Matrix("output.weight", V, H, &w.output, /*required=*/false));
  RETURN_IF_ERROR(b.Vector("output_norm.weight", H, &w.output_norm));
  if (c.has_ple()) {
    const int64_t LP = static_cast<int64_t>(c.n_layer) * c.n_embd_per_layer;
    RETURN_IF_ERROR(b.Matrix("per_layer_token_embd.weight", c.n_vocab_per_layer, LP, &w.ple_embd));
    RETURN_IF_ERROR(b.Matrix("per_layer_model_proj.weight", LP, H, &w.ple_proj));
    RETURN_IF_ERROR(b.Vector("per_layer_proj_norm.weight", c.n_embd_per_layer, &w.ple_proj_norm));
  }
  if (c.is_assistant()) {
    RETURN_IF_ERROR(b.Matrix("nextn.pre_projection.weight", H, 2 * c.n_embd_backbone, &w.pre_projection));
    RETURN_IF_ERROR(b.Matrix("nextn.post_projection.weight", c.n_embd_backbone, H, &w.post_projection));
  }
  w.layers.resize(static_cast<size_t>(c.n_layer));
  for (int il = 0; il < c.n_layer; ++il) {
    LayerWeights& l = w.layers[static_cast<size_t>(il)];
    const std::string p = StrFormat("blk.%d.", il);
    const int64_t d = c.head_dim(il), nq = c.n_head, nkv = c.n_head_kv[static_cast<size_t>(il)];
    const bool owns_kv = il < c.first_kv_shared_layer();
    RETURN_IF_ERROR(b.Vector(p + "attn_norm.weight", H, &l.attn_norm));
    RETURN_IF_ERROR(b.Matrix(p + "attn_q.weight", nq * d, H, &l.wq));
    RETURN_IF_ERROR(b.Vector(p + "attn_q_norm.weight", d, &l.q_norm));
    if (owns_kv) {  // KV-shared layers may carry unused k/v weights: they are ignored
      RETURN_IF_ERROR(b.Matrix(p + "attn_k.weight", nkv * d, H, &l.wk));
      const bool v_optional = !c.is_sliding(il) && c.attention_k_eq_v;
      RETURN_IF_ERROR(b.Matrix(p + "attn_v.weight", nkv * d, H, &l.wv, !v_optional));
      RETURN_IF_ERROR(b.Vector(p + "attn_k_norm.weight", d, &l.k_norm));
    }
    RETURN_IF_ERROR(b.Matrix(p + "attn_output.weight", H, nq * d, &l.wo));
    RETURN_IF_ERROR(b.Vector(p + "post_attention_norm.weight", H, &l.post_attention_norm));
    const int64_t F = c.n_ff[static_cast<size_t>(il)];
    RETURN_IF_ERROR(b.Vector(p + "ffn_norm.weight", H, &l.ffn_norm));
    RETURN_IF_ERROR(b.Matrix(p + "ffn_gate.weight", F, H, &l.ffn_gate));
    RETURN_IF_ERROR(b.Matrix(p + "ffn_up.weight", F, H, &l.ffn_up));
    RETURN_IF_ERROR(b.Matrix(p + "ffn_down.weight", H, F, &l.ffn_down));
    RETURN_IF_ERROR(b.Vector(p + "post_ffw_norm.weight", H, &l.post_ffw_norm));
    std::vector<float> scale;
    RETURN_IF_ERROR(b.Vector(p + "layer_output_scale.weight", 1, &scale, /*required=*/false));
    if (!scale.empty()) l.layer_scale = scale[0];
    if (c.has_ple()) {
      RETURN_IF_ERROR(b.Matrix(p + "inp_gate.weight", c.n_embd_per_layer, H, &l.inp_gate));
      RETURN_IF_ERROR(b.Matrix(p + "proj.weight", H, c.n_embd_per_layer, &l.proj));
      RETURN_IF_ERROR(b.Vector(p + "post_norm.weight", H, &l.post_norm));
    }
    if (c.has_moe()) {
      const int64_t E = c.n_expert, Fe = c.n_ff_expert;
      RETURN_IF_ERROR(b.Matrix(p + "ffn_gate_inp.weight", E, H, &l.router));
      RETURN_IF_ERROR(b.Vector(p + "ffn_gate_inp.scale", H, &l.router_scale));
      RETURN_IF_ERROR(b.Vector(p + "ffn_down_exps.scale", E, &l.expert_scale));
      RETURN_IF_ERROR(b.Vector(p + "pre_ffw_norm_2.weight", H, &l.pre_ffw_norm_2));
      RETURN_IF_ERROR(b.Vector(p + "post_ffw_norm_1.weight", H, &l.post_ffw_norm_1));
      RETURN_IF_ERROR(b.Vector(p + "post_ffw_norm_2.weight", H, &l.post_ffw_norm_2));
      ASSIGN_OR_RETURN(l.gate_up_exps, b.Tensor3(p + "ffn_gate_up_exps.weight", {H, 2 * Fe, E}, false));
      if (l.gate_up_exps == nullptr) {
        ASSIGN_OR_RETURN(l.gate_exps, b.Tensor3(p + "ffn_gate_exps.weight", {H, Fe, E}));
        ASSIGN_OR_RETURN(l.up_exps, b.Tensor3(p + "ffn_up_exps.weight", {H, Fe, E}));
      }
      ASSIGN_OR_RETURN(l.down_exps, b.Tensor3(p + "ffn_down_exps.weight", {Fe, H, E}));
    }
  }
  return w;
}

}  // namespace pocket
