// pocket logits -m MODEL --tokens TOKENS.json --out LOGITS.f32 [--batch N] [--incremental]
//               [--greedy N --greedy-out IDS.json] [-t THREADS] [--kv-type f32|f16|bf16]
// Runs token ids through the decoder and writes the soft-capped logits of every prompt
// position as raw little-endian float32 [n_tokens, n_vocab].
#include <algorithm>
#include <cctype>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstring>
#include <functional>
#include <memory>

#include "apps/cli/args.h"
#include "apps/cli/commands.h"
#include "base/mapped_file.h"
#include "base/thread_pool.h"
#include "model/reference_decoder.h"
#include "runtime/decoder.h"

namespace pocket::cli {
namespace {

// Parses a JSON array of integers ("[2, 17, 3]").
Result<std::vector<int32_t>> ParseIdArray(const std::string& text, const std::string& name) {
  std::vector<int32_t> ids;
  size_t i = 0;
  auto skip = [&] {
    while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) ++i;
  };
  skip();
  if (i >= text.size() || text[i] != '[')
    return InvalidArgument(name + ": expected a JSON array of token ids");
  ++i;
  skip();
  if (i < text.size() && text[i] == ']') {
    ++i;
  } else {
    while (true) {
      skip();
      size_t start = i;
      if (i < text.size() && text[i] == '-') ++i;
      while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) ++i;
      if (start == i || (text[start] == '-' && i == start + 1)) {
        return InvalidArgument(
            StrFormat("%s: expected an integer at byte %zu", name.c_str(), start));
      }
      const long long v = std::strtoll(text.c_str() + start, nullptr, 10);
      if (v < INT32_MIN || v > INT32_MAX || i - start > 11)
        return InvalidArgument(name + ": token id out of range");
      ids.push_back(static_cast<int32_t>(v));
      skip();
      if (i < text.size() && text[i] == ',') {
        ++i;
        continue;
      }
      if (i < text.size() && text[i] == ']') {
        ++i;
        break;
      }
      return InvalidArgument(StrFormat("%s: expected ',' or ']' at byte %zu", name.c_str(), i));
    }
  }
  skip();
  if (i != text.size()) return InvalidArgument(name + ": trailing data after the array");
  return ids;
}

}  // namespace

int RunLogits(int argc, char** argv) {
  Args args("logits", "-m MODEL --tokens TOKENS.json --out LOGITS.f32 [options]",
            {{"-m,--model", "MODEL", ".gguf file or Hugging Face folder"},
             {"--tokens", "FILE", "JSON array of token ids"},
             {"--out", "FILE", "raw float32 logits [n_tokens, n_vocab] of the prompt positions"},
             {"--batch", "N", "prefill chunk size (default 512)"},
             {"--incremental", "", "feed one token per step"},
             {"--greedy", "N", "then continue N argmax tokens"},
             {"--greedy-out", "FILE", "write the greedy ids as a JSON array"},
             {"-t,--threads", "N", "threads (default: all cores)"},
             {"--kv-type", "TYPE", "KV cache type: f32 (default), f16, bf16"},
             {"--reference", "", "use the plain f32 reference decoder (slow oracle)"}});
  if (!args.Parse(argc, argv)) return ReportUsage("logits", args.error());
  if (args.help_requested()) {
    std::printf("%s", args.HelpText().c_str());
    return kExitOk;
  }
  for (const char* req : {"--model", "--tokens", "--out"}) {
    if (!args.Has(req)) return ReportUsage("logits", std::string("missing required option ") + req);
  }
  long long batch = 0, greedy = 0, threads = 0;
  if (!args.GetInt("--batch", 512, 1, 1 << 20, &batch) ||
      !args.GetInt("--greedy", 0, 0, 1 << 20, &greedy) ||
      !args.GetInt("--threads", 0, 0, 1024, &threads)) {
    return ReportUsage("logits", args.error());
  }
  if (greedy > 0 && !args.Has("--greedy-out"))
    return ReportUsage("logits", "--greedy needs --greedy-out");
  kernels::KvType kv;
  if (!kernels::ParseKvType(args.Get("--kv-type", "f32"), &kv))
    return ReportUsage("logits", "--kv-type must be f32, f16 or bf16");

  auto text = ReadFileToString(args.Get("--tokens"), 64u << 20);
  if (!text.ok()) return ReportError(text.status());
  auto ids = ParseIdArray(*text, args.Get("--tokens"));
  if (!ids.ok()) return ReportError(ids.status());
  if (ids->empty()) return ReportError(InvalidArgument(args.Get("--tokens") + ": no tokens"));

  auto ws = WeightSource::Open(args.Get("--model"));
  if (!ws.ok()) return ReportError(ws.status());
  auto config = LoadTextConfig(**ws);
  if (!config.ok()) return ReportError(config.status());
  auto weights = Gemma4Weights::Bind(**ws, *config);
  if (!weights.ok()) return ReportError(weights.status().WithContext(args.Get("--model")));
  if (config->is_assistant()) {
    return ReportError(Unimplemented(args.Get("--model") +
                                     ": an MTP assistant (draft) model has no logits of its own; it drafts for its "
                                     "target model (speculative decoding is not implemented yet)"));
  }

  const int64_t n_vocab = config->n_vocab;
  const int64_t n_tokens = static_cast<int64_t>(ids->size());
  std::vector<float> logits(static_cast<size_t>(n_tokens * n_vocab));
  std::vector<float> row(static_cast<size_t>(n_vocab));
  // One step function for both engines: feed `n` tokens, get the logits of all of them.
  std::function<Status(const int32_t*, int64_t, float*)> feed;
  std::unique_ptr<ReferenceDecoder> reference;
  std::unique_ptr<ThreadPool> pool;
  std::unique_ptr<kernels::PackedWeights> packed;
  std::unique_ptr<Decoder> decoder;
  if (args.Has("--reference")) {
    reference = std::make_unique<ReferenceDecoder>(*config, *weights, n_tokens + greedy);
    feed = [&](const int32_t* t, int64_t n, float* out) {
      for (int64_t i = 0; i < n; ++i) RETURN_IF_ERROR(reference->Step(t[i], out + i * n_vocab));
      return Status::Ok();
    };
  } else {
    pool = std::make_unique<ThreadPool>(threads > 0 ? static_cast<int>(threads)
                                                    : ThreadPool::HardwareThreads());
    DecoderOptions opt;
    opt.n_ctx = n_tokens + greedy;
    opt.max_batch = args.Has("--incremental") ? 1 : batch;
    opt.kv_type = kv;
    packed = PackDecoderWeights(*weights, **ws, kernels::Kernels(), pool.get());
    opt.packed = packed.get();
    auto d = Decoder::Create(*config, *weights, pool.get(), opt);
    if (!d.ok()) return ReportError(d.status().WithContext(args.Get("--model")));
    decoder = std::move(*d);
    std::fprintf(stderr, "%s\n", decoder->kv_cache().Describe().c_str());
    feed = [&](const int32_t* t, int64_t n, float* out) {
      return decoder->Eval(t, n, LogitsMode::kAll, out);
    };
  }
  Status st = feed(ids->data(), n_tokens, logits.data());
  if (!st.ok()) return ReportError(st.WithContext(args.Get("--tokens")));
  st = WriteBinaryFile(args.Get("--out"), logits.data(), logits.size() * sizeof(float));
  if (!st.ok()) return ReportError(st);
  if (greedy > 0) {
    std::copy(logits.end() - n_vocab, logits.end(), row.begin());
    std::string out = "[";
    for (long long g = 0; g < greedy; ++g) {
      const int32_t next =
          static_cast<int32_t>(std::max_element(row.begin(), row.end()) - row.begin());
      if (g) out += ", ";
      out += std::to_string(next);
      if (g + 1 < greedy) {
        st = feed(&next, 1, row.data());
        if (!st.ok()) return ReportError(st);
      }
    }
    out += "]\n";
    st = WriteBinaryFile(args.Get("--greedy-out"), out.data(), out.size());
    if (!st.ok()) return ReportError(st);
  }
  return kExitOk;
}

}  // namespace pocket::cli
