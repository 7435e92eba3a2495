// Models from the Hugging Face hub: `pocket pull REPO[:QUANT]` downloads a GGUF (and its
// mmproj) or a whole HF folder into the model cache, resumably, with SHA-256 checks against
// the hub's LFS ids; `-m NAME` finds cached models again. Offline, every entry point fails
// with a message saying how to place files by hand.
//
// The cache is $POCKET_CACHE, else ~/.cache/pocket; files live under <cache>/<owner>/<name>/.
// The hub address is $POCKET_HF_ENDPOINT (default https://huggingface.co; tests point it at
// a local server); $HF_TOKEN is sent when set. Blocking; thread-compatible.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "base/status.h"

namespace pocket::hub {

struct PullOptions {
  std::string endpoint;   // empty: $POCKET_HF_ENDPOINT or https://huggingface.co
  std::string cache_dir;  // empty: CacheDir()
  // (file name, bytes done, bytes total) while downloading.
  std::function<void(const std::string&, uint64_t, uint64_t)> progress;
};

struct PullResult {
  std::string model_path;   // the .gguf (first part) or the folder
  std::string mmproj_path;  // empty when the repo has none
  std::vector<std::string> files;
  uint64_t bytes_downloaded = 0;
};

std::string CacheDir();

// `spec` is "owner/name" or "owner/name:QUANT" (e.g. ":Q4_K_M"; default prefers Q4_K_M, then
// Q4_0, then Q8_0).
Result<PullResult> Pull(const std::string& spec, const PullOptions& options);

// A path that exists is returned as is; otherwise "owner/name[:QUANT]" is looked up in the
// cache. NotFound (with a hint to `pocket pull`) when neither.
Result<std::string> ResolveModel(const std::string& path_or_name);

// For a model given by cached name ("owner/name[:QUANT]", not a path): the mmproj GGUF
// `pocket pull` stored next to it, or "" when there is none (or `path_or_name` is a path).
std::string CachedMmprojFor(const std::string& path_or_name);

// Lowercase hex SHA-256 of a file.
Result<std::string> Sha256File(const std::string& path);

// Downloads a (small) http(s) resource into memory — the server's opt-in remote image URLs.
// Sends no credentials; fails past `max_bytes` or 30 s.
Result<std::string> FetchUrl(const std::string& url, size_t max_bytes);

}  // namespace pocket::hub
