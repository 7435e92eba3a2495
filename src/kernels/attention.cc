#include "kernels/attention.h"

#include <algorithm>
#include <cstring>
#include <type_traits>

namespace pocket::kernels {
namespace {

// Keys per pass over a block's queries: 64 rows of K (or V) of a 512-wide head are 128 KB,
// which stay in L2 while every query of the block uses them.
constexpr int64_t kKeyChunk = 64;
// Queries per block: at most 8, fewer where their score rows would pass 16 MB per thread.
constexpr int kMaxBlock = 8;
constexpr int64_t kBlockScratchFloats = int64_t{1} << 22;
// Keys per step of a single query's P·V, each step over the task's whole column strip.
constexpr int64_t kValueRows = 8;
// Columns of V per pass of a block's queries over one key chunk.
constexpr int kValueStrip = 16;
// Below this many query heads per KV head, a block's queries share each kernel call (their
// rows gathered into scratch): one query's heads alone give the score and P·V tiles too
// little work per K or V row.
constexpr int kBatchBelowGroup = 4;

// Columns of a prefill block's score rows: a query's keys, or with fewer than
// kBatchBelowGroup heads per KV head (BatchedBlock) room for the block's whole key span,
// which a window shifts by one key per query.
int64_t BlockRowLength(int64_t max_keys, int group) {
  return group < kBatchBelowGroup ? max_keys + kMaxBlock - 1 : max_keys;
}

int BlockCap(int64_t max_keys, int group) {
  const int64_t per_query = std::max<int64_t>(1, max_keys) * std::max(1, group);
  return static_cast<int>(std::clamp<int64_t>(kBlockScratchFloats / per_query, 1, kMaxBlock));
}

// One layer's attention call: the geometry, and the three steps every path is made of.
// Each step computes an output element with the same operations whatever range or tile it
// is called on, so the paths below give the same bits.
class AttentionCall {
 public:
  AttentionCall(const KernelTable& k, const AttentionParams& p, const KvLayerView& kv,
                const float* q, int64_t pos0, float* out)
      : p_(p),
        kv_(kv),
        q_(q),
        out_(out),
        pos0_(pos0),
        d_(p.head_dim),
        group_(p.n_head / p.n_kv_head),
        elem_(static_cast<uint64_t>(KvTypeBytes(kv.type))),
        slot_bytes_(static_cast<uint64_t>(p.n_kv_head) * static_cast<uint64_t>(d_) * elem_),
        scores_(k.kv_scores[static_cast<int>(kv.type)]),
        weighted_sum_(k.kv_weighted_sum[static_cast<int>(kv.type)]),
        softmax_(k.softmax),
        value_strip_(k.kv_value_strip) {}

  int group() const { return group_; }
  int head_dim() const { return d_; }
  // Columns of V per pass of a block's queries over a key chunk, for P·V calls of `rows`
  // output rows: the table's preference for four or more (its kernels hold several rows
  // per V load), 32 for one or two (more FMA chains per row), else 16.
  int ValueStrip(int64_t rows) const {
    return rows >= 4 ? value_strip_ : rows <= 2 ? 2 * kValueStrip : kValueStrip;
  }

  // Keys query i sees, [*first, *last] (absolute positions).
  void Visible(int64_t i, int64_t* first, int64_t* last) const {
    const int64_t pos = pos0_ + i;
    *first = p_.window > 0 ? std::max<int64_t>(0, pos - p_.window + 1) : 0;
    *last = pos;
    if (p_.group_first != nullptr && p_.group_first[i] >= 0) {
      *first = std::min(*first, p_.group_first[i]);
      *last = std::max(*last, p_.group_last[i]);
    }
  }

  // Query i's rows of KV head g (group() rows of head_dim(), one after another).
  const float* QueryRows(int64_t i, int g) const { return q_ + (i * p_.n_head + g * group_) * d_; }
  float* OutputRows(int64_t i, int g) const { return out_ + (i * p_.n_head + g * group_) * d_; }

  // Scores of query i's heads of KV head g against keys [j0, j1): row h at s + h * s_stride,
  // key j0 at column 0. The keys' slots form at most two runs (the ring wraps once).
  void Scores(int64_t i, int g, int64_t j0, int64_t j1, float* s, int64_t s_stride) const {
    ScoreRows(QueryRows(i, g), group_, d_, g, j0, j1, s, s_stride);
  }
  // The same for nh query rows at q + r * q_stride (heads of KV head g, of any queries).
  void ScoreRows(const float* q, int nh, int64_t q_stride, int g, int64_t j0, int64_t j1, float* s,
                 int64_t s_stride) const {
    for (int64_t j = j0; j < j1;) {
      const int64_t slot = j % kv_.capacity;
      const int64_t run = std::min(j1 - j, kv_.capacity - slot);
      scores_(run, d_, nh, q, q_stride, KeyRow(slot, g), slot_bytes_, s + (j - j0), s_stride);
      j += run;
    }
  }

  // out[i, heads of g, columns [c0, c0 + nc)] += Σ_j p_h[j] · V_j[c0 ...] for keys [j0, j1),
  // p_h at p + h * p_stride with key j0 at column 0.
  void WeightedSum(int64_t i, int g, int64_t j0, int64_t j1, const float* p, int64_t p_stride,
                   int c0, int nc) const {
    WeightedSumRows(group_, g, j0, j1, p, p_stride, c0, nc, OutputRows(i, g), d_);
  }
  // The same for nh output rows at o + r * o_stride (p_r at p + r * p_stride).
  void WeightedSumRows(int nh, int g, int64_t j0, int64_t j1, const float* p, int64_t p_stride,
                       int c0, int nc, float* o, int64_t o_stride) const {
    for (int64_t j = j0; j < j1;) {
      const int64_t slot = j % kv_.capacity;
      const int64_t run = std::min(j1 - j, kv_.capacity - slot);
      weighted_sum_(run, nc, nh, p + (j - j0), p_stride,
                    ValueRow(slot, g) + static_cast<uint64_t>(c0) * elem_, slot_bytes_, o + c0,
                    o_stride);
      j += run;
    }
  }

  void Softmax(int64_t n, float* s) const { softmax_(n, s); }

  // Zeroes columns [c0, c0 + nc) of query i's heads [h0, h0 + nh) of KV head g.
  void ZeroOutput(int64_t i, int g, int h0, int nh, int c0, int nc) const {
    float* og = OutputRows(i, g) + h0 * d_ + c0;
    for (int h = 0; h < nh; ++h)
      std::memset(og + h * d_, 0, sizeof(float) * static_cast<size_t>(nc));
  }

 private:
  const uint8_t* KeyRow(int64_t slot, int g) const {
    return kv_.k + static_cast<uint64_t>(slot) * slot_bytes_ +
           static_cast<uint64_t>(g) * static_cast<uint64_t>(d_) * elem_;
  }
  const uint8_t* ValueRow(int64_t slot, int g) const {
    return kv_.v + static_cast<uint64_t>(slot) * slot_bytes_ +
           static_cast<uint64_t>(g) * static_cast<uint64_t>(d_) * elem_;
  }

  const AttentionParams& p_;
  const KvLayerView& kv_;
  const float* q_;
  float* out_;
  int64_t pos0_;
  int d_, group_;
  uint64_t elem_, slot_bytes_;
  std::remove_reference_t<decltype(KernelTable::kv_scores[0])> scores_;
  std::remove_reference_t<decltype(KernelTable::kv_weighted_sum[0])> weighted_sum_;
  decltype(KernelTable::softmax) softmax_;
  int value_strip_;
};

// The run [*ia, *ib) of the block's queries that see every key of [c0, c1) (empty: *ia = -1).
void CoveringRun(int64_t i0, int64_t i1, const int64_t* first, const int64_t* last, int64_t c0,
                 int64_t c1, int64_t* ia, int64_t* ib) {
  *ia = *ib = -1;
  for (int64_t i = i0; i < i1; ++i) {
    if (first[i - i0] > c0 || last[i - i0] < c1 - 1) continue;
    if (*ia < 0) {
      *ia = i;
      *ib = i + 1;
    } else if (*ib == i) {
      *ib = i + 1;
    }
  }
}

// One block of queries [i0, i1) for KV head g with few query heads per KV head: the block's
// query rows are gathered (and its outputs accumulated) in `buf`, so that for each key chunk
// one kernel call serves every query that sees the whole chunk, as if they were more heads;
// the others (the causal diagonal, window edges) go one query at a time. Score rows hold key
// j at column j - lo (row_len >= hi - lo + 1). Same operations per output element as the
// per-query path, so the same bits.
void BatchedBlock(const AttentionCall& a, int g, int64_t i0, int64_t i1, const int64_t* first,
                  const int64_t* last, int64_t lo, int64_t hi, float* rows, int64_t row_len,
                  float* buf) {
  const int group = a.group(), d = a.head_dim();
  const int64_t per_query = static_cast<int64_t>(group) * d;
  float* qbuf = buf;
  float* obuf = buf + (i1 - i0) * per_query;
  for (int64_t i = i0; i < i1; ++i)
    std::memcpy(qbuf + (i - i0) * per_query, a.QueryRows(i, g), sizeof(float) * per_query);
  auto row_of = [&](int64_t i) { return rows + (i - i0) * group * row_len; };
  for (int64_t c0 = lo; c0 <= hi; c0 += kKeyChunk) {
    const int64_t c1 = std::min(c0 + kKeyChunk, hi + 1);
    int64_t ia, ib;
    CoveringRun(i0, i1, first, last, c0, c1, &ia, &ib);
    if (ia >= 0) {
      a.ScoreRows(qbuf + (ia - i0) * per_query, static_cast<int>((ib - ia) * group), d, g, c0, c1,
                  row_of(ia) + (c0 - lo), row_len);
    }
    for (int64_t i = i0; i < i1; ++i) {
      if (i >= ia && i < ib) continue;
      const int64_t j0 = std::max(c0, first[i - i0]), j1 = std::min(c1, last[i - i0] + 1);
      if (j0 < j1) a.Scores(i, g, j0, j1, row_of(i) + (j0 - lo), row_len);
    }
  }
  for (int64_t i = i0; i < i1; ++i) {
    const int64_t n_keys = last[i - i0] - first[i - i0] + 1;
    for (int h = 0; h < group; ++h)
      a.Softmax(n_keys, row_of(i) + h * row_len + (first[i - i0] - lo));
  }
  std::memset(obuf, 0, sizeof(float) * static_cast<size_t>((i1 - i0) * per_query));
  for (int64_t c0 = lo; c0 <= hi; c0 += kKeyChunk) {
    const int64_t c1 = std::min(c0 + kKeyChunk, hi + 1);
    int64_t ia, ib;
    CoveringRun(i0, i1, first, last, c0, c1, &ia, &ib);
    // The covering run's calls carry the heads of several queries.
    const int value_strip = a.ValueStrip((i1 - i0) * group);
    for (int col = 0; col < d; col += value_strip) {
      const int nc = std::min(value_strip, d - col);
      if (ia >= 0) {
        a.WeightedSumRows(static_cast<int>((ib - ia) * group), g, c0, c1, row_of(ia) + (c0 - lo),
                          row_len, col, nc, obuf + (ia - i0) * per_query, d);
      }
      for (int64_t i = i0; i < i1; ++i) {
        if (i >= ia && i < ib) continue;
        const int64_t j0 = std::max(c0, first[i - i0]), j1 = std::min(c1, last[i - i0] + 1);
        if (j0 < j1) {
          a.WeightedSumRows(group, g, j0, j1, row_of(i) + (j0 - lo), row_len, col, nc,
                            obuf + (i - i0) * per_query, d);
        }
      }
    }
  }
  for (int64_t i = i0; i < i1; ++i)
    std::memcpy(a.OutputRows(i, g), obuf + (i - i0) * per_query, sizeof(float) * per_query);
}

// A chunk of queries: one task per (block of consecutive queries, KV head). The block walks
// its keys in chunks, each chunk's K (then V) rows serving every query of the block from L2,
// and keeps the block's score rows (query, head) in the thread's scratch.
void BlockedAttention(const AttentionCall& a, ThreadPool* pool, int64_t n_tok, int n_kv_head,
                      int block, int64_t row_len, AttentionScratch* scratch) {
  const int group = a.group();
  const int64_t n_blocks = (n_tok + block - 1) / block;
  auto run = [&](int64_t task, int thread) {
    const int64_t i0 = (task / n_kv_head) * block, i1 = std::min<int64_t>(i0 + block, n_tok);
    const int g = static_cast<int>(task % n_kv_head);
    float* rows = scratch->scores[static_cast<size_t>(thread)].data();
    int64_t first[kMaxBlock], last[kMaxBlock], lo = INT64_MAX, hi = -1;
    for (int64_t i = i0; i < i1; ++i) {
      a.Visible(i, &first[i - i0], &last[i - i0]);
      lo = std::min(lo, first[i - i0]);
      hi = std::max(hi, last[i - i0]);
    }
    if (group < kBatchBelowGroup && i1 - i0 > 1 && hi - lo + 1 <= row_len) {
      BatchedBlock(a, g, i0, i1, first, last, lo, hi, rows, row_len,
                   scratch->block_rows[static_cast<size_t>(thread)].data());
      return;
    }
    auto row_of = [&](int64_t i) { return rows + (i - i0) * group * row_len; };
    for (int64_t c0 = lo; c0 <= hi; c0 += kKeyChunk) {
      const int64_t c1 = std::min(c0 + kKeyChunk, hi + 1);
      for (int64_t i = i0; i < i1; ++i) {
        const int64_t f = first[i - i0], j0 = std::max(c0, f), j1 = std::min(c1, last[i - i0] + 1);
        if (j0 < j1) a.Scores(i, g, j0, j1, row_of(i) + (j0 - f), row_len);
      }
    }
    for (int64_t i = i0; i < i1; ++i) {
      const int64_t n_keys = last[i - i0] - first[i - i0] + 1;
      for (int h = 0; h < group; ++h) a.Softmax(n_keys, row_of(i) + h * row_len);
      a.ZeroOutput(i, g, 0, group, 0, a.head_dim());
    }
    // P·V by column strips inside each key chunk (ValueStrip: 16 to 64 columns): a strip of
    // the chunk's V rows (4-16 KB) serves every query and head of the block while it is in
    // L1 or L2.
    const int value_strip = a.ValueStrip(group);
    for (int64_t c0 = lo; c0 <= hi; c0 += kKeyChunk) {
      const int64_t c1 = std::min(c0 + kKeyChunk, hi + 1);
      for (int col = 0; col < a.head_dim(); col += value_strip) {
        const int nc = std::min(value_strip, a.head_dim() - col);
        for (int64_t i = i0; i < i1; ++i) {
          const int64_t f = first[i - i0], j0 = std::max(c0, f);
          const int64_t j1 = std::min(c1, last[i - i0] + 1);
          if (j0 < j1) a.WeightedSum(i, g, j0, j1, row_of(i) + (j0 - f), row_len, col, nc);
        }
      }
    }
  };
  const int64_t n_tasks = n_blocks * n_kv_head;
  if (pool) {
    pool->ParallelFor(n_tasks, run);
  } else {
    for (int64_t t = 0; t < n_tasks; ++t) run(t, 0);
  }
}

// One query (decode): too few (query, KV head) pairs to share among the threads, so each
// step is split on its own: scores by key chunks (each K row read once for all the heads
// sharing it), the softmax by head, and P·V by column strips (each V row read once).
void SingleQueryAttention(const AttentionCall& a, ThreadPool* pool, int n_head, int n_kv_head,
                          float* rows, int64_t row_len) {
  const int group = a.group(), d = a.head_dim();
  int64_t first, last;
  a.Visible(0, &first, &last);
  const int64_t n_keys = last - first + 1;
  const int64_t n_chunks = (n_keys + kKeyChunk - 1) / kKeyChunk;
  const int n_threads = pool ? pool->size() : 1;
  // P·V work per thread: whole V rows read in order where possible. With fewer KV heads than
  // threads, a KV head's query heads are split in parts of four or more (each part reads
  // every V row whole, the other parts the same rows from the shared cache) before its
  // columns are: columns split each row between threads, so each thread reads a piece of
  // every row, which the hardware prefetchers follow poorly.
  const int head_parts =
      std::clamp(std::min(group / 4, (n_threads + n_kv_head - 1) / n_kv_head), 1, group);
  const int part_heads = (group + head_parts - 1) / head_parts;
  // The rest by column strips (multiples of 16 columns).
  const int strip = std::clamp((d * n_kv_head * head_parts / n_threads + 15) / 16 * 16, 16, d);
  const int n_strips = (d + strip - 1) / strip;
  auto for_tasks = [&](int64_t n, auto&& fn) {
    if (pool) {
      pool->ParallelFor(n, fn);
    } else {
      for (int64_t t = 0; t < n; ++t) fn(t, 0);
    }
  };
  for_tasks(n_kv_head * n_chunks, [&](int64_t task, int) {
    const int g = static_cast<int>(task / n_chunks);
    const int64_t j0 = first + (task % n_chunks) * kKeyChunk;
    const int64_t j1 = std::min(j0 + kKeyChunk, last + 1);
    a.Scores(0, g, j0, j1, rows + g * group * row_len + (j0 - first), row_len);
  });
  for_tasks(n_head, [&](int64_t h, int) { a.Softmax(n_keys, rows + h * row_len); });
  for_tasks(int64_t{n_kv_head} * head_parts * n_strips, [&](int64_t task, int) {
    const int g = static_cast<int>(task / (head_parts * n_strips));
    const int h0 = static_cast<int>(task / n_strips % head_parts) * part_heads;
    const int nh = std::min(part_heads, group - h0);
    if (nh <= 0) return;  // rounding left the last part empty
    const int c0 = static_cast<int>(task % n_strips) * strip;
    const int nc = std::min(strip, d - c0);
    a.ZeroOutput(0, g, h0, nh, c0, nc);
    // A few keys at a time across the whole strip: the strip's V rows are read in order, in
    // runs the hardware prefetchers follow, and stay in L1 while every head passes over them.
    // (By 64-key chunks and 16-column sub-strips, each V row was fetched a cache line at a
    // time at a row-sized stride: with the cache in memory, 2x slower.)
    for (int64_t j0 = first; j0 <= last; j0 += kValueRows) {
      const int64_t j1 = std::min(j0 + kValueRows, last + 1);
      a.WeightedSumRows(nh, g, j0, j1, rows + (g * group + h0) * row_len + (j0 - first), row_len,
                        c0, nc, a.OutputRows(0, g) + h0 * d, d);
    }
  });
}

}  // namespace

void AttentionScratch::Reserve(int n_threads, int64_t max_keys, int n_head, int group,
                               int head_dim) {
  // A block's rows, BlockCap(m, g) * g * m floats for m = BlockRowLength(k, g), any k <=
  // max_keys and any g <= group (a model's layers may group fewer heads): at most
  // kBlockScratchFloats when the cap binds (a block of 2 or more), else one query's rows.
  const int small = std::min(std::max(1, group), kBatchBelowGroup - 1);
  const int64_t rows =
      std::max(static_cast<int64_t>(std::max(1, group)) * BlockRowLength(max_keys, group),
               static_cast<int64_t>(small) * BlockRowLength(max_keys, small));
  const int64_t per_thread =
      std::min<int64_t>(kMaxBlock * rows, std::max<int64_t>(rows, kBlockScratchFloats));
  scores.resize(static_cast<size_t>(n_threads));
  for (auto& s : scores) {
    if (static_cast<int64_t>(s.size()) < per_thread) s.resize(static_cast<size_t>(per_thread));
  }
  // BatchedBlock's gathered query and output rows.
  const int64_t block_floats =
      int64_t{2} * kMaxBlock * std::min(group, kBatchBelowGroup - 1) * head_dim;
  block_rows.resize(static_cast<size_t>(n_threads));
  for (auto& b : block_rows) {
    if (static_cast<int64_t>(b.size()) < block_floats) b.resize(static_cast<size_t>(block_floats));
  }
  if (static_cast<int64_t>(single.size()) < n_head * max_keys)
    single.resize(static_cast<size_t>(n_head * max_keys));
}

void Attention(const KernelTable& k, ThreadPool* pool, const AttentionParams& p,
               const KvLayerView& kv, const float* q, int64_t n_tok, int64_t pos0, float* out,
               AttentionScratch* scratch) {
  const AttentionCall a(k, p, kv, q, pos0, out);
  const int n_threads = pool ? pool->size() : 1;
  int64_t max_keys = 0;  // the longest row of scores any query of the chunk needs
  for (int64_t i = 0; i < n_tok; ++i) {
    int64_t first, last;
    a.Visible(i, &first, &last);
    max_keys = std::max(max_keys, last - first + 1);
  }
  scratch->Reserve(n_threads, max_keys, p.n_head, a.group(), p.head_dim);
  if (n_tok == 1) {
    SingleQueryAttention(a, pool, p.n_head, p.n_kv_head, scratch->single.data(), max_keys);
    return;
  }
  // Blocks as large as the scratch allows, but enough tasks to keep every thread busy.
  const int64_t fill = std::max<int64_t>(1, n_tok * p.n_kv_head / (4 * n_threads));
  const int64_t row_len = BlockRowLength(max_keys, a.group());
  const int block = static_cast<int>(std::min<int64_t>(BlockCap(row_len, a.group()), fill));
  BlockedAttention(a, pool, n_tok, p.n_kv_head, block, row_len, scratch);
}

}  // namespace pocket::kernels
