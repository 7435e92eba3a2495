// pocket inspect PATH [--tensors] [--json]
#include <cstdio>
#include <map>

#include "apps/cli/args.h"
#include "apps/cli/commands.h"
#include "base/json_writer.h"
#include "formats/weight_source.h"
#include "model/summary.h"

namespace pocket::cli {
namespace {

std::string HumanBytes(uint64_t b) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(b);
  int u = 0;
  while (v >= 1024.0 && u < 4) {
    v /= 1024.0;
    ++u;
  }
  return u == 0 ? StrFormat("%llu B", (unsigned long long)b) : StrFormat("%.2f %s", v, units[u]);
}

struct TypeStats {
  uint64_t count = 0;
  uint64_t bytes = 0;
};

void WriteJson(const WeightSource& ws, const ModelSummary& s, const std::map<std::string, TypeStats>& by_type,
               uint64_t total_bytes, bool tensors) {
  JsonWriter w;
  w.BeginObject();
  w.Key("path").String(ws.path());
  w.Key("format").String(SourceFormatName(ws.format()));
  w.Key("architecture").String(s.architecture);
  w.Key("variant").String(s.variant);
  w.Key("shape").String(s.shape);
  w.Key("features").BeginArray();
  for (const std::string& f : s.features) w.String(f);
  w.EndArray();
  w.Key("hparams").BeginObject();
  for (const auto& [k, v] : s.hparams) w.Key(k).String(v);
  w.EndObject();
  if (!s.config_error.empty()) w.Key("config_error").String(s.config_error);
  w.Key("tokenizer").String(s.tokenizer);
  w.Key("files").BeginArray();
  for (const std::string& f : ws.files()) w.String(f);
  w.EndArray();
  w.Key("file_bytes").Uint(ws.total_file_bytes());
  w.Key("n_tensors").Uint(ws.tensors().size());
  w.Key("tensor_bytes").Uint(total_bytes);
  w.Key("bytes_by_type").BeginObject();
  for (const auto& [type, st] : by_type) w.Key(type).Uint(st.bytes);
  w.EndObject();
  w.Key("count_by_type").BeginObject();
  for (const auto& [type, st] : by_type) w.Key(type).Uint(st.count);
  w.EndObject();
  if (tensors) {
    w.Key("tensors").BeginArray();
    for (const TensorInfo& t : ws.tensors()) {
      w.BeginObject();
      w.Key("name").String(t.name);
      if (!t.original_name.empty()) w.Key("file_name").String(t.original_name);
      w.Key("type").String(DTypeName(t.type));
      w.Key("shape").BeginArray();
      for (int d = 0; d < t.n_dims; ++d) w.Int(t.ne[d]);
      w.EndArray();
      w.Key("bytes").Uint(t.nbytes);
      w.EndObject();
    }
    w.EndArray();
  }
  w.EndObject();
  std::printf("%s\n", w.str().c_str());
}

void WriteText(const WeightSource& ws, const ModelSummary& s, const std::map<std::string, TypeStats>& by_type,
               uint64_t total_bytes, bool tensors) {
  std::printf("file:          %s\n", ws.path().c_str());
  std::printf("format:        %s (%zu file%s, %s)\n", SourceFormatName(ws.format()), ws.files().size(),
              ws.files().size() == 1 ? "" : "s", HumanBytes(ws.total_file_bytes()).c_str());
  std::printf("architecture:  %s\n", s.architecture.c_str());
  std::printf("variant:       %s%s%s\n", s.variant.c_str(), s.variant == "custom" ? " — " : "",
              s.variant == "custom" ? s.shape.c_str() : "");
  std::string feats;
  for (const std::string& f : s.features) {
    if (!feats.empty()) feats += ", ";
    feats += f;
  }
  std::printf("features:      %s\n", feats.empty() ? "(none)" : feats.c_str());
  if (!s.config_error.empty()) std::printf("config error:  %s\n", s.config_error.c_str());
  std::printf("tokenizer:     %s\n", s.tokenizer.empty() ? "(none)" : s.tokenizer.c_str());
  if (!s.hparams.empty()) {
    std::printf("\nhyper-parameters:\n");
    for (const auto& [k, v] : s.hparams) std::printf("  %-30s %s\n", k.c_str(), v.c_str());
  }
  std::printf("\ntensors: %zu, %s\n", ws.tensors().size(), HumanBytes(total_bytes).c_str());
  for (const auto& [type, st] : by_type) {
    std::printf("  %-8s %6llu tensors  %s\n", type.c_str(), (unsigned long long)st.count, HumanBytes(st.bytes).c_str());
  }
  if (tensors) {
    std::printf("\n%-48s %-8s %-24s %s\n", "name", "type", "shape (ggml order)", "bytes");
    for (const TensorInfo& t : ws.tensors()) {
      std::printf("%-48s %-8s %-24s %llu\n", t.name.c_str(), DTypeName(t.type), t.ShapeString().c_str(),
                  (unsigned long long)t.nbytes);
    }
  }
}

}  // namespace

int RunInspect(int argc, char** argv) {
  Args args("inspect", "PATH [--tensors] [--json]",
            {{"--tensors", "", "list every tensor (name, type, shape, bytes)"},
             {"--json", "", "print one JSON object instead of text"}});
  if (!args.Parse(argc, argv)) return ReportUsage("inspect", args.error());
  if (args.help_requested()) {
    std::printf("%s\nPATH is a .gguf (also split or mmproj), a .safetensors file, or a Hugging Face folder.\n",
                args.HelpText().c_str());
    return kExitOk;
  }
  if (args.positionals().size() != 1) return ReportUsage("inspect", "expected exactly one PATH");
  auto ws = WeightSource::Open(args.positionals()[0]);
  if (!ws.ok()) return ReportError(ws.status());
  const ModelSummary s = Summarize(**ws);
  std::map<std::string, TypeStats> by_type;
  uint64_t total = 0;
  for (const TensorInfo& t : (*ws)->tensors()) {
    TypeStats& st = by_type[DTypeName(t.type)];
    ++st.count;
    st.bytes += t.nbytes;
    total += t.nbytes;
  }
  if (args.Has("--json")) {
    WriteJson(**ws, s, by_type, total, args.Has("--tensors"));
  } else {
    WriteText(**ws, s, by_type, total, args.Has("--tensors"));
  }
  return kExitOk;
}

}  // namespace pocket::cli
