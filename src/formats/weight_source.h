// WeightSource: one view over every model file users have — a GGUF (also split into
// -0000i-of-0000N parts, also an mmproj), a single .safetensors, or a Hugging Face folder
// (config.json + safetensors shards + tokenizer files).
//
// Tensors are exposed under canonical (llama.cpp GGUF) names in ggml shape order, so model
// code is format-agnostic; HF names are translated by tensor_names.cc. Metadata is the GGUF
// key/value table, or for HF the flattened config.json ("text_config.hidden_size") plus
// generation_config.json under "generation_config.".
//
// Owns the file mappings; tensor data pointers stay valid for the WeightSource's lifetime.
// Immutable after Open: safe to read from many threads. Opening maps files and parses headers
// only (no tensor bytes are touched), so it is fast even for 30 GB models.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "base/status.h"
#include "formats/gguf_reader.h"
#include "formats/metadata.h"
#include "formats/safetensors_reader.h"
#include "formats/tensor_info.h"

namespace pocket {

enum class SourceFormat { kGguf, kSafetensors, kHfFolder };
const char* SourceFormatName(SourceFormat f);  // "gguf", "safetensors", "hf"

class WeightSource {
 public:
  // Detects the format from the path: a directory is an HF folder, otherwise the file's magic.
  static Result<std::unique_ptr<WeightSource>> Open(const std::string& path);
  static Result<std::unique_ptr<WeightSource>> OpenGguf(const std::string& path);
  static Result<std::unique_ptr<WeightSource>> OpenSafetensors(const std::string& path);
  static Result<std::unique_ptr<WeightSource>> OpenHfFolder(const std::string& dir);

  SourceFormat format() const { return format_; }
  const std::string& path() const { return path_; }
  const Metadata& metadata() const { return *metadata_; }
  const std::vector<TensorInfo>& tensors() const { return tensors_; }
  // Looks up a tensor by canonical name; null if absent.
  const TensorInfo* Find(std::string_view name) const;
  // The files backing this source (split parts or shards), in order.
  const std::vector<std::string>& files() const { return files_; }
  uint64_t total_file_bytes() const { return total_file_bytes_; }

  // HF folders: which tokenizer / template files are present next to the weights.
  bool has_tokenizer_json() const { return has_tokenizer_json_; }
  bool has_tokenizer_config() const { return has_tokenizer_config_; }
  bool has_chat_template() const { return has_chat_template_; }
  const std::string& folder() const { return folder_; }

  // Drops the pages of [data, data + bytes) from this process's resident set when the range
  // lies in one of the file mappings (a later read faults them back in from the file):
  // used once a matrix has been repacked and its mapped original is no longer read. Anything
  // else (caller-owned memory) is left alone.
  void ReleasePages(const uint8_t* data, uint64_t bytes) const;

 private:
  WeightSource() = default;
  Status AddTensor(TensorInfo t);
  Status AddSafetensorsFile(SafetensorsFile file, int index);
  Status LoadHfSideFiles(const std::string& dir);

  SourceFormat format_ = SourceFormat::kGguf;
  std::string path_;
  std::string folder_;
  std::vector<GgufFile> gguf_files_;
  std::vector<SafetensorsFile> st_files_;
  std::unique_ptr<Metadata> owned_metadata_;
  const Metadata* metadata_ = nullptr;
  std::vector<TensorInfo> tensors_;
  std::unordered_map<std::string, size_t> index_;
  std::vector<std::string> files_;
  uint64_t total_file_bytes_ = 0;
  bool has_tokenizer_json_ = false;
  bool has_tokenizer_config_ = false;
  bool has_chat_template_ = false;
};

// Flattens a JSON document into `out` with dotted keys under `prefix` (empty = top level).
// Objects recurse; arrays of numbers/bools/strings become typed arrays; null becomes kNull.
Status FlattenJsonInto(std::string_view json_text, const std::string& prefix, Metadata* out,
                       const std::string& file_name);

bool IsDirectory(const std::string& path);
bool IsRegularFile(const std::string& path);

}  // namespace pocket
