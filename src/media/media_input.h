// From user media (a file or uploaded bytes) to soft tokens: decode, preprocess with the
// projector's rules, encode. The one path every front end (CLI, server, C API) uses, so an
// image or clip gives the same embeddings whichever way it arrives. Thread-safe as Mmproj is.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/status.h"
#include "base/thread_pool.h"
#include "media/audio_decode.h"
#include "media/image_decode.h"
#include "media/image_preprocess.h"
#include "runtime/mmproj.h"

namespace pocket {

struct MediaOptions {
  int image_budget = kDefaultImageBudget;  // 70, 140, 280, 560, 1120
  bool keep_size = false;                  // encode images without resizing
  ImageLimits image_limits;
  AudioLimits audio_limits;
};

Result<MediaEmbedding> EncodeImageBytes(const Mmproj& mm, const uint8_t* data, size_t size,
                                        const std::string& what, const MediaOptions& options,
                                        ThreadPool* pool);
Result<MediaEmbedding> EncodeImageFile(const Mmproj& mm, const std::string& path,
                                       const MediaOptions& options, ThreadPool* pool);

// Audio: decode, mono 16 kHz, encode. `mel` (optional): the log-mel features, [128, frames].
Result<MediaEmbedding> EncodeAudioBytes(const Mmproj& mm, const uint8_t* data, size_t size,
                                        const std::string& what, const MediaOptions& options,
                                        ThreadPool* pool, std::vector<float>* mel = nullptr);
Result<MediaEmbedding> EncodeAudioFile(const Mmproj& mm, const std::string& path,
                                       const MediaOptions& options, ThreadPool* pool,
                                       std::vector<float>* mel = nullptr);

}  // namespace pocket
