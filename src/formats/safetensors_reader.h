// Bounds-checked safetensors parser (one file). Sharded folders are assembled by
// weight_source.cc from model.safetensors.index.json.
//
// Header: u64 length + a JSON object {name: {dtype, shape, data_offsets}, "__metadata__": {...}}.
// Every offset, shape product and dtype is validated against the file before use; duplicate
// names, overlaps, gaps past the end and non-object headers are errors naming the tensor.
// Tensor shapes are exposed in ggml order (reversed), so TensorInfo means the same thing as
// for GGUF. Owns its mapping (shared); immutable after parsing.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "base/mapped_file.h"
#include "base/status.h"
#include "formats/gguf_reader.h"  // TensorInfo

namespace pocket {

class SafetensorsFile {
 public:
  static Result<SafetensorsFile> Open(const std::string& path);
  static Result<SafetensorsFile> ParseBuffer(const uint8_t* data, size_t size, const std::string& name);

  const std::vector<TensorInfo>& tensors() const { return tensors_; }
  // The "__metadata__" string map.
  const std::vector<std::pair<std::string, std::string>>& user_metadata() const { return user_metadata_; }
  const std::string& path() const { return path_; }
  uint64_t file_size() const { return file_size_; }
  // The file mapping; null when parsed from caller-owned bytes.
  const MappedFile* mapping() const { return mapping_.get(); }

 private:
  std::shared_ptr<MappedFile> mapping_;
  std::vector<TensorInfo> tensors_;
  std::vector<std::pair<std::string, std::string>> user_metadata_;
  std::string path_;
  uint64_t file_size_ = 0;
};

// Maps a safetensors dtype string ("BF16", "F32", ...) to a DType.
Result<DType> SafetensorsDType(const std::string& s);

}  // namespace pocket
