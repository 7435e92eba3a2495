#include "model/encoder_ops.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "quant/quant.h"

namespace pocket {
namespace {

Status BindBound(Binder& b, const std::string& name, float* out) {
  if (!b.Has(name)) return Status::Ok();
  std::vector<float> v;
  RETURN_IF_ERROR(b.Vector(name, 1, &v));
  if (std::isnan(v[0])) return InvalidArgument("tensor '" + name + "' is NaN");
  *out = v[0];
  return Status::Ok();
}

void ClampRange(float* x, int64_t n, float lo, float hi) {
  for (int64_t i = 0; i < n; ++i) x[i] = std::min(std::max(x[i], lo), hi);
}

}  // namespace

Status PromoteToF32(ref::MatView* view, std::shared_ptr<OwnedMatrix>* holder) {
  if (view->t == nullptr || view->t->type == DType::kF32) return Status::Ok();
  auto m = std::make_shared<OwnedMatrix>();
  m->data.resize(static_cast<size_t>(view->rows * view->cols));
  for (int64_t r = 0; r < view->rows; ++r) ref::GetRow(*view, r, m->data.data() + r * view->cols);
  m->info = *view->t;
  m->info.type = DType::kF32;
  m->info.n_dims = 2;
  m->info.ne[0] = view->cols;
  m->info.ne[1] = view->rows;
  m->info.ne[2] = m->info.ne[3] = 1;
  m->info.nbytes = m->data.size() * sizeof(float);
  m->info.data = reinterpret_cast<const uint8_t*>(m->data.data());
  *view = ref::MatView{&m->info, view->rows, view->cols, 0};
  *holder = std::move(m);
  return Status::Ok();
}

Status BindClippedLinear(Binder& b, const std::string& prefix, int64_t rows, int64_t cols,
                         ClippedLinear* out) {
  RETURN_IF_ERROR(b.Matrix(prefix + ".weight", rows, cols, &out->w));
  RETURN_IF_ERROR(BindBound(b, prefix + ".input_min", &out->in_min));
  RETURN_IF_ERROR(BindBound(b, prefix + ".input_max", &out->in_max));
  RETURN_IF_ERROR(BindBound(b, prefix + ".output_min", &out->out_min));
  RETURN_IF_ERROR(BindBound(b, prefix + ".output_max", &out->out_max));
  if (out->in_min > out->in_max || out->out_min > out->out_max) {
    return InvalidArgument("clip bounds of '" + prefix + "' are inverted (min > max)");
  }
  return Status::Ok();
}

void EncoderOps::MatMul(const ref::MatView& w, const float* x, int64_t n, float* y,
                        const kernels::InputClamp* clamp) {
  const kernels::WeightMatrix m =
      kernels::PackedWeights::View(packed_, k_, w.t->type, w.t->data, w.row_offset, w.rows, w.cols);
  kernels::MatMul(k_, pool_, m, x, w.cols, n, y, w.rows, &mm_, clamp);
}

void EncoderOps::Linear(const ClippedLinear& l, const float* x, int64_t n, float* y) {
  const int64_t rows = l.w.rows;
  const kernels::InputClamp clamp{l.in_min, l.in_max};
  MatMul(l.w, x, n, y, l.clips_input() ? &clamp : nullptr);
  if (l.clips_output()) {
    ForRows(n, [&](int64_t t) { ClampRange(y + t * rows, rows, l.out_min, l.out_max); });
  }
}

void EncoderOps::AddBias(const std::vector<float>& bias, int64_t n, int64_t cols, float* y) {
  ForRows(n, [&](int64_t t) { k_.add_f32(cols, bias.data(), y + t * cols); });
}

void EncoderOps::RmsNormRows(const float* x, const float* weight, int64_t n, int64_t cols,
                             double eps, float* y) {
  const float e = static_cast<float>(eps);
  ForRows(n, [&](int64_t t) { k_.rms_norm(x + t * cols, weight, cols, e, y + t * cols); });
}

void EncoderOps::LayerNormRows(const float* x, const float* weight, const float* bias, int64_t n,
                               int64_t cols, double eps, float* y) {
  ForRows(n, [&](int64_t t) {
    const float* xr = x + t * cols;
    float* yr = y + t * cols;
    double mean = 0.0;
    for (int64_t i = 0; i < cols; ++i) mean += xr[i];
    mean /= static_cast<double>(cols);
    double var = 0.0;
    for (int64_t i = 0; i < cols; ++i) {
      const double d = xr[i] - mean;
      var += d * d;
    }
    var /= static_cast<double>(cols);
    const double inv = 1.0 / std::sqrt(var + eps);
    for (int64_t i = 0; i < cols; ++i) {
      float v = static_cast<float>((xr[i] - mean) * inv);
      if (weight) v *= weight[i];
      if (bias) v += bias[i];
      yr[i] = v;
    }
  });
}

void EncoderOps::FullAttention(const float* q, const float* k, const float* v, int64_t n,
                               int n_head, int d, float scale, float* out) {
  // Per head, as two NN GEMMs over blocks of queries (memory O(block × n)): S = Q·Kᵀ with Kᵀ
  // stored [d, n], row softmax, then O = S·V with V stored [n, d].
  const int64_t stride = static_cast<int64_t>(n_head) * d;
  const int64_t block = std::min<int64_t>(n, 256);
  const size_t nd = static_cast<size_t>(n) * static_cast<size_t>(d);
  head_kt_.resize(nd);
  head_v_.resize(nd);
  head_q_.resize(static_cast<size_t>(block * d));
  scores_.resize(static_cast<size_t>(block * n));
  // Query rows per task: about two tasks per thread, a multiple of the 6-row GEMM micro-tile,
  // so each task reuses the key and value panels it brings into L2 over many rows.
  const int64_t per_task = (block + 2 * threads() - 1) / (2 * threads());
  const int64_t rows_per_task = std::clamp<int64_t>((per_task + 5) / 6 * 6, 12, 96);
  for (int h = 0; h < n_head; ++h) {
    ForRows(n, [&](int64_t j) {
      for (int i = 0; i < d; ++i)
        head_kt_[static_cast<size_t>(i) * static_cast<size_t>(n) + static_cast<size_t>(j)] =
            k[j * stride + h * d + i];
      std::copy_n(v + j * stride + h * d, d, head_v_.data() + j * d);
    });
    for (int64_t q0 = 0; q0 < n; q0 += block) {
      const int64_t qb = std::min(block, n - q0);
      for (int64_t t = 0; t < qb; ++t)
        std::copy_n(q + (q0 + t) * stride + h * d, d, head_q_.data() + t * d);
      ForRows((qb + rows_per_task - 1) / rows_per_task, [&](int64_t task) {
        const int64_t r0 = task * rows_per_task, rows = std::min(rows_per_task, qb - r0);
        float* s = scores_.data() + r0 * n;
        k_.sgemm_nn(rows, n, d, head_q_.data() + r0 * d, d, head_kt_.data(), n, s, n);
        for (int64_t t = 0; t < rows; ++t) {
          if (scale != 1.0f) k_.scale_f32(n, scale, s + t * n);
          k_.softmax(n, s + t * n);
        }
        k_.sgemm_nn(rows, d, n, s, n, head_v_.data(), d, out + (q0 + r0) * stride + h * d, stride);
      });
    }
  }
}

}  // namespace pocket
