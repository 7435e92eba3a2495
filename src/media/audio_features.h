// Log-mel features with transformers' Gemma 4 semantics (spec gemma4-multimodal.md §4.1):
// right-pad to a multiple of 128, 160-sample semicausal left pad, 320-sample periodic Hann
// frames every 160 samples, 512-point real FFT magnitude, 128 HTK mel filters 0–8 kHz (no
// area norm), ln(x + 1e-3), frames past the real audio zeroed. The FFT and mel sums run in
// double (the reference is float64). Pure functions, thread-safe.
#pragma once

#include <complex>
#include <cstdint>
#include <vector>

#include "base/thread_pool.h"

namespace pocket {

inline constexpr int64_t kAudioChunkSamples = 480000;  // 30 s at 16 kHz: one encoder pass
inline constexpr int kMelBins = 128;
inline constexpr int64_t kMaxAudioTokensPerChunk = 750;

struct LogMel {
  int64_t n_frames = 0;     // F
  int64_t n_valid = 0;      // F_v: frames whose window ends inside the real audio
  std::vector<float> data;  // [n_frames][kMelBins], frame-major
};

// Features of one chunk of at most kAudioChunkSamples 16 kHz samples (longer input is cut),
// frames spread over `pool` when one is given (the result does not depend on it).
LogMel ComputeLogMel(const float* samples, int64_t n, ThreadPool* pool = nullptr);

// Soft tokens the conformer produces for F_v valid frames: ceil(ceil(F_v / 2) / 2), at most 750.
int64_t ConformerTokenCount(int64_t n_valid_frames);

// In-place radix-2 FFT (n a power of two), exposed for its test against a direct DFT.
void Fft(std::vector<std::complex<double>>* x);

}  // namespace pocket
