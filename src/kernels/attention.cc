#include "kernels/attention.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace pocket::kernels {

void Attention(const KernelTable& k, ThreadPool* pool, const AttentionParams& p,
               const KvLayerView& kv, const float* q, int64_t n_tok, int64_t pos0, float* out,
               AttentionScratch* scratch) {
  const int d = p.head_dim;
  const int group = p.n_head / p.n_kv_head;
  const uint64_t elem = static_cast<uint64_t>(KvTypeBytes(kv.type));
  const uint64_t slot_bytes = static_cast<uint64_t>(p.n_kv_head) * static_cast<uint64_t>(d) * elem;
  const int n_threads = pool ? pool->size() : 1;
  int64_t max_keys = p.window > 0 ? std::min<int64_t>(p.window, pos0 + n_tok) : pos0 + n_tok;
  if (p.group_first != nullptr) max_keys = std::min<int64_t>(max_keys + n_tok, pos0 + n_tok);
  // Long chunks: one task per (query, KV head) runs all the heads sharing it, each K/V row
  // hot in L1 across them. Short ones (decode) keep one task per head for parallelism.
  const bool grouped = group > 1 && n_tok * p.n_kv_head >= 4 * n_threads;
  const int heads_per_task = grouped ? group : 1;
  if (static_cast<int>(scratch->scores.size()) < n_threads)
    scratch->scores.resize(static_cast<size_t>(n_threads));
  for (int t = 0; t < n_threads; ++t) {
    std::vector<float>& s = scratch->scores[static_cast<size_t>(t)];
    if (static_cast<int64_t>(s.size()) < max_keys * heads_per_task)
      s.resize(static_cast<size_t>(max_keys * heads_per_task));
  }
  const auto dot = k.kv_dot[static_cast<int>(kv.type)];
  const auto weighted_sum = k.kv_weighted_sum[static_cast<int>(kv.type)];

  // Query i, heads [h0, h0 + nh) (all of KV head h0 / group).
  auto run_heads = [&](int64_t i, int h0, int nh, int thread) {
    const int g = h0 / group;
    const int64_t pos = pos0 + i;
    int64_t first = p.window > 0 ? std::max<int64_t>(0, pos - p.window + 1) : 0;
    int64_t last = pos;
    if (p.group_first != nullptr && p.group_first[i] >= 0) {
      first = std::min(first, p.group_first[i]);
      last = std::max(last, p.group_last[i]);
    }
    const int64_t n_keys = last - first + 1;
    const float* qh = q + (i * p.n_head + h0) * d;
    float* oh = out + (i * p.n_head + h0) * d;
    float* s = scratch->scores[static_cast<size_t>(thread)].data();
    const uint64_t head_off = static_cast<uint64_t>(g) * static_cast<uint64_t>(d) * elem;
    for (int64_t j = 0; j < n_keys; ++j) {
      const uint64_t slot = static_cast<uint64_t>((first + j) % kv.capacity);
      const uint8_t* kr = kv.k + slot * slot_bytes + head_off;
      for (int h = 0; h < nh; ++h) s[h * n_keys + j] = dot(d, qh + h * d, kr);
    }
    for (int h = 0; h < nh; ++h) k.softmax(n_keys, s + h * n_keys);
    std::memset(oh, 0, sizeof(float) * static_cast<size_t>(d) * static_cast<size_t>(nh));
    // The visible keys' slots form at most two contiguous runs (the ring wraps once).
    for (int64_t j = 0; j < n_keys;) {
      const int64_t slot = (first + j) % kv.capacity;
      const int64_t run = std::min(n_keys - j, kv.capacity - slot);
      weighted_sum(run, d, nh, s + j, n_keys,
                   kv.v + static_cast<uint64_t>(slot) * slot_bytes + head_off, slot_bytes, oh, d);
      j += run;
    }
  };
  auto run = [&](int64_t task, int thread) {
    if (grouped) {
      run_heads(task / p.n_kv_head, static_cast<int>(task % p.n_kv_head) * group, group, thread);
    } else {
      run_heads(task / p.n_head, static_cast<int>(task % p.n_head), 1, thread);
    }
  };
  const int64_t n_tasks = n_tok * (grouped ? p.n_kv_head : p.n_head);
  if (pool) {
    pool->ParallelFor(n_tasks, run);
  } else {
    for (int64_t t = 0; t < n_tasks; ++t) run(t, 0);
  }
}

}  // namespace pocket::kernels
