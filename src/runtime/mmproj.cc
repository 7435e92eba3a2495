#include "runtime/mmproj.h"

#include "kernels/kernels.h"
#include "model/config.h"

namespace pocket {
namespace {

// The text model's width: from its config, or for a folder holding only a projector and a
// `text_config.hidden_size` (HF multimodal sub-configs), from that key.
Result<int64_t> TextWidth(const WeightSource& ws) {
  Result<Gemma4TextConfig> c = LoadTextConfig(ws);
  if (c.ok()) return c->n_embd;
  const int64_t w = ws.metadata().GetIntOr("text_config.hidden_size", 0);
  if (w > 0) return w;
  return c.status();
}

}  // namespace

Result<std::unique_ptr<Mmproj>> Mmproj::OpenForModel(const std::string& model_path,
                                                     const std::string& mmproj_path) {
  ASSIGN_OR_RETURN(std::unique_ptr<WeightSource> model, WeightSource::Open(model_path));
  ASSIGN_OR_RETURN(const int64_t width, TextWidth(*model));
  std::unique_ptr<Mmproj> m;
  if (mmproj_path.empty()) {
    Result<std::unique_ptr<Mmproj>> own = FromSource(*model);
    if (!own.ok()) {
      return InvalidArgument(model_path + ": has no vision/audio projector; pass its mmproj file "
                             "with --mmproj (" + own.status().message() + ")");
    }
    m = std::move(*own);
    m->owned_ = std::move(model);
  } else {
    ASSIGN_OR_RETURN(m, Open(mmproj_path));
  }
  RETURN_IF_ERROR(m->CheckTextWidth(width));
  return m;
}

Result<std::unique_ptr<Mmproj>> Mmproj::Open(const std::string& path) {
  ASSIGN_OR_RETURN(std::unique_ptr<WeightSource> ws, WeightSource::Open(path));
  std::unique_ptr<Mmproj> m(new Mmproj());
  m->owned_ = std::move(ws);
  m->ws_ = m->owned_.get();
  RETURN_IF_ERROR(m->Bind());
  return m;
}

Result<std::unique_ptr<Mmproj>> Mmproj::FromSource(const WeightSource& ws) {
  std::unique_ptr<Mmproj> m(new Mmproj());
  m->ws_ = &ws;
  RETURN_IF_ERROR(m->Bind());
  return m;
}

Status Mmproj::Bind() {
  ASSIGN_OR_RETURN(config_, MmprojConfig::FromSource(*ws_));
  if (config_.has_vision()) {
    Result<VisionWeights> v = VisionWeights::Bind(*ws_, config_.vision);
    if (!v.ok()) return v.status().WithContext(ws_->path());
    vision_ = std::move(*v);
  }
  return Status::Ok();
}

Status Mmproj::CheckTextWidth(int64_t n_embd) const {
  for (int64_t w : {config_.vision.n_embd_text, config_.audio.n_embd_text}) {
    if (w != 0 && w != n_embd) {
      return InvalidArgument(StrFormat(
          "%s: the projector outputs %lld-wide embeddings but the text model is %lld wide; "
          "use the mmproj file made for this model", ws_->path().c_str(), (long long)w,
          (long long)n_embd));
    }
  }
  return Status::Ok();
}

Result<int64_t> Mmproj::ImageTokenCount(int width, int height) const {
  if (!has_vision()) return InvalidArgument(ws_->path() + ": this projector has no image encoder");
  VisionEncoder enc(config_.vision, vision_, kernels::Kernels(), nullptr);
  return enc.TokenCount(width, height);
}

Result<MediaEmbedding> Mmproj::EncodeImage(const PixelImage& image, ThreadPool* pool) const {
  if (!has_vision()) {
    return InvalidArgument(ws_->path() + ": this projector has no image encoder (it is audio-only)");
  }
  std::lock_guard<std::mutex> lock(mu_);
  VisionEncoder enc(config_.vision, vision_, kernels::Kernels(), pool);
  MediaEmbedding e;
  RETURN_IF_ERROR(enc.Encode(image, &e.data));
  e.n_embd = config_.vision.n_embd_text;
  e.n_tokens = static_cast<int64_t>(e.data.size()) / e.n_embd;
  return e;
}

}  // namespace pocket
