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

void EncoderOps::MatMul(const ref::MatView& w, const float* x, int64_t n, float* y) {
  const uint64_t row_bytes = *RowBytes(w.t->type, w.cols);
  const kernels::WeightMatrix m{w.t->type, w.t->data + static_cast<uint64_t>(w.row_offset) * row_bytes,
                                w.rows, w.cols, row_bytes};
  kernels::MatMul(k_, pool_, m, x, w.cols, n, y, w.rows, &mm_);
}

void EncoderOps::Linear(const ClippedLinear& l, const float* x, int64_t n, float* y) {
  const int64_t cols = l.w.cols, rows = l.w.rows;
  if (l.clips_input()) {
    clamped_.resize(static_cast<size_t>(n * cols));
    std::memcpy(clamped_.data(), x, sizeof(float) * static_cast<size_t>(n * cols));
    ClampRange(clamped_.data(), n * cols, l.in_min, l.in_max);
    x = clamped_.data();
  }
  MatMul(l.w, x, n, y);
  if (l.clips_output()) ClampRange(y, n * rows, l.out_min, l.out_max);
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

void EncoderOps::FullAttention(const float* q, const float* k, const float* v, int64_t n, int n_head, int d,
                               float scale, float* out) {
  // Per head, as two matrix products through the GEMM kernels: S = Q·Kᵀ over blocks of
  // queries (memory O(block × n)), row softmax, then O = S·V with Vᵀ as the "weights".
  const int64_t stride = static_cast<int64_t>(n_head) * d;
  const int64_t block = std::min<int64_t>(n, 256);
  const size_t nd = static_cast<size_t>(n) * static_cast<size_t>(d);
  head_k_.resize(nd);
  head_vt_.resize(nd);
  head_q_.resize(static_cast<size_t>(block * d));
  head_o_.resize(static_cast<size_t>(block * d));
  scores_.resize(static_cast<size_t>(block * n));
  for (int h = 0; h < n_head; ++h) {
    ForRows(n, [&](int64_t j) {
      std::copy_n(k + j * stride + h * d, d, head_k_.data() + j * d);
      for (int i = 0; i < d; ++i) head_vt_[static_cast<size_t>(i) * static_cast<size_t>(n) + static_cast<size_t>(j)] = v[j * stride + h * d + i];
    });
    const kernels::WeightMatrix km{DType::kF32, reinterpret_cast<const uint8_t*>(head_k_.data()), n, d,
                                   static_cast<uint64_t>(d) * sizeof(float)};
    const kernels::WeightMatrix vm{DType::kF32, reinterpret_cast<const uint8_t*>(head_vt_.data()), d, n,
                                   static_cast<uint64_t>(n) * sizeof(float)};
    for (int64_t q0 = 0; q0 < n; q0 += block) {
      const int64_t qb = std::min(block, n - q0);
      for (int64_t t = 0; t < qb; ++t) std::copy_n(q + (q0 + t) * stride + h * d, d, head_q_.data() + t * d);
      kernels::MatMul(k_, pool_, km, head_q_.data(), d, qb, scores_.data(), n, &mm_);
      ForRows(qb, [&](int64_t t) {
        float* row = scores_.data() + t * n;
        if (scale != 1.0f) k_.scale_f32(n, scale, row);
        k_.softmax(n, row);
      });
      kernels::MatMul(k_, pool_, vm, scores_.data(), n, qb, head_o_.data(), d, &mm_);
      for (int64_t t = 0; t < qb; ++t) std::copy_n(head_o_.data() + t * d, d, out + (q0 + t) * stride + h * d);
    }
  }
}

}  // namespace pocket
