#include "media/media_input.h"

namespace pocket {

namespace {

Status CheckHasVision(const Mmproj& mm, const std::string& what) {
  if (mm.has_vision()) return Status::Ok();
  return InvalidArgument(what + ": the projector " + mm.source().path() + " cannot read images");
}

// Preprocesses a decoded image with the projector's rules and encodes it.
Result<MediaEmbedding> EncodeDecodedImage(const Mmproj& mm, Result<RgbImage> img, const std::string& what,
                                          const MediaOptions& o, ThreadPool* pool) {
  if (!img.ok()) return img.status();
  ImagePreprocessOptions po;
  po.budget = o.image_budget;
  po.keep_size = o.keep_size;
  po.side_multiple = mm.image_side_multiple();
  Result<PixelImage> px = PreprocessImage(*img, po);
  if (!px.ok()) return px.status().WithContext(what);
  return mm.EncodeImage(*px, pool);
}

}  // namespace

Result<MediaEmbedding> EncodeImageBytes(const Mmproj& mm, const uint8_t* data, size_t size, const std::string& what,
                                        const MediaOptions& o, ThreadPool* pool) {
  RETURN_IF_ERROR(CheckHasVision(mm, what));
  return EncodeDecodedImage(mm, DecodeImage(data, size, what, o.image_limits), what, o, pool);
}

Result<MediaEmbedding> EncodeImageFile(const Mmproj& mm, const std::string& path, const MediaOptions& o,
                                       ThreadPool* pool) {
  RETURN_IF_ERROR(CheckHasVision(mm, path));
  return EncodeDecodedImage(mm, LoadImageFile(path, o.image_limits), path, o, pool);
}

namespace {

Result<MediaEmbedding> EncodeClip(const Mmproj& mm, Result<AudioClip> clip, const std::string& what,
                                  ThreadPool* pool, std::vector<float>* mel) {
  if (!clip.ok()) return clip.status();
  Result<MediaEmbedding> e = mm.EncodeAudio(*clip, pool, mel);
  if (!e.ok()) return e.status().WithContext(what);
  return e;
}

Status CheckHasAudio(const Mmproj& mm, const std::string& what) {
  if (mm.has_audio()) return Status::Ok();
  return InvalidArgument(what + ": the projector " + mm.source().path() +
                         " cannot hear (no audio encoder)");
}

}  // namespace

Result<MediaEmbedding> EncodeAudioBytes(const Mmproj& mm, const uint8_t* data, size_t size,
                                        const std::string& what, const MediaOptions& o,
                                        ThreadPool* pool, std::vector<float>* mel) {
  RETURN_IF_ERROR(CheckHasAudio(mm, what));
  return EncodeClip(mm, DecodeAudio(data, size, what, o.audio_limits), what, pool, mel);
}

Result<MediaEmbedding> EncodeAudioFile(const Mmproj& mm, const std::string& path,
                                       const MediaOptions& o, ThreadPool* pool,
                                       std::vector<float>* mel) {
  RETURN_IF_ERROR(CheckHasAudio(mm, path));
  return EncodeClip(mm, LoadAudioFile(path, o.audio_limits), path, pool, mel);
}

}  // namespace pocket
