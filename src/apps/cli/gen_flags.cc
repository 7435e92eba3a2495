#include "apps/cli/gen_flags.h"

#include <unistd.h>

#include <cstdio>
#include <random>

#include "apps/cli/progress.h"
#include "apps/hub/hub.h"
#include "base/json_writer.h"

namespace pocket::cli {

std::vector<FlagSpec> GenerationFlags() {
  return {
      {"-m,--model", "MODEL", ".gguf file, Hugging Face folder, or cached name owner/name[:QUANT]"},
      {"--mmproj", "FILE", "vision/audio projector (.gguf or HF folder)"},
      {"--image-tokens", "N", "image token budget: 70, 140, 280 (default), 560, 1120"},
      {"--system", "S", "system prompt"},
      {"--think", "", "let the model reason first (shown dimmed)"},
      {"-n,--max-tokens", "N", "stop after N generated tokens (default: until the model ends its turn)"},
      {"-c,--ctx-size", "N", "context size in tokens (default 4096)"},
      {"-b,--batch", "N", "prefill chunk size (default 512)"},
      {"-t,--threads", "N", "threads (default: all cores)"},
      {"--kv-type", "TYPE", "KV cache type: f32 (default), f16, bf16"},
      {"--temp", "X", "temperature; 0 = greedy (default: the model's, Gemma 4: 1.0)"},
      {"--top-k", "N", "keep the N most likely tokens, 0 = off (default: model's, 64)"},
      {"--top-p", "X", "nucleus sampling mass, 1 = off (default: model's, 0.95)"},
      {"--min-p", "X", "drop tokens below X times the best one (default 0 = off)"},
      {"--repeat-penalty", "X", "penalise recent tokens, 1 = off (default 1)"},
      {"--presence-penalty", "X", "subtract X from recent tokens' logits (default 0)"},
      {"--frequency-penalty", "X", "subtract X per occurrence (default 0)"},
      {"--repeat-last-n", "N", "tokens the penalties look back on (default 64)"},
      {"--seed", "N", "random seed; the same seed gives the same output (default: random)"},
      {"--stop", "S", "stop when the output contains S (repeatable)"},
      {"--stats", "", "print timing statistics to stderr"},
  };
}

bool ReadGenerationFlags(Args& args, GenerationSetup* s, std::string* error) {
  if (!args.Has("--model")) {
    *error = "missing required option --model";
    return false;
  }
  s->model_path = args.Get("--model");
  s->mmproj_path = args.Get("--mmproj");
  long long max_tokens = -1, ctx = 4096, batch = 512, threads = 0, budget = kDefaultImageBudget;
  if (!args.GetInt("--image-tokens", kDefaultImageBudget, 1, 100000, &budget)) {
    *error = args.error();
    return false;
  }
  if (Status st = CheckImageBudget(static_cast<int>(budget)); !st.ok()) {
    *error = st.message();
    return false;
  }
  s->media.image_budget = static_cast<int>(budget);
  if (!args.GetInt("--max-tokens", -1, -1, 1 << 30, &max_tokens) || !args.GetInt("--ctx-size", 4096, 8, 1 << 24, &ctx) ||
      !args.GetInt("--batch", 512, 1, 1 << 16, &batch) || !args.GetInt("--threads", 0, 0, 1024, &threads)) {
    *error = args.error();
    return false;
  }
  if (!kernels::ParseKvType(args.Get("--kv-type", "f32"), &s->session.kv_type)) {
    *error = "--kv-type must be f32, f16 or bf16";
    return false;
  }
  s->session.n_ctx = ctx;
  s->session.batch = batch;
  s->threads = static_cast<int>(threads);
  s->generate.max_tokens = max_tokens;
  s->generate.stop = args.GetAll("--stop");
  s->conversation.system = args.Get("--system");
  s->conversation.thinking = args.Has("--think");
  s->show_stats = args.Has("--stats");
  return true;
}

bool ApplySamplingFlags(Args& args, const SamplingParams& defaults, SamplingParams* p, std::string* error) {
  *p = defaults;
  double temp, top_p, min_p, rep, pres, freq;
  long long top_k, last_n, seed;
  if (!args.GetDouble("--temp", p->temperature, 0, 100, &temp) || !args.GetInt("--top-k", p->top_k, 0, 1 << 30, &top_k) ||
      !args.GetDouble("--top-p", p->top_p, 0, 1, &top_p) || !args.GetDouble("--min-p", p->min_p, 0, 1, &min_p) ||
      !args.GetDouble("--repeat-penalty", p->repetition_penalty, 0.01, 100, &rep) ||
      !args.GetDouble("--presence-penalty", p->presence_penalty, -2, 2, &pres) ||
      !args.GetDouble("--frequency-penalty", p->frequency_penalty, -2, 2, &freq) ||
      !args.GetInt("--repeat-last-n", p->penalty_last_n, 0, 1 << 20, &last_n) ||
      !args.GetInt("--seed", -1, -1, (1ll << 62), &seed)) {
    *error = args.error();
    return false;
  }
  p->temperature = static_cast<float>(temp);
  p->top_k = static_cast<int>(top_k);
  p->top_p = static_cast<float>(top_p);
  p->min_p = static_cast<float>(min_p);
  p->repetition_penalty = static_cast<float>(rep);
  p->presence_penalty = static_cast<float>(pres);
  p->frequency_penalty = static_cast<float>(freq);
  p->penalty_last_n = static_cast<int>(last_n);
  p->seed = seed >= 0 ? static_cast<uint64_t>(seed) : (static_cast<uint64_t>(std::random_device{}()) << 32) ^ std::random_device{}();
  if (Status st = p->Validate(); !st.ok()) {
    *error = st.message();
    return false;
  }
  return true;
}

Result<Engine> LoadEngine(const GenerationSetup& setup) {
  Engine e;
  ASSIGN_OR_RETURN(std::string path, hub::ResolveModel(setup.model_path));
  ASSIGN_OR_RETURN(e.model, Model::Load(path));
  e.pool = std::make_unique<ThreadPool>(setup.threads > 0 ? setup.threads : ThreadPool::HardwareThreads());
  auto session = Session::Create(*e.model, e.pool.get(), setup.session);
  if (!session.ok()) return session.status().WithContext(setup.model_path);
  e.session = std::move(*session);
  std::string mmproj_path = setup.mmproj_path;
  if (mmproj_path.empty()) {  // a cached model pulled with its projector uses it
    mmproj_path = hub::CachedMmprojFor(setup.model_path);
    if (!mmproj_path.empty()) std::fprintf(stderr, "using the cached projector %s\n", mmproj_path.c_str());
  }
  if (!mmproj_path.empty()) {
    ASSIGN_OR_RETURN(std::string mm, hub::ResolveModel(mmproj_path));
    ASSIGN_OR_RETURN(e.mmproj, Mmproj::Open(mm));
    RETURN_IF_ERROR(e.mmproj->CheckTextWidth(e.model->config().n_embd));
  } else if (e.model->source().format() != SourceFormat::kGguf) {
    // An HF checkpoint of a multimodal model carries its own vision/audio tensors.
    auto own = Mmproj::FromSource(e.model->source());
    if (own.ok() && (*own)->CheckTextWidth(e.model->config().n_embd).ok()) e.mmproj = std::move(*own);
  }
  return e;
}

Result<MediaItem> LoadMedia(Engine& engine, MediaKind kind, const std::string& path, const MediaOptions& options) {
  const char* what = kind == MediaKind::kImage ? "images" : "audio";
  if (!engine.mmproj) {
    return InvalidArgument(std::string(what) + " need the model's projector: pass --mmproj FILE (the mmproj .gguf "
                           "that comes with " + engine.model->path() + ")");
  }
  if (kind == MediaKind::kImage) {
    ASSIGN_OR_RETURN(MediaEmbedding e, EncodeImageFile(*engine.mmproj, path, options, engine.pool.get()));
    return MakeMediaItem(kind, std::move(e));
  }
  ASSIGN_OR_RETURN(MediaEmbedding e, EncodeAudioFile(*engine.mmproj, path, options, engine.pool.get()));
  if (e.chunk_tokens.size() > 1) {
    std::fprintf(stderr, "note: %s is longer than 30 s; it is encoded in %zu passes of up to 30 s\n", path.c_str(),
                 e.chunk_tokens.size());
  }
  return MakeMediaItem(kind, std::move(e));
}

ReplyPrinter::ReplyPrinter(bool show_reasoning) : show_reasoning_(show_reasoning), color_(isatty(STDOUT_FILENO) == 1) {}

bool ReplyPrinter::operator()(const StreamingOutputParser::Delta& d) {
  if (!d.reasoning.empty() && show_reasoning_) {
    if (!in_reasoning_) {
      std::fputs(color_ ? "\x1b[2m" : "[thinking] ", stdout);
      in_reasoning_ = true;
    }
    std::fwrite(d.reasoning.data(), 1, d.reasoning.size(), stdout);
    any_output_ = true;
  }
  if (!d.content.empty() || !d.tool_calls.empty()) {
    if (in_reasoning_) {
      std::fputs(color_ ? "\x1b[0m\n" : "\n[answer] ", stdout);
      in_reasoning_ = false;
    }
    std::fwrite(d.content.data(), 1, d.content.size(), stdout);
    for (const ParsedToolCall& c : d.tool_calls) {
      std::printf("%s{\"tool_call\": {\"name\": \"%s\", \"arguments\": %s}}\n", any_output_ ? "\n" : "",
                  JsonWriter::Escape(c.name).c_str(), c.arguments_json.c_str());
    }
    any_output_ = true;
  }
  std::fflush(stdout);
  return true;
}

void ReplyPrinter::End() {
  if (in_reasoning_ && color_) std::fputs("\x1b[0m", stdout);
  in_reasoning_ = false;
  std::fputs("\n", stdout);
  std::fflush(stdout);
}

void PrintStats(const Session& session, const ConversationReply& reply) {
  const SessionStats& s = session.stats();
  const GenerateResult& g = reply.generation;
  const double prefill_tps = s.prefill_seconds > 0 ? static_cast<double>(s.prefilled_tokens) / s.prefill_seconds : 0;
  const double n_gen = static_cast<double>(g.tokens.size());
  const double decode_tps = g.decode_seconds > g.ttft_seconds && n_gen > 1 ? (n_gen - 1) / (g.decode_seconds - g.ttft_seconds) : 0;
  std::fprintf(stderr,
               "[prompt %lld tok (%lld reused, %lld computed) %.1f tok/s | generated %zu tok %.1f tok/s | TTFT %.0f ms | "
               "context %lld/%lld | finish: %s]\n",
               (long long)reply.prompt_tokens, (long long)s.reused_tokens, (long long)s.prefilled_tokens, prefill_tps,
               g.tokens.size(), decode_tps, (s.prefill_seconds + g.ttft_seconds) * 1000, (long long)session.tokens().size(),
               (long long)session.n_ctx(), FinishReasonName(g.finish));
}

}  // namespace pocket::cli
