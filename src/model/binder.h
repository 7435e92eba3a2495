// Binder: looks tensors up by canonical name in a WeightSource and checks them against the
// shapes a model expects, with errors that name the tensor and expected vs got. Shared by the
// text decoder, vision and audio weight binding. Borrows the WeightSource.
#pragma once

#include <string>
#include <vector>

#include "formats/weight_source.h"
#include "model/ops_ref.h"

namespace pocket {

class Binder {
 public:
  explicit Binder(const WeightSource& ws) : ws_(ws) {}

  // Binds a 2-D matrix with `rows` outputs of `cols` inputs (ggml ne = {cols, rows}).
  Status Matrix(const std::string& name, int64_t rows, int64_t cols, ref::MatView* out,
                bool required = true);
  // Binds any tensor of rows*cols elements as a [rows, cols] matrix (a conv kernel, say).
  Status MatrixFlat(const std::string& name, int64_t rows, int64_t cols, ref::MatView* out,
                    bool required = true);
  // Converts an n-element tensor to f32 (owned by `out`).
  Status Vector(const std::string& name, int64_t n, std::vector<float>* out, bool required = true);
  Result<const TensorInfo*> Tensor3(const std::string& name, std::vector<int64_t> ne,
                                    bool required = true);
  bool Has(const std::string& name) const { return ws_.Find(name) != nullptr; }
  const WeightSource& source() const { return ws_; }

  static Status CheckShape(const TensorInfo& t, const std::vector<int64_t>& ne);

 private:
  const WeightSource& ws_;
};

}  // namespace pocket
