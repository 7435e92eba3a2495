// pocket chat-format -m MODEL --messages MESSAGES.json [--tools TOOLS.json] [--think]
//                    [--no-generation-prompt]
// pocket parse-output --text-file F [--think] [--started-in-reasoning] [--json]
#include <cstdio>

#include "apps/cli/args.h"
#include "apps/cli/commands.h"
#include "base/mapped_file.h"
#include "chat/chat_template.h"
#include "chat/output_parser.h"
#include "tokenizer/tokenizer.h"

namespace pocket::cli {

int RunChatFormat(int argc, char** argv) {
  Args args("chat-format", "-m MODEL --messages MESSAGES.json [options]",
            {{"-m,--model", "MODEL", "model (its tokenizer must load)"},
             {"--messages", "FILE", "OpenAI-style messages (JSON array)"},
             {"--tools", "FILE", "OpenAI-style tools (JSON array)"},
             {"--think", "", "thinking mode on"},
             {"--no-generation-prompt", "", "do not open the model turn at the end"}});
  if (!args.Parse(argc, argv)) return ReportUsage("chat-format", args.error());
  if (args.help_requested()) {
    std::printf("%s", args.HelpText().c_str());
    return kExitOk;
  }
  if (!args.Has("--model") || !args.Has("--messages"))
    return ReportUsage("chat-format", "--model and --messages are required");
  auto tok = Tokenizer::Load(args.Get("--model"));
  if (!tok.ok()) return ReportError(tok.status());
  auto messages = ReadFileToString(args.Get("--messages"), 256u << 20);
  if (!messages.ok()) return ReportError(messages.status());
  std::string tools;
  if (args.Has("--tools")) {
    auto t = ReadFileToString(args.Get("--tools"), 64u << 20);
    if (!t.ok()) return ReportError(t.status());
    tools = std::move(*t);
  }
  ChatRenderOptions opt;
  opt.enable_thinking = args.Has("--think");
  opt.add_generation_prompt = !args.Has("--no-generation-prompt");
  auto prompt = RenderChat(*messages, tools, opt);
  if (!prompt.ok()) return ReportError(prompt.status());
  std::fwrite(prompt->data(), 1, prompt->size(), stdout);
  return kExitOk;
}

int RunParseOutput(int argc, char** argv) {
  Args args("parse-output", "--text-file F [options]",
            {{"--text-file", "F", "generated text, special tokens as their literal text"},
             {"--think", "", "the prompt had thinking on (same parsing rules)"},
             {"--started-in-reasoning", "", "the prompt already opened the thought channel"},
             {"--json", "", "print {reasoning, content, tool_calls} as JSON"}});
  if (!args.Parse(argc, argv)) return ReportUsage("parse-output", args.error());
  if (args.help_requested()) {
    std::printf("%s", args.HelpText().c_str());
    return kExitOk;
  }
  if (!args.Has("--text-file"))
    return ReportUsage("parse-output", "missing required option --text-file");
  auto text = ReadFileToString(args.Get("--text-file"), 256u << 20);
  if (!text.ok()) return ReportError(text.status());
  const ParsedOutput p = ParseModelOutput(*text, args.Has("--started-in-reasoning"));
  for (const std::string& w : p.warnings) std::fprintf(stderr, "warning: %s\n", w.c_str());
  std::string out;
  if (args.Has("--json")) {
    out = ParsedOutputToJson(p);
    out.push_back('\n');
  } else {
    out.append("reasoning: ")
        .append(p.reasoning)
        .append("\ncontent: ")
        .append(p.content)
        .push_back('\n');
    for (const ParsedToolCall& c : p.tool_calls)
      out.append("tool_call: ").append(c.name).append(" ").append(c.arguments_json).push_back('\n');
  }
  std::fwrite(out.data(), 1, out.size(), stdout);
  return kExitOk;
}

}  // namespace pocket::cli
