// Prompt: token ids plus the media whose soft tokens fill some of the positions. A rendered
// chat holds one placeholder per media item (`<|image|>`, `<|audio|>`); ExpandMedia turns each
// into `<|image>` + N soft-token positions + `<image|>` (audio alike, spec gemma4-multimodal.md
// §2, §5). Soft positions keep the placeholder id in `tokens` for bookkeeping; the decoder
// feeds their embeddings instead and looks the per-layer embedding up at pad (§5.2).
// Value types; no shared state.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "base/status.h"
#include "runtime/mmproj.h"
#include "tokenizer/tokenizer.h"

namespace pocket {

enum class MediaKind { kImage, kAudio };

// One encoded media item; `key` identifies its content (equal keys: equal soft tokens), so a
// session can reuse a cached prefix that holds the same image.
struct MediaItem {
  MediaKind kind = MediaKind::kImage;
  std::shared_ptr<const MediaEmbedding> embedding;
  uint64_t key = 0;
};
MediaItem MakeMediaItem(MediaKind kind, MediaEmbedding embedding);

// Soft tokens of one item (or one block of a long audio item: rows [offset, offset + n_tokens)
// of its embedding) at positions [start, start + n_tokens).
struct PromptMedia {
  int64_t start = 0;
  MediaItem item;
  int64_t offset = 0;
  int64_t n_tokens = 0;
  bool bidirectional = false;  // the item's tokens see each other in sliding layers
  const float* row(int64_t i) const {
    return item.embedding->data.data() + (offset + i) * item.embedding->n_embd;
  }
};

struct Prompt {
  std::vector<int32_t> tokens;
  std::vector<PromptMedia> media;  // by start, non-overlapping
};

// The wrapper and placeholder ids, looked up by text in the model's vocabulary.
struct MediaTokenIds {
  int32_t boi = -1, eoi = -1, image = -1, boa = -1, eoa = -1, audio = -1;
  static Result<MediaTokenIds> From(const Tokenizer& tok);
};

// Replaces the i-th placeholder of each kind in `ids` by the i-th item of that kind in `media`
// (in order). An error if the counts differ. `image_bidirectional`: see the text config.
Result<Prompt> ExpandMedia(const std::vector<int32_t>& ids, const std::vector<MediaItem>& media,
                           const MediaTokenIds& t, bool image_bidirectional);

// Appends `more` after `base` (media positions shifted).
void AppendPrompt(Prompt* base, const Prompt& more);

}  // namespace pocket
