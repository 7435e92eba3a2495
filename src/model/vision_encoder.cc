#include "model/vision_encoder.h"

#include <cmath>
#include <cstring>

#include "model/binder.h"

namespace pocket {
namespace {

size_t Sz(int64_t v) { return static_cast<size_t>(v); }

Status BindEncoder(Binder& b, const VisionConfig& c, VisionWeights* w) {
  const int64_t D = c.n_embd, F = c.n_ff, pp3 = int64_t{c.patch} * c.patch * 3;
  RETURN_IF_ERROR(b.MatrixFlat("v.patch_embd.weight", D, pp3, &w->patch_embd));
  w->patch_hwc = w->patch_embd.t->transform == TensorTransform::kPatchEmbedHwcToChw;
  RETURN_IF_ERROR(PromoteToF32(&w->patch_embd, &w->patch_f32));
  RETURN_IF_ERROR(b.MatrixFlat("v.position_embd.weight", 2 * c.n_pos, D, &w->pos));
  w->layers.resize(Sz(c.n_layer));
  for (int il = 0; il < c.n_layer; ++il) {
    VisionLayerWeights& l = w->layers[Sz(il)];
    const std::string p = StrFormat("v.blk.%d.", il);
    RETURN_IF_ERROR(b.Vector(p + "ln1.weight", D, &l.ln1));
    RETURN_IF_ERROR(b.Vector(p + "ln2.weight", D, &l.ln2));
    RETURN_IF_ERROR(b.Vector(p + "attn_post_norm.weight", D, &l.attn_post_norm));
    RETURN_IF_ERROR(b.Vector(p + "ffn_post_norm.weight", D, &l.ffn_post_norm));
    RETURN_IF_ERROR(b.Vector(p + "attn_q_norm.weight", c.head_dim, &l.q_norm));
    RETURN_IF_ERROR(b.Vector(p + "attn_k_norm.weight", c.head_dim, &l.k_norm));
    RETURN_IF_ERROR(BindClippedLinear(b, p + "attn_q", D, D, &l.q));
    RETURN_IF_ERROR(BindClippedLinear(b, p + "attn_k", D, D, &l.k));
    RETURN_IF_ERROR(BindClippedLinear(b, p + "attn_v", D, D, &l.v));
    RETURN_IF_ERROR(BindClippedLinear(b, p + "attn_out", D, D, &l.o));
    RETURN_IF_ERROR(BindClippedLinear(b, p + "ffn_gate", F, D, &l.gate));
    RETURN_IF_ERROR(BindClippedLinear(b, p + "ffn_up", F, D, &l.up));
    RETURN_IF_ERROR(BindClippedLinear(b, p + "ffn_down", D, F, &l.down));
    std::vector<float> scale;
    RETURN_IF_ERROR(b.Vector(p + "out_scale.weight", 1, &scale, /*required=*/false));
    if (!scale.empty()) l.out_scale = scale[0];
  }
  if (c.standardize) {
    RETURN_IF_ERROR(b.Vector("v.std_bias", D, &w->std_bias));
    RETURN_IF_ERROR(b.Vector("v.std_scale", D, &w->std_scale));
  }
  return Status::Ok();
}

Status BindUnified(Binder& b, const VisionConfig& c, VisionWeights* w) {
  const int64_t D = c.n_embd, pp3 = int64_t{c.patch} * c.patch * 3;
  RETURN_IF_ERROR(b.Matrix("v.patch_embd.weight", D, pp3, &w->patch_embd));
  w->patch_hwc = w->patch_embd.t->transform == TensorTransform::kUnifiedPatchChw;
  RETURN_IF_ERROR(PromoteToF32(&w->patch_embd, &w->patch_f32));
  const TensorInfo* ln1 = b.source().Find("v.patch_norm.1.weight");
  if (ln1 && (ln1->transform == TensorTransform::kUnifiedPatchChw) != w->patch_hwc) {
    return InvalidArgument("v.patch_norm.1 and v.patch_embd disagree on the patch layout");
  }
  RETURN_IF_ERROR(b.Vector("v.patch_embd.bias", D, &w->patch_bias));
  RETURN_IF_ERROR(b.MatrixFlat("v.position_embd.weight", 2 * c.n_pos, D, &w->pos));
  w->pos_axis_major = w->pos.t->transform != TensorTransform::kUnifiedPosPermute;
  RETURN_IF_ERROR(b.Vector("v.patch_norm.1.weight", pp3, &w->ln1_w));
  RETURN_IF_ERROR(b.Vector("v.patch_norm.1.bias", pp3, &w->ln1_b));
  RETURN_IF_ERROR(b.Vector("v.patch_norm.2.weight", D, &w->ln2_w));
  RETURN_IF_ERROR(b.Vector("v.patch_norm.2.bias", D, &w->ln2_b));
  RETURN_IF_ERROR(b.Vector("v.patch_norm.3.weight", D, &w->ln3_w));
  RETURN_IF_ERROR(b.Vector("v.patch_norm.3.bias", D, &w->ln3_b));
  return Status::Ok();
}

}  // namespace

std::vector<const ref::MatView*> VisionWeights::Matrices() const {
  std::vector<const ref::MatView*> out = {&patch_embd, &proj};
  for (const VisionLayerWeights& l : layers) {
    for (const ClippedLinear* c : {&l.q, &l.k, &l.v, &l.o, &l.gate, &l.up, &l.down})
      out.push_back(&c->w);
  }
  return out;
}

Result<VisionWeights> VisionWeights::Bind(const WeightSource& ws, const VisionConfig& c) {
  Binder b(ws);
  VisionWeights w;
  if (c.kind == VisionKind::kEncoder) {
    RETURN_IF_ERROR(BindEncoder(b, c, &w));
  } else if (c.kind == VisionKind::kUnified) {
    RETURN_IF_ERROR(BindUnified(b, c, &w));
  } else {
    return InvalidArgument("no vision projector to bind");
  }
  RETURN_IF_ERROR(b.Matrix("mm.input_projection.weight", c.n_embd_text, c.n_embd, &w.proj));
  return w;
}

Result<int64_t> VisionEncoder::TokenCount(int width, int height) const {
  const int s = c_.side_multiple();
  if (width <= 0 || height <= 0 || width % s != 0 || height % s != 0) {
    return InvalidArgument(
        StrFormat("image is %dx%d; the vision encoder needs both sides to be "
                  "positive multiples of %d (resize it, or drop --keep-size)",
                  width, height, s));
  }
  // Position ids run over the patch grid (encoder) or the merged grid (unified).
  const int grid_w = width / c_.patch, grid_h = height / c_.patch;
  if (grid_w > c_.n_pos || grid_h > c_.n_pos) {
    return InvalidArgument(
        StrFormat("image is %dx%d: %dx%d patches exceed the position table (%lld)", width, height,
                  grid_w, grid_h, (long long)c_.n_pos));
  }
  return static_cast<int64_t>(width / s) * (height / s);
}

Status VisionEncoder::Encode(const PixelImage& image, std::vector<float>* out) {
  ASSIGN_OR_RETURN(const int64_t n_tokens, TokenCount(image.width, image.height));
  if (image.rgb.size() != Sz(int64_t{image.width} * image.height * 3)) {
    return InvalidArgument("image pixel buffer does not match its size");
  }
  const int npw = image.width / c_.patch, nph = image.height / c_.patch;
  out->assign(Sz(n_tokens * c_.n_embd_text), 0.0f);
  if (c_.kind == VisionKind::kUnified) {
    EncodeUnified(image, npw, nph, out);
  } else {
    EncodeTower(image, npw, nph, out);
  }
  return Status::Ok();
}

// Builds [n, patch·patch·3] patch vectors in the weights' column order.
static void Patchify(const PixelImage& img, int patch, bool hwc, float mul, float add,
                     std::vector<float>* x) {
  const int npw = img.width / patch, nph = img.height / patch;
  const size_t pp = Sz(int64_t{patch} * patch), dim = pp * 3;
  x->resize(Sz(int64_t{npw} * nph) * dim);
  for (int r = 0; r < nph; ++r) {
    for (int c = 0; c < npw; ++c) {
      float* dst = x->data() + Sz(int64_t{r} * npw + c) * dim;
      for (int dy = 0; dy < patch; ++dy) {
        const float* src =
            img.rgb.data() + (Sz(int64_t{r} * patch + dy) * Sz(img.width) + Sz(c) * Sz(patch)) * 3;
        for (int dx = 0; dx < patch; ++dx) {
          for (int ch = 0; ch < 3; ++ch) {
            const float v = src[dx * 3 + ch] * mul + add;
            const size_t idx = hwc ? (Sz(dy) * Sz(patch) + Sz(dx)) * 3 + Sz(ch)
                                   : Sz(ch) * pp + Sz(dy) * Sz(patch) + Sz(dx);
            dst[idx] = v;
          }
        }
      }
    }
  }
}

void VisionEncoder::AddPosition(int64_t n, int npw, float* h) {
  const int64_t D = c_.n_embd;
  // Each thread reads two table rows per token into its own slice of pos_row_.
  pos_row_.resize(Sz(int64_t{ops_.threads()} * 2 * D));
  auto row_of = [&](int axis, int64_t p) {
    return w_.pos_axis_major ? axis * c_.n_pos + p : p * 2 + axis;
  };
  auto one = [&](int64_t t, int thread) {
    float* buf = pos_row_.data() + Sz(int64_t{thread} * 2 * D);
    const int64_t col = t % npw, row = t / npw;
    ref::GetRow(w_.pos, row_of(0, col), buf);
    ref::GetRow(w_.pos, row_of(1, row), buf + D);
    ops_.k().add_f32(D, buf, h + t * D);
    ops_.k().add_f32(D, buf + D, h + t * D);
  };
  if (ops_.pool()) {
    ops_.pool()->ParallelFor(n, one);
  } else {
    for (int64_t t = 0; t < n; ++t) one(t, 0);
  }
}

void VisionEncoder::Rope2d(float* x, int64_t n) {
  // rope_ holds [n][2 axes][m/2][cos, sin], filled by EncodeTower.
  const int d = c_.head_dim, m = d / 2, quarter = m / 2;
  const int64_t stride = int64_t{c_.n_head} * d;
  ops_.ForRows(n, [&](int64_t t) {
    const float* cs = rope_.data() + Sz(t) * Sz(2 * quarter * 2);
    for (int h = 0; h < c_.n_head; ++h) {
      for (int axis = 0; axis < 2; ++axis) {
        float* u = x + t * stride + h * d + axis * m;
        const float* r = cs + axis * quarter * 2;
        for (int j = 0; j < quarter; ++j) {
          const float c = r[2 * j], s = r[2 * j + 1];
          const float a = u[j], b = u[j + quarter];
          u[j] = a * c - b * s;
          u[j + quarter] = b * c + a * s;
        }
      }
    }
  });
}

void VisionEncoder::Layer(const VisionLayerWeights& l, int64_t n) {
  const int64_t D = c_.n_embd, F = c_.n_ff;
  const int d = c_.head_dim, nh = c_.n_head;
  const double eps = c_.eps;
  ops_.RmsNormRows(h_.data(), l.ln1.data(), n, D, eps, a_.data());
  ops_.Linear(l.q, a_.data(), n, q_.data());
  ops_.Linear(l.k, a_.data(), n, k_.data());
  ops_.Linear(l.v, a_.data(), n, v_.data());
  ops_.RmsNormRows(q_.data(), l.q_norm.data(), n * nh, d, eps, q_.data());
  ops_.RmsNormRows(k_.data(), l.k_norm.data(), n * nh, d, eps, k_.data());
  ops_.RmsNormRows(v_.data(), nullptr, n * nh, d, eps, v_.data());
  Rope2d(q_.data(), n);
  Rope2d(k_.data(), n);
  ops_.FullAttention(q_.data(), k_.data(), v_.data(), n, nh, d, 1.0f, attn_.data());
  ops_.Linear(l.o, attn_.data(), n, o_.data());
  ops_.RmsNormRows(o_.data(), l.attn_post_norm.data(), n, D, eps, o_.data());
  ops_.ForRows(n, [&](int64_t t) { ops_.k().add_f32(D, o_.data() + t * D, h_.data() + t * D); });
  ops_.RmsNormRows(h_.data(), l.ln2.data(), n, D, eps, a_.data());
  ops_.Linear(l.gate, a_.data(), n, gate_.data());
  ops_.Linear(l.up, a_.data(), n, up_.data());
  ops_.ForRows(n, [&](int64_t t) {
    ops_.k().gelu_tanh_mul(F, gate_.data() + t * F, up_.data() + t * F, gate_.data() + t * F);
  });
  ops_.Linear(l.down, gate_.data(), n, o_.data());
  ops_.RmsNormRows(o_.data(), l.ffn_post_norm.data(), n, D, eps, o_.data());
  ops_.ForRows(n, [&](int64_t t) {
    float* h = h_.data() + t * D;
    ops_.k().add_f32(D, o_.data() + t * D, h);
    if (l.out_scale != 1.0f) ops_.k().scale_f32(D, l.out_scale, h);
  });
}

void VisionEncoder::EncodeTower(const PixelImage& image, int npw, int nph,
                                std::vector<float>* out) {
  const int64_t n = int64_t{npw} * nph, D = c_.n_embd, F = c_.n_ff;
  Patchify(image, c_.patch, w_.patch_hwc, 2.0f, -1.0f, &x_);  // model-side 2x - 1
  for (std::vector<float>* v : {&h_, &a_, &q_, &k_, &v_, &attn_, &o_}) v->resize(Sz(n * D));
  gate_.resize(Sz(n * F));
  up_.resize(Sz(n * F));
  ops_.MatMul(w_.patch_embd, x_.data(), n, h_.data());
  AddPosition(n, npw, h_.data());

  // 2-D RoPE tables: first half of each head turns with the column, second with the row.
  const int m = c_.head_dim / 2, quarter = m / 2;
  rope_.resize(Sz(n) * Sz(2 * quarter * 2));
  std::vector<double> freqs(Sz(quarter));
  for (int j = 0; j < quarter; ++j) freqs[Sz(j)] = std::pow(c_.rope_theta, -2.0 * j / m);
  for (int64_t t = 0; t < n; ++t) {
    const int64_t pos[2] = {t % npw, t / npw};
    for (int axis = 0; axis < 2; ++axis) {
      for (int j = 0; j < quarter; ++j) {
        const double phi = static_cast<double>(pos[axis]) * freqs[Sz(j)];
        float* r = rope_.data() + Sz(t) * Sz(4 * quarter) + Sz(axis * quarter * 2 + 2 * j);
        r[0] = static_cast<float>(std::cos(phi));
        r[1] = static_cast<float>(std::sin(phi));
      }
    }
  }
  for (const VisionLayerWeights& l : w_.layers) Layer(l, n);

  // 3x3 average pooling (row-major over the pooled grid), then ×√D.
  const int k = c_.pool, gw = npw / k, gh = nph / k;
  const int64_t n_out = int64_t{gw} * gh;
  const float scale = static_cast<float>(std::sqrt(static_cast<double>(D)) / (k * k));
  std::vector<float>& pooled = a_;
  ops_.ForRows(n_out, [&](int64_t o) {
    const int64_t gy = o / gw, gx = o % gw;
    float* dst = pooled.data() + o * D;
    std::fill(dst, dst + D, 0.0f);
    for (int dy = 0; dy < k; ++dy) {
      for (int dx = 0; dx < k; ++dx) {
        const int64_t src = (gy * k + dy) * npw + gx * k + dx;
        ops_.k().add_f32(D, h_.data() + src * D, dst);
      }
    }
    ops_.k().scale_f32(D, scale, dst);
    if (c_.standardize) {
      for (int64_t i = 0; i < D; ++i) dst[i] = (dst[i] - w_.std_bias[Sz(i)]) * w_.std_scale[Sz(i)];
    }
  });
  ops_.RmsNormRows(pooled.data(), nullptr, n_out, D, c_.eps, pooled.data());
  ops_.MatMul(w_.proj, pooled.data(), n_out, out->data());
}

void VisionEncoder::EncodeUnified(const PixelImage& image, int npw, int nph,
                                  std::vector<float>* out) {
  const int64_t n = int64_t{npw} * nph, D = c_.n_embd;
  const int64_t dim = int64_t{c_.patch} * c_.patch * 3;
  Patchify(image, c_.patch, w_.patch_hwc, 1.0f, 0.0f, &x_);  // no 2x - 1 on the unified path
  ops_.LayerNormRows(x_.data(), w_.ln1_w.data(), w_.ln1_b.data(), n, dim, c_.ln_eps, x_.data());
  h_.resize(Sz(n * D));
  ops_.MatMul(w_.patch_embd, x_.data(), n, h_.data());
  ops_.AddBias(w_.patch_bias, n, D, h_.data());
  ops_.LayerNormRows(h_.data(), w_.ln2_w.data(), w_.ln2_b.data(), n, D, c_.ln_eps, h_.data());
  AddPosition(n, npw, h_.data());
  ops_.LayerNormRows(h_.data(), w_.ln3_w.data(), w_.ln3_b.data(), n, D, c_.ln_eps, h_.data());
  ops_.RmsNormRows(h_.data(), nullptr, n, D, c_.eps, h_.data());
  ops_.MatMul(w_.proj, h_.data(), n, out->data());
}

}  // namespace pocket
