// Causal attention of a chunk of queries over a KV cache, sliding-window aware.
//
// The cache of one layer is `capacity` slots of K and V rows; position j lives in slot
// j % capacity (a ring for sliding layers, a plain array for full layers whose capacity is
// the whole context). Query i (absolute position pos0 + i) sees keys j with
// max(0, pos - window + 1) <= j <= pos (window == 0: no window). Scale is 1.0 (Gemma 4 folds
// it into the q/k norms). Softmax is exact (max-subtracted, f32 sums), threads split the
// (query, head) pairs, or in long chunks (query, KV head) pairs, so that each K/V row is read
// once from L2 for all the query heads sharing it (the per-head arithmetic is the same either
// way: results do not depend on the split).
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
  // sees keys group_first[i]..group_last[i] (absolute positions; -1: no group). The group must
  // lie inside the chunk. Visible keys stay one contiguous range: [min(first, group_first),
  // max(pos, group_last)].
  const int64_t* group_first = nullptr;
  const int64_t* group_last = nullptr;
};

// Per-thread score buffers; grown on first use, then reused.
struct AttentionScratch {
  std::vector<std::vector<float>> scores;
  // Pre-sizes the buffers so that no call up to `max_keys` visible keys and `group` query
  // heads per KV head allocates.
  void Reserve(int n_threads, int64_t max_keys, int group = 1) {
    scores.resize(static_cast<size_t>(n_threads));
    for (auto& s : scores) s.resize(static_cast<size_t>(max_keys * group));
  }
};

// q: [n_tok][n_head * head_dim] f32; out: same shape. Keys up to pos0 + n_tok - 1 must
// already be in the cache.
void Attention(const KernelTable& k, ThreadPool* pool, const AttentionParams& p,
               const KvLayerView& kv, const float* q, int64_t n_tok, int64_t pos0, float* out,
               AttentionScratch* scratch);

}  // namespace pocket::kernels
