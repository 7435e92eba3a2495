#include "formats/metadata.h"

#include <cmath>
#include <cstring>

namespace pocket {

const char* ValueTypeName(ValueType t) {
  switch (t) {
    case ValueType::kU8: return "u8";
    case ValueType::kI8: return "i8";
    case ValueType::kU16: return "u16";
    case ValueType::kI16: return "i16";
    case ValueType::kU32: return "u32";
    case ValueType::kI32: return "i32";
    case ValueType::kF32: return "f32";
    case ValueType::kBool: return "bool";
    case ValueType::kString: return "string";
    case ValueType::kArray: return "array";
    case ValueType::kU64: return "u64";
    case ValueType::kI64: return "i64";
    case ValueType::kF64: return "f64";
    case ValueType::kNull: return "null";
  }
  return "?";
}

size_t ValueTypeSize(ValueType t) {
  switch (t) {
    case ValueType::kU8: case ValueType::kI8: case ValueType::kBool: return 1;
    case ValueType::kU16: case ValueType::kI16: return 2;
    case ValueType::kU32: case ValueType::kI32: case ValueType::kF32: return 4;
    case ValueType::kU64: case ValueType::kI64: case ValueType::kF64: return 8;
    default: return 0;
  }
}

bool IsIntegerType(ValueType t) {
  switch (t) {
    case ValueType::kU8: case ValueType::kI8: case ValueType::kU16: case ValueType::kI16:
    case ValueType::kU32: case ValueType::kI32: case ValueType::kU64: case ValueType::kI64:
      return true;
    default:
      return false;
  }
}

bool IsFloatType(ValueType t) { return t == ValueType::kF32 || t == ValueType::kF64; }

namespace {

// Decodes one little-endian scalar of type t to int64 (if integer/bool) or double.
std::optional<int64_t> DecodeInt(ValueType t, const uint8_t* p) {
  switch (t) {
    case ValueType::kU8: case ValueType::kBool: return p[0];
    case ValueType::kI8: return static_cast<int8_t>(p[0]);
    case ValueType::kU16: { uint16_t v; std::memcpy(&v, p, 2); return v; }
    case ValueType::kI16: { int16_t v; std::memcpy(&v, p, 2); return v; }
    case ValueType::kU32: { uint32_t v; std::memcpy(&v, p, 4); return v; }
    case ValueType::kI32: { int32_t v; std::memcpy(&v, p, 4); return v; }
    case ValueType::kI64: { int64_t v; std::memcpy(&v, p, 8); return v; }
    case ValueType::kU64: {
      uint64_t v;
      std::memcpy(&v, p, 8);
      if (v > static_cast<uint64_t>(INT64_MAX)) return std::nullopt;
      return static_cast<int64_t>(v);
    }
    case ValueType::kF32: case ValueType::kF64: {
      double d;
      if (t == ValueType::kF32) { float f; std::memcpy(&f, p, 4); d = f; }
      else { std::memcpy(&d, p, 8); }
      if (!std::isfinite(d) || d != std::floor(d) || std::fabs(d) > 9.0e18) return std::nullopt;
      return static_cast<int64_t>(d);
    }
    default: return std::nullopt;
  }
}

std::optional<double> DecodeDouble(ValueType t, const uint8_t* p) {
  if (t == ValueType::kF32) { float f; std::memcpy(&f, p, 4); return f; }
  if (t == ValueType::kF64) { double d; std::memcpy(&d, p, 8); return d; }
  if (t == ValueType::kU64) { uint64_t v; std::memcpy(&v, p, 8); return static_cast<double>(v); }
  if (auto i = DecodeInt(t, p)) return static_cast<double>(*i);
  return std::nullopt;
}

}  // namespace

Value Value::Scalar(ValueType t, const void* bytes) {
  Value v;
  v.type_ = t;
  std::memcpy(&v.bits_, bytes, ValueTypeSize(t));
  return v;
}
Value Value::Int(int64_t i) { return Scalar(ValueType::kI64, &i); }
Value Value::Double(double d) { return Scalar(ValueType::kF64, &d); }
Value Value::Bool(bool b) {
  const uint8_t u = b ? 1 : 0;
  return Scalar(ValueType::kBool, &u);
}
Value Value::Null() { return Value(); }
Value Value::String(std::string_view s) {
  Value v;
  v.type_ = ValueType::kString;
  v.str_ = s;
  return v;
}
Value Value::ScalarArray(ValueType elem, uint64_t count, const uint8_t* raw) {
  Value v;
  v.type_ = ValueType::kArray;
  v.elem_type_ = elem;
  v.count_ = count;
  v.raw_ = raw;
  return v;
}
Value Value::StringArray(std::vector<std::string_view> strings) {
  Value v;
  v.type_ = ValueType::kArray;
  v.elem_type_ = ValueType::kString;
  v.count_ = strings.size();
  v.strings_ = std::move(strings);
  return v;
}
Value Value::NestedArray(std::vector<Value> items) {
  Value v;
  v.type_ = ValueType::kArray;
  v.elem_type_ = ValueType::kArray;
  v.count_ = items.size();
  v.items_ = std::move(items);
  return v;
}

std::optional<int64_t> Value::AsInt() const {
  if (ValueTypeSize(type_) == 0) return std::nullopt;
  return DecodeInt(type_, reinterpret_cast<const uint8_t*>(&bits_));
}
std::optional<double> Value::AsDouble() const {
  if (ValueTypeSize(type_) == 0) return std::nullopt;
  return DecodeDouble(type_, reinterpret_cast<const uint8_t*>(&bits_));
}
std::optional<bool> Value::AsBool() const {
  if (type_ == ValueType::kBool) return bits_ != 0;
  return std::nullopt;
}
std::optional<std::string_view> Value::AsString() const {
  if (type_ == ValueType::kString) return str_;
  return std::nullopt;
}
std::optional<int64_t> Value::IntAt(uint64_t i) const {
  if (type_ != ValueType::kArray || i >= count_) return std::nullopt;
  if (elem_type_ == ValueType::kArray) return items_[i].AsInt();
  const size_t sz = ValueTypeSize(elem_type_);
  if (sz == 0 || raw_ == nullptr) return std::nullopt;
  return DecodeInt(elem_type_, raw_ + i * sz);
}
std::optional<double> Value::DoubleAt(uint64_t i) const {
  if (type_ != ValueType::kArray || i >= count_) return std::nullopt;
  if (elem_type_ == ValueType::kArray) return items_[i].AsDouble();
  const size_t sz = ValueTypeSize(elem_type_);
  if (sz == 0 || raw_ == nullptr) return std::nullopt;
  return DecodeDouble(elem_type_, raw_ + i * sz);
}

std::string Value::ToString(size_t max_items) const {
  switch (type_) {
    case ValueType::kNull: return "null";
    case ValueType::kString: {
      std::string s(str_.substr(0, 120));
      if (str_.size() > 120) s += "...";
      return "\"" + s + "\"";
    }
    case ValueType::kBool: return bits_ ? "true" : "false";
    case ValueType::kF32: case ValueType::kF64: return StrFormat("%g", *AsDouble());
    case ValueType::kU64: {
      uint64_t u;
      std::memcpy(&u, &bits_, 8);
      return StrFormat("%llu", static_cast<unsigned long long>(u));
    }
    case ValueType::kArray: {
      std::string s = "[";
      const uint64_t n = std::min<uint64_t>(count_, max_items);
      for (uint64_t i = 0; i < n; ++i) {
        if (i) s += ", ";
        if (elem_type_ == ValueType::kString) {
          s += "\"" + std::string(strings_[i].substr(0, 40)) + "\"";
        } else if (elem_type_ == ValueType::kArray) {
          s += items_[i].ToString(max_items);
        } else if (IsFloatType(elem_type_)) {
          s += StrFormat("%g", *DoubleAt(i));
        } else if (auto v = IntAt(i)) {
          s += StrFormat("%lld", static_cast<long long>(*v));
        } else {
          s += "?";
        }
      }
      if (count_ > n) s += StrFormat(", ... (%llu items)", static_cast<unsigned long long>(count_));
      return s + "]";
    }
    default: {
      auto v = AsInt();
      return v ? StrFormat("%lld", static_cast<long long>(*v)) : "?";
    }
  }
}

bool Metadata::Add(std::string key, Value value) {
  if (index_.count(key)) return false;
  index_.emplace(key, entries_.size());
  entries_.emplace_back(std::move(key), std::move(value));
  return true;
}

const Value* Metadata::Find(std::string_view key) const {
  auto it = index_.find(std::string(key));
  return it == index_.end() ? nullptr : &entries_[it->second].second;
}

std::string_view Metadata::Intern(std::string s) {
  owned_strings_.push_back(std::move(s));
  return owned_strings_.back();
}

const uint8_t* Metadata::InternBytes(std::vector<uint8_t> bytes) {
  owned_bytes_.push_back(std::move(bytes));
  return owned_bytes_.back().data();
}

namespace {
Status Missing(std::string_view key) { return NotFound("missing metadata key '" + std::string(key) + "'"); }
Status WrongType(std::string_view key, const char* want, const Value& v) {
  return InvalidArgument(StrFormat("metadata key '%.*s': expected %s, got %s", (int)key.size(),
                                   key.data(), want, ValueTypeName(v.type())));
}
}  // namespace

Result<int64_t> Metadata::GetInt(std::string_view key) const {
  const Value* v = Find(key);
  if (!v) return Missing(key);
  if (auto i = v->AsInt()) return *i;
  return WrongType(key, "an integer", *v);
}

Result<double> Metadata::GetDouble(std::string_view key) const {
  const Value* v = Find(key);
  if (!v) return Missing(key);
  if (auto d = v->AsDouble()) return *d;
  return WrongType(key, "a number", *v);
}

Result<bool> Metadata::GetBool(std::string_view key) const {
  const Value* v = Find(key);
  if (!v) return Missing(key);
  if (auto b = v->AsBool()) return *b;
  if (auto i = v->AsInt(); i && (*i == 0 || *i == 1)) return *i == 1;
  return WrongType(key, "a boolean", *v);
}

Result<std::string> Metadata::GetString(std::string_view key) const {
  const Value* v = Find(key);
  if (!v) return Missing(key);
  if (auto s = v->AsString()) return std::string(*s);
  return WrongType(key, "a string", *v);
}

Result<std::vector<int64_t>> Metadata::GetIntArray(std::string_view key, size_t n) const {
  const Value* v = Find(key);
  if (!v) return Missing(key);
  std::vector<int64_t> out;
  if (!v->is_array()) {
    auto i = v->AsInt();
    if (!i) return WrongType(key, "an integer or integer array", *v);
    out.assign(n > 0 ? n : 1, *i);
    return out;
  }
  out.reserve(v->size());
  for (uint64_t k = 0; k < v->size(); ++k) {
    auto i = v->IntAt(k);
    if (!i) return InvalidArgument(StrFormat("metadata key '%.*s': element %llu is not an integer",
                                             (int)key.size(), key.data(), (unsigned long long)k));
    out.push_back(*i);
  }
  if (n > 0 && out.size() != n) {
    return InvalidArgument(StrFormat("metadata key '%.*s': expected %zu entries, got %zu",
                                     (int)key.size(), key.data(), n, out.size()));
  }
  return out;
}

Result<std::vector<double>> Metadata::GetDoubleArray(std::string_view key) const {
  const Value* v = Find(key);
  if (!v) return Missing(key);
  if (!v->is_array()) return WrongType(key, "an array", *v);
  std::vector<double> out;
  out.reserve(v->size());
  for (uint64_t k = 0; k < v->size(); ++k) {
    auto d = v->DoubleAt(k);
    if (!d) return InvalidArgument(StrFormat("metadata key '%.*s': element %llu is not a number",
                                             (int)key.size(), key.data(), (unsigned long long)k));
    out.push_back(*d);
  }
  return out;
}

Result<std::vector<std::string>> Metadata::GetStringArray(std::string_view key) const {
  const Value* v = Find(key);
  if (!v) return Missing(key);
  if (!v->is_array() || v->elem_type() != ValueType::kString) {
    return WrongType(key, "an array of strings", *v);
  }
  return std::vector<std::string>(v->strings().begin(), v->strings().end());
}

int64_t Metadata::GetIntOr(std::string_view key, int64_t fallback) const {
  const Value* v = Find(key);
  if (!v) return fallback;
  auto i = v->AsInt();
  return i ? *i : fallback;
}
double Metadata::GetDoubleOr(std::string_view key, double fallback) const {
  const Value* v = Find(key);
  if (!v) return fallback;
  auto d = v->AsDouble();
  return d ? *d : fallback;
}
bool Metadata::GetBoolOr(std::string_view key, bool fallback) const {
  auto r = GetBool(key);
  return r.ok() ? *r : fallback;
}
std::string Metadata::GetStringOr(std::string_view key, std::string fallback) const {
  const Value* v = Find(key);
  if (!v) return fallback;
  auto s = v->AsString();
  return s ? std::string(*s) : fallback;
}

bool IsValidUtf8(std::string_view s) {
  const auto* p = reinterpret_cast<const uint8_t*>(s.data());
  size_t i = 0, n = s.size();
  while (i < n) {
    const uint8_t c = p[i];
    if (c < 0x80) { ++i; continue; }
    int len;
    uint32_t cp;
    if ((c & 0xE0) == 0xC0) { len = 2; cp = c & 0x1F; }
    else if ((c & 0xF0) == 0xE0) { len = 3; cp = c & 0x0F; }
    else if ((c & 0xF8) == 0xF0) { len = 4; cp = c & 0x07; }
    else return false;
    if (i + len > n) return false;
    for (int k = 1; k < len; ++k) {
      if ((p[i + k] & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (p[i + k] & 0x3F);
    }
    if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000)) return false;
    if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += len;
  }
  return true;
}

}  // namespace pocket
