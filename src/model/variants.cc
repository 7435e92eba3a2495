#include "model/variants.h"

#include <cctype>

namespace pocket {
namespace {

// `period` layers per group with the last one full attention: (period-1) S then 1 F.
std::vector<LayerType> Pattern(int n_layer, int period) {
  std::vector<LayerType> t;
  for (int i = 0; i < n_layer; ++i) t.push_back((i + 1) % period == 0 ? LayerType::kFull : LayerType::kSliding);
  t.back() = LayerType::kFull;
  return t;
}

Gemma4TextConfig Base(int n_layer, int64_t n_embd, int n_head, int kv_swa, int kv_full, int period) {
  Gemma4TextConfig c;
  c.architecture = "gemma4";
  c.n_vocab = 262144;
  c.n_embd = n_embd;
  c.n_layer = n_layer;
  c.n_head = n_head;
  c.head_dim_swa = 256;
  c.head_dim_full = 512;
  c.layer_types = Pattern(n_layer, period);
  for (LayerType t : c.layer_types) c.n_head_kv.push_back(t == LayerType::kSliding ? kv_swa : kv_full);
  c.rope_theta_full = 1e6;
  c.rope_theta_swa = 1e4;
  c.partial_rotary_factor_full = 0.25;
  c.rms_norm_eps = 1e-6;
  c.final_logit_softcap = 30.0;
  c.context_length = 262144;
  c.sliding_window = 1024;
  return c;
}

void SetPle(Gemma4TextConfig* c, int p) {
  c->n_embd_per_layer = p;
  c->n_vocab_per_layer = c->n_vocab;
}

}  // namespace

std::vector<std::string> VariantShapeNames() {
  return {"e2b", "e4b", "12b", "26b-a4b", "31b", "tiny", "e2b-assistant", "tiny-assistant"};
}

Result<Gemma4TextConfig> VariantTextConfig(std::string_view shape) {
  std::string s(shape);
  for (char& ch : s) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  Gemma4TextConfig c;
  if (s == "e2b") {
    c = Base(35, 1536, 8, 1, 1, 5);
    c.n_ff.assign(35, 6144);
    for (int i = 15; i < 35; ++i) c.n_ff[static_cast<size_t>(i)] = 12288;  // double-wide MLP
    c.n_kv_shared_layers = 20;
    SetPle(&c, 256);
    c.sliding_window = 512;
    c.context_length = 131072;
  } else if (s == "e4b") {
    c = Base(42, 2560, 8, 2, 2, 6);
    c.n_ff.assign(42, 10240);
    c.n_kv_shared_layers = 18;
    SetPle(&c, 256);
    c.sliding_window = 512;
    c.context_length = 131072;
  } else if (s == "26b-a4b") {
    c = Base(30, 2816, 16, 8, 2, 6);
    c.n_ff.assign(30, 2112);
    c.attention_k_eq_v = true;
    c.n_expert = 128;
    c.n_expert_used = 8;
    c.n_ff_expert = 704;
  } else if (s == "31b") {
    c = Base(60, 5376, 32, 16, 4, 6);
    c.n_ff.assign(60, 21504);
    c.attention_k_eq_v = true;
  } else if (s == "12b") {
    c = Base(48, 3840, 16, 8, 1, 6);
    c.n_ff.assign(48, 15360);
    c.attention_k_eq_v = true;
  } else if (s == "tiny") {
    // Every E-series mechanism at toy size: sliding + full layers, KV sharing (layers 2-3
    // reuse 0-1), double-wide MLP on the shared layers, per-layer embeddings, the real
    // vocabulary. The narrow width keeps the two embedding tables small.
    c = Base(4, 32, 2, 1, 1, 2);
    c.head_dim_swa = 16;
    c.head_dim_full = 32;
    c.n_ff = {64, 64, 128, 128};
    c.n_kv_shared_layers = 2;
    SetPle(&c, 8);
    c.sliding_window = 16;
    c.context_length = 8192;
  } else if (s == "e2b-assistant" || s == "tiny-assistant") {
    // MTP drafters (spec gemma4-text.md §1.2): 4 layers S,S,S,F, all reading the target's KV.
    const bool tiny = s == "tiny-assistant";
    c = Base(4, tiny ? 32 : 256, tiny ? 2 : 4, 1, 1, 4);
    c.architecture = "gemma4-assistant";
    c.n_ff.assign(4, tiny ? 64 : 2048);
    c.n_embd_backbone = tiny ? 32 : 1536;
    c.n_kv_shared_layers = 4;
    c.final_logit_softcap = 0.0;
    c.sliding_window = tiny ? 16 : 512;
    c.context_length = tiny ? 8192 : 131072;
    if (tiny) {
      c.head_dim_swa = 16;
      c.head_dim_full = 32;
    }
  } else {
    return InvalidArgument("unknown shape '" + std::string(shape) +
                           "' (expected e2b, e4b, 12b, 26b-a4b, 31b, tiny, e2b-assistant or tiny-assistant)");
  }
  RETURN_IF_ERROR(c.Validate());
  return c;
}

}  // namespace pocket
