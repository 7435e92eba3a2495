// pocket serve -m MODEL [--mmproj F] [--host 127.0.0.1] [--port 8080] [--parallel N] [--api-key K]
// OpenAI-compatible HTTP server; runs until SIGINT/SIGTERM.
#include <csignal>
#include <cstdio>

#include "apps/cli/args.h"
#include "apps/cli/commands.h"
#include "apps/hub/hub.h"
#include "apps/server/server.h"

namespace pocket::cli {

int RunServe(int argc, char** argv) {
  Args args("serve", "-m MODEL [options]",
            {{"-m,--model", "MODEL", ".gguf file or Hugging Face folder"},
             {"--mmproj", "FILE", "vision/audio projector (.gguf or HF folder): enables image_url and input_audio"},
             {"--image-tokens", "N", "image token budget: 70, 140, 280 (default), 560, 1120"},
             {"--allow-remote-media", "", "let requests name http(s) image URLs (the server fetches them)"},
             {"--host", "ADDR", "address to listen on (default 127.0.0.1: this machine only)"},
             {"--port", "N", "port (default 8080; 0 = any free port, printed at start)"},
             {"--parallel", "N", "requests decoded at once (default 1); others wait in a queue"},
             {"--api-key", "KEY", "require 'Authorization: Bearer KEY' on every route but /health"},
             {"-c,--ctx-size", "N", "context size of each slot (default 4096)"},
             {"-t,--threads", "N", "compute threads in all (default: all cores)"},
             {"--max-tokens", "N", "largest max_tokens a request may ask for (default 4096)"},
             {"--queue", "N", "requests that may wait for a slot before 503 (default 64)"}});
  if (!args.Parse(argc, argv)) return ReportUsage("serve", args.error());
  if (args.help_requested()) {
    std::printf("%s", args.HelpText().c_str());
    std::printf(
        "\nRoutes: POST /v1/chat/completions (stream or not; tools, reasoning_content via\n"
        "chat_template_kwargs.enable_thinking), POST /v1/completions, GET /v1/models, GET /health,\n"
        "GET /metrics (Prometheus). Errors are OpenAI-shaped JSON with a 4xx/5xx status.\n"
        "With --mmproj, user messages may carry image_url parts (data: URLs; http(s) with\n"
        "--allow-remote-media) and input_audio parts (base64 WAV/FLAC/OGG/MP3).\n");
    return kExitOk;
  }
  if (!args.Has("--model")) return ReportUsage("serve", "missing required option --model");
  server::ServerOptions o;
  long long port, parallel, ctx, threads, max_tokens, queue, budget;
  if (!args.GetInt("--image-tokens", kDefaultImageBudget, 1, 100000, &budget)) return ReportUsage("serve", args.error());
  if (Status st = CheckImageBudget(static_cast<int>(budget)); !st.ok()) return ReportUsage("serve", st.message());
  o.media.image_budget = static_cast<int>(budget);
  if (args.Has("--allow-remote-media")) {
    o.limits.allow_remote_media = true;
    o.fetch_media = hub::FetchUrl;
  }
  if (!args.GetInt("--port", 8080, 0, 65535, &port) || !args.GetInt("--parallel", 1, 1, 256, &parallel) ||
      !args.GetInt("--ctx-size", 4096, 16, 1 << 24, &ctx) || !args.GetInt("--threads", 0, 0, 1024, &threads) ||
      !args.GetInt("--max-tokens", 4096, 1, 1 << 24, &max_tokens) || !args.GetInt("--queue", 64, 0, 1 << 20, &queue)) {
    return ReportUsage("serve", args.error());
  }
  o.host = args.Get("--host", "127.0.0.1");
  o.port = static_cast<int>(port);
  o.parallel = static_cast<int>(parallel);
  o.n_ctx = ctx;
  o.threads = static_cast<int>(threads);
  o.limits.max_tokens = max_tokens;
  o.max_queue = static_cast<size_t>(queue);
  o.api_key = args.Get("--api-key");

  // Block the stop signals in every thread; the main thread waits for them below.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  auto path = hub::ResolveModel(args.Get("--model"));
  if (!path.ok()) return ReportError(path.status());
  auto model = Model::Load(*path);
  if (!model.ok()) return ReportError(model.status());
  std::unique_ptr<Mmproj> mmproj;
  const std::string cached_mmproj = args.Has("--mmproj") ? "" : hub::CachedMmprojFor(args.Get("--model"));
  if (args.Has("--mmproj") || !cached_mmproj.empty()) {
    auto mm_path = hub::ResolveModel(args.Has("--mmproj") ? args.Get("--mmproj") : cached_mmproj);
    if (!mm_path.ok()) return ReportError(mm_path.status());
    auto mm = Mmproj::Open(*mm_path);
    if (!mm.ok()) return ReportError(mm.status());
    mmproj = std::move(*mm);
  } else if ((*model)->source().format() != SourceFormat::kGguf) {
    if (auto own = Mmproj::FromSource((*model)->source()); own.ok()) mmproj = std::move(*own);
  }
  o.mmproj = mmproj.get();
  auto srv = server::Server::Create(**model, o);
  if (!srv.ok()) return ReportError(srv.status());
  if (Status st = (*srv)->Start(); !st.ok()) return ReportError(st);
  std::fprintf(stderr, "pocket serve: %s on http://%s:%d (%d slot%s, %lld-token context%s%s)\n", (*model)->path().c_str(),
               o.host.c_str(), (*srv)->port(), o.parallel, o.parallel == 1 ? "" : "s", (long long)ctx,
               o.api_key.empty() ? "" : ", API key required",
               mmproj ? (mmproj->has_audio() ? (mmproj->has_vision() ? ", images + audio" : ", audio") : ", images") : "");
  std::fflush(stderr);
  int sig = 0;
  sigwait(&stop_signals, &sig);
  std::fprintf(stderr, "pocket serve: stopping\n");
  (*srv)->Stop();
  return kExitOk;
}

}  // namespace pocket::cli
