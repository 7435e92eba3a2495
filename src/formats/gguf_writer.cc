#include "formats/gguf_writer.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

namespace pocket {
namespace {

template <typename T>
void Put(std::string* out, T v) {
  out->append(reinterpret_cast<const char*>(&v), sizeof(T));
}

void PutString(std::string* out, const std::string& s) {
  Put<uint64_t>(out, s.size());
  out->append(s);
}

}  // namespace

void GgufWriter::PutKey(const std::string& key, ValueType type) {
  PutString(&kv_, key);
  Put<int32_t>(&kv_, static_cast<int32_t>(type));
  ++n_kv_;
}

void GgufWriter::SetU8(const std::string& key, uint8_t v) { PutKey(key, ValueType::kU8); Put(&kv_, v); }
void GgufWriter::SetU32(const std::string& key, uint32_t v) { PutKey(key, ValueType::kU32); Put(&kv_, v); }
void GgufWriter::SetI32(const std::string& key, int32_t v) { PutKey(key, ValueType::kI32); Put(&kv_, v); }
void GgufWriter::SetU64(const std::string& key, uint64_t v) { PutKey(key, ValueType::kU64); Put(&kv_, v); }
void GgufWriter::SetF32(const std::string& key, float v) { PutKey(key, ValueType::kF32); Put(&kv_, v); }
void GgufWriter::SetBool(const std::string& key, bool v) {
  PutKey(key, ValueType::kBool);
  Put<uint8_t>(&kv_, v ? 1 : 0);
}
void GgufWriter::SetString(const std::string& key, const std::string& v) {
  PutKey(key, ValueType::kString);
  PutString(&kv_, v);
}

template <typename T>
static void PutArray(std::string* kv, ValueType elem, const std::vector<T>& v) {
  Put<int32_t>(kv, static_cast<int32_t>(elem));
  Put<uint64_t>(kv, v.size());
  for (const T& x : v) Put<T>(kv, x);
}

void GgufWriter::SetArrayU32(const std::string& key, const std::vector<uint32_t>& v) {
  PutKey(key, ValueType::kArray);
  PutArray(&kv_, ValueType::kU32, v);
}
void GgufWriter::SetArrayI32(const std::string& key, const std::vector<int32_t>& v) {
  PutKey(key, ValueType::kArray);
  PutArray(&kv_, ValueType::kI32, v);
}
void GgufWriter::SetArrayF32(const std::string& key, const std::vector<float>& v) {
  PutKey(key, ValueType::kArray);
  PutArray(&kv_, ValueType::kF32, v);
}
void GgufWriter::SetArrayBool(const std::string& key, const std::vector<bool>& v) {
  PutKey(key, ValueType::kArray);
  Put<int32_t>(&kv_, static_cast<int32_t>(ValueType::kBool));
  Put<uint64_t>(&kv_, v.size());
  for (bool b : v) Put<uint8_t>(&kv_, b ? 1 : 0);
}
void GgufWriter::SetArrayString(const std::string& key, const std::vector<std::string>& v) {
  PutKey(key, ValueType::kArray);
  Put<int32_t>(&kv_, static_cast<int32_t>(ValueType::kString));
  Put<uint64_t>(&kv_, v.size());
  for (const std::string& s : v) PutString(&kv_, s);
}
void GgufWriter::SetNestedArrayI32(const std::string& key, const std::vector<std::vector<int32_t>>& v) {
  PutKey(key, ValueType::kArray);
  Put<int32_t>(&kv_, static_cast<int32_t>(ValueType::kArray));
  Put<uint64_t>(&kv_, v.size());
  for (const auto& inner : v) PutArray(&kv_, ValueType::kI32, inner);
}

Status GgufWriter::AddTensor(const std::string& name, DType type, const std::vector<int64_t>& ne,
                             const void* data, uint64_t nbytes) {
  auto copy = std::make_shared<std::vector<uint8_t>>(static_cast<const uint8_t*>(data),
                                                     static_cast<const uint8_t*>(data) + nbytes);
  return AddTensor(name, type, ne, [copy](uint8_t* dst, uint64_t n) -> Status {
    if (n != copy->size()) return Internal("tensor size mismatch");
    std::memcpy(dst, copy->data(), n);
    return Status::Ok();
  });
}

Status GgufWriter::AddTensor(const std::string& name, DType type, const std::vector<int64_t>& ne,
                             Producer producer) {
  if (ne.empty() || ne.size() > 4) return InvalidArgument(name + ": tensors have 1 to 4 dimensions");
  auto nbytes = TensorBytes(type, ne.data(), static_cast<int>(ne.size()));
  if (!nbytes.ok()) return nbytes.status().WithContext("tensor '" + name + "'");
  tensors_.push_back({name, type, ne, *nbytes, std::move(producer), RowProducer()});
  return Status::Ok();
}

Status GgufWriter::AddTensorRows(const std::string& name, DType type, const std::vector<int64_t>& ne,
                                 RowProducer producer) {
  RETURN_IF_ERROR(AddTensor(name, type, ne, Producer()));
  tensors_.back().rows = std::move(producer);
  return Status::Ok();
}

std::string GgufWriter::Header() const {
  std::string head;
  Put<uint32_t>(&head, 0x46554747u);
  Put<uint32_t>(&head, 3);
  Put<int64_t>(&head, static_cast<int64_t>(tensors_.size()));
  Put<int64_t>(&head, static_cast<int64_t>(n_kv_));
  head += kv_;
  uint64_t offset = 0;
  for (const PendingTensor& t : tensors_) {
    PutString(&head, t.name);
    Put<uint32_t>(&head, static_cast<uint32_t>(t.ne.size()));
    for (int64_t d : t.ne) Put<int64_t>(&head, d);
    Put<int32_t>(&head, static_cast<int32_t>(t.type));
    Put<uint64_t>(&head, offset);
    offset += (t.nbytes + alignment_ - 1) / alignment_ * alignment_;
  }
  head.resize((head.size() + alignment_ - 1) / alignment_ * alignment_, '\0');
  return head;
}

uint64_t GgufWriter::FileBytes() const {
  uint64_t total = Header().size();
  for (const PendingTensor& t : tensors_) total += (t.nbytes + alignment_ - 1) / alignment_ * alignment_;
  return total;
}

Status GgufWriter::Emit(const std::function<Status(const void*, size_t)>& sink) const {
  const uint64_t total = progress_ ? FileBytes() : 0;
  uint64_t done = 0;
  auto put = [&](const void* p, size_t n) -> Status {
    RETURN_IF_ERROR(sink(p, n));
    done += n;
    if (progress_) progress_(done, total);
    return Status::Ok();
  };
  const std::string head = Header();
  RETURN_IF_ERROR(put(head.data(), head.size()));
  constexpr uint64_t kChunkBytes = 32u << 20;
  std::vector<uint8_t> buf;
  for (const PendingTensor& t : tensors_) {
    const uint64_t padded = (t.nbytes + alignment_ - 1) / alignment_ * alignment_;
    if (t.rows) {
      ASSIGN_OR_RETURN(const uint64_t row_bytes, RowBytes(t.type, t.ne[0]));
      const int64_t n_rows = row_bytes == 0 ? 0 : static_cast<int64_t>(t.nbytes / row_bytes);
      const int64_t chunk_rows = std::max<int64_t>(1, static_cast<int64_t>(kChunkBytes / std::max<uint64_t>(row_bytes, 1)));
      for (int64_t r = 0; r < n_rows; r += chunk_rows) {
        const int64_t n = std::min(chunk_rows, n_rows - r);
        buf.assign(static_cast<size_t>(n) * row_bytes, 0);
        RETURN_IF_ERROR(t.rows(r, n, buf.data()).WithContext("tensor '" + t.name + "'"));
        RETURN_IF_ERROR(put(buf.data(), buf.size()));
      }
      buf.assign(padded - t.nbytes, 0);
      if (!buf.empty()) RETURN_IF_ERROR(put(buf.data(), buf.size()));
      continue;
    }
    buf.assign(padded, 0);
    RETURN_IF_ERROR(t.producer(buf.data(), t.nbytes).WithContext("tensor '" + t.name + "'"));
    RETURN_IF_ERROR(put(buf.data(), buf.size()));
  }
  return Status::Ok();
}

Status GgufWriter::WriteFile(const std::string& path) const {
  std::unique_ptr<FILE, int (*)(FILE*)> f(std::fopen(path.c_str(), "wb"), &std::fclose);
  if (!f) return IoError(StrFormat("%s: cannot create: %s", path.c_str(), std::strerror(errno)));
  RETURN_IF_ERROR(Emit([&](const void* p, size_t n) -> Status {
    if (std::fwrite(p, 1, n, f.get()) != n) {
      return IoError(StrFormat("%s: write failed: %s", path.c_str(), std::strerror(errno)));
    }
    return Status::Ok();
  }));
  if (std::fflush(f.get()) != 0) return IoError(path + ": flush failed");
  return Status::Ok();
}

Result<std::string> GgufWriter::WriteToString() const {
  std::string out;
  RETURN_IF_ERROR(Emit([&](const void* p, size_t n) -> Status {
    out.append(static_cast<const char*>(p), n);
    return Status::Ok();
  }));
  return out;
}

}  // namespace pocket
