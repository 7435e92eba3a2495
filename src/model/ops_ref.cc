#include "model/ops_ref.h"

#include <cmath>

#include "kernels/kernels.h"
#include "quant/quant.h"

namespace pocket::ref {

void GetRow(const MatView& w, int64_t r, float* out) {
  const uint64_t row_bytes = *RowBytes(w.t->type, w.cols);  // validated when weights were bound
  const uint8_t* p = w.t->data + static_cast<uint64_t>(w.row_offset + r) * row_bytes;
  (void)DequantizeRow(w.t->type, p, out, w.cols);
}

void MatVec(const MatView& w, const float* x_in, float* y, std::vector<float>* scratch) {
  scratch->resize(static_cast<size_t>(w.cols));
  const DType act = kernels::ActivationType(w.t->type);
  std::vector<float> rounded;
  const float* x = x_in;
  if (act != DType::kF32 && w.cols % GetDTypeTraits(act)->block_elems == 0) {
    std::vector<uint8_t> q(static_cast<size_t>(*RowBytes(act, w.cols)));
    rounded.resize(static_cast<size_t>(w.cols));
    (void)QuantizeRow(act, x_in, q.data(), w.cols);
    (void)DequantizeRow(act, q.data(), rounded.data(), w.cols);
    x = rounded.data();
  }
  for (int64_t r = 0; r < w.rows; ++r) {
    GetRow(w, r, scratch->data());
    double acc = 0.0;
    for (int64_t c = 0; c < w.cols; ++c) acc += static_cast<double>((*scratch)[static_cast<size_t>(c)]) * x[c];
    y[r] = static_cast<float>(acc);
  }
}

void RmsNorm(const float* x, const float* weight, int n, double eps, float* y) {
  double ss = 0.0;
  for (int i = 0; i < n; ++i) ss += static_cast<double>(x[i]) * x[i];
  const double scale = 1.0 / std::sqrt(ss / n + eps);
  for (int i = 0; i < n; ++i) {
    const double v = x[i] * scale;
    y[i] = static_cast<float>(weight ? v * weight[i] : v);
  }
}

float GeluTanh(float x) {
  const double xd = x;
  const double k = std::sqrt(2.0 / M_PI);
  return static_cast<float>(0.5 * xd * (1.0 + std::tanh(k * (xd + 0.044715 * xd * xd * xd))));
}

void RopeNeox(float* x, int d, int64_t pos, const std::vector<double>& freqs) {
  const int half = d / 2;
  for (int i = 0; i < half; ++i) {
    if (freqs[static_cast<size_t>(i)] == 0.0) continue;
    const double theta = static_cast<double>(pos) * freqs[static_cast<size_t>(i)];
    const double c = std::cos(theta), s = std::sin(theta);
    const double a = x[i], b = x[i + half];
    x[i] = static_cast<float>(a * c - b * s);
    x[i + half] = static_cast<float>(b * c + a * s);
  }
}

void SoftmaxInPlace(float* x, int n) {
  float mx = x[0];
  for (int i = 1; i < n; ++i) mx = std::max(mx, x[i]);
  double sum = 0.0;
  for (int i = 0; i < n; ++i) sum += std::exp(static_cast<double>(x[i] - mx));
  for (int i = 0; i < n; ++i) x[i] = static_cast<float>(std::exp(static_cast<double>(x[i] - mx)) / sum);
}

}  // namespace pocket::ref
