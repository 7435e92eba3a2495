// Typed key/value metadata shared by every file format.
//
// GGUF key/values are stored as-is ("gemma4.block_count", "tokenizer.ggml.tokens"). JSON files
// (HF config.json) are flattened with dotted paths ("text_config.hidden_size",
// "text_config.rope_parameters.full_attention.rope_theta"). Strings and scalar arrays of a GGUF
// point into the file mapping (zero copy); the Metadata object must not outlive the file that
// backs it. Values created from JSON are owned by the Metadata's own arena.
//
// Not thread-safe for mutation; concurrent reads are fine.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "base/status.h"

namespace pocket {

// Ids 0..12 match GGUF's value types.
enum class ValueType : int32_t {
  kU8 = 0, kI8 = 1, kU16 = 2, kI16 = 3, kU32 = 4, kI32 = 5, kF32 = 6, kBool = 7,
  kString = 8, kArray = 9, kU64 = 10, kI64 = 11, kF64 = 12,
  kNull = 100,  // JSON null
};

const char* ValueTypeName(ValueType t);
// Size of a fixed-size scalar type; 0 for string/array/null.
size_t ValueTypeSize(ValueType t);
bool IsIntegerType(ValueType t);
bool IsFloatType(ValueType t);

class Value {
 public:
  ValueType type() const { return type_; }
  bool is_array() const { return type_ == ValueType::kArray; }
  bool is_null() const { return type_ == ValueType::kNull; }

  // Scalars (an integer converts to a float; a float converts to an integer only if whole).
  std::optional<int64_t> AsInt() const;
  std::optional<double> AsDouble() const;
  std::optional<bool> AsBool() const;
  std::optional<std::string_view> AsString() const;

  // Arrays.
  ValueType elem_type() const { return elem_type_; }
  uint64_t size() const { return count_; }
  std::optional<int64_t> IntAt(uint64_t i) const;
  std::optional<double> DoubleAt(uint64_t i) const;
  std::string_view StringAt(uint64_t i) const { return strings_[i]; }
  const Value& ItemAt(uint64_t i) const { return items_[i]; }
  const std::vector<std::string_view>& strings() const { return strings_; }
  // Raw little-endian packed elements of a scalar array.
  const uint8_t* raw() const { return raw_; }

  // Short human-readable rendering (arrays abbreviated).
  std::string ToString(size_t max_items = 8) const;

  // Constructors used by the parsers.
  static Value Scalar(ValueType t, const void* bytes);  // bytes: little-endian payload
  static Value Int(int64_t v);
  static Value Double(double v);
  static Value Bool(bool v);
  static Value Null();
  static Value String(std::string_view s);  // s must outlive the value
  static Value ScalarArray(ValueType elem, uint64_t count, const uint8_t* raw);
  static Value StringArray(std::vector<std::string_view> strings);
  static Value NestedArray(std::vector<Value> items);

 private:
  ValueType type_ = ValueType::kNull;
  ValueType elem_type_ = ValueType::kNull;
  uint64_t bits_ = 0;  // scalar payload (zero-extended little-endian bytes)
  std::string_view str_;
  uint64_t count_ = 0;
  const uint8_t* raw_ = nullptr;
  std::vector<std::string_view> strings_;
  std::vector<Value> items_;
};

class Metadata {
 public:
  Metadata() = default;
  Metadata(Metadata&&) = default;
  Metadata& operator=(Metadata&&) = default;
  Metadata(const Metadata&) = delete;
  Metadata& operator=(const Metadata&) = delete;

  // Returns false if the key already exists (the value is not stored).
  bool Add(std::string key, Value value);
  const Value* Find(std::string_view key) const;
  bool Has(std::string_view key) const { return Find(key) != nullptr; }
  size_t size() const { return entries_.size(); }
  const std::vector<std::pair<std::string, Value>>& entries() const { return entries_; }

  // Owned storage for values whose bytes do not live in a file mapping.
  std::string_view Intern(std::string s);
  const uint8_t* InternBytes(std::vector<uint8_t> bytes);

  // Typed getters: NotFound if absent, InvalidArgument naming the key on a type mismatch.
  Result<int64_t> GetInt(std::string_view key) const;
  Result<double> GetDouble(std::string_view key) const;
  Result<bool> GetBool(std::string_view key) const;
  Result<std::string> GetString(std::string_view key) const;
  // Scalar or array of integers → vector (a scalar is broadcast to `n` entries when n > 0).
  Result<std::vector<int64_t>> GetIntArray(std::string_view key, size_t n = 0) const;
  Result<std::vector<double>> GetDoubleArray(std::string_view key) const;
  Result<std::vector<std::string>> GetStringArray(std::string_view key) const;

  int64_t GetIntOr(std::string_view key, int64_t fallback) const;
  double GetDoubleOr(std::string_view key, double fallback) const;
  bool GetBoolOr(std::string_view key, bool fallback) const;
  std::string GetStringOr(std::string_view key, std::string fallback) const;

 private:
  std::vector<std::pair<std::string, Value>> entries_;
  std::unordered_map<std::string, size_t> index_;
  std::deque<std::string> owned_strings_;
  std::deque<std::vector<uint8_t>> owned_bytes_;
};

// True if `s` is well-formed UTF-8 (no overlongs, surrogates or code points past U+10FFFF).
bool IsValidUtf8(std::string_view s);

}  // namespace pocket
