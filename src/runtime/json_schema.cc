#include "runtime/json_schema.h"

#include <limits>
#include <nlohmann/json.hpp>

namespace pocket {
namespace {

using nlohmann::json;

constexpr uint32_t kObject = 1, kArray = 2, kString = 4, kNumber = 8, kInteger = 16, kBoolean = 32, kNull = 64;
constexpr uint32_t kAllTypes = 127;

uint32_t TypeBit(const std::string& t) {
  if (t == "object") return kObject;
  if (t == "array") return kArray;
  if (t == "string") return kString;
  if (t == "number") return kNumber;
  if (t == "integer") return kInteger;
  if (t == "boolean") return kBoolean;
  if (t == "null") return kNull;
  return 0;
}

struct Compiler {
  std::vector<SchemaNode> nodes;

  Result<int> Compile(const json& j, const std::string& path, int depth) {
    if (depth > 32) return InvalidArgument(path + ": schema nested too deeply");
    if (j.is_boolean()) {  // true = anything; false = nothing is not supported
      if (!j.get<bool>()) return InvalidArgument(path + ": a 'false' schema is not supported");
      nodes.emplace_back();
      return static_cast<int>(nodes.size() - 1);
    }
    if (!j.is_object()) return InvalidArgument(path + ": a schema must be an object");
    const int index = static_cast<int>(nodes.size());
    nodes.emplace_back();
    SchemaNode n;
    for (auto it = j.begin(); it != j.end(); ++it) {
      const std::string& k = it.key();
      const json& v = it.value();
      const std::string at = path + "." + k;
      if (k == "title" || k == "description" || k == "$schema") continue;
      if (k == "type") {
        n.types = 0;
        const json list = v.is_array() ? v : json::array({v});
        for (const json& t : list) {
          const uint32_t bit = t.is_string() ? TypeBit(t.get<std::string>()) : 0;
          if (bit == 0) return InvalidArgument(at + ": unknown type " + t.dump());
          n.types |= bit;
        }
      } else if (k == "properties") {
        if (!v.is_object()) return InvalidArgument(at + " must be an object");
        if (v.size() > 64) return InvalidArgument(at + ": at most 64 properties are supported");
        for (auto p = v.begin(); p != v.end(); ++p) {
          ASSIGN_OR_RETURN(int child, Compile(p.value(), at + "." + p.key(), depth + 1));
          n.properties.emplace_back(p.key(), child);
        }
      } else if (k == "required") {
        if (!v.is_array()) return InvalidArgument(at + " must be an array of names");
        for (const json& r : v) {
          if (!r.is_string()) return InvalidArgument(at + " must be an array of names");
          n.required.push_back(r.get<std::string>());
        }
      } else if (k == "additionalProperties") {
        if (!v.is_boolean()) return InvalidArgument(at + ": only true or false is supported");
        n.additional = v.get<bool>();
      } else if (k == "items") {
        ASSIGN_OR_RETURN(n.items, Compile(v, at, depth + 1));
      } else if (k == "minItems" || k == "maxItems") {
        if (!v.is_number_integer() || v.get<int64_t>() < 0) return InvalidArgument(at + " must be a non-negative integer");
        (k == "minItems" ? n.min_items : n.max_items) = v.get<int64_t>();
      } else if (k == "enum" || k == "const") {
        const json list = k == "const" ? json::array({v}) : v;
        if (!list.is_array() || list.empty()) return InvalidArgument(at + " must be a non-empty array");
        for (const json& e : list) {
          if (e.is_object() || e.is_array()) return InvalidArgument(at + ": only scalar values are supported");
          n.enum_values.push_back(e.dump());
        }
      } else if (k == "anyOf") {
        if (!v.is_array() || v.empty()) return InvalidArgument(at + " must be a non-empty array");
        for (size_t i = 0; i < v.size(); ++i) {
          ASSIGN_OR_RETURN(int child, Compile(v[i], at + "[" + std::to_string(i) + "]", depth + 1));
          n.any_of.push_back(child);
        }
      } else {
        return InvalidArgument(at + ": the keyword '" + k + "' is not supported");
      }
    }
    if (!n.additional) {
      for (const std::string& r : n.required) {
        bool listed = false;
        for (const auto& p : n.properties) listed |= p.first == r;
        if (!listed) return InvalidArgument(path + ": required property '" + r + "' is not allowed by its properties");
      }
    }
    nodes[static_cast<size_t>(index)] = std::move(n);
    return index;
  }
};

bool IsNumberLex(int lex) { return lex >= 5; }  // JsonPrefix::Lex::kMinus and later

}  // namespace

Result<std::shared_ptr<const CompiledSchema>> CompileJsonSchema(const std::string& schema_json) {
  json j = json::parse(schema_json, nullptr, false);
  if (j.is_discarded()) return InvalidArgument("the schema is not valid JSON");
  Compiler c;
  ASSIGN_OR_RETURN(int root, c.Compile(j, "schema", 0));
  (void)root;
  auto out = std::make_shared<CompiledSchema>();
  out->nodes = std::move(c.nodes);
  return std::shared_ptr<const CompiledSchema>(std::move(out));
}

SchemaPrefix::SchemaPrefix(std::shared_ptr<const CompiledSchema> schema) : schema_(std::move(schema)), syntax_(false) {}

bool SchemaPrefix::Accepts(int node, char c) const {
  if (node < 0) return true;
  const SchemaNode& n = schema_->nodes[static_cast<size_t>(node)];
  uint32_t need = 0;
  if (c == '{') need = kObject;
  else if (c == '[') need = kArray;
  else if (c == '"') need = kString;
  else if (c == 't' || c == 'f') need = kBoolean;
  else if (c == 'n') need = kNull;
  else need = kNumber | kInteger;
  if ((n.types & need) == 0) return false;
  if (!n.enum_values.empty()) {
    for (const std::string& e : n.enum_values) {
      if (!e.empty() && e[0] == c) return true;
    }
    return false;
  }
  return true;
}

int SchemaPrefix::ResolveNode(int node, char c) const {
  if (node < 0) return -1;
  const SchemaNode& n = schema_->nodes[static_cast<size_t>(node)];
  if (!n.any_of.empty()) {
    for (int alt : n.any_of) {
      const int r = ResolveNode(alt, c);
      if (r != -2) return r;
    }
    return -2;
  }
  return Accepts(node, c) ? node : -2;
}

int SchemaPrefix::ChildNode() const {
  if (frames_.empty()) return 0;
  const Frame& f = frames_.back();
  if (f.node < 0) return -1;
  const SchemaNode& n = schema_->nodes[static_cast<size_t>(f.node)];
  if (f.kind == '[') return n.items;
  return f.key_prop >= 0 ? n.properties[static_cast<size_t>(f.key_prop)].second : -1;
}

bool SchemaPrefix::StartValue(int node, char c) {
  const int resolved = ResolveNode(node, c);
  if (resolved == -2) return false;
  if (!frames_.empty() && frames_.back().kind == '[') {
    Frame& f = frames_.back();
    ++f.count;
    if (f.node >= 0) {
      const SchemaNode& n = schema_->nodes[static_cast<size_t>(f.node)];
      if (n.max_items >= 0 && f.count > n.max_items) return false;
    }
  }
  if (c == '{' || c == '[') {
    Frame f;
    f.node = resolved;
    f.kind = c;
    frames_.push_back(f);
    return true;
  }
  in_scalar_ = true;
  scalar_node_ = resolved;
  scalar_text_.assign(1, c);
  integer_only_ = false;
  if (resolved >= 0) {
    const uint32_t t = schema_->nodes[static_cast<size_t>(resolved)].types;
    integer_only_ = (t & kInteger) != 0 && (t & kNumber) == 0;
  }
  return true;
}

bool SchemaPrefix::ScalarTextAllowed() const {
  if (scalar_node_ < 0) return true;
  const SchemaNode& n = schema_->nodes[static_cast<size_t>(scalar_node_)];
  if (n.enum_values.empty()) return true;
  for (const std::string& e : n.enum_values) {
    if (e.compare(0, scalar_text_.size(), scalar_text_) == 0) return true;
  }
  return false;
}

bool SchemaPrefix::EndScalar() {
  in_scalar_ = false;
  if (scalar_node_ < 0) return true;
  const SchemaNode& n = schema_->nodes[static_cast<size_t>(scalar_node_)];
  if (n.enum_values.empty()) return true;
  for (const std::string& e : n.enum_values) {
    if (e == scalar_text_) return true;
  }
  return false;
}

bool SchemaPrefix::Feed(const std::string& s) {
  SchemaPrefix copy = *this;
  for (char c : s) {
    if (!copy.Feed(c)) return false;
  }
  *this = std::move(copy);
  return true;
}

bool SchemaPrefix::Feed(char c) {
  const JsonPrefix before = syntax_;
  if (!syntax_.Feed(c)) return false;
  using Lex = JsonPrefix::Lex;
  using Expect = JsonPrefix::Expect;
  const int lex_before = static_cast<int>(before.lex_);
  bool number_ended = false;
  if (IsNumberLex(lex_before)) {
    if (IsNumberLex(static_cast<int>(syntax_.lex_))) {  // the number goes on
      if (integer_only_ && (c == '.' || c == 'e' || c == 'E')) return false;
      scalar_text_.push_back(c);
      return ScalarTextAllowed();
    }
    if (!EndScalar()) return false;
    number_ended = true;
  } else if (before.lex_ == Lex::kString || before.lex_ == Lex::kEscape || before.lex_ == Lex::kUnicode ||
             before.lex_ == Lex::kLiteral) {
    const bool key = before.lex_ != Lex::kLiteral && before.string_is_key_;
    if (key) {
      Frame& f = frames_.back();
      const SchemaNode* n = f.node >= 0 ? &schema_->nodes[static_cast<size_t>(f.node)] : nullptr;
      if (syntax_.lex_ == Lex::kNone) {  // end of the key
        f.key_prop = -1;
        if (n != nullptr) {
          for (size_t i = 0; i < n->properties.size(); ++i) {
            if (n->properties[i].first == f.key) f.key_prop = static_cast<int>(i);
          }
          if (f.key_prop >= 0) {
            if (f.seen & (1ull << f.key_prop)) return false;  // duplicate key
            f.seen |= 1ull << f.key_prop;
          } else if (!n->additional) {
            return false;
          }
        }
        return true;
      }
      f.key.push_back(c);
      if (n != nullptr && !n->additional) {
        if (c == '\\') return false;
        bool any = false;
        for (size_t i = 0; i < n->properties.size(); ++i) {
          any |= !(f.seen & (1ull << i)) && n->properties[i].first.compare(0, f.key.size(), f.key) == 0;
        }
        if (!any) return false;
      }
      return true;
    }
    scalar_text_.push_back(c);
    if (!ScalarTextAllowed()) return false;
    if (syntax_.lex_ == Lex::kNone) return EndScalar();
    return true;
  }
  // A structural character (possibly right after a number).
  if (c == ' ' || c == '\t' || c == '\n' || c == '\r') return true;
  const Expect exp = number_ended ? (before.depth_ == 0 ? Expect::kDone : Expect::kCommaOrEnd) : before.expect_;
  auto close = [&]() {
    const Frame f = frames_.back();
    frames_.pop_back();
    if (f.node < 0) return true;
    const SchemaNode& n = schema_->nodes[static_cast<size_t>(f.node)];
    if (f.kind == '[') return f.count >= n.min_items;
    for (const std::string& r : n.required) {
      bool present = false;
      for (size_t i = 0; i < n.properties.size(); ++i) {
        if (n.properties[i].first == r) present = (f.seen >> i) & 1;
      }
      if (!present) return false;
    }
    return true;
  };
  auto key_possible = [&]() {
    const Frame& f = frames_.back();
    if (f.node < 0) return true;
    const SchemaNode& n = schema_->nodes[static_cast<size_t>(f.node)];
    if (n.additional) return true;
    for (size_t i = 0; i < n.properties.size(); ++i) {
      if (!(f.seen & (1ull << i))) return true;
    }
    return false;
  };
  switch (exp) {
    case Expect::kValue:
      if (c == ']' && before.empty_array_) return close();
      return StartValue(ChildNode(), c);
    case Expect::kKeyOrEnd:
      if (c == '}') return close();
      [[fallthrough]];
    case Expect::kKey:
      frames_.back().key.clear();
      frames_.back().key_prop = -1;
      return key_possible();
    case Expect::kColon:
      return true;
    case Expect::kCommaOrEnd:
      if (c == ',') return frames_.back().kind == '[' || key_possible();
      return close();
    case Expect::kDone:
      return false;
  }
  return false;
}

std::string SchemaPrefix::MinimalValue(int node) const {
  if (node < 0) return "null";
  const SchemaNode& n = schema_->nodes[static_cast<size_t>(node)];
  if (!n.any_of.empty()) return MinimalValue(n.any_of.front());
  if (!n.enum_values.empty()) return n.enum_values.front();
  if (n.types & kNull) return "null";
  if (n.types & (kInteger | kNumber)) return "0";
  if (n.types & kBoolean) return "false";
  if (n.types & kString) return "\"\"";
  if (n.types & kArray) {
    std::string s = "[";
    for (int64_t i = 0; i < n.min_items; ++i) {
      if (i) s.push_back(',');
      s.append(MinimalValue(n.items));
    }
    s.push_back(']');
    return s;
  }
  std::string s = "{";
  bool first = true;
  for (const std::string& r : n.required) {
    int child = -1;
    for (const auto& p : n.properties) {
      if (p.first == r) child = p.second;
    }
    if (!first) s.push_back(',');
    first = false;
    s.append(json(r).dump()).push_back(':');
    s.append(MinimalValue(child));
  }
  s.push_back('}');
  return s;
}

std::string SchemaPrefix::Completion() const {
  SchemaPrefix s = *this;
  std::string out;
  auto feed = [&](const std::string& t) {
    if (!s.Feed(t)) return false;
    out.append(t);
    return true;
  };
  using Lex = JsonPrefix::Lex;
  using Expect = JsonPrefix::Expect;
  const Lex lex = s.syntax_.lex_;
  if ((lex == Lex::kString || lex == Lex::kEscape || lex == Lex::kUnicode) && s.syntax_.string_is_key_) {
    const Frame& f = s.frames_.back();
    std::string rest = "\"";
    if (f.node >= 0 && !schema_->nodes[static_cast<size_t>(f.node)].additional) {
      for (size_t i = 0; i < schema_->nodes[static_cast<size_t>(f.node)].properties.size(); ++i) {
        const std::string& name = schema_->nodes[static_cast<size_t>(f.node)].properties[i].first;
        if (!(f.seen & (1ull << i)) && name.compare(0, f.key.size(), f.key) == 0) {
          rest = name.substr(f.key.size()) + "\"";
          break;
        }
      }
    } else if (lex == Lex::kEscape) {
      rest = "n\"";
    } else if (lex == Lex::kUnicode) {
      rest = std::string(s.syntax_.unicode_left_, '0') + "\"";
    }
    if (!feed(rest)) return out;
  } else if (s.in_scalar_) {
    std::string rest;
    const SchemaNode* n = s.scalar_node_ >= 0 ? &schema_->nodes[static_cast<size_t>(s.scalar_node_)] : nullptr;
    if (n != nullptr && !n->enum_values.empty()) {
      for (const std::string& e : n->enum_values) {
        if (e.compare(0, s.scalar_text_.size(), s.scalar_text_) == 0) {
          rest = e.substr(s.scalar_text_.size());
          break;
        }
      }
    } else {
      switch (lex) {
        case Lex::kString: rest = "\""; break;
        case Lex::kEscape: rest = "n\""; break;
        case Lex::kUnicode: rest.assign(s.syntax_.unicode_left_, '0').push_back('"'); break;
        case Lex::kLiteral: rest.append(s.syntax_.literal_ + s.syntax_.literal_pos_); break;
        case Lex::kMinus: case Lex::kDot: case Lex::kExp: case Lex::kExpSign: rest = "0"; break;
        default: break;  // a finished number ends at the next structural character
      }
    }
    if (!rest.empty() && !feed(rest)) return out;
  }
  for (int guard = 0; guard < 4096 && !s.complete(); ++guard) {
    const Expect exp = s.syntax_.expect_;
    const bool number_pending = IsNumberLex(static_cast<int>(s.syntax_.lex_));
    std::string step;
    if (exp == Expect::kColon) {
      step = ":";
    } else if (exp == Expect::kValue && !number_pending) {
      const Frame* top = s.frames_.empty() ? nullptr : &s.frames_.back();
      const int64_t min_items =
          top != nullptr && top->node >= 0 ? schema_->nodes[static_cast<size_t>(top->node)].min_items : 0;
      if (top != nullptr && top->kind == '[' && s.syntax_.empty_array_ && top->count >= min_items) {
        step = "]";
      } else {
        step = s.MinimalValue(s.ChildNode());
      }
    } else {
      const Frame& f = s.frames_.back();
      const bool after_value = exp == Expect::kCommaOrEnd || number_pending;
      if (f.kind == '[') {
        const int64_t min_items = f.node >= 0 ? schema_->nodes[static_cast<size_t>(f.node)].min_items : 0;
        step = f.count < min_items ? "," : "]";
      } else {
        std::string missing;
        if (f.node >= 0) {
          const SchemaNode& n = schema_->nodes[static_cast<size_t>(f.node)];
          for (const std::string& r : n.required) {
            for (size_t i = 0; i < n.properties.size(); ++i) {
              if (n.properties[i].first == r && !(f.seen & (1ull << i)) && missing.empty()) missing = r;
            }
          }
          if (missing.empty() && exp == Expect::kKey) {  // after a comma a key must follow
            for (size_t i = 0; i < n.properties.size() && missing.empty(); ++i) {
              if (!(f.seen & (1ull << i))) missing = n.properties[i].first;
            }
            if (missing.empty()) missing = "_";
          }
        } else if (exp == Expect::kKey) {
          missing = "_";
        }
        if (!missing.empty()) {
          step = (after_value ? "," : "") + json(missing).dump() + ":";
        } else {
          step = "}";
        }
      }
    }
    if (!feed(step)) break;
  }
  return out;
}

}  // namespace pocket
