// Mmproj: the multimodal projector of a model — the vision and/or audio weights from an
// mmproj GGUF, or from an HF checkpoint that carries them next to the text weights — and the
// entry points that turn preprocessed media into soft tokens of the text model's width.
//
// Owns (or, with FromSource, borrows) the WeightSource and owns the bound weights; immutable
// after creation. Encode* calls are serialised by an internal mutex, so one Mmproj can serve
// several sessions (server slots) safely.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "base/thread_pool.h"
#include "formats/weight_source.h"
#include "media/audio.h"
#include "media/image.h"
#include "model/audio_encoder.h"
#include "model/mmproj_config.h"
#include "model/vision_encoder.h"

namespace pocket {

// Soft tokens of one media item, [n_tokens, n_embd] row-major.
struct MediaEmbedding {
  int64_t n_tokens = 0;
  int64_t n_embd = 0;
  std::vector<float> data;
  // Audio longer than one 30 s encoder pass: the tokens of each pass, in order (they enter the
  // prompt as separate <|audio> … <audio|> blocks). Empty: one block.
  std::vector<int64_t> chunk_tokens;
};

class Mmproj {
 public:
  static Result<std::unique_ptr<Mmproj>> Open(const std::string& path);
  // The projector for a text model: `mmproj_path`, or when empty the model itself (an HF
  // checkpoint with vision/audio tensors). Checks that its output width is the model's.
  static Result<std::unique_ptr<Mmproj>> OpenForModel(const std::string& model_path,
                                                      const std::string& mmproj_path);
  // Borrows `ws` (which must outlive the Mmproj): an HF checkpoint serves as its own mmproj.
  static Result<std::unique_ptr<Mmproj>> FromSource(const WeightSource& ws);

  const MmprojConfig& config() const { return config_; }
  const WeightSource& source() const { return *ws_; }
  bool has_vision() const { return config_.has_vision(); }
  bool has_audio() const { return config_.has_audio(); }
  // The side multiple images must be resized to (48).
  int image_side_multiple() const { return config_.vision.side_multiple(); }

  // An error unless the projector's output width is the text model's width.
  Status CheckTextWidth(int64_t n_embd) const;

  // Encodes an image whose sides are multiples of image_side_multiple().
  Result<MediaEmbedding> EncodeImage(const PixelImage& image, ThreadPool* pool) const;
  // Encodes 16 kHz mono audio: the conformer in 30 s passes (spec §4.1; each pass its own
  // block), the unified projection in one. `mel` (optional) receives the log-mel features of
  // all passes, [128, n_frames] feature-major (conformer only).
  Result<MediaEmbedding> EncodeAudio(const AudioClip& clip, ThreadPool* pool,
                                     std::vector<float>* mel = nullptr) const;

 private:
  Mmproj() = default;
  Status Bind();

  std::unique_ptr<WeightSource> owned_;
  const WeightSource* ws_ = nullptr;
  MmprojConfig config_;
  VisionWeights vision_;
  AudioWeights audio_;
  std::unique_ptr<kernels::PackedWeights> packed_;  // both encoders' repacked matrices
  mutable std::mutex mu_;
};

}  // namespace pocket
