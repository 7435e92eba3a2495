// Tokenizer throughput (Google Benchmark): encode ../shared/golden/tokenizer/long_20kb.txt
// with its vocabulary on one core. Run: build/bin/tokenizer_bench [--benchmark_repetitions=5]
// Issue #4 goal: >= 20 MB/s (4x llama.cpp's ~4.9 MB/s on this text and machine).
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>

#include "base/mapped_file.h"
#include "tokenizer/tokenizer.h"

namespace {

std::string GoldenDir() {
  if (const char* d = std::getenv("POCKET_GOLDEN_DIR")) return d;
  return std::string(POCKET_SOURCE_DIR) + "/../shared/golden";
}

void BM_EncodeLong20kb(benchmark::State& state, const char* source) {
  auto tok = pocket::Tokenizer::Load(GoldenDir() + "/tokenizer/" + source);
  auto text = pocket::ReadFileToString(GoldenDir() + "/tokenizer/long_20kb.txt", 1 << 20);
  if (!tok.ok() || !text.ok()) {
    state.SkipWithError("golden tokenizer data not found (set POCKET_GOLDEN_DIR)");
    return;
  }
  size_t n_tokens = 0;
  for (auto _ : state) {
    std::vector<int32_t> ids = (*tok)->Encode(*text, {false, false});
    n_tokens = ids.size();
    benchmark::DoNotOptimize(ids.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * text->size()));
  state.counters["tokens"] = static_cast<double>(n_tokens);
  state.counters["tokens/s"] = benchmark::Counter(static_cast<double>(n_tokens),
                                                  benchmark::Counter::kIsIterationInvariantRate);
}

void BM_DecodeLong20kb(benchmark::State& state) {
  auto tok = pocket::Tokenizer::Load(GoldenDir() + "/tokenizer/vocab.gguf");
  auto text = pocket::ReadFileToString(GoldenDir() + "/tokenizer/long_20kb.txt", 1 << 20);
  if (!tok.ok() || !text.ok()) {
    state.SkipWithError("golden tokenizer data not found (set POCKET_GOLDEN_DIR)");
    return;
  }
  const std::vector<int32_t> ids = (*tok)->Encode(*text, {false, false});
  for (auto _ : state) benchmark::DoNotOptimize((*tok)->Decode(ids));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * text->size()));
}

BENCHMARK_CAPTURE(BM_EncodeLong20kb, gguf, "vocab.gguf")->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_EncodeLong20kb, tokenizer_json, "tokenizer.json")
    ->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_DecodeLong20kb)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
