// Micro-benchmarks of the matrix kernels through MatMul, packed and row-major, single-threaded:
// one decode row and a 64-token prefill tile of a 1536 x 1536 matrix, and for Q8_0 the audio
// conformer's 30-second shapes (750 tokens through its 1024 -> 4096 and 4096 -> 1024 FFN
// matrices). Reports MAC/s.
#include <benchmark/benchmark.h>

#include <memory>
#include <random>
#include <vector>

#include "base/thread_pool.h"
#include "kernels/attention.h"
#include "kernels/matmul.h"
#include "kernels/packed.h"
#include "quant/quant.h"
#include "runtime/sampler.h"
#include "tensor/fp16.h"

namespace pocket::kernels {
namespace {

void BM_MatMul(benchmark::State& state, DType type, bool packed) {
  const int64_t n_tok = state.range(0), kRows = state.range(1), kCols = state.range(2);
  std::mt19937 rng(1);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  const uint64_t row_bytes = *RowBytes(type, kCols);
  std::vector<uint8_t> w(row_bytes * kRows);
  std::vector<float> row(kCols);
  for (int64_t r = 0; r < kRows; ++r) {
    for (float& v : row) v = dist(rng);
    (void)QuantizeRow(type, row.data(), w.data() + r * row_bytes, kCols);
  }
  std::vector<float> x(static_cast<size_t>(n_tok * kCols)), y(static_cast<size_t>(n_tok * kRows));
  for (float& v : x) v = dist(rng);
  const KernelTable& k = Kernels();
  std::unique_ptr<PackedWeights> store;
  if (packed) store = PackedWeights::Build(k, {{type, w.data(), kRows, kCols}}, nullptr);
  const WeightMatrix m = PackedWeights::View(store.get(), k, type, w.data(), 0, kRows, kCols);
  if (m.packed != packed) {
    state.SkipWithError("no packed kernel for this type");
    return;
  }
  MatMulScratch scratch;
  std::unique_ptr<ThreadPool> pool;
  if (state.range(3) > 1) pool = std::make_unique<ThreadPool>(static_cast<int>(state.range(3)));
  for (auto _ : state) {
    MatMul(k, pool.get(), m, x.data(), kCols, n_tok, y.data(), kRows, &scratch);
    benchmark::DoNotOptimize(y.data());
  }
  state.counters["MAC/s"] = benchmark::Counter(static_cast<double>(kRows * kCols * n_tok),
                                               benchmark::Counter::kIsIterationInvariantRate);
}

BENCHMARK_CAPTURE(BM_MatMul, Q4_0_rows, DType::kQ4_0, false)
    ->Args({1, 1536, 1536, 1})
    ->Args({64, 1536, 1536, 1});
BENCHMARK_CAPTURE(BM_MatMul, Q4_0_packed, DType::kQ4_0, true)
    ->Args({1, 1536, 1536, 1})
    ->Args({64, 1536, 1536, 1});
BENCHMARK_CAPTURE(BM_MatMul, Q5_0_packed, DType::kQ5_0, true)
    ->Args({1, 1536, 1536, 1})
    ->Args({64, 1536, 1536, 1});
BENCHMARK_CAPTURE(BM_MatMul, Q4_1_packed, DType::kQ4_1, true)
    ->Args({1, 1536, 1536, 1})
    ->Args({64, 1536, 1536, 1});
BENCHMARK_CAPTURE(BM_MatMul, Q5_1_packed, DType::kQ5_1, true)
    ->Args({1, 1536, 1536, 1})
    ->Args({64, 1536, 1536, 1});
BENCHMARK_CAPTURE(BM_MatMul, Q8_0_rows, DType::kQ8_0, false)
    ->Args({1, 1536, 1536, 1})
    ->Args({64, 1536, 1536, 1});
BENCHMARK_CAPTURE(BM_MatMul, Q8_0_packed, DType::kQ8_0, true)
    ->Args({1, 1536, 1536, 1})
    ->Args({64, 1536, 1536, 1})
    ->Args({750, 4096, 1024, 1})
    ->Args({750, 1024, 4096, 1})
    ->Args({750, 4096, 1024, 2})
    ->Args({750, 1024, 4096, 2})
    ->UseRealTime();
BENCHMARK_CAPTURE(BM_MatMul, Q4_K_rows, DType::kQ4_K, false)
    ->Args({1, 1536, 1536, 1})
    ->Args({64, 1536, 1536, 1});
BENCHMARK_CAPTURE(BM_MatMul, Q4_K_packed, DType::kQ4_K, true)
    ->Args({1, 1536, 1536, 1})
    ->Args({64, 1536, 1536, 1});
BENCHMARK_CAPTURE(BM_MatMul, Q5_K_packed, DType::kQ5_K, true)
    ->Args({1, 1536, 1536, 1})
    ->Args({64, 1536, 1536, 1});
BENCHMARK_CAPTURE(BM_MatMul, IQ4_NL_packed, DType::kIQ4_NL, true)
    ->Args({1, 1536, 1536, 1})
    ->Args({64, 1536, 1536, 1});
BENCHMARK_CAPTURE(BM_MatMul, MXFP4_packed, DType::kMXFP4, true)
    ->Args({1, 1536, 1536, 1})
    ->Args({64, 1536, 1536, 1});
BENCHMARK_CAPTURE(BM_MatMul, IQ4_XS_packed, DType::kIQ4_XS, true)
    ->Args({1, 1536, 1536, 1})
    ->Args({64, 1536, 1536, 1});
BENCHMARK_CAPTURE(BM_MatMul, Q2_K_packed, DType::kQ2_K, true)
    ->Args({1, 1536, 1536, 1})
    ->Args({64, 1536, 1536, 1});
BENCHMARK_CAPTURE(BM_MatMul, Q3_K_packed, DType::kQ3_K, true)
    ->Args({1, 1536, 1536, 1})
    ->Args({64, 1536, 1536, 1});
BENCHMARK_CAPTURE(BM_MatMul, Q6_K_rows, DType::kQ6_K, false)
    ->Args({1, 1536, 1536, 1})
    ->Args({64, 1536, 1536, 1});
BENCHMARK_CAPTURE(BM_MatMul, Q6_K_packed, DType::kQ6_K, true)
    ->Args({1, 1536, 1536, 1})
    ->Args({64, 1536, 1536, 1});

// E2B's feed-forward shapes in a 512-token prefill on two threads: gate / up (6,144 x 1,536)
// and the wide layers' down projection (1,536 x 12,288), whose activation rows no longer fit
// in L2 beside the weights.
#define POCKET_FFN_BENCH(T)                                \
  BENCHMARK_CAPTURE(BM_MatMul, T##_ffn, DType::k##T, true) \
      ->Args({512, 6144, 1536, 2})                         \
      ->Args({512, 1536, 12288, 2})                        \
      ->UseRealTime()
POCKET_FFN_BENCH(Q4_0);
POCKET_FFN_BENCH(Q8_0);
POCKET_FFN_BENCH(Q4_K);
POCKET_FFN_BENCH(Q6_K);
#undef POCKET_FFN_BENCH

// Types without a packed layout (row-major kernels only).
#define POCKET_ROWS_BENCH(T)                                 \
  BENCHMARK_CAPTURE(BM_MatMul, T##_rows, DType::k##T, false) \
      ->Args({1, 1536, 1536, 1})                             \
      ->Args({64, 1536, 1536, 1})
POCKET_ROWS_BENCH(Q5_0);
POCKET_ROWS_BENCH(Q5_K);
POCKET_ROWS_BENCH(F32);
POCKET_ROWS_BENCH(F16);
POCKET_ROWS_BENCH(BF16);
#undef POCKET_ROWS_BENCH

// The encoders' attention: scores of `rows` queries over 2394 keys (head size 64), then the
// weighted sum of values.
void BM_SgemmAttention(benchmark::State& state) {
  const int64_t rows = state.range(0), n = 2394, d = 64;
  std::mt19937 rng(2);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  std::vector<float> q(rows * d), kt(d * n), s(rows * n), v(n * d), o(rows * d);
  for (std::vector<float>* x : {&q, &kt, &s, &v})
    for (float& e : *x) e = dist(rng);
  const KernelTable& k = Kernels();
  for (auto _ : state) {
    k.sgemm_nn(rows, n, d, q.data(), d, kt.data(), n, s.data(), n);
    k.sgemm_nn(rows, d, n, s.data(), n, v.data(), d, o.data(), d);
    benchmark::DoNotOptimize(o.data());
  }
  state.counters["MAC/s"] = benchmark::Counter(static_cast<double>(2 * rows * n * d),
                                               benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_SgemmAttention)->Arg(12)->Arg(64);

// Attention scores alone (kv_scores): 8 query heads x n_keys cached f32 keys of 512, the keys
// resident in L1/L2 (12 keys: 24 KB) or L2 (64 keys: a prefill block's chunk).
void BM_KvScores(benchmark::State& state) {
  const int64_t n_keys = state.range(0);
  const int nh = 8, d = 512;
  std::mt19937 rng(4);
  std::normal_distribution<float> dist(0.0f, 0.3f);
  std::vector<float> k(n_keys * d), q(nh * d), s(nh * n_keys);
  for (std::vector<float>* x : {&k, &q})
    for (float& e : *x) e = dist(rng);
  const KernelTable& kt = Kernels();
  for (auto _ : state) {
    kt.kv_scores[0](n_keys, d, nh, q.data(), d, k.data(), d * 4, s.data(), n_keys);
    benchmark::DoNotOptimize(s.data());
  }
  state.counters["MAC/s"] = benchmark::Counter(static_cast<double>(nh * d * n_keys),
                                               benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_KvScores)->Arg(12)->Arg(64);

// The decoder's attention on one thread, E2B's full-attention shape (8 query heads sharing
// one KV head of 512, f32 cache): `n_tok` queries after `pos0` cached positions (512 after
// 4096: a prefill chunk at depth; 1: a decoded token, its K/V in L3 at 4096 and in memory at
// 16384). MAC/s counts the Q·Kᵀ and P·V products.
// One layer's attention (8 query heads of 512 over range 5 KV heads: 1 as E2B's global
// layers, 4 for the two-heads-per-KV-head layers of 26B-A4B and 31B) over an f32 (range 4: 0)
// or f16 (1) KV cache: range 0 queries after range 1 cached keys, on range 2 threads; range
// 3 = 1 evicts the caches before every iteration (untimed), as in decoding, where each
// layer's K and V come from memory.
void BM_DecoderAttention(benchmark::State& state) {
  const int64_t n_tok = state.range(0), pos0 = state.range(1), cap = pos0 + n_tok;
  const int threads = static_cast<int>(state.range(2));
  const bool cold = state.range(3) != 0;
  const KvType type = state.range(4) != 0 ? KvType::kF16 : KvType::kF32;
  const int nh = 8, nkv = static_cast<int>(state.range(5)), d = 512;
  std::mt19937 rng(3);
  std::normal_distribution<float> dist(0.0f, 0.3f);
  std::vector<float> kc(cap * nkv * d), vc(kc.size()), q(n_tok * nh * d), out(q.size());
  for (std::vector<float>* x : {&kc, &vc, &q})
    for (float& e : *x) e = dist(rng);
  std::vector<uint16_t> k16(kc.size()), v16(vc.size());
  for (size_t i = 0; i < kc.size(); ++i) {
    k16[i] = F32ToF16(kc[i]);
    v16[i] = F32ToF16(vc[i]);
  }
  const bool f16 = type == KvType::kF16;
  AttentionParams p{nh, nkv, d, 0};
  KvLayerView view{f16 ? reinterpret_cast<const uint8_t*>(k16.data())
                       : reinterpret_cast<const uint8_t*>(kc.data()),
                   f16 ? reinterpret_cast<const uint8_t*>(v16.data())
                       : reinterpret_cast<const uint8_t*>(vc.data()),
                   cap, type};
  AttentionScratch scratch;
  std::unique_ptr<ThreadPool> pool = threads > 1 ? std::make_unique<ThreadPool>(threads) : nullptr;
  std::vector<uint8_t> evict(cold ? size_t{96} << 20 : 0, 1);
  for (auto _ : state) {
    if (cold) {
      state.PauseTiming();
      unsigned sum = 0;  // reads only, as decoding's weights do (no dirty lines to write back)
      for (size_t i = 0; i < evict.size(); i += 64) sum += evict[i];
      benchmark::DoNotOptimize(sum);
      state.ResumeTiming();
    }
    Attention(Kernels(), pool.get(), p, view, q.data(), n_tok, pos0, out.data(), &scratch);
    benchmark::DoNotOptimize(out.data());
  }
  const double keys = static_cast<double>(n_tok) * static_cast<double>(pos0) +
                      static_cast<double>(n_tok * (n_tok + 1) / 2);
  state.counters["MAC/s"] =
      benchmark::Counter(2.0 * nh * d * keys, benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_DecoderAttention)
    ->ArgNames({"q", "keys", "t", "cold", "f16", "kv"})
    ->Args({1, 4096, 1, 0, 0, 1})
    ->Args({1, 16384, 1, 0, 0, 1})
    ->Args({512, 4096, 1, 0, 0, 1})
    ->Args({512, 4096, 1, 0, 0, 4})
    ->Args({512, 4096, 1, 0, 0, 2})
    ->Args({1, 4096, 2, 1, 0, 1})
    ->Args({1, 4096, 2, 1, 1, 1})
    ->Args({1, 4096, 1, 1, 0, 1})
    ->Args({1, 4096, 1, 1, 0, 4})
    ->Args({1, 4096, 2, 0, 0, 1})
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

// One ThreadPool loop of `threads` trivial tasks: the fixed cost of each parallel step (a
// decoded token runs ~10 per layer).
void BM_ParallelForStep(benchmark::State& state) {
  const int threads = static_cast<int>(state.range(0));
  ThreadPool pool(threads);
  std::vector<int64_t> sink(static_cast<size_t>(threads) * 16, 0);  // a cache line each
  for (auto _ : state) {
    pool.ParallelFor(
        threads, [&](int64_t task, int thread) { sink[static_cast<size_t>(thread) * 16] += task; });
  }
  benchmark::DoNotOptimize(sink.data());
}
BENCHMARK(BM_ParallelForStep)->Arg(2)->Arg(4)->Arg(8)->Arg(16)->UseRealTime();

// Choosing one token from Gemma's 262,144 logits with the default sampling (temperature 1,
// top-k 64, top-p 0.95): serial work on every decoded token.
void BM_SampleDefault(benchmark::State& state) {
  const int64_t n_vocab = 262144;
  std::mt19937 rng(5);
  std::normal_distribution<float> dist(0.0f, 3.0f);
  std::vector<float> logits(static_cast<size_t>(n_vocab)), work(logits.size());
  for (float& v : logits) v = dist(rng);
  Sampler sampler(SamplingParams{}, n_vocab);
  for (auto _ : state) {
    work = logits;
    benchmark::DoNotOptimize(sampler.Sample(work.data()));
  }
}
BENCHMARK(BM_SampleDefault)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace pocket::kernels

BENCHMARK_MAIN();
