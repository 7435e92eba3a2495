#include "formats/safetensors_reader.h"

#include <algorithm>
#include <limits>
#include <nlohmann/json.hpp>
#include <unordered_set>

namespace pocket {
namespace {

using json = nlohmann::json;

constexpr uint64_t kMaxHeaderBytes = 100u << 20;  // the format's own limit

}  // namespace

Result<DType> SafetensorsDType(const std::string& s) {
  static const std::pair<const char*, DType> kMap[] = {
      {"F32", DType::kF32},   {"F16", DType::kF16},   {"BF16", DType::kBF16}, {"F64", DType::kF64},
      {"I8", DType::kI8},     {"U8", DType::kU8},     {"I16", DType::kI16},   {"I32", DType::kI32},
      {"I64", DType::kI64},   {"BOOL", DType::kBool}, {"U16", DType::kU16},   {"U32", DType::kU32},
      {"U64", DType::kU64},
  };
  for (const auto& [name, t] : kMap) {
    if (s == name) return t;
  }
  return Unimplemented("unsupported safetensors dtype '" + s + "'");
}

Result<SafetensorsFile> SafetensorsFile::Open(const std::string& path) {
  auto mapped = MappedFile::Open(path);
  if (!mapped.ok()) return mapped.status();
  auto mapping = std::make_shared<MappedFile>(std::move(mapped).value());
  auto file = ParseBuffer(mapping->data(), mapping->size(), path);
  if (!file.ok()) return file.status();
  file->mapping_ = std::move(mapping);
  return file;
}

Result<SafetensorsFile> SafetensorsFile::ParseBuffer(const uint8_t* data, size_t size,
                                                     const std::string& name) {
  auto err = [&](const std::string& what) { return DataLoss(name + ": " + what); };
  SafetensorsFile f;
  f.path_ = name;
  f.file_size_ = size;
  if (size < 8) return err(StrFormat("file is %zu bytes, too short for a safetensors header", size));
  uint64_t header_len;
  std::memcpy(&header_len, data, 8);
  if (header_len > kMaxHeaderBytes) {
    return err(StrFormat("header length %llu exceeds the 100 MiB limit", (unsigned long long)header_len));
  }
  if (header_len > size - 8) {
    return err(StrFormat("header length %llu runs past the end of the %zu-byte file",
                         (unsigned long long)header_len, size));
  }
  const char* hbegin = reinterpret_cast<const char*>(data + 8);
  const std::string_view header(hbegin, static_cast<size_t>(header_len));
  if (!IsValidUtf8(header)) return err("header is not valid UTF-8");

  // Parse with a callback that records top-level keys so duplicates are caught (a plain parse
  // would silently keep the last one).
  std::unordered_set<std::string> top_keys;
  std::string duplicate;
  json::parser_callback_t cb = [&](int depth, json::parse_event_t event, json& parsed) {
    if (event == json::parse_event_t::key && depth == 1) {
      const std::string& k = parsed.get_ref<const std::string&>();
      if (!top_keys.insert(k).second && duplicate.empty()) duplicate = k;
    }
    return true;
  };
  json root = json::parse(header.begin(), header.end(), cb, /*allow_exceptions=*/false);
  if (root.is_discarded()) return err("header is not valid JSON");
  if (!root.is_object()) return err(std::string("header JSON is a ") + root.type_name() + ", expected an object");
  if (!duplicate.empty()) return err("duplicate tensor name '" + duplicate + "' in header");

  const uint64_t data_start = 8 + header_len;
  const uint64_t buffer_size = size - data_start;
  for (auto it = root.begin(); it != root.end(); ++it) {
    const std::string& key = it.key();
    const json& v = it.value();
    if (key == "__metadata__") {
      if (!v.is_object()) return err("__metadata__ is not an object");
      for (auto m = v.begin(); m != v.end(); ++m) {
        if (!m.value().is_string()) return err("__metadata__['" + m.key() + "'] is not a string");
        f.user_metadata_.emplace_back(m.key(), m.value().get<std::string>());
      }
      continue;
    }
    auto terr = [&](const std::string& what) { return err("tensor '" + key + "': " + what); };
    if (key.empty()) return err("empty tensor name");
    if (!v.is_object()) return terr("entry is not an object");
    const auto dt = v.find("dtype");
    const auto shape = v.find("shape");
    const auto offs = v.find("data_offsets");
    if (dt == v.end() || !dt->is_string()) return terr("missing or non-string 'dtype'");
    if (shape == v.end() || !shape->is_array()) return terr("missing or non-array 'shape'");
    if (offs == v.end() || !offs->is_array() || offs->size() != 2) {
      return terr("'data_offsets' must be an array of two integers");
    }
    TensorInfo t;
    t.name = key;
    auto dtype = SafetensorsDType(dt->get<std::string>());
    if (!dtype.ok()) return terr(dtype.status().message());
    t.type = *dtype;
    if (shape->size() > static_cast<size_t>(kMaxTensorDims)) {
      return terr(StrFormat("%zu dimensions, at most %d supported", shape->size(), kMaxTensorDims));
    }
    t.n_dims = static_cast<int>(shape->size());
    for (int d = 0; d < t.n_dims; ++d) {
      const json& dim = (*shape)[static_cast<size_t>(d)];
      if (!dim.is_number_unsigned() || dim.get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
        return terr(StrFormat("shape[%d] is not a non-negative integer", d));
      }
      t.ne[t.n_dims - 1 - d] = static_cast<int64_t>(dim.get<uint64_t>());  // reverse to ggml order
    }
    auto nbytes = TensorBytes(t.type, t.ne, t.n_dims);
    if (!nbytes.ok()) return terr(nbytes.status().message());
    t.nbytes = *nbytes;
    const json& b = (*offs)[0];
    const json& e = (*offs)[1];
    if (!b.is_number_unsigned() || !e.is_number_unsigned()) return terr("data_offsets are not non-negative integers");
    const uint64_t begin = b.get<uint64_t>(), end = e.get<uint64_t>();
    if (begin > end) return terr(StrFormat("data_offsets [%llu, %llu] are reversed", (unsigned long long)begin, (unsigned long long)end));
    if (end > buffer_size) {
      return terr(StrFormat("data_offsets end %llu is past the end of the %llu-byte data buffer (file truncated?)",
                            (unsigned long long)end, (unsigned long long)buffer_size));
    }
    if (end - begin != t.nbytes) {
      return terr(StrFormat("data_offsets cover %llu bytes but dtype %s and shape %s need %llu",
                            (unsigned long long)(end - begin), DTypeName(t.type), t.ShapeString().c_str(),
                            (unsigned long long)t.nbytes));
    }
    t.offset = data_start + begin;
    t.data = data + t.offset;
    f.tensors_.push_back(std::move(t));
  }
  std::vector<const TensorInfo*> order;
  for (const TensorInfo& t : f.tensors_) order.push_back(&t);
  std::sort(order.begin(), order.end(), [](const TensorInfo* a, const TensorInfo* b) { return a->offset < b->offset; });
  for (size_t i = 1; i < order.size(); ++i) {
    if (order[i - 1]->offset + order[i - 1]->nbytes > order[i]->offset) {
      return err("tensors '" + order[i - 1]->name + "' and '" + order[i]->name + "' overlap");
    }
  }
  // Keep file order stable and predictable for listing: by offset.
  std::sort(f.tensors_.begin(), f.tensors_.end(),
            [](const TensorInfo& a, const TensorInfo& b) { return a.offset < b.offset; });
  return f;
}

}  // namespace pocket
