// libFuzzer target: audio decoding (WAV, FLAC, OGG, MP3 through libsndfile, resampled to
// 16 kHz) and the log-mel front end must reject or accept any bytes without crashing; accepted
// audio is finite 16 kHz mono.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "media/audio_decode.h"
#include "media/audio_features.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  pocket::AudioLimits limits;
  limits.max_seconds = 20.0;  // keep each run fast
  auto clip = pocket::DecodeAudio(data, size, "fuzz", limits);
  if (!clip.ok()) return 0;
  if (clip->sample_rate != 16000 || clip->samples.empty()) std::abort();
  for (float s : clip->samples) {
    if (!std::isfinite(s)) std::abort();
  }
  const pocket::LogMel mel = pocket::ComputeLogMel(clip->samples.data(), static_cast<int64_t>(clip->samples.size()));
  if (mel.n_valid > mel.n_frames) std::abort();
  return 0;
}
