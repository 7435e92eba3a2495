#include "runtime/decoder.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <numeric>

#include "base/memory_advice.h"
#include "quant/quant.h"

namespace pocket {
namespace {

// Every matrix the decoder multiplies must have a kernel for its type (null: absent tensor).
Status CheckKernel(const TensorInfo* t) {
  if (t == nullptr || kernels::HasMatMulKernel(t->type)) return Status::Ok();
  return Unimplemented(StrFormat("tensor '%s' has type %s, which has no matrix kernel",
                                 t->name.c_str(), DTypeName(t->type)));
}

size_t Sz(int64_t v) { return static_cast<size_t>(v); }

// A prompt reads one row of each embedding table per token, rows scattered over hundreds of
// megabytes of mapped file (E2B: ~9 KB per token from token_embd and the per-layer table).
// Hinting them all first lets the OS fetch the pages not yet in memory (the first prompt after
// start-up) as one batch of parallel reads instead of one page fault at a time: the first
// 512-token prompt's embedding phase from a cold page cache went from ~1.6 s to ~0.13 s.
void AdviseRows(const ref::MatView& w, const int32_t* ids, int64_t n) {
  if (n < 2 || w.t == nullptr) return;  // decode: the one row is read right away anyway
  const uint64_t row_bytes = *RowBytes(w.t->type, w.cols);
  for (int64_t t = 0; t < n; ++t) {
    AdviseWillNeed(w.t->data + static_cast<uint64_t>(w.row_offset + ids[t]) * row_bytes, row_bytes);
  }
}

}  // namespace

std::unique_ptr<kernels::PackedWeights> PackDecoderWeights(const Gemma4Weights& w,
                                                           const WeightSource& ws,
                                                           const kernels::KernelTable& k,
                                                           ThreadPool* pool) {
  std::vector<kernels::PackedWeights::Source> sources;
  auto add = [&](const TensorInfo* t, int64_t cols) {
    if (t != nullptr && cols > 0) sources.push_back({t->type, t->data, t->n_elements() / cols, cols});
  };
  add(w.output.t, w.output.cols);
  add(w.ple_proj.t, w.ple_proj.cols);
  for (const LayerWeights& l : w.layers) {
    for (const ref::MatView* v : {&l.wq, &l.wk, &l.wv, &l.wo, &l.ffn_gate, &l.ffn_up, &l.ffn_down,
                                  &l.inp_gate, &l.proj, &l.router})
      add(v->t, v->cols);
    for (const TensorInfo* t : {l.gate_up_exps, l.gate_exps, l.up_exps, l.down_exps})
      if (t != nullptr) add(t, t->ne[0]);
  }
  return kernels::PackedWeights::Build(
      k, sources, pool, [&ws](const uint8_t* data, uint64_t bytes) { ws.ReleasePages(data, bytes); });
}

Result<std::unique_ptr<Decoder>> Decoder::Create(const Gemma4TextConfig& c, const Gemma4Weights& w,
                                                 ThreadPool* pool, const DecoderOptions& o) {
  if (c.is_assistant()) {
    return Unimplemented(
        "this is an MTP assistant (draft) model: it runs alongside its target model for speculative "
        "decoding, which pocket does not do yet; load the target model instead");
  }
  RETURN_IF_ERROR(CheckKernel(w.output.t));
  RETURN_IF_ERROR(CheckKernel(w.ple_proj.t));
  for (const ref::MatView* v : {&w.token_embd, &w.ple_embd}) {
    if (v->t != nullptr && !CanDequantize(v->t->type)) {
      return Unimplemented(StrFormat("tensor '%s' has type %s, which pocket cannot decode",
                                     v->t->name.c_str(), DTypeName(v->t->type)));
    }
  }
  for (const LayerWeights& l : w.layers) {
    for (const ref::MatView* v : {&l.wq, &l.wk, &l.wv, &l.wo, &l.ffn_gate, &l.ffn_up, &l.ffn_down,
                                  &l.inp_gate, &l.proj, &l.router}) {
      RETURN_IF_ERROR(CheckKernel(v->t));
    }
    for (const TensorInfo* t : {l.gate_up_exps, l.gate_exps, l.up_exps, l.down_exps})
      RETURN_IF_ERROR(CheckKernel(t));
  }
  if (o.max_batch <= 0)
    return InvalidArgument(
        StrFormat("batch size must be positive, got %lld", (long long)o.max_batch));
  DecoderOptions opt = o;
  opt.max_batch = std::min(o.max_batch, o.n_ctx);
  ASSIGN_OR_RETURN(KvCache kv, KvCache::Create(c, opt.n_ctx, opt.max_batch, opt.kv_type));
  std::unique_ptr<Decoder> d(new Decoder(c, w, pool, opt, std::move(kv)));
  d->AllocateBuffers();
  return d;
}

Decoder::Decoder(const Gemma4TextConfig& c, const Gemma4Weights& w, ThreadPool* pool,
                 const DecoderOptions& o, KvCache kv)
    : c_(c),
      w_(w),
      pool_(pool),
      opt_(o),
      kv_(std::move(kv)),
      k_(o.kernels ? *o.kernels : kernels::Kernels()) {
  freqs_swa_ = c_.RopeFrequencies(/*sliding=*/true);
  freqs_full_ = c_.RopeFrequencies(/*sliding=*/false);
  profile_ = PhaseProfile::FromEnvironment();
}

Decoder::~Decoder() {
  if (profile_) std::fputs(profile_->Report().c_str(), stderr);
}

void Decoder::AllocateBuffers() {
  const size_t B = Sz(opt_.max_batch), H = Sz(c_.n_embd);
  const int d_max = std::max(c_.head_dim_swa, c_.head_dim_full);
  int kv_max = 0;
  for (int n : c_.n_head_kv) kv_max = std::max(kv_max, n);
  const int64_t f_max = *std::max_element(c_.n_ff.begin(), c_.n_ff.end());
  for (std::vector<float>* v : {&h_, &a_, &o_, &x_, &m_}) v->assign(B * H, 0.0f);
  q_.assign(B * Sz(c_.n_head) * Sz(d_max), 0.0f);
  attn_.assign(q_.size(), 0.0f);
  kbuf_.assign(B * Sz(kv_max) * Sz(d_max), 0.0f);
  vbuf_.assign(kbuf_.size(), 0.0f);
  gate_.assign(B * Sz(f_max), 0.0f);
  up_.assign(B * Sz(f_max), 0.0f);
  if (c_.has_ple()) {
    const size_t lp = Sz(c_.n_layer) * Sz(c_.n_embd_per_layer);
    ple_.assign(B * lp, 0.0f);
    ple_tok_.assign(B * lp, 0.0f);
    ple_gate_.assign(B * Sz(c_.n_embd_per_layer), 0.0f);
  }
  if (c_.has_moe()) {
    const size_t F = Sz(c_.n_ff_expert), E = Sz(c_.n_expert), K = Sz(c_.n_expert_used);
    for (std::vector<float>* v : {&moe_out_, &moe_in_, &moe_x_, &moe_y_}) v->assign(B * H, 0.0f);
    router_.assign(B * E, 0.0f);
    moe_gate_.assign(B * F, 0.0f);
    moe_up_.assign(B * 2 * F, 0.0f);  // up, or [gate | up] per token from a fused tensor
    moe_sel_.assign(B * K, 0);
    moe_w_.assign(B * K, 0.0f);
    moe_rows_.reserve(B);
  }
  int max_group = 1;  // query heads per KV head, the most of any layer
  for (int kv_heads : c_.n_head_kv) {
    if (kv_heads > 0) max_group = std::max(max_group, c_.n_head / kv_heads);
  }
  attn_scratch_.Reserve(pool_ ? pool_->size() : 1, opt_.n_ctx, c_.n_head, max_group,
                        static_cast<int>(std::max(c_.head_dim_swa, c_.head_dim_full)));
  rope_swa_.assign(B * Sz(c_.head_dim_swa), 0.0f);
  rope_full_.assign(B * Sz(c_.head_dim_full), 0.0f);
}

template <typename Fn>
void Decoder::ForTokens(int64_t n, Fn&& fn) {
  if (pool_ && n >= 4) {
    pool_->ParallelFor(n, [&](int64_t t, int) { fn(t); });
  } else {
    for (int64_t t = 0; t < n; ++t) fn(t);
  }
}

void Decoder::MatMul(const ref::MatView& w, const float* x, int64_t n, float* y) {
  const kernels::WeightMatrix m = kernels::PackedWeights::View(
      opt_.packed, k_, w.t->type, w.t->data, w.row_offset, w.rows, w.cols);
  kernels::MatMul(k_, pool_, m, x, w.cols, n, y, w.rows, &mm_scratch_);
}

void Decoder::Embed(const DecoderBatch& b) {
  const int64_t H = c_.n_embd;
  const float scale = std::sqrt(static_cast<float>(H));
  AdviseRows(w_.token_embd, b.tokens, b.n);
  if (c_.has_ple()) AdviseRows(w_.ple_embd, b.tokens, b.n);
  ForTokens(b.n, [&](int64_t t) {
    float* h = h_.data() + t * H;
    if (b.embedding_mask && b.embedding_mask[t]) {
      std::memcpy(h, b.embeddings + t * H, sizeof(float) * Sz(H));
      return;
    }
    ref::GetRow(w_.token_embd, b.tokens[t], h);
    k_.scale_f32(H, scale, h);
  });
}

void Decoder::PerLayerInputs(const DecoderBatch& b) {
  const int64_t H = c_.n_embd, P = c_.n_embd_per_layer, LP = c_.n_layer * P;
  MatMul(w_.ple_proj, h_.data(), b.n, ple_.data());
  const float inv_sqrt_h = static_cast<float>(1.0 / std::sqrt(static_cast<double>(H)));
  const float sqrt_p = static_cast<float>(std::sqrt(static_cast<double>(P)));
  const float inv_sqrt2 = static_cast<float>(M_SQRT1_2);
  const float eps = static_cast<float>(c_.rms_norm_eps);
  ForTokens(b.n, [&](int64_t t) {
    // Soft tokens look up the pad row (their token id is pad by contract).
    float* tok = ple_tok_.data() + t * LP;
    ref::GetRow(w_.ple_embd, b.tokens[t], tok);
    for (int il = 0; il < c_.n_layer; ++il) {
      float* c = ple_.data() + t * LP + il * P;
      k_.scale_f32(P, inv_sqrt_h, c);
      k_.rms_norm(c, w_.ple_proj_norm.data(), P, eps, c);
      const float* e = tok + il * P;
      for (int64_t i = 0; i < P; ++i) c[i] = (c[i] + e[i] * sqrt_p) * inv_sqrt2;
    }
  });
}

void Decoder::RopeRows(float* x, int64_t n, int n_heads, int d, const std::vector<float>& cs) {
  const int half = d / 2;
  ForTokens(n, [&](int64_t t) {
    const float* r = cs.data() + t * d;  // [half][cos, sin]
    for (int h = 0; h < n_heads; ++h) {
      float* xh = x + (t * n_heads + h) * d;
      for (int i = 0; i < half; ++i) {
        const float c = r[2 * i], s = r[2 * i + 1];
        const float a = xh[i], b = xh[i + half];
        xh[i] = a * c - b * s;
        xh[i + half] = b * c + a * s;
      }
    }
  });
}

void Decoder::AttentionBlock(int il, int64_t n) {
  const LayerWeights& l = w_.layers[Sz(il)];
  const int64_t H = c_.n_embd;
  const int d = c_.head_dim(il), nq = c_.n_head, nkv = c_.n_head_kv[Sz(il)];
  const float eps = static_cast<float>(c_.rms_norm_eps);
  const std::vector<float>& cs = c_.is_sliding(il) ? rope_swa_ : rope_full_;
  ForTokens(n, [&](int64_t t) {
    k_.rms_norm(h_.data() + t * H, l.attn_norm.data(), H, eps, a_.data() + t * H);
  });
  MatMul(l.wq, a_.data(), n, q_.data());
  ForTokens(n, [&](int64_t t) {
    for (int h = 0; h < nq; ++h) {
      float* qh = q_.data() + (t * nq + h) * d;
      k_.rms_norm(qh, l.q_norm.data(), d, eps, qh);
    }
  });
  RopeRows(q_.data(), n, nq, d, cs);
  if (l.wk.t != nullptr) {  // this layer owns its KV: project, normalise and store the chunk
    MatMul(l.wk, a_.data(), n, kbuf_.data());
    if (l.wv.t != nullptr) {
      MatMul(l.wv, a_.data(), n, vbuf_.data());
    } else {
      std::memcpy(vbuf_.data(), kbuf_.data(), sizeof(float) * Sz(n * nkv * d));  // attention_k_eq_v
    }
    ForTokens(n, [&](int64_t t) {
      for (int h = 0; h < nkv; ++h) {
        float* kh = kbuf_.data() + (t * nkv + h) * d;
        float* vh = vbuf_.data() + (t * nkv + h) * d;
        k_.rms_norm(kh, l.k_norm.data(), d, eps, kh);
        k_.rms_norm(vh, nullptr, d, eps, vh);
      }
    });
    RopeRows(kbuf_.data(), n, nkv, d, cs);
    const auto store = k_.kv_store[static_cast<int>(kv_.type())];
    for (int64_t t = 0; t < n; ++t) {
      store(kbuf_.data() + t * nkv * d, kv_.KRow(il, pos_ + t), nkv * d);
      store(vbuf_.data() + t * nkv * d, kv_.VRow(il, pos_ + t), nkv * d);
    }
  }
  kernels::AttentionParams p;
  p.n_head = nq;
  p.n_kv_head = nkv;
  p.head_dim = d;
  p.window = c_.is_sliding(il) ? c_.sliding_window : 0;
  if (c_.is_sliding(il)) {  // full-attention layers stay causal (spec gemma4-multimodal.md §5.4)
    p.group_first = group_first_;
    p.group_last = group_last_;
  }
  {
    PhaseTimer timer(profile_.get(), PhaseProfile::kAttnCore, decoding_);
    kernels::Attention(k_, pool_, p, kv_.View(il), q_.data(), n, pos_, attn_.data(),
                       &attn_scratch_);
  }
  MatMul(l.wo, attn_.data(), n, o_.data());
  ForTokens(n, [&](int64_t t) {
    float* o = o_.data() + t * H;
    k_.rms_norm(o, l.post_attention_norm.data(), H, eps, o);
    k_.add_f32(H, o, h_.data() + t * H);
  });
}

void Decoder::MoeBlock(int il, int64_t n) {
  const LayerWeights& l = w_.layers[Sz(il)];
  const int64_t H = c_.n_embd, F = c_.n_ff_expert;
  const int E = c_.n_expert, K = c_.n_expert_used;
  const float eps = static_cast<float>(c_.rms_norm_eps);
  const float inv_sqrt_h = static_cast<float>(1.0 / std::sqrt(static_cast<double>(H)));
  // Router input: weightless norm of h1, scaled per channel and by 1/√H.
  ForTokens(n, [&](int64_t t) {
    const float* h = h_.data() + t * H;
    float* r = moe_in_.data() + t * H;
    k_.rms_norm(h, nullptr, H, eps, r);
    for (int64_t i = 0; i < H; ++i) r[i] = r[i] * l.router_scale[Sz(i)] * inv_sqrt_h;
    k_.rms_norm(h, l.pre_ffw_norm_2.data(), H, eps, moe_y_.data() + t * H);
  });
  MatMul(l.router, moe_in_.data(), n, router_.data());
  ForTokens(n, [&](int64_t t) {
    float* p = router_.data() + t * E;
    k_.softmax(E, p);
    int32_t* sel = moe_sel_.data() + t * K;
    // Top-k by probability, lower index first on ties.
    for (int k = 0; k < K; ++k) {
      int best = -1;
      for (int e = 0; e < E; ++e) {
        bool taken = false;
        for (int j = 0; j < k; ++j) taken |= sel[j] == e;
        if (!taken && (best < 0 || p[e] > p[best])) best = e;
      }
      sel[k] = best;
    }
    float sum = 0.0f;
    for (int k = 0; k < K; ++k) sum += p[sel[k]];
    for (int k = 0; k < K; ++k)
      moe_w_[Sz(t * K + k)] = p[sel[k]] / sum * l.expert_scale[Sz(sel[k])];
    std::fill(moe_out_.data() + t * H, moe_out_.data() + (t + 1) * H, 0.0f);
  });
  // Each expert runs once over the tokens routed to it; unselected experts are never read.
  for (int e = 0; e < E; ++e) {
    moe_rows_.clear();
    for (int64_t t = 0; t < n; ++t) {
      for (int k = 0; k < K; ++k) {
        if (moe_sel_[Sz(t * K + k)] == e) moe_rows_.push_back(static_cast<int32_t>(t * K + k));
      }
    }
    if (moe_rows_.empty()) continue;
    const int64_t cnt = static_cast<int64_t>(moe_rows_.size());
    for (int64_t i = 0; i < cnt; ++i) {
      std::memcpy(moe_x_.data() + i * H, moe_y_.data() + (moe_rows_[Sz(i)] / K) * H,
                  sizeof(float) * Sz(H));
    }
    if (l.gate_up_exps) {
      // The expert's gate and up rows are adjacent: one product (the tokens encoded once, one
      // parallel loop) gives each token's [gate | up].
      MatMul({l.gate_up_exps, 2 * F, H, e * 2 * F}, moe_x_.data(), cnt, moe_up_.data());
      ForTokens(cnt, [&](int64_t i) {
        const float* gu = moe_up_.data() + i * 2 * F;
        k_.gelu_tanh_mul(F, gu, gu + F, moe_gate_.data() + i * F);
      });
    } else {
      MatMul({l.gate_exps, F, H, e * F}, moe_x_.data(), cnt, moe_gate_.data());
      MatMul({l.up_exps, F, H, e * F}, moe_x_.data(), cnt, moe_up_.data());
      k_.gelu_tanh_mul(cnt * F, moe_gate_.data(), moe_up_.data(), moe_gate_.data());
    }
    MatMul({l.down_exps, H, F, static_cast<int64_t>(e) * H}, moe_gate_.data(), cnt, moe_x_.data());
    for (int64_t i = 0; i < cnt; ++i) {
      const int32_t row = moe_rows_[Sz(i)];
      k_.axpy_f32(H, moe_w_[Sz(row)], moe_x_.data() + i * H, moe_out_.data() + (row / K) * H);
    }
  }
}

void Decoder::MlpBlock(int il, int64_t n) {
  const LayerWeights& l = w_.layers[Sz(il)];
  const int64_t H = c_.n_embd, F = c_.n_ff[Sz(il)];
  const float eps = static_cast<float>(c_.rms_norm_eps);
  ForTokens(n, [&](int64_t t) {
    k_.rms_norm(h_.data() + t * H, l.ffn_norm.data(), H, eps, x_.data() + t * H);
  });
  MatMul(l.ffn_gate, x_.data(), n, gate_.data());
  MatMul(l.ffn_up, x_.data(), n, up_.data());
  ForTokens(n, [&](int64_t t) {
    k_.gelu_tanh_mul(F, gate_.data() + t * F, up_.data() + t * F, gate_.data() + t * F);
  });
  MatMul(l.ffn_down, gate_.data(), n, m_.data());
  if (c_.has_moe()) {
    MoeBlock(il, n);
    ForTokens(n, [&](int64_t t) {
      float* m = m_.data() + t * H;
      float* e = moe_out_.data() + t * H;
      k_.rms_norm(m, l.post_ffw_norm_1.data(), H, eps, m);
      k_.rms_norm(e, l.post_ffw_norm_2.data(), H, eps, e);
      k_.add_f32(H, e, m);
    });
  }
  ForTokens(n, [&](int64_t t) {
    float* m = m_.data() + t * H;
    k_.rms_norm(m, l.post_ffw_norm.data(), H, eps, m);
    k_.add_f32(H, m, h_.data() + t * H);
  });
}

void Decoder::PleBlock(int il, int64_t n) {
  const LayerWeights& l = w_.layers[Sz(il)];
  const int64_t H = c_.n_embd, P = c_.n_embd_per_layer, LP = c_.n_layer * P;
  const float eps = static_cast<float>(c_.rms_norm_eps);
  MatMul(l.inp_gate, h_.data(), n, ple_gate_.data());
  ForTokens(n, [&](int64_t t) {
    float* g = ple_gate_.data() + t * P;
    k_.gelu_tanh_mul(P, g, ple_.data() + t * LP + il * P, g);
  });
  MatMul(l.proj, ple_gate_.data(), n, m_.data());
  ForTokens(n, [&](int64_t t) {
    float* m = m_.data() + t * H;
    k_.rms_norm(m, l.post_norm.data(), H, eps, m);
    k_.add_f32(H, m, h_.data() + t * H);
  });
}

bool Decoder::CanRewindTo(int64_t pos) const {
  if (pos < 0 || pos > pos_) return false;
  const bool has_sliding = std::any_of(c_.layer_types.begin(), c_.layer_types.end(),
                                       [](LayerType t) { return t == LayerType::kSliding; });
  const int64_t ring = std::min(opt_.n_ctx, c_.sliding_window - 1 + opt_.max_batch);
  if (!has_sliding || ring >= opt_.n_ctx) return true;
  // The ring holds positions [pos_ - ring, pos_); a query at `pos` needs [pos - W + 1, pos).
  return std::max<int64_t>(0, pos - (c_.sliding_window - 1)) >= pos_ - ring;
}

Status Decoder::RewindTo(int64_t pos) {
  if (!CanRewindTo(pos)) {
    return OutOfRange(StrFormat("cannot rewind the context from %lld to %lld positions",
                                (long long)pos_, (long long)pos));
  }
  pos_ = pos;
  return Status::Ok();
}

Status Decoder::Forward(const DecoderBatch& b, LogitsMode mode, float* logits) {
  if (b.n <= 0) return InvalidArgument("empty batch");
  if (b.n > opt_.max_batch) {
    return InvalidArgument(StrFormat("batch of %lld tokens exceeds the maximum of %lld",
                                     (long long)b.n, (long long)opt_.max_batch));
  }
  if (pos_ + b.n > opt_.n_ctx) {
    return OutOfRange(StrFormat("context is full: %lld + %lld tokens exceed the context size %lld",
                                (long long)pos_, (long long)b.n, (long long)opt_.n_ctx));
  }
  for (int64_t t = 0; t < b.n; ++t) {
    if (b.tokens[t] < 0 || b.tokens[t] >= c_.n_vocab) {
      return InvalidArgument(StrFormat("token id %d at index %lld is out of range [0, %lld)",
                                       b.tokens[t], (long long)t, (long long)c_.n_vocab));
    }
  }
  if ((b.group_first == nullptr) != (b.group_last == nullptr)) {
    return InvalidArgument("image groups need both first and last positions");
  }
  for (int64_t t = 0; b.group_first != nullptr && t < b.n; ++t) {
    const int64_t f = b.group_first[t], l = b.group_last[t];
    if (f < 0) continue;
    if (f < pos_ || l < f || l >= pos_ + b.n || pos_ + t < f || pos_ + t > l) {
      return InvalidArgument(StrFormat("image group [%lld, %lld] of row %lld does not lie inside the chunk",
                                       (long long)f, (long long)l, (long long)t));
    }
  }
  group_first_ = b.group_first;
  group_last_ = b.group_last;
  const int64_t n = b.n, H = c_.n_embd;
  decoding_ = n == 1;
  const auto start =
      profile_ ? std::chrono::steady_clock::now() : std::chrono::steady_clock::time_point();
  auto finish = [&] {
    if (profile_) {
      profile_->AddForward(
          decoding_, n,
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    }
  };
  // RoPE angles of this chunk's positions, computed in double as the reference does.
  for (int64_t t = 0; t < n; ++t) {
    const double pos = static_cast<double>(pos_ + t);
    for (auto [freqs, table, d] : {std::tuple{&freqs_swa_, &rope_swa_, c_.head_dim_swa},
                                   std::tuple{&freqs_full_, &rope_full_, c_.head_dim_full}}) {
      for (int i = 0; i < d / 2; ++i) {
        const double theta = pos * (*freqs)[Sz(i)];
        (*table)[Sz(t * d + 2 * i)] = static_cast<float>(std::cos(theta));
        (*table)[Sz(t * d + 2 * i + 1)] = static_cast<float>(std::sin(theta));
      }
    }
  }
  {
    PhaseTimer timer(profile_.get(), PhaseProfile::kEmbed, decoding_);
    Embed(b);
    if (c_.has_ple()) PerLayerInputs(b);
  }
  for (int il = 0; il < c_.n_layer; ++il) {
    {
      PhaseTimer timer(profile_.get(), PhaseProfile::kAttention, decoding_);
      AttentionBlock(il, n);
    }
    {
      PhaseTimer timer(profile_.get(), PhaseProfile::kFfn, decoding_);
      MlpBlock(il, n);
    }
    if (c_.has_ple()) {
      PhaseTimer timer(profile_.get(), PhaseProfile::kPle, decoding_);
      PleBlock(il, n);
    }
    const float s = w_.layers[Sz(il)].layer_scale;
    if (s != 1.0f) ForTokens(n, [&](int64_t t) { k_.scale_f32(H, s, h_.data() + t * H); });
  }
  pos_ += n;
  if (mode == LogitsMode::kNone) {
    finish();
    return Status::Ok();
  }
  PhaseTimer output_timer(profile_.get(), PhaseProfile::kOutput, decoding_);
  const int64_t first = mode == LogitsMode::kAll ? 0 : n - 1;
  const int64_t rows = n - first;
  const float eps = static_cast<float>(c_.rms_norm_eps);
  ForTokens(rows, [&](int64_t i) {
    float* h = h_.data() + (first + i) * H;
    k_.rms_norm(h, w_.output_norm.data(), H, eps, h);
  });
  MatMul(w_.output, h_.data() + first * H, rows, logits);
  if (c_.final_logit_softcap > 0) {
    const float cap = static_cast<float>(c_.final_logit_softcap);
    const int64_t total = rows * c_.n_vocab, chunk = 16384;
    auto run = [&](int64_t i, int) {
      k_.softcap(std::min(chunk, total - i * chunk), cap, logits + i * chunk);
    };
    const int64_t tasks = (total + chunk - 1) / chunk;
    if (pool_) {
      pool_->ParallelFor(tasks, run);
    } else {
      for (int64_t i = 0; i < tasks; ++i) run(i, 0);
    }
  }
  finish();
  return Status::Ok();
}

Status Decoder::Eval(const int32_t* tokens, int64_t n, LogitsMode mode, float* logits,
                     int64_t chunk) {
  const int64_t step = chunk > 0 ? std::min(chunk, opt_.max_batch) : opt_.max_batch;
  for (int64_t i = 0; i < n; i += step) {
    const int64_t m = std::min(step, n - i);
    const bool last = i + m == n;
    LogitsMode mm = mode == LogitsMode::kAll ? LogitsMode::kAll : (last ? mode : LogitsMode::kNone);
    float* out = mode == LogitsMode::kAll ? logits + i * c_.n_vocab : logits;
    DecoderBatch b;
    b.tokens = tokens + i;
    b.n = m;
    RETURN_IF_ERROR(Forward(b, mm, out));
  }
  return Status::Ok();
}

}  // namespace pocket
