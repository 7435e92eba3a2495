// One tensor as a file stores it, in ggml shape order (ne[0] is the contiguous dimension),
// whichever format it came from. Non-owning: `data` points into a file mapping owned by the
// reader (GgufFile, SafetensorsFile) or WeightSource that produced it.
#pragma once

#include <cstdint>
#include <string>

#include "formats/tensor_names.h"
#include "tensor/dtype.h"

namespace pocket {

constexpr int kMaxTensorDims = 4;

// One tensor as stored: ggml shape order (ne[0] is the contiguous dimension).
struct TensorInfo {
  std::string name;
  DType type = DType::kF32;
  int n_dims = 0;
  int64_t ne[kMaxTensorDims] = {1, 1, 1, 1};
  uint64_t offset = 0;            // from the start of the file
  uint64_t nbytes = 0;
  const uint8_t* data = nullptr;  // into the file mapping
  int source_index = 0;           // which file of a split set / sharded folder
  std::string original_name;      // name in the file when it differs from `name` (HF)
  TensorTransform transform = TensorTransform::kNone;  // see tensor_names.h

  int64_t n_elements() const {
    int64_t n = 1;
    for (int i = 0; i < n_dims; ++i) n *= ne[i];
    return n;
  }
  std::string ShapeString() const;  // "[64, 512]" in ggml order
};

}  // namespace pocket
