#include "media/audio_features.h"

#include <algorithm>
#include <cmath>

namespace pocket {
namespace {

constexpr int kFrame = 320, kHop = 160, kFft = 512, kBins = kFft / 2 + 1;

double HzToMel(double f) { return 2595.0 * std::log10(1.0 + f / 700.0); }
double MelToHz(double m) { return 700.0 * (std::pow(10.0, m / 2595.0) - 1.0); }

// [kBins][kMelBins] triangular HTK filters, built in double as the reference does.
const std::vector<double>& MelFilters() {
  static const std::vector<double> filters = [] {
    std::vector<double> pts(kMelBins + 2);
    const double lo = HzToMel(0.0), hi = HzToMel(8000.0);
    for (int i = 0; i < kMelBins + 2; ++i)
      pts[static_cast<size_t>(i)] = MelToHz(lo + (hi - lo) * i / (kMelBins + 1));
    std::vector<double> w(static_cast<size_t>(kBins) * kMelBins, 0.0);
    for (int k = 0; k < kBins; ++k) {
      const double f = 8000.0 * k / (kBins - 1);
      for (int m = 0; m < kMelBins; ++m) {
        const double fl = pts[static_cast<size_t>(m)], fc = pts[static_cast<size_t>(m) + 1],
                     fr = pts[static_cast<size_t>(m) + 2];
        const double v = std::min((f - fl) / (fc - fl), (fr - f) / (fr - fc));
        w[static_cast<size_t>(k) * kMelBins + static_cast<size_t>(m)] = std::max(0.0, v);
      }
    }
    return w;
  }();
  return filters;
}

// The bins [first, last] where each mel filter is non-zero (triangles cover a few bins):
// summing only there adds the same non-zero terms in the same order, so the result is
// bit-identical to the dense sum (the skipped terms are exact zeros).
struct MelSupport {
  int first[kMelBins];
  int last[kMelBins];
};

const MelSupport& MelFilterSupport() {
  static const MelSupport support = [] {
    const std::vector<double>& w = MelFilters();
    MelSupport s;
    for (int m = 0; m < kMelBins; ++m) {
      s.first[m] = kBins;
      s.last[m] = -1;
      for (int k = 0; k < kBins; ++k) {
        if (w[static_cast<size_t>(k) * kMelBins + static_cast<size_t>(m)] != 0.0) {
          s.first[m] = std::min(s.first[m], k);
          s.last[m] = k;
        }
      }
    }
    return s;
  }();
  return support;
}

const std::vector<double>& HannWindow() {
  static const std::vector<double> window = [] {
    std::vector<double> w(kFrame);
    for (int i = 0; i < kFrame; ++i) {
      w[static_cast<size_t>(i)] =
          static_cast<float>(0.5 - 0.5 * std::cos(2.0 * M_PI * i / kFrame));  // float32 window
    }
    return w;
  }();
  return window;
}

}  // namespace

void Fft(std::vector<std::complex<double>>* xp) {
  std::vector<std::complex<double>>& x = *xp;
  const size_t n = x.size();
  for (size_t i = 1, j = 0; i < n; ++i) {  // bit reversal
    size_t bit = n >> 1;
    for (; j & bit; bit >>= 1) j ^= bit;
    j ^= bit;
    if (i < j) std::swap(x[i], x[j]);
  }
  // Twiddles exp(-2πi·m/n), m < n/2, kept per thread for the last n: stage `len` uses
  // m = k·(n/len), and (2π/n)·(k·n/len) equals (2π/len)·k exactly (n/len is a power of two).
  thread_local std::vector<std::complex<double>> tw;
  if (tw.size() != n / 2) {
    tw.resize(n / 2);
    const double ang_n = -2.0 * M_PI / static_cast<double>(n);
    for (size_t m = 0; m < n / 2; ++m) {
      tw[m] = {std::cos(ang_n * static_cast<double>(m)), std::sin(ang_n * static_cast<double>(m))};
    }
  }
  for (size_t len = 2; len <= n; len <<= 1) {
    const size_t step = n / len;
    for (size_t i = 0; i < n; i += len) {
      for (size_t k = 0; k < len / 2; ++k) {
        const std::complex<double>& w = tw[k * step];
        const std::complex<double> u = x[i + k], v = x[i + k + len / 2] * w;
        x[i + k] = u + v;
        x[i + k + len / 2] = u - v;
      }
    }
  }
}

LogMel ComputeLogMel(const float* samples, int64_t n, ThreadPool* pool) {
  n = std::min(n, kAudioChunkSamples);
  LogMel out;
  const int64_t n_pad = (n + 127) / 128 * 128;
  const int64_t len = n_pad + kHop;  // semicausal left pad of frame/2
  if (len < kFrame + 1) return out;
  out.n_frames = (len - (kFrame + 1)) / kHop + 1;
  out.n_valid = n >= 161 ? (n - 161) / kHop + 1 : 0;
  out.n_valid = std::min(out.n_valid, out.n_frames);
  out.data.assign(static_cast<size_t>(out.n_frames) * kMelBins, 0.0f);
  const std::vector<double>& win = HannWindow();
  const std::vector<double>& mel = MelFilters();
  const MelSupport& support = MelFilterSupport();
  // Frames are independent: blocks of them per task (invalid frames stay 0, masked).
  constexpr int64_t kFramesPerTask = 64;
  auto frames = [&](int64_t task, int) {
    std::vector<std::complex<double>> buf(kFft);
    std::vector<double> mag(kBins);
    const int64_t f1 = std::min(out.n_valid, (task + 1) * kFramesPerTask);
    for (int64_t f = task * kFramesPerTask; f < f1; ++f) {
      std::fill(buf.begin(), buf.end(), std::complex<double>(0.0, 0.0));
      for (int i = 0; i < kFrame; ++i) {
        const int64_t src = f * kHop + i - kHop;  // index into the real samples
        const double s = src >= 0 && src < n ? samples[src] : 0.0;
        buf[static_cast<size_t>(i)] = s * win[static_cast<size_t>(i)];
      }
      Fft(&buf);
      // |X| as sqrt(re² + im²): no overflow is possible at these magnitudes, and it is much
      // cheaper than std::abs's hypot.
      for (int k = 0; k < kBins; ++k)
        mag[static_cast<size_t>(k)] = std::sqrt(std::norm(buf[static_cast<size_t>(k)]));
      float* dst = out.data.data() + static_cast<size_t>(f) * kMelBins;
      for (int m = 0; m < kMelBins; ++m) {
        double sum = 0.0;
        for (int k = support.first[m]; k <= support.last[m]; ++k)
          sum += mag[static_cast<size_t>(k)] *
                 mel[static_cast<size_t>(k) * kMelBins + static_cast<size_t>(m)];
        dst[m] = static_cast<float>(std::log(sum + 1e-3));
      }
    }
  };
  const int64_t n_tasks = (out.n_valid + kFramesPerTask - 1) / kFramesPerTask;
  if (pool != nullptr) {
    pool->ParallelFor(n_tasks, frames);
  } else {
    for (int64_t t = 0; t < n_tasks; ++t) frames(t, 0);
  }
  return out;
}

int64_t ConformerTokenCount(int64_t n_valid_frames) {
  const int64_t t1 = (n_valid_frames + 1) / 2;
  return std::min((t1 + 1) / 2, kMaxAudioTokensPerChunk);
}

}  // namespace pocket
