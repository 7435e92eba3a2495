// pocket tokenize -m MODEL (--text S | --text-file F) [--no-bos] [--parse-special] [--json]
// pocket detokenize -m MODEL --ids 1,2,3 [--special]
#include <cstdio>
#include <cstdlib>
#include <string>

#include "apps/cli/args.h"
#include "apps/cli/commands.h"
#include "base/mapped_file.h"
#include "tokenizer/tokenizer.h"

namespace pocket::cli {

int RunTokenize(int argc, char** argv) {
  Args args("tokenize", "-m MODEL (--text S | --text-file F) [options]",
            {{"-m,--model", "MODEL",
              ".gguf (full or vocab-only), HF folder, or folder with tokenizer.json"},
             {"--text", "S", "text to tokenize"},
             {"--text-file", "F", "file whose raw bytes are tokenized"},
             {"--no-bos", "", "do not prepend <bos>"},
             {"--parse-special", "", "match special-token text such as <|turn> in the input"},
             {"--json", "", "print a JSON array of ids"}});
  if (!args.Parse(argc, argv)) return ReportUsage("tokenize", args.error());
  if (args.help_requested()) {
    std::printf("%s", args.HelpText().c_str());
    return kExitOk;
  }
  if (!args.Has("--model")) return ReportUsage("tokenize", "missing required option --model");
  if (args.Has("--text") == args.Has("--text-file"))
    return ReportUsage("tokenize", "give exactly one of --text and --text-file");
  std::string text;
  if (args.Has("--text")) {
    text = args.Get("--text");
  } else {
    auto t = ReadFileToString(args.Get("--text-file"), 1ull << 30);
    if (!t.ok()) return ReportError(t.status());
    text = std::move(*t);
  }
  auto tok = Tokenizer::Load(args.Get("--model"));
  if (!tok.ok()) return ReportError(tok.status());
  Tokenizer::EncodeOptions opt;
  opt.add_bos = !args.Has("--no-bos");
  opt.parse_special = args.Has("--parse-special");
  const std::vector<int32_t> ids = (*tok)->Encode(text, opt);
  std::string out;
  if (args.Has("--json")) {
    out.push_back('[');
    for (size_t i = 0; i < ids.size(); ++i) {
      if (i) out += ", ";
      out += std::to_string(ids[i]);
    }
    out += "]\n";
  } else {
    for (int32_t id : ids) {
      out.append(std::to_string(id));
      out.push_back('\t');
      out.append((*tok)->Text(id));
      out.push_back('\n');
    }
  }
  std::fwrite(out.data(), 1, out.size(), stdout);
  return kExitOk;
}

int RunDetokenize(int argc, char** argv) {
  Args args("detokenize", "-m MODEL --ids 1,2,3 [--special]",
            {{"-m,--model", "MODEL",
              ".gguf (full or vocab-only), HF folder, or folder with tokenizer.json"},
             {"--ids", "LIST", "comma-separated token ids"},
             {"--special", "", "render control tokens as their text"}});
  if (!args.Parse(argc, argv)) return ReportUsage("detokenize", args.error());
  if (args.help_requested()) {
    std::printf("%s", args.HelpText().c_str());
    return kExitOk;
  }
  if (!args.Has("--model") || !args.Has("--ids"))
    return ReportUsage("detokenize", "--model and --ids are required");
  auto tok = Tokenizer::Load(args.Get("--model"));
  if (!tok.ok()) return ReportError(tok.status());
  std::vector<int32_t> ids;
  const std::string list = args.Get("--ids");
  size_t i = 0;
  while (i < list.size()) {
    size_t j = list.find(',', i);
    if (j == std::string::npos) j = list.size();
    const std::string item = list.substr(i, j - i);
    char* end = nullptr;
    const long v = std::strtol(item.c_str(), &end, 10);
    if (item.empty() || *end != '\0' || v < 0 || v >= (*tok)->n_vocab()) {
      return ReportError(InvalidArgument(
          StrFormat("--ids: '%s' is not a token id in [0, %d)", item.c_str(), (*tok)->n_vocab())));
    }
    ids.push_back(static_cast<int32_t>(v));
    i = j + 1;
  }
  const std::string out = (*tok)->Decode(ids, args.Has("--special"));
  std::fwrite(out.data(), 1, out.size(), stdout);
  return kExitOk;
}

}  // namespace pocket::cli
