// Audio decoding: WAV (PCM 8/16/24/32-bit, float), FLAC, OGG/Vorbis, Opus and MP3 through
// libsndfile, from a file or from memory (server uploads); downmix to mono (channel mean) and
// high-quality resampling to 16 kHz with libsoxr. Bad input — empty, corrupt, not audio, too
// long — returns a clear error and never crashes. Thread-safe (no shared state).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "base/status.h"
#include "media/audio.h"

namespace pocket {

struct AudioLimits {
  uint64_t max_file_bytes = uint64_t{256} << 20;  // 256 MiB
  double max_seconds = 600.0;                     // 10 minutes (~15,000 soft tokens)
};

inline constexpr int kModelSampleRate = 16000;

// Decodes and converts to mono 16 kHz. `what` names the input in errors.
Result<AudioClip> DecodeAudio(const uint8_t* data, size_t size, const std::string& what,
                              const AudioLimits& limits = {});
Result<AudioClip> LoadAudioFile(const std::string& path, const AudioLimits& limits = {});

// Resamples mono audio (soxr, very high quality). Same rate: unchanged.
Result<AudioClip> ResampleAudio(const AudioClip& in, int rate);

}  // namespace pocket
