#include "model/binder.h"

#include "quant/quant.h"

namespace pocket {

Status Binder::Matrix(const std::string& name, int64_t rows, int64_t cols, ref::MatView* out,
                      bool required) {
  const TensorInfo* t = ws_.Find(name);
  if (t == nullptr) return required ? NotFound("tensor '" + name + "' is missing") : Status::Ok();
  RETURN_IF_ERROR(CheckShape(*t, {cols, rows}));
  if (!CanDequantize(t->type)) {
    return Unimplemented(StrFormat("tensor '%s' has type %s, which pocket cannot compute with",
                                   name.c_str(), DTypeName(t->type)));
  }
  *out = ref::MatView{t, rows, cols, 0};
  return Status::Ok();
}

Status Binder::MatrixFlat(const std::string& name, int64_t rows, int64_t cols, ref::MatView* out,
                          bool required) {
  const TensorInfo* t = ws_.Find(name);
  if (t == nullptr) return required ? NotFound("tensor '" + name + "' is missing") : Status::Ok();
  if (t->n_elements() != rows * cols || t->ne[0] > cols || cols % t->ne[0] != 0) {
    return InvalidArgument(StrFormat("tensor '%s': expected %lld x %lld elements, got shape %s",
                                     name.c_str(), (long long)rows, (long long)cols,
                                     t->ShapeString().c_str()));
  }
  if (!CanDequantize(t->type)) {
    return Unimplemented(StrFormat("tensor '%s' has type %s, which pocket cannot compute with",
                                   name.c_str(), DTypeName(t->type)));
  }
  *out = ref::MatView{t, rows, cols, 0};
  return Status::Ok();
}

Status Binder::Vector(const std::string& name, int64_t n, std::vector<float>* out, bool required) {
  const TensorInfo* t = ws_.Find(name);
  if (t == nullptr) return required ? NotFound("tensor '" + name + "' is missing") : Status::Ok();
  if (t->n_elements() != n) {
    return InvalidArgument(StrFormat("tensor '%s': expected %lld elements, got shape %s",
                                     name.c_str(), (long long)n, t->ShapeString().c_str()));
  }
  out->resize(static_cast<size_t>(n));
  return DequantizeRow(t->type, t->data, out->data(), n).WithContext("tensor '" + name + "'");
}

Result<const TensorInfo*> Binder::Tensor3(const std::string& name, std::vector<int64_t> ne,
                                          bool required) {
  const TensorInfo* t = ws_.Find(name);
  if (t == nullptr) {
    if (required) return NotFound("tensor '" + name + "' is missing");
    return static_cast<const TensorInfo*>(nullptr);
  }
  RETURN_IF_ERROR(CheckShape(*t, ne));
  if (!CanDequantize(t->type)) {
    return Unimplemented("tensor '" + name + "': unsupported type " + DTypeName(t->type));
  }
  return t;
}

Status Binder::CheckShape(const TensorInfo& t, const std::vector<int64_t>& ne) {
  bool ok = true;
  for (int d = 0; d < kMaxTensorDims; ++d) {
    const int64_t want = d < static_cast<int>(ne.size()) ? ne[static_cast<size_t>(d)] : 1;
    const int64_t got = d < t.n_dims ? t.ne[d] : 1;
    ok &= want == got;
  }
  if (ok) return Status::Ok();
  std::string want = "[";
  for (size_t i = 0; i < ne.size(); ++i) {
    if (i) want += ", ";
    want += std::to_string(ne[i]);
  }
  want += "]";
  return InvalidArgument(StrFormat("tensor '%s': expected shape %s, got %s", t.name.c_str(),
                                   want.c_str(), t.ShapeString().c_str()));
}

}  // namespace pocket
