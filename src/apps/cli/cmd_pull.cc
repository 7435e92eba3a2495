// pocket pull REPO[:QUANT]
// Downloads a model from the Hugging Face hub into the model cache.
#include <cstdio>

#include "apps/cli/args.h"
#include "apps/cli/commands.h"
#include "apps/cli/progress.h"
#include "apps/hub/hub.h"

namespace pocket::cli {

int RunPull(int argc, char** argv) {
  Args args("pull", "OWNER/NAME[:QUANT]", {});
  if (!args.Parse(argc, argv)) return ReportUsage("pull", args.error());
  if (args.help_requested()) {
    std::printf("%s", args.HelpText().c_str());
    std::printf(
        "\nDownloads a GGUF (the QUANT you name, else Q4_K_M, Q4_0 or Q8_0) and its mmproj, or a whole\n"
        "Hugging Face folder, into %s (set POCKET_CACHE to move it). Interrupted downloads\n"
        "resume; files are checked against the hub's SHA-256. Set HF_TOKEN for gated models.\n"
        "Afterwards `-m OWNER/NAME[:QUANT]` finds the model. Example:\n"
        "  pocket pull ggml-org/gemma-4-E2B-it-GGUF:Q4_K_M\n",
        hub::CacheDir().c_str());
    return kExitOk;
  }
  if (args.positionals().size() != 1) return ReportUsage("pull", "give exactly one model name (owner/name[:QUANT])");
  hub::PullOptions o;
  ProgressBar bar("", /*bytes=*/true);
  std::string current;
  o.progress = [&](const std::string& name, uint64_t done, uint64_t total) {
    if (name != current) {
      bar.Finish();
      bar = ProgressBar(name, true);
      current = name;
    }
    bar.Update(done, total);
  };
  auto r = hub::Pull(args.positionals()[0], o);
  bar.Finish();
  if (!r.ok()) return ReportError(r.status());
  std::printf("%s\n", r->model_path.c_str());
  if (!r->mmproj_path.empty()) std::printf("%s\n", r->mmproj_path.c_str());
  std::fprintf(stderr, "pulled %zu file(s), %s downloaded\n", r->files.size(), FormatBytes(r->bytes_downloaded).c_str());
  return kExitOk;
}

}  // namespace pocket::cli
