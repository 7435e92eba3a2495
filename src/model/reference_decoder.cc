#include "model/reference_decoder.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace pocket {

ReferenceDecoder::ReferenceDecoder(const Gemma4TextConfig& config, const Gemma4Weights& weights, int64_t max_positions)
    : c_(config), w_(weights), max_pos_(max_positions) {
  freqs_swa_ = c_.RopeFrequencies(/*sliding=*/true);
  freqs_full_ = c_.RopeFrequencies(/*sliding=*/false);
  k_cache_.resize(static_cast<size_t>(c_.n_layer));
  v_cache_.resize(static_cast<size_t>(c_.n_layer));
  for (int il = 0; il < c_.first_kv_shared_layer(); ++il) {
    const size_t n = static_cast<size_t>(max_pos_) * static_cast<size_t>(c_.n_head_kv[static_cast<size_t>(il)] * c_.head_dim(il));
    k_cache_[static_cast<size_t>(il)].assign(n, 0.0f);
    v_cache_[static_cast<size_t>(il)].assign(n, 0.0f);
  }
}

void ReferenceDecoder::Attention(int il, const float* a, float* out) {
  const LayerWeights& l = w_.layers[static_cast<size_t>(il)];
  const int d = c_.head_dim(il), nq = c_.n_head, nkv = c_.n_head_kv[static_cast<size_t>(il)];
  const std::vector<double>& freqs = c_.is_sliding(il) ? freqs_swa_ : freqs_full_;
  std::vector<float> q(static_cast<size_t>(nq * d));
  ref::MatVec(l.wq, a, q.data(), &scratch_);
  for (int h = 0; h < nq; ++h) {
    float* qh = q.data() + h * d;
    ref::RmsNorm(qh, l.q_norm.data(), d, c_.rms_norm_eps, qh);
    ref::RopeNeox(qh, d, pos_, freqs);
  }
  if (l.wk.t != nullptr) {  // this layer owns KV: write K/V for the current position
    std::vector<float> k(static_cast<size_t>(nkv * d)), v(static_cast<size_t>(nkv * d));
    ref::MatVec(l.wk, a, k.data(), &scratch_);
    if (l.wv.t != nullptr) {
      ref::MatVec(l.wv, a, v.data(), &scratch_);
    } else {
      v = k;  // attention_k_eq_v: V is the raw K projection
    }
    for (int h = 0; h < nkv; ++h) {
      ref::RmsNorm(k.data() + h * d, l.k_norm.data(), d, c_.rms_norm_eps, k.data() + h * d);
      ref::RopeNeox(k.data() + h * d, d, pos_, freqs);
      ref::RmsNorm(v.data() + h * d, nullptr, d, c_.rms_norm_eps, v.data() + h * d);
    }
    std::copy(k.begin(), k.end(), k_cache_[static_cast<size_t>(il)].begin() + pos_ * nkv * d);
    std::copy(v.begin(), v.end(), v_cache_[static_cast<size_t>(il)].begin() + pos_ * nkv * d);
  }
  const int src = c_.kv_source_layer(il);
  const std::vector<float>& kc = k_cache_[static_cast<size_t>(src)];
  const std::vector<float>& vc = v_cache_[static_cast<size_t>(src)];
  const int64_t first = c_.is_sliding(il) ? std::max<int64_t>(0, pos_ - c_.sliding_window + 1) : 0;
  const int64_t n_keys = pos_ - first + 1;
  std::vector<float> o(static_cast<size_t>(nq * d), 0.0f), scores(static_cast<size_t>(n_keys));
  const int group = nq / nkv;
  for (int h = 0; h < nq; ++h) {
    const int g = h / group;
    const float* qh = q.data() + h * d;
    for (int64_t j = 0; j < n_keys; ++j) {
      const float* kj = kc.data() + ((first + j) * nkv + g) * d;
      double s = 0.0;
      for (int e = 0; e < d; ++e) s += static_cast<double>(qh[e]) * kj[e];
      scores[static_cast<size_t>(j)] = static_cast<float>(s);  // attention scale is 1.0
    }
    ref::SoftmaxInPlace(scores.data(), static_cast<int>(n_keys));
    for (int e = 0; e < d; ++e) {
      double acc = 0.0;
      for (int64_t j = 0; j < n_keys; ++j) acc += static_cast<double>(scores[static_cast<size_t>(j)]) * vc[static_cast<size_t>(((first + j) * nkv + g) * d + e)];
      o[static_cast<size_t>(h * d + e)] = static_cast<float>(acc);
    }
  }
  ref::MatVec(l.wo, o.data(), out, &scratch_);
}

void ReferenceDecoder::Moe(const LayerWeights& l, const float* h1, float* out) {
  const int H = static_cast<int>(c_.n_embd), E = c_.n_expert, K = c_.n_expert_used;
  const int64_t F = c_.n_ff_expert;
  std::vector<float> r(static_cast<size_t>(H)), logits(static_cast<size_t>(E));
  ref::RmsNorm(h1, nullptr, H, c_.rms_norm_eps, r.data());
  const double inv_sqrt_h = 1.0 / std::sqrt(static_cast<double>(H));
  for (int i = 0; i < H; ++i) r[static_cast<size_t>(i)] = static_cast<float>(r[static_cast<size_t>(i)] * l.router_scale[static_cast<size_t>(i)] * inv_sqrt_h);
  ref::MatVec(l.router, r.data(), logits.data(), &scratch_);
  ref::SoftmaxInPlace(logits.data(), E);
  std::vector<int> idx(static_cast<size_t>(E));
  std::iota(idx.begin(), idx.end(), 0);
  std::partial_sort(idx.begin(), idx.begin() + K, idx.end(), [&](int a, int b) {
    return logits[static_cast<size_t>(a)] > logits[static_cast<size_t>(b)] || (logits[static_cast<size_t>(a)] == logits[static_cast<size_t>(b)] && a < b);
  });
  double sum = 0.0;
  for (int k = 0; k < K; ++k) sum += logits[static_cast<size_t>(idx[static_cast<size_t>(k)])];
  std::vector<float> y(static_cast<size_t>(H)), gate(static_cast<size_t>(F)), up(static_cast<size_t>(F)), eo(static_cast<size_t>(H));
  ref::RmsNorm(h1, l.pre_ffw_norm_2.data(), H, c_.rms_norm_eps, y.data());
  std::fill(out, out + H, 0.0f);
  for (int k = 0; k < K; ++k) {
    const int e = idx[static_cast<size_t>(k)];
    const double weight = logits[static_cast<size_t>(e)] / sum * l.expert_scale[static_cast<size_t>(e)];
    if (l.gate_up_exps) {
      ref::MatVec({l.gate_up_exps, F, H, e * 2 * F}, y.data(), gate.data(), &scratch_);
      ref::MatVec({l.gate_up_exps, F, H, e * 2 * F + F}, y.data(), up.data(), &scratch_);
    } else {
      ref::MatVec({l.gate_exps, F, H, e * F}, y.data(), gate.data(), &scratch_);
      ref::MatVec({l.up_exps, F, H, e * F}, y.data(), up.data(), &scratch_);
    }
    for (int64_t i = 0; i < F; ++i) gate[static_cast<size_t>(i)] = ref::GeluTanh(gate[static_cast<size_t>(i)]) * up[static_cast<size_t>(i)];
    ref::MatVec({l.down_exps, H, F, static_cast<int64_t>(e) * H}, gate.data(), eo.data(), &scratch_);
    for (int i = 0; i < H; ++i) out[i] += static_cast<float>(weight * eo[static_cast<size_t>(i)]);
  }
}

Status ReferenceDecoder::Step(int32_t token, float* logits) {
  if (token < 0 || token >= c_.n_vocab) {
    return InvalidArgument(StrFormat("token id %d is out of range [0, %lld)", token, (long long)c_.n_vocab));
  }
  if (pos_ >= max_pos_) return OutOfRange(StrFormat("context is full (%lld positions)", (long long)max_pos_));
  const int H = static_cast<int>(c_.n_embd), L = c_.n_layer, P = c_.n_embd_per_layer;
  std::vector<float> h(static_cast<size_t>(H));
  ref::GetRow(w_.token_embd, token, h.data());
  const float emb_scale = std::sqrt(static_cast<float>(H));
  for (float& x : h) x *= emb_scale;

  std::vector<float> ple;  // [L, P]
  if (P > 0) {
    ple.resize(static_cast<size_t>(L) * P);
    std::vector<float> tok(static_cast<size_t>(L) * P);
    ref::GetRow(w_.ple_embd, token, tok.data());
    ref::MatVec(w_.ple_proj, h.data(), ple.data(), &scratch_);
    const double inv_sqrt_h = 1.0 / std::sqrt(static_cast<double>(H)), sqrt_p = std::sqrt(static_cast<double>(P));
    for (int il = 0; il < L; ++il) {
      float* c = ple.data() + static_cast<size_t>(il) * P;
      for (int i = 0; i < P; ++i) c[i] = static_cast<float>(c[i] * inv_sqrt_h);
      ref::RmsNorm(c, w_.ple_proj_norm.data(), P, c_.rms_norm_eps, c);
      for (int i = 0; i < P; ++i) c[i] = static_cast<float>((c[i] + tok[static_cast<size_t>(il * P + i)] * sqrt_p) * M_SQRT1_2);
    }
  }

  std::vector<float> a(static_cast<size_t>(H)), o(static_cast<size_t>(H)), x(static_cast<size_t>(H)), m(static_cast<size_t>(H));
  for (int il = 0; il < L; ++il) {
    const LayerWeights& l = w_.layers[static_cast<size_t>(il)];
    ref::RmsNorm(h.data(), l.attn_norm.data(), H, c_.rms_norm_eps, a.data());
    Attention(il, a.data(), o.data());
    ref::RmsNorm(o.data(), l.post_attention_norm.data(), H, c_.rms_norm_eps, o.data());
    for (int i = 0; i < H; ++i) h[static_cast<size_t>(i)] += o[static_cast<size_t>(i)];  // h is now h1
    ref::RmsNorm(h.data(), l.ffn_norm.data(), H, c_.rms_norm_eps, x.data());
    const int64_t F = c_.n_ff[static_cast<size_t>(il)];
    std::vector<float> gate(static_cast<size_t>(F)), up(static_cast<size_t>(F));
    ref::MatVec(l.ffn_gate, x.data(), gate.data(), &scratch_);
    ref::MatVec(l.ffn_up, x.data(), up.data(), &scratch_);
    for (int64_t i = 0; i < F; ++i) gate[static_cast<size_t>(i)] = ref::GeluTanh(gate[static_cast<size_t>(i)]) * up[static_cast<size_t>(i)];
    ref::MatVec(l.ffn_down, gate.data(), m.data(), &scratch_);
    if (c_.has_moe()) {
      std::vector<float> moe(static_cast<size_t>(H));
      Moe(l, h.data(), moe.data());
      ref::RmsNorm(m.data(), l.post_ffw_norm_1.data(), H, c_.rms_norm_eps, m.data());
      ref::RmsNorm(moe.data(), l.post_ffw_norm_2.data(), H, c_.rms_norm_eps, moe.data());
      for (int i = 0; i < H; ++i) m[static_cast<size_t>(i)] += moe[static_cast<size_t>(i)];
    }
    ref::RmsNorm(m.data(), l.post_ffw_norm.data(), H, c_.rms_norm_eps, m.data());
    for (int i = 0; i < H; ++i) h[static_cast<size_t>(i)] += m[static_cast<size_t>(i)];
    if (P > 0) {
      std::vector<float> g(static_cast<size_t>(P));
      ref::MatVec(l.inp_gate, h.data(), g.data(), &scratch_);
      for (int i = 0; i < P; ++i) g[static_cast<size_t>(i)] = ref::GeluTanh(g[static_cast<size_t>(i)]) * ple[static_cast<size_t>(il * P + i)];
      ref::MatVec(l.proj, g.data(), m.data(), &scratch_);
      ref::RmsNorm(m.data(), l.post_norm.data(), H, c_.rms_norm_eps, m.data());
      for (int i = 0; i < H; ++i) h[static_cast<size_t>(i)] += m[static_cast<size_t>(i)];
    }
    for (float& v : h) v *= l.layer_scale;
  }
  ref::RmsNorm(h.data(), w_.output_norm.data(), H, c_.rms_norm_eps, h.data());
  ref::MatVec(w_.output, h.data(), logits, &scratch_);
  const double cap = c_.final_logit_softcap;
  if (cap > 0) {
    for (int64_t i = 0; i < c_.n_vocab; ++i) logits[i] = static_cast<float>(cap * std::tanh(logits[i] / cap));
  }
  ++pos_;
  return Status::Ok();
}

}  // namespace pocket
