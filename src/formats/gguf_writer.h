// GGUF v3 writer, streaming: key/values and tensor infos are buffered (small), tensor data is
// produced one tensor at a time by a callback while writing, so a multi-GB model never sits in
// memory. Used by make-test-model, checkpoint conversion and tests.
//
// Not thread-safe. Cost: O(total bytes) written once.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "base/status.h"
#include "formats/metadata.h"
#include "tensor/dtype.h"

namespace pocket {

class GgufWriter {
 public:
  // Fills `dst` (exactly the tensor's byte size) with the tensor's data.
  using Producer = std::function<Status(uint8_t* dst, uint64_t nbytes)>;
  // Fills rows [first_row, first_row + n_rows) (a row = ne[0] elements, RowBytes(type, ne[0])
  // bytes) at `dst`. Called with chunks of at most ~32 MiB, so a tensor of any size streams.
  using RowProducer = std::function<Status(int64_t first_row, int64_t n_rows, uint8_t* dst)>;
  // Reports bytes written so far out of the file's total size.
  using Progress = std::function<void(uint64_t done, uint64_t total)>;

  explicit GgufWriter(uint64_t alignment = 32) : alignment_(alignment) {}

  void SetU8(const std::string& key, uint8_t v);
  void SetU32(const std::string& key, uint32_t v);
  void SetI32(const std::string& key, int32_t v);
  void SetU64(const std::string& key, uint64_t v);
  void SetF32(const std::string& key, float v);
  void SetBool(const std::string& key, bool v);
  void SetString(const std::string& key, const std::string& v);
  void SetArrayU32(const std::string& key, const std::vector<uint32_t>& v);
  void SetArrayI32(const std::string& key, const std::vector<int32_t>& v);
  void SetArrayF32(const std::string& key, const std::vector<float>& v);
  void SetArrayBool(const std::string& key, const std::vector<bool>& v);
  void SetArrayString(const std::string& key, const std::vector<std::string>& v);
  // An array of arrays of i32 (GGUF allows nesting; used to test readers).
  void SetNestedArrayI32(const std::string& key, const std::vector<std::vector<int32_t>>& v);

  // Shape in ggml order (ne[0] contiguous). Data is copied now.
  Status AddTensor(const std::string& name, DType type, const std::vector<int64_t>& ne,
                   const void* data, uint64_t nbytes);
  // Data is produced while writing.
  Status AddTensor(const std::string& name, DType type, const std::vector<int64_t>& ne,
                   Producer producer);

  // Data is produced in row chunks while writing.
  Status AddTensorRows(const std::string& name, DType type, const std::vector<int64_t>& ne,
                       RowProducer producer);

  // Total file size WriteFile will produce.
  uint64_t FileBytes() const;
  void set_progress(Progress progress) { progress_ = std::move(progress); }

  Status WriteFile(const std::string& path) const;
  Result<std::string> WriteToString() const;
  size_t n_tensors() const { return tensors_.size(); }

 private:
  struct PendingTensor {
    std::string name;
    DType type;
    std::vector<int64_t> ne;
    uint64_t nbytes;
    Producer producer;     // one of these two is set
    RowProducer rows;
  };
  std::string Header() const;
  void PutKey(const std::string& key, ValueType type);
  Status Emit(const std::function<Status(const void*, size_t)>& sink) const;

  uint64_t alignment_;
  uint64_t n_kv_ = 0;
  std::string kv_;  // serialized key/values
  std::vector<PendingTensor> tensors_;
  Progress progress_;
};

}  // namespace pocket
