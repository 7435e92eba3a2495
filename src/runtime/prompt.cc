#include "runtime/prompt.h"

#include <cstring>

namespace pocket {

MediaItem MakeMediaItem(MediaKind kind, MediaEmbedding embedding) {
  // FNV-1a over the soft tokens' bytes and shape: cheap next to encoding them.
  uint64_t h = 1469598103934665603ull;
  auto mix = [&h](const void* p, size_t n) {
    const auto* b = static_cast<const uint8_t*>(p);
    for (size_t i = 0; i < n; ++i) h = (h ^ b[i]) * 1099511628211ull;
  };
  const int k = static_cast<int>(kind);
  mix(&k, sizeof(k));
  mix(&embedding.n_tokens, sizeof(embedding.n_tokens));
  mix(embedding.data.data(), embedding.data.size() * sizeof(float));
  MediaItem item;
  item.kind = kind;
  item.key = h | 1;  // never 0: 0 marks text positions
  item.embedding = std::make_shared<const MediaEmbedding>(std::move(embedding));
  return item;
}

Result<MediaTokenIds> MediaTokenIds::From(const Tokenizer& tok) {
  MediaTokenIds t;
  struct Entry {
    int32_t* id;
    const char* text;
  } entries[] = {{&t.boi, "<|image>"}, {&t.eoi, "<image|>"}, {&t.image, "<|image|>"},
                 {&t.boa, "<|audio>"}, {&t.eoa, "<audio|>"}, {&t.audio, "<|audio|>"}};
  for (const Entry& e : entries) {
    *e.id = tok.Find(e.text);
    if (*e.id < 0) {
      return InvalidArgument(std::string("the model's vocabulary has no '") + e.text +
                             "' token, so it cannot take images or audio");
    }
  }
  return t;
}

Result<Prompt> ExpandMedia(const std::vector<int32_t>& ids, const std::vector<MediaItem>& media,
                           const MediaTokenIds& t, bool image_bidirectional) {
  std::vector<const MediaItem*> images, audios;
  for (const MediaItem& m : media) (m.kind == MediaKind::kImage ? images : audios).push_back(&m);
  size_t n_image = 0, n_audio = 0;
  for (int32_t id : ids) {
    n_image += id == t.image;
    n_audio += id == t.audio;
  }
  if (n_image != images.size() || n_audio != audios.size()) {
    return InvalidArgument(
        StrFormat("the prompt has %zu image and %zu audio placeholders but %zu images "
                  "and %zu audio clips were given",
                  n_image, n_audio, images.size(), audios.size()));
  }
  Prompt p;
  size_t next_image = 0, next_audio = 0;
  for (int32_t id : ids) {
    if (id != t.image && id != t.audio) {
      p.tokens.push_back(id);
      continue;
    }
    const bool image = id == t.image;
    const MediaItem& item = image ? *images[next_image++] : *audios[next_audio++];
    std::vector<int64_t> blocks = item.embedding->chunk_tokens;
    if (blocks.empty()) blocks.push_back(item.embedding->n_tokens);
    int64_t offset = 0;
    for (int64_t n : blocks) {  // long audio: one wrapped block per encoder pass
      p.tokens.push_back(image ? t.boi : t.boa);
      PromptMedia pm;
      pm.start = static_cast<int64_t>(p.tokens.size());
      pm.item = item;
      pm.offset = offset;
      pm.n_tokens = n;
      pm.bidirectional = image && image_bidirectional;
      p.media.push_back(pm);
      p.tokens.insert(p.tokens.end(), static_cast<size_t>(n), id);
      p.tokens.push_back(image ? t.eoi : t.eoa);
      offset += n;
    }
  }
  return p;
}

void AppendPrompt(Prompt* base, const Prompt& more) {
  const int64_t offset = static_cast<int64_t>(base->tokens.size());
  base->tokens.insert(base->tokens.end(), more.tokens.begin(), more.tokens.end());
  for (PromptMedia m : more.media) {
    m.start += offset;
    base->media.push_back(std::move(m));
  }
}

}  // namespace pocket
