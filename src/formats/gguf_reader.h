// Bounds-checked GGUF (v2/v3) parser. No model knowledge lives here.
//
// Every count, length, offset and shape read from the file is checked against the bytes that
// remain and against 64-bit overflow before it is used, so a truncated or hostile file yields
// a Status naming the file, the key or tensor, and expected vs got — never a crash, a hang or a
// huge allocation. Tensor data is not copied: TensorInfo::data points into the mapping.
//
// A GgufFile owns its mapping (shared, so moving the object keeps pointers valid) unless it was
// parsed from caller-owned memory with ParseBuffer. Immutable after parsing; thread-safe reads.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "base/mapped_file.h"
#include "base/status.h"
#include "formats/metadata.h"
#include "formats/tensor_info.h"
#include "tensor/dtype.h"

namespace pocket {

class GgufFile {
 public:
  // Maps and parses one .gguf file.
  static Result<GgufFile> Open(const std::string& path);
  // Parses caller-owned bytes (tests, fuzzing). `name` is used in error messages.
  static Result<GgufFile> ParseBuffer(const uint8_t* data, size_t size, const std::string& name);

  uint32_t version() const { return version_; }
  uint64_t alignment() const { return alignment_; }
  uint64_t data_offset() const { return data_offset_; }
  const Metadata& metadata() const { return *metadata_; }
  const std::vector<TensorInfo>& tensors() const { return tensors_; }
  const std::string& path() const { return path_; }
  uint64_t file_size() const { return file_size_; }
  // The file mapping; null when parsed from caller-owned bytes.
  const MappedFile* mapping() const { return mapping_.get(); }

 private:
  std::shared_ptr<MappedFile> mapping_;
  std::unique_ptr<Metadata> metadata_;
  std::vector<TensorInfo> tensors_;
  std::string path_;
  uint32_t version_ = 0;
  uint64_t alignment_ = 32;
  uint64_t data_offset_ = 0;
  uint64_t file_size_ = 0;
};

// For "<prefix>-00001-of-00003.gguf" returns every split's path in order (checking that the
// name parses); for any other name returns {path}.
Result<std::vector<std::string>> GgufSplitPaths(const std::string& path);

}  // namespace pocket
