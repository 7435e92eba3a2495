// pocket chat -m MODEL [--system S] [--think] [sampling flags]
// Interactive multi-turn chat on stdin/stdout. Earlier turns stay in the KV cache.
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <iostream>
#include <optional>
#include <string>

#include "apps/cli/commands.h"
#include "apps/cli/gen_flags.h"
#include "apps/cli/progress.h"

namespace pocket::cli {
namespace {

std::atomic<bool> g_cancel{false};
std::atomic<bool> g_generating{false};

// Ctrl-C stops the answer being generated; at the prompt it quits.
extern "C" void OnChatInterrupt(int) {
  if (g_generating.load()) {
    g_cancel.store(true);
  } else {
    std::signal(SIGINT, SIG_DFL);
    std::raise(SIGINT);
  }
}

constexpr const char* kChatHelp =
    "commands:\n"
    "  /think on|off   reasoning before answers (re-renders the conversation)\n"
    "  /system TEXT    set the system prompt (re-renders the conversation)\n"
    "  /reset          forget the conversation\n"
    "  /stats          context use and speed of the last answer\n"
    "  /image PATH     attach an image to the next message\n"
    "  /audio PATH     attach audio to the next message\n"
    "  /exit           quit (also Ctrl-D)\n"
    "A line ending in \\ continues on the next line. Ctrl-C stops an answer.\n";

}  // namespace

int RunChat(int argc, char** argv) {
  Args args("chat", "-m MODEL [options]", GenerationFlags());
  if (!args.Parse(argc, argv)) return ReportUsage("chat", args.error());
  if (args.help_requested()) {
    std::printf("%s\n%s", args.HelpText().c_str(), kChatHelp);
    return kExitOk;
  }
  GenerationSetup setup;
  std::string error;
  if (!ReadGenerationFlags(args, &setup, &error)) return ReportUsage("chat", error);
  auto engine = LoadEngine(setup);
  if (!engine.ok()) return ReportError(engine.status());
  if (!ApplySamplingFlags(args, engine->model->default_sampling(), &setup.sampling, &error)) return ReportUsage("chat", error);

  const bool interactive = isatty(STDIN_FILENO) == 1;
  if (interactive) {
    std::fprintf(stderr, "pocket chat — %s (%lld-token context). /help for commands, Ctrl-D to quit.\n",
                 engine->model->path().c_str(), (long long)engine->session->n_ctx());
  }
  std::signal(SIGINT, OnChatInterrupt);
  setup.generate.cancel = &g_cancel;
  Conversation conv(*engine->session, setup.conversation);
  Sampler sampler(setup.sampling, engine->model->config().n_vocab);
  std::optional<ConversationReply> last;
  std::vector<MediaItem> pending;  // attached with /image, /audio; sent with the next message
  std::string line;
  while (true) {
    if (interactive) std::fputs("\x1b[1m> \x1b[0m", stdout), std::fflush(stdout);
    std::string message;
    bool eof = false;
    while (true) {
      if (!std::getline(std::cin, line)) {
        eof = true;
        break;
      }
      if (!line.empty() && line.back() == '\\') {
        line.pop_back();
        message += line + "\n";
        continue;
      }
      message += line;
      break;
    }
    if (eof && message.empty()) break;
    if (message.empty()) continue;
    if (message[0] == '/') {
      const std::string cmd = message.substr(0, message.find(' '));
      const std::string arg = message.find(' ') == std::string::npos ? "" : message.substr(message.find(' ') + 1);
      if (cmd == "/exit" || cmd == "/quit") break;
      if (cmd == "/help") {
        std::fputs(kChatHelp, stdout);
      } else if (cmd == "/reset") {
        conv.Reset();
        last.reset();
        pending.clear();
        std::puts("(conversation cleared)");
      } else if (cmd == "/think") {
        if (arg != "on" && arg != "off") {
          std::puts("usage: /think on|off");
        } else {
          conv.set_thinking(arg == "on");
          std::printf("(thinking %s)\n", arg.c_str());
        }
      } else if (cmd == "/system") {
        conv.set_system(arg);
        std::puts("(system prompt set)");
      } else if (cmd == "/stats") {
        if (last) {
          PrintStats(*engine->session, *last);
        } else {
          std::fprintf(stderr, "[context %lld/%lld, nothing generated yet]\n", (long long)conv.n_tokens(),
                       (long long)engine->session->n_ctx());
        }
      } else if (cmd == "/image" || cmd == "/audio") {
        const MediaKind kind = cmd == "/image" ? MediaKind::kImage : MediaKind::kAudio;
        if (arg.empty()) {
          std::printf("usage: %s PATH\n", cmd.c_str());
        } else if (auto item = LoadMedia(*engine, kind, arg, setup.media); !item.ok()) {
          std::printf("error: %s\n", item.status().message().c_str());
        } else {
          std::printf("(%s attached: %lld tokens; it goes with your next message)\n", kind == MediaKind::kImage ? "image" : "audio",
                      (long long)(*item).embedding->n_tokens);
          pending.push_back(std::move(*item));
        }
      } else {
        std::printf("unknown command %s (/help lists them)\n", cmd.c_str());
      }
      std::fflush(stdout);
      continue;
    }
    g_cancel.store(false);
    g_generating.store(true);
    ReplyPrinter printer(conv.thinking());
    ProgressBar prefill_bar("prompt", /*bytes=*/false);  // long prompts only, on a terminal
    UserTurn turn{message, std::move(pending)};
    pending.clear();
    auto reply = conv.Send(turn, sampler, setup.generate, [&](const StreamingOutputParser::Delta& d) { return printer(d); },
                          [&](int64_t done, int64_t total) {
                            if (total >= 256) prefill_bar.Update(static_cast<uint64_t>(done), static_cast<uint64_t>(total));
                            if (done == total) prefill_bar.Finish();
                          });
    g_generating.store(false);
    printer.End();
    if (!reply.ok()) {
      if (reply.status().code() == StatusCode::kCancelled) continue;
      std::fprintf(stderr, "error: %s\n", reply.status().message().c_str());
      if (reply.status().code() == StatusCode::kOutOfRange) {
        std::fprintf(stderr, "(the context is full: /reset to start over, or restart with a larger -c)\n");
      }
      continue;
    }
    last = std::move(*reply);
    if (setup.show_stats) PrintStats(*engine->session, *last);
    if (last->generation.finish == FinishReason::kContextFull) {
      std::fprintf(stderr, "(the context is full: /reset to start over, or restart with a larger -c)\n");
    }
    if (eof) break;
  }
  std::signal(SIGINT, SIG_DFL);
  return kExitOk;
}

}  // namespace pocket::cli
