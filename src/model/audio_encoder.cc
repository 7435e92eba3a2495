#include "model/audio_encoder.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "model/binder.h"

namespace pocket {
namespace {

size_t Sz(int64_t v) { return static_cast<size_t>(v); }

double Softplus(double x) { return x > 30 ? x : std::log1p(std::exp(x)); }

Status BindFfn(Binder& b, const std::string& p, const std::string& suffix, int64_t D, int64_t F,
               AudioFfnWeights* f) {
  RETURN_IF_ERROR(b.Vector(p + "ffn_norm" + suffix + ".weight", D, &f->pre_norm));
  RETURN_IF_ERROR(b.Vector(p + "ffn_post_norm" + suffix + ".weight", D, &f->post_norm));
  RETURN_IF_ERROR(BindClippedLinear(b, p + "ffn_up" + suffix, F, D, &f->up));
  RETURN_IF_ERROR(BindClippedLinear(b, p + "ffn_down" + suffix, D, F, &f->down));
  return Status::Ok();
}

// An optional per-dimension scale; HF stores the raw parameter (softplus at runtime), GGUF the
// softplus already applied.
Status BindSoftplusVector(Binder& b, const std::string& name, int64_t n, bool required,
                          std::vector<float>* out) {
  RETURN_IF_ERROR(b.Vector(name, n, out, required));
  const TensorInfo* t = b.source().Find(name);
  if (t != nullptr && t->transform == TensorTransform::kSoftplus) {
    for (float& v : *out) v = static_cast<float>(Softplus(v));
  }
  return Status::Ok();
}

}  // namespace

std::vector<const ref::MatView*> AudioWeights::Matrices() const {
  std::vector<const ref::MatView*> out = {&input_proj, &out_proj, &proj};
  for (const AudioLayerWeights& l : layers) {
    out.push_back(&l.k_rel);
    for (const ClippedLinear* c : {&l.ffn1.up, &l.ffn1.down, &l.ffn2.up, &l.ffn2.down, &l.q, &l.k,
                                   &l.v, &l.o, &l.conv_start, &l.conv_end})
      out.push_back(&c->w);
  }
  return out;
}

Result<AudioWeights> AudioWeights::Bind(const WeightSource& ws, const AudioConfig& c) {
  Binder b(ws);
  AudioWeights w;
  if (c.kind == AudioKind::kUnified) {
    RETURN_IF_ERROR(b.Matrix("mm.a.input_projection.weight", c.n_embd_text, c.frame_size, &w.proj));
    return w;
  }
  if (c.kind != AudioKind::kConformer) return InvalidArgument("no audio projector to bind");
  const int64_t D = c.n_embd, F = c.n_ff, C0 = c.sscp_channels0, C1 = c.sscp_channels1;
  const int d = c.head_dim, K = c.conv_kernel;
  RETURN_IF_ERROR(b.MatrixFlat("a.conv1d.0.weight", C0, 9, &w.conv0));
  RETURN_IF_ERROR(b.MatrixFlat("a.conv1d.1.weight", C1, C0 * 9, &w.conv1));
  for (auto [view, t] : {std::pair{&w.conv0, &w.conv0_t}, std::pair{&w.conv1, &w.conv1_t}}) {
    const int64_t rows = view->rows, cols = view->cols;
    std::vector<float> row(Sz(cols));
    t->resize(Sz(rows * cols));
    for (int64_t r = 0; r < rows; ++r) {
      ref::GetRow(*view, r, row.data());
      for (int64_t i = 0; i < cols; ++i) (*t)[Sz(i * rows + r)] = row[Sz(i)];
    }
  }
  RETURN_IF_ERROR(b.Vector("a.conv1d.0.norm.weight", C0, &w.conv0_norm));
  RETURN_IF_ERROR(b.Vector("a.conv1d.1.norm.weight", C1, &w.conv1_norm));
  RETURN_IF_ERROR(
      b.Matrix("a.input_projection.weight", D, int64_t{c.n_mel / 4} * C1, &w.input_proj));
  w.layers.resize(Sz(c.n_layer));
  const double ln2 = std::log(2.0);
  for (int il = 0; il < c.n_layer; ++il) {
    AudioLayerWeights& l = w.layers[Sz(il)];
    const std::string p = StrFormat("a.blk.%d.", il);
    RETURN_IF_ERROR(BindFfn(b, p, "", D, F, &l.ffn1));
    RETURN_IF_ERROR(BindFfn(b, p, "_1", D, F, &l.ffn2));
    RETURN_IF_ERROR(b.Vector(p + "attn_pre_norm.weight", D, &l.attn_pre_norm));
    RETURN_IF_ERROR(b.Vector(p + "attn_post_norm.weight", D, &l.attn_post_norm));
    RETURN_IF_ERROR(b.Vector(p + "ln2.weight", D, &l.out_norm));
    RETURN_IF_ERROR(BindClippedLinear(b, p + "attn_q", D, D, &l.q));
    RETURN_IF_ERROR(BindClippedLinear(b, p + "attn_k", D, D, &l.k));
    RETURN_IF_ERROR(BindClippedLinear(b, p + "attn_v", D, D, &l.v));
    RETURN_IF_ERROR(BindClippedLinear(b, p + "attn_out", D, D, &l.o));
    RETURN_IF_ERROR(b.Matrix(p + "attn_k_rel.weight", D, D, &l.k_rel));
    RETURN_IF_ERROR(BindSoftplusVector(b, p + "per_dim_scale.weight", d, true, &l.q_scale));
    const double q_base = 1.0 / std::sqrt(static_cast<double>(d)) / ln2;
    for (float& v : l.q_scale) v = static_cast<float>(v * q_base);
    RETURN_IF_ERROR(BindSoftplusVector(b, p + "per_dim_k_scale.weight", d, false, &l.k_scale));
    if (l.k_scale.empty()) l.k_scale.assign(Sz(d), static_cast<float>(Softplus(1.0)));
    for (float& v : l.k_scale) v = static_cast<float>(v / ln2);
    RETURN_IF_ERROR(b.Vector(p + "conv_norm.weight", D, &l.conv_pre_norm));
    RETURN_IF_ERROR(b.Vector(p + "norm_conv.weight", D, &l.conv_norm));
    RETURN_IF_ERROR(BindClippedLinear(b, p + "conv_pw1", 2 * D, D, &l.conv_start));
    RETURN_IF_ERROR(BindClippedLinear(b, p + "conv_pw2", D, D, &l.conv_end));
    std::vector<float> dw;  // [D][K]
    RETURN_IF_ERROR(b.Vector(p + "conv_dw.weight", D * K, &dw));
    l.conv_dw_taps.resize(dw.size());
    for (int64_t c = 0; c < D; ++c) {
      for (int64_t j = 0; j < K; ++j) l.conv_dw_taps[Sz(j * D + c)] = dw[Sz(c * K + j)];
    }
  }
  RETURN_IF_ERROR(b.Matrix("a.pre_encode.out.weight", c.n_out, D, &w.out_proj));
  RETURN_IF_ERROR(b.Vector("a.pre_encode.out.bias", c.n_out, &w.out_bias));
  RETURN_IF_ERROR(b.Matrix("mm.a.input_projection.weight", c.n_embd_text, c.n_out, &w.proj));
  return w;
}

// 3x3 stride-2 pad-1 convolution over [t][f][c_in] (rows with valid[t] == 0 read as zero),
// then LayerNorm over channels (weight only) and ReLU; out is [t_out][f_out][c_out].
void AudioEncoder::Conv(const float* in, int64_t t_in, int64_t f_in, int c_in,
                        const std::vector<float>& w_t, const std::vector<float>& norm, int c_out,
                        const std::vector<uint8_t>& valid, std::vector<float>* out) {
  const int64_t t_out = (t_in + 1) / 2, f_out = (f_in + 1) / 2, k = int64_t{c_in} * 9;
  out->assign(Sz(t_out * f_out * c_out), 0.0f);
  // im2col in blocks of output time steps (~8 MB of columns at a time).
  const int64_t block = std::max<int64_t>(1, (int64_t{2} << 20) / std::max<int64_t>(1, f_out * k));
  for (int64_t t0 = 0; t0 < t_out; t0 += block) {
    const int64_t tb = std::min(block, t_out - t0), rows = tb * f_out;
    cols_.assign(Sz(rows * k), 0.0f);
    ops_.ForRows(tb, [&](int64_t dt) {
      const int64_t t = t0 + dt;
      for (int64_t f = 0; f < f_out; ++f) {
        float* col = cols_.data() + Sz((dt * f_out + f) * k);
        for (int ky = 0; ky < 3; ++ky) {
          const int64_t ti = 2 * t - 1 + ky;
          if (ti < 0 || ti >= t_in || !valid[Sz(ti)]) continue;
          for (int kx = 0; kx < 3; ++kx) {
            const int64_t fi = 2 * f - 1 + kx;
            if (fi < 0 || fi >= f_in) continue;
            const float* src = in + (ti * f_in + fi) * c_in;
            for (int ci = 0; ci < c_in; ++ci) col[(ci * 3 + ky) * 3 + kx] = src[ci];
          }
        }
      }
    });
    // y[rows, c_out] = cols[rows, k] · W_t[k, c_out]: the outputs are few (32 or 128 channels),
    // so broadcasting columns beats row dot products.
    float* y = out->data() + Sz(t0 * f_out * c_out);
    constexpr int64_t kTaskRows = 48;  // a multiple of the NN GEMM's 6-row micro-tile
    ops_.ForRows((rows + kTaskRows - 1) / kTaskRows, [&](int64_t task) {
      const int64_t r0 = task * kTaskRows, m = std::min(kTaskRows, rows - r0);
      ops_.k().sgemm_nn(m, c_out, k, cols_.data() + Sz(r0 * k), k, w_t.data(), c_out,
                        y + r0 * c_out, c_out);
    });
  }
  ops_.LayerNormRows(out->data(), norm.data(), nullptr, t_out * f_out, c_out, c_.eps, out->data());
  for (float& v : *out) v = std::max(v, 0.0f);
}

void AudioEncoder::Ffn(const AudioFfnWeights& f, int64_t n) {
  const int64_t D = c_.n_embd, F = c_.n_ff;
  ops_.RmsNormRows(h_.data(), f.pre_norm.data(), n, D, c_.eps, a_.data());
  ops_.Linear(f.up, a_.data(), n, ff_.data());
  ops_.ForRows(n, [&](int64_t t) {
    float* x = ff_.data() + t * F;
    ops_.k().sigmoid_mul(F, x, x, x);  // SiLU
  });
  ops_.Linear(f.down, ff_.data(), n, b_.data());
  ops_.RmsNormRows(b_.data(), f.post_norm.data(), n, D, c_.eps, b_.data());
  const float rw = static_cast<float>(c_.residual_weight);
  ops_.ForRows(n,
               [&](int64_t t) { ops_.k().axpy_f32(D, rw, b_.data() + t * D, h_.data() + t * D); });
}

void AudioEncoder::Attention(const AudioLayerWeights& l, int64_t n,
                             const std::vector<uint8_t>& valid) {
  const int64_t D = c_.n_embd;
  const int nh = c_.n_head, d = c_.head_dim;
  const int past = c_.context_left - 1;  // keys t - past + 1 .. t are visible (δ < past)
  ops_.RmsNormRows(h_.data(), l.attn_pre_norm.data(), n, D, c_.eps, a_.data());
  ops_.Linear(l.q, a_.data(), n, q_.data());
  ops_.Linear(l.k, a_.data(), n, k_.data());
  ops_.Linear(l.v, a_.data(), n, v_.data());
  ops_.ForRows(n, [&](int64_t t) {
    for (int h = 0; h < nh; ++h) {
      float* q = q_.data() + t * D + h * d;
      float* k = k_.data() + t * D + h * d;
      for (int i = 0; i < d; ++i) {
        q[i] *= l.q_scale[Sz(i)];
        k[i] *= l.k_scale[Sz(i)];
      }
    }
  });
  // Relative position keys for distances past .. 0 (row p of rel_pe_ is distance past - p).
  const int n_rel = past + 1;
  rk_.resize(Sz(int64_t{n_rel} * D));
  ops_.MatMul(l.k_rel, rel_pe_.data(), n_rel, rk_.data());
  const float cap = static_cast<float>(c_.logit_cap);
  const int window = past;  // δ = 0 .. past - 1 (the row for δ = past is always masked)
  ops_.ForRows(n, [&](int64_t t) {
    float logits[64];
    int64_t keys[64];
    const int span = std::min(window, 64);
    for (int h = 0; h < nh; ++h) {
      const float* q = q_.data() + t * D + h * d;
      int m = 0;
      for (int delta = 0; delta < span && delta <= t; ++delta) {
        const int64_t key = t - delta;
        if (!valid[Sz(key)]) continue;
        const float ac = ops_.k().dot_f32(d, q, k_.data() + key * D + h * d);
        const float bd = ops_.k().dot_f32(d, q, rk_.data() + int64_t{past - delta} * D + h * d);
        logits[m] = cap * std::tanh((ac + bd) / cap);
        keys[m++] = key;
      }
      float* o = attn_.data() + t * D + h * d;
      std::fill(o, o + d, 0.0f);
      if (m == 0) continue;  // an invalid frame with no visible keys: its row is dropped later
      ops_.k().softmax(m, logits);
      for (int j = 0; j < m; ++j)
        ops_.k().axpy_f32(d, logits[j], v_.data() + keys[j] * D + h * d, o);
    }
  });
  ops_.Linear(l.o, attn_.data(), n, a_.data());
  ops_.RmsNormRows(a_.data(), l.attn_post_norm.data(), n, D, c_.eps, a_.data());
  ops_.ForRows(n, [&](int64_t t) { ops_.k().add_f32(D, a_.data() + t * D, h_.data() + t * D); });
}

void AudioEncoder::LightConv(const AudioLayerWeights& l, int64_t n) {
  const int64_t D = c_.n_embd;
  const int K = c_.conv_kernel;
  ops_.RmsNormRows(h_.data(), l.conv_pre_norm.data(), n, D, c_.eps, a_.data());
  ops_.Linear(l.conv_start, a_.data(), n, ff_.data());  // [n, 2D]
  ops_.ForRows(n, [&](int64_t t) {                      // GLU: first half value, second half gate
    const float* y = ff_.data() + t * 2 * D;
    ops_.k().sigmoid_mul(D, y + D, y, b_.data() + t * D);
  });
  ops_.ForRows(n, [&](int64_t t) {  // causal depthwise conv, left pad K-1; taps in order
    float* z = a_.data() + t * D;
    std::fill(z, z + D, 0.0f);
    for (int j = std::max<int64_t>(0, K - 1 - t); j < K; ++j) {
      const float* src = b_.data() + (t - (K - 1) + j) * D;
      const float* tap = l.conv_dw_taps.data() + Sz(int64_t{j} * D);
      for (int64_t c = 0; c < D; ++c) z[c] += tap[c] * src[c];
    }
  });
  ops_.RmsNormRows(a_.data(), l.conv_norm.data(), n, D, c_.eps, a_.data());
  ops_.ForRows(n, [&](int64_t t) {
    float* x = a_.data() + t * D;
    ops_.k().sigmoid_mul(D, x, x, x);  // SiLU
  });
  ops_.Linear(l.conv_end, a_.data(), n, b_.data());
  ops_.ForRows(n, [&](int64_t t) { ops_.k().add_f32(D, b_.data() + t * D, h_.data() + t * D); });
}

Status AudioEncoder::EncodeMel(const float* mel, int64_t n_frames, int64_t n_valid,
                               std::vector<float>* out) {
  if (c_.kind != AudioKind::kConformer)
    return InvalidArgument("this audio projector does not take mel features");
  if (n_valid <= 0 || n_valid > n_frames)
    return InvalidArgument("audio is too short to encode (under 10 ms)");
  const int64_t D = c_.n_embd;
  std::vector<uint8_t> valid0(Sz(n_frames), 0);
  std::fill(valid0.begin(), valid0.begin() + n_valid, 1);
  std::vector<float> x1, x2;
  Conv(mel, n_frames, c_.n_mel, 1, w_.conv0_t, w_.conv0_norm, c_.sscp_channels0, valid0, &x1);
  const int64_t t1 = (n_frames + 1) / 2, f1 = (c_.n_mel + 1) / 2;
  std::vector<uint8_t> valid1(Sz(t1));
  for (int64_t t = 0; t < t1; ++t) valid1[Sz(t)] = valid0[Sz(2 * t)];
  Conv(x1.data(), t1, f1, c_.sscp_channels0, w_.conv1_t, w_.conv1_norm, c_.sscp_channels1, valid1,
       &x2);
  const int64_t n = (t1 + 1) / 2;
  std::vector<uint8_t> valid2(Sz(n));
  for (int64_t t = 0; t < n; ++t) valid2[Sz(t)] = valid1[Sz(2 * t)];
  // Every element of these is written before it is read: no zero fill.
  for (std::vector<float>* v : {&h_, &a_, &b_, &q_, &k_, &v_, &attn_}) v->resize(Sz(n * D));
  ff_.resize(Sz(n * std::max<int64_t>(c_.n_ff, 2 * D)));
  ops_.MatMul(w_.input_proj, x2.data(), n, h_.data());
  // Sinusoidal embeddings of the attention distances (shared by every layer).
  const int past = c_.context_left - 1, half = static_cast<int>(D / 2);
  rel_pe_.assign(Sz(int64_t{past + 1} * D), 0.0f);
  const double inc = std::log(10000.0) / std::max(half - 1, 1);
  for (int p = 0; p <= past; ++p) {
    for (int i = 0; i < half; ++i) {
      const double a = (past - p) * std::exp(-i * inc);
      rel_pe_[Sz(int64_t{p} * D + i)] = static_cast<float>(std::sin(a));
      rel_pe_[Sz(int64_t{p} * D + half + i)] = static_cast<float>(std::cos(a));
    }
  }
  for (const AudioLayerWeights& l : w_.layers) {
    Ffn(l.ffn1, n);
    Attention(l, n, valid2);
    LightConv(l, n);
    Ffn(l.ffn2, n);
    ops_.RmsNormRows(h_.data(), l.out_norm.data(), n, D, c_.eps, h_.data());
  }
  const int64_t n_tok = std::min<int64_t>(std::count(valid2.begin(), valid2.end(), 1), 750);
  std::vector<float> o(Sz(n_tok * c_.n_out));
  ops_.MatMul(w_.out_proj, h_.data(), n_tok, o.data());
  ops_.AddBias(w_.out_bias, n_tok, c_.n_out, o.data());
  ops_.RmsNormRows(o.data(), nullptr, n_tok, c_.n_out, c_.eps, o.data());
  out->assign(Sz(n_tok * c_.n_embd_text), 0.0f);
  ops_.MatMul(w_.proj, o.data(), n_tok, out->data());
  return Status::Ok();
}

Status AudioEncoder::EncodeFrames(const float* samples, int64_t n, std::vector<float>* out) {
  if (c_.kind != AudioKind::kUnified)
    return InvalidArgument("this audio projector does not take raw frames");
  if (n <= 0) return InvalidArgument("audio has no samples");
  const int64_t fs = c_.frame_size, n_tok = (n + fs - 1) / fs;
  std::vector<float> frames(Sz(n_tok * fs), 0.0f);  // the last frame is zero-padded
  std::copy(samples, samples + n, frames.begin());
  ops_.RmsNormRows(frames.data(), nullptr, n_tok, fs, c_.eps, frames.data());
  out->assign(Sz(n_tok * c_.n_embd_text), 0.0f);
  ops_.MatMul(w_.proj, frames.data(), n_tok, out->data());
  return Status::Ok();
}

}  // namespace pocket
