// pocket bench -m MODEL [-p 512] [-n 128] [-t THREADS] [-r REPS] [-d DEPTH] [--kv-type T] [--json]
//              [--image F] [--audio F]
// llama-bench style throughput table (or JSON): prefill ppN, decode tgN, TTFT, peak RSS, and
// for decode the bytes read per token and the fraction of the measured memory bandwidth.
#include <cstdio>
#include <map>
#include <string>

#include "apps/cli/args.h"
#include "apps/cli/commands.h"
#include "apps/cli/progress.h"
#include "apps/hub/hub.h"
#include "base/json_writer.h"
#include "kernels/cpu_features.h"
#include "kernels/kernels.h"
#include "media/audio_decode.h"
#include "media/image_decode.h"
#include "media/image_preprocess.h"
#include "model/summary.h"
#include "runtime/bench.h"
#include "runtime/mmproj.h"

namespace pocket::cli {
namespace {

// "Q4_K_M" from general.file_type, else the type holding most of the bytes.
std::string FileTypeLabel(const WeightSource& ws) {
  static const char* kNames[] = {"F32", "F16", "Q4_0", "Q4_1", "?", "?", "?", "Q8_0", "Q5_0", "Q5_1", "Q2_K",
                                 "Q3_K_S", "Q3_K_M", "Q3_K_L", "Q4_K_S", "Q4_K_M", "Q5_K_S", "Q5_K_M", "Q6_K"};
  const int64_t ft = ws.metadata().GetIntOr("general.file_type", -1);
  if (ft >= 0 && ft < static_cast<int64_t>(sizeof(kNames) / sizeof(kNames[0])) && std::string(kNames[ft]) != "?") return kNames[ft];
  if (ft == 32) return "BF16";
  std::map<DType, uint64_t> bytes;
  for (const TensorInfo& t : ws.tensors()) bytes[t.type] += t.nbytes;
  DType best = DType::kF32;
  uint64_t most = 0;
  for (const auto& [type, n] : bytes) {
    if (n > most) most = n, best = type;
  }
  return DTypeName(best);
}

}  // namespace

int RunBench(int argc, char** argv) {
  Args args("bench", "-m MODEL [options]",
            {{"-m,--model", "MODEL", ".gguf file or Hugging Face folder"},
             {"-p,--n-prompt", "N", "prefill test length (default 512; 0 = skip)"},
             {"-n,--n-gen", "N", "decode test length (default 128; 0 = skip)"},
             {"-t,--threads", "N", "threads (default: all cores)"},
             {"-r,--repetitions", "N", "repetitions per test, after one warm-up (default 5)"},
             {"-d,--depth", "N", "context tokens before each test (default 0), like llama-bench -d"},
             {"--kv-type", "TYPE", "KV cache type: f32 (default), f16, bf16 (llama-bench -ctk/-ctv)"},
             {"--json", "", "print a JSON array, one object per test"},
             {"--mmproj", "FILE", "vision/audio projector for --image / --audio"},
             {"--image", "FILE", "also time encoding this image (default budget 280)"},
             {"--image-tokens", "N", "image token budget for --image (default 280)"},
             {"--audio", "FILE", "also time encoding this audio clip"}});
  if (!args.Parse(argc, argv)) return ReportUsage("bench", args.error());
  if (args.help_requested()) {
    std::printf("%s", args.HelpText().c_str());
    return kExitOk;
  }
  if (!args.Has("--model")) return ReportUsage("bench", "missing required option --model");
  long long n_prompt, n_gen, threads, reps, depth;
  if (!args.GetInt("--n-prompt", 512, 0, 1 << 20, &n_prompt) || !args.GetInt("--n-gen", 128, 0, 1 << 20, &n_gen) ||
      !args.GetInt("--depth", 0, 0, 1 << 24, &depth) ||
      !args.GetInt("--threads", 0, 0, 1024, &threads) || !args.GetInt("--repetitions", 5, 1, 1000, &reps)) {
    return ReportUsage("bench", args.error());
  }
  kernels::KvType kv_type;
  if (!kernels::ParseKvType(args.Get("--kv-type", "f32"), &kv_type))
    return ReportUsage("bench", "--kv-type must be f32, f16 or bf16");
  long long budget = kDefaultImageBudget;
  if (!args.GetInt("--image-tokens", kDefaultImageBudget, 1, 100000, &budget)) return ReportUsage("bench", args.error());
  if (Status st = CheckImageBudget(static_cast<int>(budget)); !st.ok()) return ReportUsage("bench", st.message());
  auto path = hub::ResolveModel(args.Get("--model"));
  if (!path.ok()) return ReportError(path.status());
  auto model = Model::Load(*path);
  if (!model.ok()) return ReportError(model.status());
  ThreadPool pool(threads > 0 ? static_cast<int>(threads) : ThreadPool::HardwareThreads());
  const ModelSummary summary = Summarize((*model)->source());
  const std::string model_type = summary.variant + " " + FileTypeLabel((*model)->source());
  uint64_t model_bytes = 0;
  for (const TensorInfo& t : (*model)->source().tensors()) model_bytes += t.nbytes;
  std::vector<BenchRun> runs;
  if (n_prompt > 0) {
    if (depth > 0) std::fprintf(stderr, "bench: computing %lld context tokens for pp%lld...\n", depth, n_prompt);
    auto r = BenchPrefill(**model, &pool, n_prompt, static_cast<int>(reps), depth, kv_type);
    if (!r.ok()) return ReportError(r.status());
    runs.push_back(*r);
  }
  if (n_gen > 0) {
    if (depth > 0) std::fprintf(stderr, "bench: computing %lld context tokens for tg%lld...\n", depth, n_gen);
    auto r = BenchDecode(**model, &pool, n_gen, static_cast<int>(reps), depth, kv_type);
    if (!r.ok()) return ReportError(r.status());
    runs.push_back(*r);
  }
  if (args.Has("--image") || args.Has("--audio")) {
    std::string mm_path = args.Has("--mmproj") ? args.Get("--mmproj") : hub::CachedMmprojFor(args.Get("--model"));
    if (!mm_path.empty()) {
      auto resolved = hub::ResolveModel(mm_path);
      if (!resolved.ok()) return ReportError(resolved.status());
      mm_path = *resolved;
    }
    auto mm = Mmproj::OpenForModel(*path, mm_path);
    if (!mm.ok()) return ReportError(mm.status());
    if (args.Has("--image")) {  // decode and resize once; time the encoder
      auto img = LoadImageFile(args.Get("--image"));
      if (!img.ok()) return ReportError(img.status());
      ImagePreprocessOptions po;
      po.budget = static_cast<int>(budget);
      po.side_multiple = (*mm)->image_side_multiple();
      auto px = PreprocessImage(*img, po);
      if (!px.ok()) return ReportError(px.status());
      auto r = BenchRepeated("image", static_cast<int>(reps), [&]() -> Result<int64_t> {
        ASSIGN_OR_RETURN(MediaEmbedding e, (*mm)->EncodeImage(*px, &pool));
        return e.n_tokens;
      });
      if (!r.ok()) return ReportError(r.status());
      runs.push_back(*r);
    }
    if (args.Has("--audio")) {  // decode and resample once; time features + encoder
      auto clip = LoadAudioFile(args.Get("--audio"));
      if (!clip.ok()) return ReportError(clip.status());
      auto r = BenchRepeated("audio", static_cast<int>(reps), [&]() -> Result<int64_t> {
        ASSIGN_OR_RETURN(MediaEmbedding e, (*mm)->EncodeAudio(*clip, &pool));
        return e.n_tokens;
      });
      if (!r.ok()) return ReportError(r.status());
      runs.push_back(*r);
    }
  }
  const uint64_t peak_rss = PeakRssBytes();  // before the bandwidth probe's own buffer
  const double bandwidth = n_gen > 0 ? MeasureReadBandwidth(&pool) : 0;
  const uint64_t bytes_per_token = DecodeBytesPerToken(**model, depth + n_gen / 2, kv_type);

  if (args.Has("--json")) {
    JsonWriter w(true);
    w.BeginArray();
    for (const BenchRun& r : runs) {
      const bool tg = r.test[0] == 't';
      const bool media = r.test == "image" || r.test == "audio";
      w.BeginObject();
      w.Key("test").String(r.test);
      if (!media) w.Key("depth").Int(r.depth);
      w.Key("tokens_per_second").Double(r.tokens_per_second);
      w.Key("stddev").Double(r.stddev);
      w.Key("threads").Int(pool.size());
      w.Key("isa").String(kernels::IsaName(kernels::Kernels().isa));
      if (!media) w.Key("kv_type").String(kernels::KvTypeName(kv_type));
      w.Key("model_type").String(model_type);
      w.Key("model_bytes").Uint(model_bytes);
      w.Key("peak_rss_bytes").Uint(peak_rss);
      if (!tg && !media) w.Key("ttft_ms").Double(r.ttft_ms);
      if (media) {
        w.Key("tokens").Int(r.n_tokens);
        w.Key("seconds").Double(r.mean_seconds);
      }
      if (tg) {
        w.Key("bytes_per_token").Uint(bytes_per_token);
        w.Key("roofline_fraction").Double(bandwidth > 0 ? r.tokens_per_second * static_cast<double>(bytes_per_token) / (bandwidth * 1e9) : 0);
      }
      w.Key("bandwidth_gbps").Double(bandwidth);
      w.Key("repetitions").Int(static_cast<int64_t>(r.seconds.size()));
      w.EndObject();
    }
    w.EndArray();
    std::printf("%s\n", w.str().c_str());
    return kExitOk;
  }
  // llama-bench's label for a test at depth: "pp512 @ d4096".
  auto label = [](const BenchRun& r) {
    return r.depth > 0 ? r.test + " @ d" + std::to_string(r.depth) : r.test;
  };
  std::printf("| %-24s | %10s | %7s | %14s | %20s |\n", "model", "size", "threads", "test", "t/s");
  std::printf("| %-24s | %10s | %7s | %14s | %20s |\n", "------------------------", "----------", "-------",
              "--------------", "--------------------");
  for (const BenchRun& r : runs) {
    char tps[64];
    std::snprintf(tps, sizeof tps, "%.2f ± %.2f", r.tokens_per_second, r.stddev);
    std::printf("| %-24s | %10s | %7d | %14s | %20s |\n", model_type.c_str(), FormatBytes(model_bytes).c_str(),
                pool.size(), label(r).c_str(), tps);
  }
  for (const BenchRun& r : runs) {
    if (r.test == "image" || r.test == "audio") {
      std::printf("\n%s: %lld soft tokens encoded in %.3f s", r.test.c_str(), (long long)r.n_tokens, r.mean_seconds);
      continue;
    }
    if (r.test[0] == 'p') std::printf("\n%s: time to first token %.1f ms", label(r).c_str(), r.ttft_ms);
    if (r.test[0] == 't') {
      std::printf("\n%s: %s read per token, memory bandwidth %.1f GB/s, roofline %.0f%%", label(r).c_str(),
                  FormatBytes(bytes_per_token).c_str(), bandwidth,
                  bandwidth > 0 ? 100 * r.tokens_per_second * static_cast<double>(bytes_per_token) / (bandwidth * 1e9) : 0);
    }
  }
  std::printf("\npeak RSS %s\nkernels %s (CPU: %s), KV cache %s\n", FormatBytes(peak_rss).c_str(),
              kernels::IsaName(kernels::Kernels().isa), GetCpuFeatures().ToString().c_str(),
              kernels::KvTypeName(kv_type));
  return kExitOk;
}

}  // namespace pocket::cli
