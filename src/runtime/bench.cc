#include "runtime/bench.h"

#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cmath>

#include "base/large_buffer.h"
#include "kernels/kernels.h"
#include "quant/quant.h"
#include "runtime/session.h"

namespace pocket {
namespace {

using Clock = std::chrono::steady_clock;

std::vector<int32_t> RandomTokens(int64_t n, int64_t n_vocab) {
  std::vector<int32_t> t(static_cast<size_t>(n));
  uint64_t s = 12345;
  for (int32_t& id : t) {
    s = s * 6364136223846793005ull + 1442695040888963407ull;
    id = static_cast<int32_t>((s >> 33) % static_cast<uint64_t>(n_vocab));
  }
  return t;
}

void Finish(BenchRun* r) {
  std::vector<double> tps;
  for (double s : r->seconds) tps.push_back(static_cast<double>(r->n_tokens) / std::max(s, 1e-9));
  double mean = 0;
  for (double x : tps) mean += x / static_cast<double>(tps.size());
  double var = 0;
  for (double x : tps) var += (x - mean) * (x - mean);
  r->tokens_per_second = mean;
  r->mean_seconds = 0;
  for (double x : r->seconds) r->mean_seconds += x / static_cast<double>(r->seconds.size());
  r->stddev = tps.size() > 1 ? std::sqrt(var / static_cast<double>(tps.size() - 1)) : 0;
}

}  // namespace

Result<BenchRun> BenchRepeated(const std::string& test, int reps,
                               const std::function<Result<int64_t>()>& once,
                               std::chrono::steady_clock::time_point* start) {
  if (reps <= 0) return InvalidArgument("repetitions must be positive");
  BenchRun r;
  r.test = test;
  for (int rep = -1; rep < reps; ++rep) {  // rep -1: warm-up
    Clock::time_point t0 = Clock::now();
    if (start != nullptr) *start = t0;
    ASSIGN_OR_RETURN(r.n_tokens, once());
    if (start != nullptr) t0 = *start;
    if (rep >= 0) r.seconds.push_back(std::chrono::duration<double>(Clock::now() - t0).count());
  }
  Finish(&r);
  return r;
}

namespace {

// A session holding `depth` random context tokens, followed by the test's `n_test` tokens
// (all of them in *tokens). With a depth the batch (and with it the sliding rings) covers
// the depth's chunks and the test, up to 512 tokens, so that a repetition rewinds instead
// of recomputing the context (Decoder::CanRewindTo).
Result<std::unique_ptr<Session>> SessionAtDepth(const Model& model, ThreadPool* pool, int64_t depth,
                                                int64_t n_test, int64_t batch,
                                                kernels::KvType kv_type,
                                                std::vector<int32_t>* tokens) {
  SessionOptions so;
  so.kv_type = kv_type;
  so.n_ctx = depth + n_test + 1;
  so.batch = batch;
  if (depth > 0) so.batch = std::max(so.batch, std::min<int64_t>(std::max(depth, n_test), 512));
  if (model.config().context_length > 0 && so.n_ctx > model.config().context_length) {
    return InvalidArgument(
        StrFormat("depth %lld + %lld test tokens exceed the model's context of %lld",
                  (long long)depth, (long long)n_test, (long long)model.config().context_length));
  }
  ASSIGN_OR_RETURN(std::unique_ptr<Session> s, Session::Create(model, pool, so));
  *tokens = RandomTokens(depth + n_test, model.config().n_vocab);
  if (depth > 0) {
    RETURN_IF_ERROR(s->Prefill(std::vector<int32_t>(tokens->begin(), tokens->begin() + depth)));
  }
  return s;
}

// Back to the depth tokens alone: a rewind, or (where the rings no longer hold them, e.g. a
// test longer than the batch) computing them again; an empty session for depth 0.
Status RewindToDepth(Session* s, const std::vector<int32_t>& tokens, int64_t depth) {
  if (depth == 0) {
    s->Reset();
    return Status::Ok();
  }
  if (s->Rewind(depth).ok()) return Status::Ok();
  s->Reset();
  return s->Prefill(std::vector<int32_t>(tokens.begin(), tokens.begin() + depth));
}

std::string TestName(const char* kind, int64_t n) { return kind + std::to_string(n); }

}  // namespace

Result<BenchRun> BenchPrefill(const Model& model, ThreadPool* pool, int64_t n_prompt, int reps,
                              int64_t depth, kernels::KvType kv_type) {
  if (n_prompt <= 0) return InvalidArgument("prompt length must be positive");
  if (depth < 0) return InvalidArgument("depth must not be negative");
  std::vector<int32_t> tokens;
  ASSIGN_OR_RETURN(
      std::unique_ptr<Session> s,
      SessionAtDepth(model, pool, depth, n_prompt, std::min<int64_t>(n_prompt, 512), kv_type,
                     &tokens));
  // One repetition = prefill + picking the first token: its time is the time to first token.
  Clock::time_point t0;
  auto once = [&]() -> Result<int64_t> {
    RETURN_IF_ERROR(RewindToDepth(s.get(), tokens, depth));
    t0 = Clock::now();
    RETURN_IF_ERROR(s->Prefill(tokens));
    const float* l = s->logits();
    volatile int32_t first =
        static_cast<int32_t>(std::max_element(l, l + model.config().n_vocab) - l);
    (void)first;
    return n_prompt;
  };
  ASSIGN_OR_RETURN(BenchRun r, BenchRepeated(TestName("pp", n_prompt), reps, once, &t0));
  r.depth = depth;
  r.ttft_ms = r.mean_seconds * 1000;
  return r;
}

Result<BenchRun> BenchDecode(const Model& model, ThreadPool* pool, int64_t n_gen, int reps,
                             int64_t depth, kernels::KvType kv_type) {
  if (n_gen <= 0) return InvalidArgument("generation length must be positive");
  if (depth < 0) return InvalidArgument("depth must not be negative");
  std::vector<int32_t> tokens;
  ASSIGN_OR_RETURN(std::unique_ptr<Session> s,
                   SessionAtDepth(model, pool, depth, n_gen, 1, kv_type, &tokens));
  Clock::time_point t0;
  ASSIGN_OR_RETURN(BenchRun r, BenchRepeated(
                                   TestName("tg", n_gen), reps,
                                   [&]() -> Result<int64_t> {
                                     RETURN_IF_ERROR(RewindToDepth(s.get(), tokens, depth));
                                     t0 = Clock::now();
                                     for (int64_t i = depth; i < depth + n_gen; ++i)
                                       RETURN_IF_ERROR(s->Append(tokens[static_cast<size_t>(i)]));
                                     return n_gen;
                                   },
                                   &t0));
  r.depth = depth;
  return r;
}

uint64_t DecodeBytesPerToken(const Model& model, int64_t ctx, kernels::KvType kv_type) {
  const Gemma4TextConfig& c = model.config();
  uint64_t total = 0;
  for (const TensorInfo& t : model.source().tensors()) {
    const std::string& n = t.name;
    if (n.rfind("v.", 0) == 0 || n.rfind("a.", 0) == 0 || n.rfind("mm.", 0) == 0)
      continue;  // encoders
    const uint64_t rows = t.ne[0] > 0 ? static_cast<uint64_t>(t.n_elements() / t.ne[0]) : 1;
    const uint64_t row_bytes = rows > 0 ? t.nbytes / rows : t.nbytes;
    if (n == "token_embd.weight") {
      // One row looked up; the tied LM head reads the whole table (unless output.weight exists).
      total += row_bytes + (model.source().Find("output.weight") == nullptr ? t.nbytes : 0);
    } else if (n == "per_layer_token_embd.weight") {
      total += row_bytes;
    } else if (n.find("_exps.") != std::string::npos && c.n_expert > 0) {
      total +=
          t.nbytes / static_cast<uint64_t>(c.n_expert) * static_cast<uint64_t>(c.n_expert_used);
    } else {
      total += t.nbytes;
    }
  }
  // KV cache: each layer that owns KV reads min(ctx, window) or ctx positions of K and V.
  for (int il = 0; il < c.first_kv_shared_layer(); ++il) {
    const int64_t span = c.is_sliding(il) ? std::min(ctx, c.sliding_window) : ctx;
    total += static_cast<uint64_t>(span) * 2 *
             static_cast<uint64_t>(c.n_head_kv[static_cast<size_t>(il)]) *
             static_cast<uint64_t>(c.head_dim(il)) *
             static_cast<uint64_t>(kernels::KvTypeBytes(kv_type));
  }
  return total;
}

double MeasureReadBandwidth(ThreadPool* pool, uint64_t bytes) {
  const int64_t n = static_cast<int64_t>(bytes / sizeof(float));
  // In the memory the packed weights live in (huge pages where the system grants them), so
  // the ceiling is measured under the same address translation costs as the decode.
  LargeBuffer mem = LargeBuffer::Allocate(static_cast<size_t>(n) * sizeof(float));
  if (mem.data() == nullptr) return 0;
  float* buf = reinterpret_cast<float*>(mem.data());
  std::fill(buf, buf + n, 1.0f);
  const kernels::KernelTable& k = kernels::Kernels();
  constexpr int64_t kChunk = 1 << 18;  // 1 MiB of floats per task
  const int64_t n_tasks = (n + kChunk - 1) / kChunk;
  std::vector<float> sink(static_cast<size_t>(pool->size()), 0.0f);
  double best = 0;
  for (int rep = 0; rep < 4; ++rep) {  // best of 4: bandwidth is a ceiling
    const auto t0 = Clock::now();
    pool->ParallelFor(n_tasks, [&](int64_t task, int thread) {
      const int64_t begin = task * kChunk, len = std::min(kChunk, n - begin);
      const float* p = buf + begin;
      sink[static_cast<size_t>(thread)] += k.dot_f32(len, p, p);
    });
    const double sec = std::chrono::duration<double>(Clock::now() - t0).count();
    best = std::max(best, static_cast<double>(bytes) / sec / 1e9);
  }
  volatile float keep = sink[0];
  (void)keep;
  return best;
}

uint64_t PeakRssBytes() {
  struct rusage ru;
  if (getrusage(RUSAGE_SELF, &ru) != 0) return 0;
  return static_cast<uint64_t>(ru.ru_maxrss) * 1024;
}

}  // namespace pocket
