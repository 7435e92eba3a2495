// Read-only memory mapping of a whole file.
//
// Owns the mapping; move-only. The bytes stay valid until the MappedFile is destroyed.
// Reading from several threads is safe. Opening costs one mmap call: pages are faulted in
// lazily by the OS, so a 10 GB model maps instantly and only touched rows become resident.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "base/status.h"

namespace pocket {

class MappedFile {
 public:
  MappedFile() = default;
  ~MappedFile();
  MappedFile(MappedFile&& other) noexcept;
  MappedFile& operator=(MappedFile&& other) noexcept;
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  // Maps `path`. A zero-byte file maps to an empty range (data() may be null).
  static Result<MappedFile> Open(const std::string& path);

  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }
  const std::string& path() const { return path_; }

  // Hints that [offset, offset+len) is not needed anymore: the OS may drop those pages (they
  // are read from the file again if touched). For read-ahead hints see base/memory_advice.h.
  void AdviseDontNeed(size_t offset, size_t len) const;

 private:
  void Reset();

  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
  std::string path_;
};

// Reads a whole (small) file into a string: config.json, index files, tokens.json.
Result<std::string> ReadFileToString(const std::string& path, size_t max_bytes = 256u << 20);
// Writes `n` bytes to `path` (created or truncated): logits, embeddings, features.
Status WriteBinaryFile(const std::string& path, const void* data, size_t n);

}  // namespace pocket
