#include "formats/gguf_reader.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <unordered_set>

namespace pocket {
namespace {

constexpr uint32_t kGgufMagic = 0x46554747;  // "GGUF" little-endian
constexpr int kMaxArrayDepth = 8;
constexpr uint64_t kMaxNameBytes = 1024;

// A read cursor over untrusted bytes. Every read checks the remaining length first.
class Cursor {
 public:
  Cursor(const uint8_t* data, size_t size) : data_(data), size_(size) {}
  size_t pos() const { return pos_; }
  size_t remaining() const { return size_ - pos_; }
  const uint8_t* here() const { return data_ + pos_; }

  template <typename T>
  bool Read(T* out) {
    if (remaining() < sizeof(T)) return false;
    std::memcpy(out, data_ + pos_, sizeof(T));
    pos_ += sizeof(T);
    return true;
  }
  bool Skip(uint64_t n) {
    if (n > remaining()) return false;
    pos_ += static_cast<size_t>(n);
    return true;
  }

 private:
  const uint8_t* data_;
  size_t size_;
  size_t pos_ = 0;
};

class Parser {
 public:
  Parser(const uint8_t* data, size_t size, const std::string& name, Metadata* md)
      : cur_(data, size), name_(name), md_(md) {}

  Status Error(const std::string& what) const {
    return DataLoss(StrFormat("%s: %s", name_.c_str(), what.c_str()));
  }
  Status Truncated(const std::string& what) const {
    return Error(StrFormat("file truncated while reading %s at offset %zu (file has %zu bytes)",
                           what.c_str(), cur_.pos(), cur_.pos() + cur_.remaining()));
  }

  Status ReadString(std::string_view* out, const std::string& what) {
    uint64_t len;
    if (!cur_.Read(&len)) return Truncated(what + " length");
    if (len > cur_.remaining()) {
      return Error(StrFormat("%s: string length %llu exceeds the %zu bytes left at offset %zu",
                             what.c_str(), (unsigned long long)len, cur_.remaining(), cur_.pos()));
    }
    *out = std::string_view(reinterpret_cast<const char*>(cur_.here()), static_cast<size_t>(len));
    cur_.Skip(len);
    return Status::Ok();
  }

  Status ReadValue(ValueType type, const std::string& key, int depth, Value* out) {
    if (type == ValueType::kString) {
      std::string_view s;
      RETURN_IF_ERROR(ReadString(&s, "key '" + key + "' value"));
      *out = Value::String(s);
      return Status::Ok();
    }
    if (type == ValueType::kArray) return ReadArray(key, depth, out);
    const size_t sz = ValueTypeSize(type);
    if (sz == 0) {
      return Error(StrFormat("key '%s': unknown value type %d", key.c_str(), static_cast<int>(type)));
    }
    if (cur_.remaining() < sz) return Truncated("key '" + key + "' value");
    if (type == ValueType::kBool && *cur_.here() > 1) {
      return Error(StrFormat("key '%s': boolean byte is %u, expected 0 or 1", key.c_str(), *cur_.here()));
    }
    *out = Value::Scalar(type, cur_.here());
    cur_.Skip(sz);
    return Status::Ok();
  }

  Status ReadArray(const std::string& key, int depth, Value* out) {
    if (depth >= kMaxArrayDepth) {
      return Error(StrFormat("key '%s': arrays nested deeper than %d levels", key.c_str(), kMaxArrayDepth));
    }
    int32_t raw_type;
    uint64_t count;
    if (!cur_.Read(&raw_type)) return Truncated("key '" + key + "' array type");
    if (!cur_.Read(&count)) return Truncated("key '" + key + "' array length");
    const ValueType elem = static_cast<ValueType>(raw_type);
    if (raw_type < 0 || raw_type > 12) {
      return Error(StrFormat("key '%s': unknown array element type %d", key.c_str(), raw_type));
    }
    if (elem == ValueType::kString) {
      // Each string needs at least its 8-byte length.
      if (count > cur_.remaining() / 8) {
        return Error(StrFormat("key '%s': array of %llu strings cannot fit in the %zu bytes left",
                               key.c_str(), (unsigned long long)count, cur_.remaining()));
      }
      std::vector<std::string_view> strings;
      strings.reserve(static_cast<size_t>(count));
      for (uint64_t i = 0; i < count; ++i) {
        std::string_view s;
        RETURN_IF_ERROR(ReadString(&s, StrFormat("key '%s' element %llu", key.c_str(),
                                                 (unsigned long long)i)));
        strings.push_back(s);
      }
      *out = Value::StringArray(std::move(strings));
      return Status::Ok();
    }
    if (elem == ValueType::kArray) {
      // Each nested array needs at least a 4-byte type and an 8-byte count.
      if (count > cur_.remaining() / 12) {
        return Error(StrFormat("key '%s': array of %llu arrays cannot fit in the %zu bytes left",
                               key.c_str(), (unsigned long long)count, cur_.remaining()));
      }
      std::vector<Value> items;
      items.reserve(static_cast<size_t>(count));
      for (uint64_t i = 0; i < count; ++i) {
        Value v;
        RETURN_IF_ERROR(ReadArray(key, depth + 1, &v));
        items.push_back(std::move(v));
      }
      *out = Value::NestedArray(std::move(items));
      return Status::Ok();
    }
    const size_t sz = ValueTypeSize(elem);
    if (count > cur_.remaining() / sz) {
      return Error(StrFormat("key '%s': array of %llu %s values needs more than the %zu bytes left",
                             key.c_str(), (unsigned long long)count, ValueTypeName(elem),
                             cur_.remaining()));
    }
    if (elem == ValueType::kBool) {
      for (uint64_t i = 0; i < count; ++i) {
        if (cur_.here()[i] > 1) {
          return Error(StrFormat("key '%s': boolean element %llu is %u, expected 0 or 1", key.c_str(),
                                 (unsigned long long)i, cur_.here()[i]));
        }
      }
    }
    *out = Value::ScalarArray(elem, count, cur_.here());
    cur_.Skip(count * sz);
    return Status::Ok();
  }

  Cursor cur_;
  const std::string& name_;
  Metadata* md_;
};

}  // namespace

std::string TensorInfo::ShapeString() const {
  std::string s = "[";
  for (int i = 0; i < n_dims; ++i) {
    if (i) s += ", ";
    s += std::to_string(ne[i]);
  }
  return s + "]";
}

Result<GgufFile> GgufFile::Open(const std::string& path) {
  auto mapped = MappedFile::Open(path);
  if (!mapped.ok()) return mapped.status();
  auto mapping = std::make_shared<MappedFile>(std::move(mapped).value());
  auto file = ParseBuffer(mapping->data(), mapping->size(), path);
  if (!file.ok()) return file.status();
  file->mapping_ = std::move(mapping);
  return file;
}

Result<GgufFile> GgufFile::ParseBuffer(const uint8_t* data, size_t size, const std::string& name) {
  GgufFile f;
  f.path_ = name;
  f.file_size_ = size;
  f.metadata_ = std::make_unique<Metadata>();
  Parser p(data, size, name, f.metadata_.get());

  uint32_t magic;
  if (!p.cur_.Read(&magic)) return p.Error("file is too short to be a GGUF (no magic)");
  if (magic != kGgufMagic) {
    return p.Error(StrFormat("bad magic 0x%08x, expected \"GGUF\" (0x%08x): not a GGUF file", magic, kGgufMagic));
  }
  if (!p.cur_.Read(&f.version_)) return p.Truncated("version");
  if ((f.version_ & 0xFFFFu) == 0) {
    return p.Error(StrFormat("version field 0x%08x looks byte-swapped: big-endian GGUF files are not supported", f.version_));
  }
  if (f.version_ == 1) return p.Error("GGUF version 1 is obsolete and not supported (expected 2 or 3)");
  if (f.version_ > 3) return p.Error(StrFormat("unsupported GGUF version %u (expected 2 or 3)", f.version_));

  int64_t n_tensors, n_kv;
  if (!p.cur_.Read(&n_tensors)) return p.Truncated("tensor count");
  if (!p.cur_.Read(&n_kv)) return p.Truncated("key/value count");
  if (n_tensors < 0) return p.Error(StrFormat("negative tensor count %lld", (long long)n_tensors));
  if (n_kv < 0) return p.Error(StrFormat("negative key/value count %lld", (long long)n_kv));
  // Minimal encoded sizes: a key/value takes >= 8+1+4+1 bytes, a tensor info >= 8+1+4+8+4+8.
  if (static_cast<uint64_t>(n_kv) > p.cur_.remaining() / 14) {
    return p.Error(StrFormat("key/value count %lld cannot fit in a %zu-byte file", (long long)n_kv, size));
  }
  if (static_cast<uint64_t>(n_tensors) > p.cur_.remaining() / 33) {
    return p.Error(StrFormat("tensor count %lld cannot fit in a %zu-byte file", (long long)n_tensors, size));
  }

  for (int64_t i = 0; i < n_kv; ++i) {
    std::string_view key_view;
    RETURN_IF_ERROR(p.ReadString(&key_view, StrFormat("key #%lld", (long long)i)));
    std::string key(key_view);
    if (key.empty()) return p.Error(StrFormat("key #%lld is empty", (long long)i));
    if (!IsValidUtf8(key)) return p.Error(StrFormat("key #%lld is not valid UTF-8", (long long)i));
    int32_t raw_type;
    if (!p.cur_.Read(&raw_type)) return p.Truncated("type of key '" + key + "'");
    if (raw_type < 0 || raw_type > 12) {
      return p.Error(StrFormat("key '%s': unknown value type %d", key.c_str(), raw_type));
    }
    Value v;
    RETURN_IF_ERROR(p.ReadValue(static_cast<ValueType>(raw_type), key, 0, &v));
    if (!f.metadata_->Add(key, std::move(v))) return p.Error("duplicate key '" + key + "'");
  }

  if (const Value* a = f.metadata_->Find("general.alignment")) {
    auto av = a->AsInt();
    if (a->type() != ValueType::kU32 || !av || *av == 0 || (*av & (*av - 1)) != 0) {
      return p.Error(StrFormat("general.alignment must be a power-of-two u32, got %s %s",
                               ValueTypeName(a->type()), a->ToString().c_str()));
    }
    f.alignment_ = static_cast<uint64_t>(*av);
  }

  f.tensors_.reserve(static_cast<size_t>(n_tensors));
  std::unordered_set<std::string_view> names;
  for (int64_t i = 0; i < n_tensors; ++i) {
    TensorInfo t;
    std::string_view name_view;
    RETURN_IF_ERROR(p.ReadString(&name_view, StrFormat("tensor #%lld name", (long long)i)));
    if (name_view.empty() || name_view.size() > kMaxNameBytes) {
      return p.Error(StrFormat("tensor #%lld: name length %zu is not in 1..%llu", (long long)i,
                               name_view.size(), (unsigned long long)kMaxNameBytes));
    }
    t.name = std::string(name_view);
    if (!IsValidUtf8(t.name)) return p.Error(StrFormat("tensor #%lld: name is not valid UTF-8", (long long)i));
    if (!names.insert(name_view).second) return p.Error("duplicate tensor name '" + t.name + "'");
    uint32_t n_dims;
    if (!p.cur_.Read(&n_dims)) return p.Truncated("dimensions of tensor '" + t.name + "'");
    if (n_dims > kMaxTensorDims) {
      return p.Error(StrFormat("tensor '%s': %u dimensions, at most %d supported", t.name.c_str(), n_dims, kMaxTensorDims));
    }
    t.n_dims = static_cast<int>(n_dims);
    for (uint32_t d = 0; d < n_dims; ++d) {
      if (!p.cur_.Read(&t.ne[d])) return p.Truncated("shape of tensor '" + t.name + "'");
    }
    int32_t type_id;
    if (!p.cur_.Read(&type_id)) return p.Truncated("type of tensor '" + t.name + "'");
    const DTypeTraits* traits = GetDTypeTraitsById(type_id);
    if (traits == nullptr) {
      return p.Error(StrFormat("tensor '%s': unknown ggml type id %d", t.name.c_str(), type_id));
    }
    t.type = static_cast<DType>(type_id);
    uint64_t rel_offset;
    if (!p.cur_.Read(&rel_offset)) return p.Truncated("offset of tensor '" + t.name + "'");
    auto nbytes = TensorBytes(t.type, t.ne, t.n_dims);
    if (!nbytes.ok()) {
      return p.Error(StrFormat("tensor '%s' (%s, shape %s): %s", t.name.c_str(), traits->name,
                               t.ShapeString().c_str(), nbytes.status().message().c_str()));
    }
    t.nbytes = *nbytes;
    if (rel_offset % f.alignment_ != 0) {
      return p.Error(StrFormat("tensor '%s': data offset %llu is not a multiple of the alignment %llu",
                               t.name.c_str(), (unsigned long long)rel_offset, (unsigned long long)f.alignment_));
    }
    t.offset = rel_offset;  // made absolute below, once the data section start is known
    f.tensors_.push_back(std::move(t));
  }

  const uint64_t header_end = p.cur_.pos();
  const uint64_t data_start = (header_end + f.alignment_ - 1) / f.alignment_ * f.alignment_;
  if (f.tensors_.empty()) {
    f.data_offset_ = std::min<uint64_t>(data_start, size);
    return f;
  }
  if (data_start > size) {
    return p.Error(StrFormat("data section would start at offset %llu, past the end of the %zu-byte file",
                             (unsigned long long)data_start, size));
  }
  f.data_offset_ = data_start;
  const uint64_t data_size = size - data_start;
  for (TensorInfo& t : f.tensors_) {
    if (t.offset > data_size || t.nbytes > data_size - t.offset) {
      return p.Error(StrFormat("tensor '%s' (%s, shape %s): data [%llu, +%llu) runs past the end of the "
                               "data section (%llu bytes); the file is truncated or corrupt",
                               t.name.c_str(), DTypeName(t.type), t.ShapeString().c_str(),
                               (unsigned long long)t.offset, (unsigned long long)t.nbytes,
                               (unsigned long long)data_size));
    }
    t.offset += data_start;
    t.data = data + t.offset;
  }
  // No two tensors may share bytes.
  std::vector<const TensorInfo*> order;
  order.reserve(f.tensors_.size());
  for (const TensorInfo& t : f.tensors_) order.push_back(&t);
  std::sort(order.begin(), order.end(),
            [](const TensorInfo* a, const TensorInfo* b) { return a->offset < b->offset; });
  for (size_t i = 1; i < order.size(); ++i) {
    const TensorInfo* prev = order[i - 1];
    if (prev->nbytes > 0 && prev->offset + prev->nbytes > order[i]->offset) {
      return p.Error(StrFormat("tensors '%s' and '%s' overlap (offsets %llu+%llu and %llu)",
                               prev->name.c_str(), order[i]->name.c_str(),
                               (unsigned long long)prev->offset, (unsigned long long)prev->nbytes,
                               (unsigned long long)order[i]->offset));
    }
  }
  return f;
}

Result<std::vector<std::string>> GgufSplitPaths(const std::string& path) {
  // Matches "<prefix>-NNNNN-of-MMMMM.gguf".
  static constexpr char kSuffix[] = ".gguf";
  const size_t tail = 5 + 1 + 2 + 1 + 5 + 5;  // "NNNNN-of-MMMMM.gguf"
  if (path.size() < tail + 1 || path.compare(path.size() - 5, 5, kSuffix) != 0) return std::vector<std::string>{path};
  const std::string t = path.substr(path.size() - tail);
  if (path[path.size() - tail - 1] != '-' || t.compare(5, 4, "-of-") != 0) return std::vector<std::string>{path};
  for (int i : {0, 1, 2, 3, 4, 9, 10, 11, 12, 13}) {
    if (t[static_cast<size_t>(i)] < '0' || t[static_cast<size_t>(i)] > '9') return std::vector<std::string>{path};
  }
  const int count = std::stoi(t.substr(9, 5));
  const int index = std::stoi(t.substr(0, 5));
  if (count < 1 || index < 1 || index > count) {
    return InvalidArgument(StrFormat("%s: split index %d of %d is not valid", path.c_str(), index, count));
  }
  const std::string prefix = path.substr(0, path.size() - tail - 1);
  std::vector<std::string> out;
  for (int i = 1; i <= count; ++i) {
    char buf[32];
    std::snprintf(buf, sizeof(buf), "-%05d-of-%05d.gguf", i, count);
    out.push_back(prefix + buf);
  }
  return out;
}

}  // namespace pocket
