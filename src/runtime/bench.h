// Measurements behind `pocket bench` (llama-bench style): prefill (ppN) and decode (tgN)
// throughput over repetitions, time to first token, the weight bytes one decoded token
// reads, and the machine's memory read bandwidth (for the roofline fraction).
//
// Each run uses a fresh Session on the shared Model; random token ids (fixed seed). With a
// depth D (llama-bench's -d), the session first holds D context tokens (computed once, not
// timed) and every repetition rewinds to them before the timed part, so "pp512 @ d4096"
// measures 512 prompt tokens attending to 4,096 earlier ones.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "base/status.h"
#include "base/thread_pool.h"
#include "kernels/kernels.h"
#include "runtime/model.h"

namespace pocket {

struct BenchRun {
  std::string test;             // "pp512", "tg128"
  int64_t depth = 0;            // context tokens before the timed ones
  int64_t n_tokens = 0;
  std::vector<double> seconds;  // one per repetition (after one warm-up)
  double mean_seconds = 0;
  double tokens_per_second = 0;  // mean over repetitions
  double stddev = 0;             // of tokens_per_second
  double ttft_ms = 0;            // pp: mean time to the first sampled token
};

// `kv_type`: the KV cache's element type (llama-bench's -ctk/-ctv; f32 by default, as in run,
// chat and serve).
Result<BenchRun> BenchPrefill(const Model& model, ThreadPool* pool, int64_t n_prompt, int reps,
                              int64_t depth = 0, kernels::KvType kv_type = kernels::KvType::kF32);
Result<BenchRun> BenchDecode(const Model& model, ThreadPool* pool, int64_t n_gen, int reps,
                             int64_t depth = 0, kernels::KvType kv_type = kernels::KvType::kF32);

// Times `once` (which returns the tokens it produced, e.g. soft tokens of one image) `reps`
// times after one warm-up: the "image" / "audio" encoder tests. If `start` is given, `once`
// may move the start of its timed part by setting *start (untimed set-up before it).
Result<BenchRun> BenchRepeated(const std::string& test, int reps,
                               const std::function<Result<int64_t>()>& once,
                               std::chrono::steady_clock::time_point* start = nullptr);

// Bytes of weights (plus a KV cache of `kv_type` at context `ctx`) read to decode one token:
// every matrix once, one row of each embedding table, the used share of the experts.
uint64_t DecodeBytesPerToken(const Model& model, int64_t ctx,
                             kernels::KvType kv_type = kernels::KvType::kF32);

// Sustained read bandwidth in GB/s over a buffer much larger than the caches, all threads,
// in huge pages where the system grants them (as the packed weights are); 0 if the buffer
// cannot be allocated.
double MeasureReadBandwidth(ThreadPool* pool, uint64_t bytes = 512ull << 20);

// Peak resident set size of this process so far.
uint64_t PeakRssBytes();

}  // namespace pocket
