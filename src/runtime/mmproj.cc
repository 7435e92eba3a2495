#include "runtime/mmproj.h"

#include "kernels/kernels.h"
#include "media/audio_features.h"
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
      return InvalidArgument(model_path +
                             ": has no vision/audio projector; pass its mmproj file "
                             "with --mmproj (" +
                             own.status().message() + ")");
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
  if (config_.has_audio()) {
    Result<AudioWeights> a = AudioWeights::Bind(*ws_, config_.audio);
    if (!a.ok()) return a.status().WithContext(ws_->path());
    audio_ = std::move(*a);
  }
  std::vector<kernels::PackedWeights::Source> sources;
  for (const std::vector<const ref::MatView*>& list : {vision_.Matrices(), audio_.Matrices()}) {
    for (const ref::MatView* v : list) {
      // Only whole tensors in their own row-major shape (a conv kernel bound flat keeps its rows).
      if (v->t != nullptr && v->row_offset == 0 && v->t->n_elements() == v->rows * v->cols &&
          v->t->ne[0] == v->cols)
        sources.push_back({v->t->type, v->t->data, v->rows, v->cols});
    }
  }
  if (sources.empty()) return Status::Ok();  // nothing the packed kernels take
  ThreadPool pool(ThreadPool::HardwareThreads());
  packed_ = kernels::PackedWeights::Build(
      kernels::Kernels(), sources, &pool,
      [this](const uint8_t* data, uint64_t bytes) { ws_->ReleasePages(data, bytes); });
  return Status::Ok();
}

Status Mmproj::CheckTextWidth(int64_t n_embd) const {
  for (int64_t w : {config_.vision.n_embd_text, config_.audio.n_embd_text}) {
    if (w != 0 && w != n_embd) {
      return InvalidArgument(StrFormat(
          "%s: the projector outputs %lld-wide embeddings but the text model is %lld wide; "
          "use the mmproj file made for this model",
          ws_->path().c_str(), (long long)w, (long long)n_embd));
    }
  }
  return Status::Ok();
}

Result<MediaEmbedding> Mmproj::EncodeImage(const PixelImage& image, ThreadPool* pool) const {
  if (!has_vision()) {
    return InvalidArgument(ws_->path() +
                           ": this projector has no image encoder (it is audio-only)");
  }
  std::lock_guard<std::mutex> lock(mu_);
  VisionEncoder enc(config_.vision, vision_, kernels::Kernels(), pool, packed_.get());
  MediaEmbedding e;
  RETURN_IF_ERROR(enc.Encode(image, &e.data));
  e.n_embd = config_.vision.n_embd_text;
  e.n_tokens = static_cast<int64_t>(e.data.size()) / e.n_embd;
  return e;
}

Result<MediaEmbedding> Mmproj::EncodeAudio(const AudioClip& clip, ThreadPool* pool,
                                           std::vector<float>* mel) const {
  if (!has_audio()) {
    return InvalidArgument(ws_->path() +
                           ": this projector has no audio encoder (the model does not hear)");
  }
  if (clip.sample_rate != 16000) {
    return InvalidArgument(
        StrFormat("audio must be 16 kHz for the encoder, got %d Hz", clip.sample_rate));
  }
  if (clip.samples.empty()) return InvalidArgument("audio has no samples");
  std::lock_guard<std::mutex> lock(mu_);
  AudioEncoder enc(config_.audio, audio_, kernels::Kernels(), pool, packed_.get());
  MediaEmbedding e;
  e.n_embd = config_.audio.n_embd_text;
  const int64_t n = static_cast<int64_t>(clip.samples.size());
  if (config_.audio.kind == AudioKind::kUnified) {
    RETURN_IF_ERROR(enc.EncodeFrames(clip.samples.data(), n, &e.data));
    e.n_tokens = static_cast<int64_t>(e.data.size()) / e.n_embd;
    return e;
  }
  std::vector<std::vector<float>> mels;
  int64_t total_frames = 0;
  for (int64_t start = 0; start < n; start += kAudioChunkSamples) {
    const int64_t len = std::min(kAudioChunkSamples, n - start);
    if (start > 0 && len < 161) break;  // a sliver under one frame adds no token
    const LogMel m = ComputeLogMel(clip.samples.data() + start, len, pool);
    std::vector<float> out;
    RETURN_IF_ERROR(enc.EncodeMel(m.data.data(), m.n_frames, m.n_valid, &out));
    const int64_t tokens = static_cast<int64_t>(out.size()) / e.n_embd;
    e.data.insert(e.data.end(), out.begin(), out.end());
    e.chunk_tokens.push_back(tokens);
    e.n_tokens += tokens;
    if (mel != nullptr) {
      mels.push_back(m.data);
      total_frames += m.n_frames;
    }
  }
  if (e.chunk_tokens.size() == 1) e.chunk_tokens.clear();
  if (mel != nullptr) {  // frame-major chunks -> one feature-major [128, total_frames]
    mel->assign(static_cast<size_t>(kMelBins * total_frames), 0.0f);
    int64_t f0 = 0;
    for (const std::vector<float>& m : mels) {
      const int64_t nf = static_cast<int64_t>(m.size()) / kMelBins;
      for (int64_t f = 0; f < nf; ++f) {
        for (int b = 0; b < kMelBins; ++b) {
          (*mel)[static_cast<size_t>(b * total_frames + f0 + f)] =
              m[static_cast<size_t>(f * kMelBins + b)];
        }
      }
      f0 += nf;
    }
  }
  return e;
}

}  // namespace pocket
