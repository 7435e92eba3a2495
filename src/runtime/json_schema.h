// JSON-schema-constrained output (OpenAI's response_format json_schema): a schema is compiled
// into nodes, and SchemaPrefix tracks a growing document against it on top of JsonPrefix's
// syntax checking, so a TokenFilter can mask every token that would leave the schema.
//
// Supported keywords: type (string or array of: object, array, string, number, integer,
// boolean, null), properties, required, additionalProperties (false), items, enum, const,
// anyOf, minItems, maxItems; title and description are ignored. Any other keyword is an
// error naming it. Limits: enum/const constrain scalar values, which are then written in
// compact form; for anyOf the first alternative whose type fits the value's first character
// is followed; with additionalProperties:false keys are plain (no escapes).
//
// Values are small and copied per candidate token; not thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "base/status.h"
#include "runtime/json_constraint.h"

namespace pocket {

struct SchemaNode {
  uint32_t types = 0x7F;  // bit per JSON type; see json_schema.cc
  std::vector<std::pair<std::string, int>> properties;
  std::vector<std::string> required;
  bool additional = true;
  int items = -1;
  int64_t min_items = 0, max_items = -1;
  std::vector<std::string> enum_values;  // compact serializations
  std::vector<int> any_of;
};

struct CompiledSchema {
  std::vector<SchemaNode> nodes;  // nodes[0] is the root
};

// Parses and compiles a schema (JSON text). InvalidArgument names the unsupported keyword or
// the bad value, with its JSON path.
Result<std::shared_ptr<const CompiledSchema>> CompileJsonSchema(const std::string& schema_json);

class SchemaPrefix {
 public:
  explicit SchemaPrefix(std::shared_ptr<const CompiledSchema> schema);
  bool Feed(char c);
  bool Feed(const std::string& s);
  bool complete() const { return syntax_.complete(); }
  // The shortest text found that completes the document validly.
  std::string Completion() const;

 private:
  struct Frame {
    int node = -1;       // -1: unconstrained
    char kind = '{';
    uint64_t seen = 0;   // properties present (bit i = properties[i])
    int64_t count = 0;   // array items
    int key_prop = -1;   // property of the current key (-1: none / additional)
    std::string key;     // key being read
  };
  int ResolveNode(int node, char first) const;
  int ChildNode() const;
  bool StartValue(int node, char c);
  bool EndScalar();
  bool ScalarTextAllowed() const;  // the scalar read so far can still match its enum
  bool Accepts(int node, char first) const;
  std::string MinimalValue(int node) const;

  std::shared_ptr<const CompiledSchema> schema_;
  JsonPrefix syntax_;
  std::vector<Frame> frames_;
  int scalar_node_ = -1;       // node of the scalar being read
  bool in_scalar_ = false;
  bool integer_only_ = false;
  std::string scalar_text_;    // for enum checks
};

// Output constrained to documents valid against a compiled schema.
using JsonSchemaFilter = PrefixFilter<SchemaPrefix>;

}  // namespace pocket
