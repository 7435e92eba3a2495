// Minimal streaming JSON writer for command output (no parsing; parsing uses nlohmann-json
// in the few files that need it, to keep that heavy header out of most translation units).
// Not thread-safe. Callers are responsible for well-formed nesting (checked in debug via depth).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace pocket {

class JsonWriter {
 public:
  explicit JsonWriter(bool pretty = true) : pretty_(pretty) {}

  JsonWriter& BeginObject();
  JsonWriter& EndObject();
  JsonWriter& BeginArray();
  JsonWriter& EndArray();
  JsonWriter& Key(std::string_view k);
  JsonWriter& String(std::string_view s);
  JsonWriter& Int(int64_t v);
  JsonWriter& Uint(uint64_t v);
  JsonWriter& Double(double v);
  JsonWriter& Bool(bool v);
  JsonWriter& Null();

  const std::string& str() const { return out_; }

  static std::string Escape(std::string_view s);

 private:
  void BeforeValue();
  void Newline();

  std::string out_;
  bool pretty_;
  std::vector<bool> first_;  // per open container: no element written yet
  bool after_key_ = false;
};

}  // namespace pocket
