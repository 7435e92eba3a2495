// pocket run -m MODEL [--mmproj F] -p PROMPT [--image F]... [--audio F]... [--system S] [--think]
//            [-n N] [sampling flags] [-t N]
// One prompt, one streamed answer.
#include <csignal>
#include <cstdio>

#include "apps/cli/commands.h"
#include "apps/cli/gen_flags.h"
#include "apps/cli/progress.h"
#include "base/mapped_file.h"

namespace pocket::cli {
namespace {

std::atomic<bool> g_cancel{false};
extern "C" void OnInterrupt(int) { g_cancel.store(true); }

}  // namespace

int RunRun(int argc, char** argv) {
  std::vector<FlagSpec> flags = GenerationFlags();
  flags.insert(flags.begin() + 1, {"-p,--prompt", "TEXT", "the user message"});
  flags.insert(flags.begin() + 2, {"-f,--prompt-file", "FILE", "read the user message from FILE"});
  flags.push_back({"--image", "FILE", "attach an image (repeatable)"});
  flags.push_back({"--audio", "FILE", "attach an audio clip (repeatable)"});
  Args args("run", "-m MODEL -p PROMPT [options]", flags);
  if (!args.Parse(argc, argv)) return ReportUsage("run", args.error());
  if (args.help_requested()) {
    std::printf("%s", args.HelpText().c_str());
    std::printf(
        "\nRenders the prompt with the Gemma 4 chat template, streams the answer to stdout. With --think\n"
        "the reasoning is shown first (dimmed on a terminal); tool calls print as JSON lines.\n"
        "Ctrl-C stops the answer.\n");
    return kExitOk;
  }
  GenerationSetup setup;
  std::string error;
  if (!ReadGenerationFlags(args, &setup, &error)) return ReportUsage("run", error);
  if (args.Has("--prompt") == args.Has("--prompt-file")) return ReportUsage("run", "give exactly one of --prompt and --prompt-file");
  std::string prompt = args.Get("--prompt");
  if (args.Has("--prompt-file")) {
    auto text = ReadFileToString(args.Get("--prompt-file"), 64u << 20);
    if (!text.ok()) return ReportError(text.status());
    prompt = std::move(*text);
  }
  auto engine = LoadEngine(setup);
  if (!engine.ok()) return ReportError(engine.status());
  UserTurn turn;
  turn.text = std::move(prompt);
  for (const auto& [flag, kind] : {std::pair{"--image", MediaKind::kImage}, std::pair{"--audio", MediaKind::kAudio}}) {
    for (const std::string& path : args.GetAll(flag)) {
      auto item = LoadMedia(*engine, kind, path, setup.media);
      if (!item.ok()) return ReportError(item.status());
      turn.media.push_back(std::move(*item));
    }
  }
  if (!ApplySamplingFlags(args, engine->model->default_sampling(), &setup.sampling, &error)) return ReportUsage("run", error);

  std::signal(SIGINT, OnInterrupt);
  setup.generate.cancel = &g_cancel;
  Sampler sampler(setup.sampling, engine->model->config().n_vocab);
  Conversation conv(*engine->session, setup.conversation);
  ReplyPrinter printer(/*show_reasoning=*/setup.conversation.thinking);
  ProgressBar prefill_bar("prompt", /*bytes=*/false);  // long prompts only, on a terminal
  auto reply = conv.Send(turn, sampler, setup.generate, [&](const StreamingOutputParser::Delta& d) { return printer(d); },
                          [&](int64_t done, int64_t total) {
                            if (total >= 256) prefill_bar.Update(static_cast<uint64_t>(done), static_cast<uint64_t>(total));
                            if (done == total) prefill_bar.Finish();
                          });
  printer.End();
  std::signal(SIGINT, SIG_DFL);
  if (!reply.ok()) {
    if (reply.status().code() == StatusCode::kCancelled) return kExitOk;
    return ReportError(reply.status());
  }
  if (setup.show_stats) PrintStats(*engine->session, *reply);
  if (reply->generation.finish == FinishReason::kContextFull) {
    std::fprintf(stderr, "note: the context is full (%lld tokens); use -c to make it larger\n",
                 (long long)engine->session->n_ctx());
  }
  return kExitOk;
}

}  // namespace pocket::cli
