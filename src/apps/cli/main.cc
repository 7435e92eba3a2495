// pocket: run Gemma 4 on your own device. Subcommand dispatch only; each command lives in its
// own cmd_*.cc file.
#include <cstdio>
#include <cstring>
#include <string>

#include "apps/cli/commands.h"

namespace pocket::cli {

int ReportError(const Status& status) {
  std::fprintf(stderr, "error: %s\n", status.message().c_str());
  return kExitError;
}

int ReportUsage(const std::string& command, const std::string& message) {
  std::fprintf(stderr, "error: %s\n(run 'pocket %s --help' for usage)\n", message.c_str(), command.c_str());
  return kExitUsage;
}

namespace {

struct Command {
  const char* name;
  int (*run)(int argc, char** argv);
  const char* summary;
};

constexpr Command kCommands[] = {
    {"run", RunRun, "answer one prompt (streamed), with sampling, thinking and tool-call output"},
    {"chat", RunChat, "interactive multi-turn chat; earlier turns stay in the KV cache"},
    {"pull", RunPull, "download a model from Hugging Face into the model cache"},
    {"serve", RunServe, "OpenAI-compatible HTTP server (chat completions, streaming, tools)"},
    {"bench", RunBench, "prefill/decode speed, TTFT, peak memory (llama-bench style)"},
    {"inspect", RunInspect, "describe a model file: variant, hyper-parameters, tensors"},
    {"embed", RunEmbed, "encode an image or audio clip into soft-token embeddings (f32)"},
    {"logits", RunLogits, "run token ids through the decoder and write the logits (f32)"},
    {"tokenize", RunTokenize, "text to token ids"},
    {"detokenize", RunDetokenize, "token ids to text"},
    {"chat-format", RunChatFormat, "print the exact prompt for OpenAI-style messages and tools"},
    {"parse-output", RunParseOutput, "split generated text into reasoning, content and tool calls"},
    {"make-test-model", RunMakeTestModel, "write a random-weight GGUF of a real Gemma 4 shape (or tiny)"},
};

void PrintHelp() {
  std::printf(
      "pocket - Gemma 4 on your own device (text, images, audio), offline.\n\n"
      "usage: pocket <command> [options]\n\ncommands:\n");
  for (const Command& c : kCommands) std::printf("  %-16s %s\n", c.name, c.summary);
  std::printf(
      "\nMODEL arguments accept a .gguf file (also split -00001-of-0000N.gguf), a .safetensors\n"
      "file, or a Hugging Face folder (config.json + safetensors + tokenizer.json); run, chat,\n"
      "serve and bench also take a cached model name (owner/name[:QUANT], see 'pocket pull').\n"
      "Run 'pocket <command> --help' for the options of a command.\n");
}

}  // namespace
}  // namespace pocket::cli

int main(int argc, char** argv) {
  using namespace pocket::cli;
  if (argc < 2 || std::strcmp(argv[1], "--help") == 0 || std::strcmp(argv[1], "-h") == 0 ||
      std::strcmp(argv[1], "help") == 0) {
    PrintHelp();
    return argc < 2 ? kExitUsage : kExitOk;
  }
  if (std::strcmp(argv[1], "--version") == 0) {
    std::printf("pocket %s\n", POCKET_VERSION);
    return kExitOk;
  }
  for (const Command& c : kCommands) {
    if (std::strcmp(argv[1], c.name) == 0) return c.run(argc - 2, argv + 2);
  }
  std::fprintf(stderr, "error: unknown command '%s' (run 'pocket --help')\n", argv[1]);
  return kExitUsage;
}
