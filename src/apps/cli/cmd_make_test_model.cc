// pocket make-test-model --shape e2b|e4b|12b|26b-a4b|31b|tiny --type T --out FILE.gguf
//                        [--seed 0] [--mmproj-out MMPROJ.gguf] [-t N]
#include <cstdio>
#include <string>

#include "apps/cli/args.h"
#include "apps/cli/commands.h"
#include "apps/cli/progress.h"
#include "model/test_model.h"
#include "model/variants.h"

namespace pocket::cli {

int RunMakeTestModel(int argc, char** argv) {
  Args args("make-test-model", "--shape SHAPE --type TYPE --out FILE.gguf [options]",
            {{"--shape", "SHAPE", "e2b, e4b, 12b, 26b-a4b, 31b (real shapes), tiny (smoke tests), e2b-assistant, tiny-assistant (MTP drafters)"},
             {"--type", "TYPE",
              "F32, F16, BF16, Q8_0, Q4_0, Q4_K_M or Q5_K_M (llama.cpp's tensor-type mixtures)"},
             {"--out", "FILE", "output .gguf (written to FILE.part, renamed when complete)"},
             {"--seed", "N", "random seed (default 0); same seed, same file"},
             {"--mmproj-out", "FILE", "also write a random vision/audio projector (mmproj) of the shape"},
             {"-t,--threads", "N", "threads for generating and quantizing (default: all cores)"}});
  if (!args.Parse(argc, argv)) return ReportUsage("make-test-model", args.error());
  if (args.help_requested()) {
    std::printf("%s", args.HelpText().c_str());
    std::printf(
        "\nWrites a GGUF with random weights, the real tensor names and metadata of the shape (llama.cpp\n"
        "loads it), and a synthetic 262,144-entry vocabulary with the real special tokens. For speed\n"
        "and memory tests; its output is noise.\n");
    return kExitOk;
  }
  for (const char* required : {"--shape", "--type", "--out"}) {
    if (!args.Has(required)) return ReportUsage("make-test-model", std::string("missing required option ") + required);
  }
  TestModelOptions o;
  o.shape = args.Get("--shape");
  o.out_path = args.Get("--out");
  if (auto shape = VariantTextConfig(o.shape); !shape.ok()) return ReportUsage("make-test-model", shape.status().message());
  auto type = ParseFileType(args.Get("--type"));
  if (!type.ok()) return ReportUsage("make-test-model", type.status().message());
  o.type = *type;
  long long seed = 0, threads = 0;
  if (!args.GetInt("--seed", 0, 0, (1ll << 62), &seed) || !args.GetInt("--threads", 0, 0, 1024, &threads)) {
    return ReportUsage("make-test-model", args.error());
  }
  o.seed = static_cast<uint64_t>(seed);
  o.threads = static_cast<int>(threads);
  ProgressBar bar("writing " + o.out_path, /*bytes=*/true);
  o.progress = [&](uint64_t done, uint64_t total) { bar.Update(done, total); };
  auto plan = WriteTestModel(o);
  bar.Finish();
  if (!plan.ok()) return ReportError(plan.status());
  std::fprintf(stderr, "wrote %s: %s %s, %zu tensors, %s (random weights)\n", o.out_path.c_str(), o.shape.c_str(),
               FileTypeName(o.type), plan->n_tensors, FormatBytes(plan->file_bytes).c_str());
  if (args.Has("--mmproj-out")) {
    TestModelOptions mo = o;
    mo.out_path = args.Get("--mmproj-out");
    ProgressBar mbar("writing " + mo.out_path, /*bytes=*/true);
    mo.progress = [&](uint64_t done, uint64_t total) { mbar.Update(done, total); };
    auto mplan = WriteTestMmproj(mo);
    mbar.Finish();
    if (!mplan.ok()) return ReportError(mplan.status());
    std::fprintf(stderr, "wrote %s: %s projector, %zu tensors, %s (random weights)\n", mo.out_path.c_str(),
                 o.shape.c_str(), mplan->n_tensors, FormatBytes(mplan->file_bytes).c_str());
  }
  return kExitOk;
}

}  // namespace pocket::cli
