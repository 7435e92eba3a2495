// Causal attention of a chunk of queries over a KV cache, sliding-window aware.
//
// The cache of one layer is `capacity` slots of K and V rows; position j lives in slot
// j % capacity (a ring for sliding layers, a plain array for full layers whose capacity is
// the whole context). Query i (absolute position pos0 + i) sees keys j with
// max(0, pos - window + 1) <= j <= pos (window == 0: no window). Scale is 1.0 (Gemma 4 folds
// it into the q/k norms). Softmax is exact (max-subtracted, f32 sums) over the scores of
// kv_scores; P·V is kv_weighted_sum.
//
// Work split: a chunk of queries goes by (block of up to 8 queries, KV head), each block
// walking its keys 64 at a time so that a K or V row comes from memory once per block and
// serves all its queries and heads from L2; a single query (decode) splits the scores by key
// chunks and P·V by column strips, so that every K and V row is read once however many
// heads share it. Each output is computed with the same operations either way: a token
// gets the same bits alone or in a chunk of any size, on any number of threads.
#pragma once

#include <cstdint>
#include <vector>

#include "base/thread_pool.h"
#include "kernels/kernels.h"

namespace pocket::kernels {

struct KvLayerView {
  const uint8_t* k = nullptr;  // [capacity][n_kv_head * head_dim] in `type`
  const uint8_t* v = nullptr;
  int64_t capacity = 0;
  KvType type = KvType::kF32;
};

struct AttentionParams {
  int n_head = 0;
  int n_kv_head = 0;
  int head_dim = 0;
  int64_t window = 0;  // 0: full causal attention
  // Optional bidirectional groups (the soft tokens of one image): query i of the chunk also
  // sees keys group_first[i]..group_last[i] (absolute positions; -1: no group), which must
  // already be in the cache (the decoder's groups lie inside the chunk). Visible keys stay one
  // contiguous range: [min(first, group_first), max(pos, group_last)].
  const int64_t* group_first = nullptr;
  const int64_t* group_last = nullptr;
};

// Score rows: per thread, those of one block of queries (prefill); and one query's, shared by
// the threads (decode). Grown on first use, then reused.
struct AttentionScratch {
  std::vector<std::vector<float>> scores;
  std::vector<std::vector<float>> block_rows;  // a block's query and output rows, per thread
  std::vector<float> single;
  // Sizes the buffers so that no call with up to `max_keys` visible keys, `n_head` query
  // heads, `group` query heads per KV head and heads of up to `head_dim` allocates.
  void Reserve(int n_threads, int64_t max_keys, int n_head, int group, int head_dim = 0);
};

// q: [n_tok][n_head * head_dim] f32; out: same shape. Keys up to pos0 + n_tok - 1 must
// already be in the cache.
void Attention(const KernelTable& k, ThreadPool* pool, const AttentionParams& p,
               const KvLayerView& kv, const float* q, int64_t n_tok, int64_t pos0, float* out,
               AttentionScratch* scratch);

}  // namespace pocket::kernels
