#include "chat/chat_template.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>

namespace pocket {
namespace {

using Json = nlohmann::ordered_json;  // insertion order matters for dictsort ties

constexpr const char* kQuote = "<|\"|>";

bool Truthy(const Json* v) {
  if (v == nullptr || v->is_null()) return false;
  if (v->is_boolean()) return v->get<bool>();
  if (v->is_string()) return !v->get_ref<const std::string&>().empty();
  if (v->is_array() || v->is_object()) return !v->empty();
  if (v->is_number_integer() || v->is_number_unsigned()) return v->get<int64_t>() != 0;
  if (v->is_number_float()) return v->get<double>() != 0.0;
  return true;
}

const Json* Get(const Json& obj, const char* key) {
  if (!obj.is_object()) return nullptr;
  auto it = obj.find(key);
  return it == obj.end() ? nullptr : &*it;
}

std::string Str(const Json* v) {
  return v && v->is_string() ? v->get<std::string>() : std::string();
}

// Python str.strip(): every Unicode whitespace character.
bool IsSpaceAt(const std::string& s, size_t i, size_t* len) {
  const auto c = static_cast<unsigned char>(s[i]);
  if (c == ' ' || (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x1F)) {
    *len = 1;
    return true;
  }
  static const char* const kMulti[] = {"\xC2\x85",     "\xC2\xA0",     "\xE1\x9A\x80",
                                       "\xE2\x80\xA8", "\xE2\x80\xA9", "\xE2\x80\xAF",
                                       "\xE2\x81\x9F", "\xE3\x80\x80"};
  for (const char* m : kMulti) {
    const size_t n = std::char_traits<char>::length(m);
    if (s.compare(i, n, m) == 0) {
      *len = n;
      return true;
    }
  }
  if (s.compare(i, 2, "\xE2\x80") == 0 && i + 2 < s.size()) {  // U+2000..U+200A
    const auto c2 = static_cast<unsigned char>(s[i + 2]);
    if (c2 >= 0x80 && c2 <= 0x8A) {
      *len = 3;
      return true;
    }
  }
  return false;
}

std::string Trim(const std::string& s) {
  size_t b = 0, len = 0;
  while (b < s.size() && IsSpaceAt(s, b, &len)) b += len;
  size_t e = s.size();
  while (e > b) {
    // Step back to the start of the previous character.
    size_t p = e - 1;
    while (p > b && (static_cast<unsigned char>(s[p]) & 0xC0) == 0x80) --p;
    if (!IsSpaceAt(s, p, &len) || p + len != e) break;
    e = p;
  }
  return s.substr(b, e - b);
}

std::string Upper(const std::string& s) {
  std::string o = s;
  for (char& c : o) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return o;
}

std::string Lower(const std::string& s) {
  std::string o = s;
  for (char& c : o) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return o;
}

// Jinja's dictsort: items sorted by key, case-insensitively, stable.
std::vector<std::pair<std::string, const Json*>> DictSort(const Json& obj) {
  std::vector<std::pair<std::string, const Json*>> items;
  for (auto it = obj.begin(); it != obj.end(); ++it) items.emplace_back(it.key(), &it.value());
  std::stable_sort(items.begin(), items.end(),
                   [](const auto& a, const auto& b) { return Lower(a.first) < Lower(b.first); });
  return items;
}

// Python repr() of a float: shortest round-trip digits, scientific outside [1e-4, 1e16).
std::string PyFloat(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  if (v == 0) return std::signbit(v) ? "-0.0" : "0.0";
  char buf[64];
  int prec = 1;
  for (; prec <= 17; ++prec) {
    std::snprintf(buf, sizeof(buf), "%.*e", prec - 1, v);
    if (std::strtod(buf, nullptr) == v) break;
  }
  // buf = [-]d.ddde[+-]XX
  std::string s(buf);
  const size_t epos = s.find('e');
  const int exp = std::atoi(s.c_str() + epos + 1);
  std::string mant = s.substr(0, epos);
  const bool neg = mant[0] == '-';
  if (neg) mant.erase(0, 1);
  std::string digits;
  for (char c : mant) {
    if (c != '.') digits.push_back(c);
  }
  while (digits.size() > 1 && digits.back() == '0') digits.pop_back();
  std::string out;
  if (exp >= -4 && exp < 16) {
    if (exp >= 0) {
      std::string ip =
          digits.substr(0, std::min<size_t>(digits.size(), static_cast<size_t>(exp) + 1));
      while (ip.size() < static_cast<size_t>(exp) + 1) ip.push_back('0');
      std::string fp = digits.size() > static_cast<size_t>(exp) + 1
                           ? digits.substr(static_cast<size_t>(exp) + 1)
                           : "0";
      out = ip + "." + fp;
    } else {
      out = "0." + std::string(static_cast<size_t>(-exp - 1), '0') + digits;
    }
  } else {
    out = digits.substr(0, 1);
    if (digits.size() > 1) out += "." + digits.substr(1);
    char e[16];
    std::snprintf(e, sizeof(e), "e%c%02d", exp < 0 ? '-' : '+', std::abs(exp));
    out += e;
  }
  return neg ? "-" + out : out;
}

// Jinja's default printing of a scalar (Python str()).
std::string PyStr(const Json& v) {
  if (v.is_null()) return "None";
  if (v.is_boolean()) return v.get<bool>() ? "True" : "False";
  if (v.is_number_float()) return PyFloat(v.get<double>());
  if (v.is_number()) return v.dump();
  if (v.is_string()) return v.get<std::string>();
  return v.dump();
}

// The template's format_argument macro.
void FormatArgument(const Json& v, bool escape_keys, std::string* out) {
  if (v.is_string()) {
    *out += kQuote + v.get<std::string>() + kQuote;
  } else if (v.is_boolean()) {
    *out += v.get<bool>() ? "true" : "false";
  } else if (v.is_object()) {
    *out += '{';
    bool first = true;
    for (const auto& [k, val] : DictSort(v)) {
      if (!first) *out += ',';
      first = false;
      *out += escape_keys ? kQuote + k + kQuote : k;
      *out += ':';
      FormatArgument(*val, escape_keys, out);
    }
    *out += '}';
  } else if (v.is_array()) {
    *out += '[';
    for (size_t i = 0; i < v.size(); ++i) {
      if (i) *out += ',';
      FormatArgument(v[i], escape_keys, out);
    }
    *out += ']';
  } else {
    *out += PyStr(v);
  }
}

std::string TypeUpper(const Json& value) {
  const Json* t = Get(value, "type");
  if (t == nullptr || t->is_null()) return "";
  if (t->is_string()) return Upper(t->get<std::string>());
  return Upper(PyStr(*t));
}

void FormatParameters(const Json& properties, std::string* out) {
  static const char* const kStandard[] = {"description", "type", "properties", "required",
                                          "nullable"};
  bool found_first = false;
  for (const auto& item : DictSort(properties)) {
    const std::string& key = item.first;
    if (std::find(std::begin(kStandard), std::end(kStandard), key) != std::end(kStandard)) continue;
    const Json* vp = item.second;
    const Json& value = *vp;
    if (found_first) *out += ',';
    found_first = true;
    *out += key + ":{";
    bool add_comma = false;
    auto comma = [&] {
      if (add_comma) *out += ',';
      add_comma = true;
    };
    if (Truthy(Get(value, "description"))) {
      *out += std::string("description:") + kQuote + PyStr(*Get(value, "description")) + kQuote;
      add_comma = true;
    }
    const std::string type = TypeUpper(value);
    if (type == "STRING") {
      if (Truthy(Get(value, "enum"))) {
        comma();
        *out += "enum:";
        FormatArgument(*Get(value, "enum"), true, out);
      }
    } else if (type == "ARRAY") {
      const Json* items = Get(value, "items");
      if (items && items->is_object() && !items->empty()) {
        comma();
        *out += "items:{";
        bool first_item = true;
        for (const auto& [ik, iv] : DictSort(*items)) {
          if (iv->is_null()) continue;
          if (!first_item) *out += ',';
          first_item = false;
          if (ik == "properties") {
            *out += "properties:{";
            if (iv->is_object()) FormatParameters(*iv, out);
            *out += '}';
          } else if (ik == "required") {
            *out += "required:[";
            if (iv->is_array()) {
              for (size_t i = 0; i < iv->size(); ++i) {
                if (i) *out += ',';
                *out += kQuote + PyStr((*iv)[i]) + kQuote;
              }
            }
            *out += ']';
          } else if (ik == "type") {
            *out += "type:";
            if (iv->is_string()) {
              FormatArgument(Json(Upper(iv->get<std::string>())), true, out);
            } else {
              Json up = Json::array();
              if (iv->is_array()) {
                for (const Json& e : *iv) up.push_back(Upper(PyStr(e)));
              }
              FormatArgument(up, true, out);
            }
          } else {
            *out += ik + ":";
            FormatArgument(*iv, true, out);
          }
        }
        *out += '}';
      }
    }
    if (Truthy(Get(value, "nullable"))) {
      comma();
      *out += "nullable:true";
    }
    if (type == "OBJECT") {
      const Json* props = Get(value, "properties");
      comma();
      *out += "properties:{";
      // Without "properties" the template treats the schema's own keys as properties.
      FormatParameters(props && props->is_object() ? *props : value, out);
      *out += '}';
      const Json* req = Get(value, "required");
      if (Truthy(req)) {
        comma();
        *out += "required:[";
        for (size_t i = 0; i < req->size(); ++i) {
          if (i) *out += ',';
          *out += kQuote + PyStr((*req)[i]) + kQuote;
        }
        *out += ']';
      }
    }
    comma();
    *out += std::string("type:") + kQuote + type + kQuote + "}";
  }
}

std::string FormatDeclaration(const Json& tool) {
  const Json* fn = Get(tool, "function");
  const Json empty = Json::object();
  const Json& f = fn ? *fn : empty;
  std::string out = "declaration:" + Str(Get(f, "name")) + "{description:" + kQuote +
                    Str(Get(f, "description")) + kQuote;
  const Json* params = Get(f, "parameters");
  if (Truthy(params)) {
    out += ",parameters:{";
    if (Truthy(Get(*params, "properties"))) {
      out += "properties:{";
      FormatParameters(*Get(*params, "properties"), &out);
      out += "},";
    }
    const Json* req = Get(*params, "required");
    if (Truthy(req)) {
      out += "required:[";
      for (size_t i = 0; i < req->size(); ++i) {
        if (i) out += ',';
        out += kQuote + PyStr((*req)[i]) + kQuote;
      }
      out += "],";
    }
    if (Truthy(Get(*params, "type")))
      out += std::string("type:") + kQuote + TypeUpper(*params) + kQuote + "}";
  }
  if (const Json* resp = Get(f, "response")) {
    out += ",response:{";
    if (Truthy(Get(*resp, "description")))
      out +=
          std::string("description:") + kQuote + PyStr(*Get(*resp, "description")) + kQuote + ",";
    if (TypeUpper(*resp) == "OBJECT")
      out += std::string("type:") + kQuote + "OBJECT" + kQuote + "}";
  }
  out += "}";
  return Trim(out);
}

std::string StripThinking(const std::string& text) {
  std::string result;
  size_t pos = 0;
  while (true) {
    const size_t close = text.find("<channel|>", pos);
    const std::string part =
        text.substr(pos, close == std::string::npos ? std::string::npos : close - pos);
    const size_t open = part.find("<|channel>");
    result += open == std::string::npos ? part : part.substr(0, open);
    if (close == std::string::npos) break;
    pos = close + 10;
  }
  return Trim(result);
}

void ToolResponse(const std::string& name, const Json& response, std::string* out) {
  *out += "<|tool_response>";
  if (response.is_object()) {
    *out += "response:" + name + "{";
    bool first = true;
    for (const auto& [k, v] : DictSort(response)) {
      if (!first) *out += ',';
      first = false;
      *out += k + ":";
      FormatArgument(*v, false, out);
    }
    *out += "}";
  } else {
    *out += "response:" + name + "{value:";
    FormatArgument(response, false, out);
    *out += "}";
  }
  *out += "<tool_response|>";
}

std::string Role(const Json& m) { return Str(Get(m, "role")); }

}  // namespace

Result<std::string> RenderChat(const std::string& messages_json, const std::string& tools_json,
                               const ChatRenderOptions& opt) {
  Json messages = Json::parse(messages_json, nullptr, false);
  if (messages.is_discarded()) return InvalidArgument("messages: not valid JSON");
  if (!messages.is_array()) return InvalidArgument("messages: expected a JSON array");
  for (size_t i = 0; i < messages.size(); ++i) {
    Json& m = messages[i];
    if (!m.is_object()) return InvalidArgument(StrFormat("messages[%zu]: expected an object", i));
    if (!Get(m, "role") || !m["role"].is_string())
      return InvalidArgument(StrFormat("messages[%zu]: missing string field 'role'", i));
    const std::string role = m["role"].get<std::string>();
    if (role != "system" && role != "developer" && role != "user" && role != "assistant" &&
        role != "tool") {
      return InvalidArgument(StrFormat("messages[%zu]: unknown role '%s'", i, role.c_str()));
    }
    const Json* content = Get(m, "content");
    if (content && !content->is_null() && !content->is_string() && !content->is_array()) {
      return InvalidArgument(
          StrFormat("messages[%zu].content: expected a string, an array of parts or null", i));
    }
    // OpenAI clients send arguments as a JSON string; the template needs an object.
    if (Json* calls = m.contains("tool_calls") ? &m["tool_calls"] : nullptr;
        calls && calls->is_array()) {
      for (size_t c = 0; c < calls->size(); ++c) {
        Json& call = (*calls)[c];
        if (!call.is_object() || !call.contains("function") || !call["function"].is_object()) {
          return InvalidArgument(
              StrFormat("messages[%zu].tool_calls[%zu]: missing object 'function'", i, c));
        }
        Json& fn = call["function"];
        if (fn.contains("arguments") && fn["arguments"].is_string()) {
          Json parsed = Json::parse(fn["arguments"].get<std::string>(), nullptr, false);
          if (parsed.is_discarded()) {
            return InvalidArgument(StrFormat(
                "messages[%zu].tool_calls[%zu].function.arguments: not valid JSON", i, c));
          }
          fn["arguments"] = parsed;
        }
      }
    }
  }
  Json tools = Json();
  if (!tools_json.empty()) {
    tools = Json::parse(tools_json, nullptr, false);
    if (tools.is_discarded()) return InvalidArgument("tools: not valid JSON");
    if (!tools.is_null() && !tools.is_array())
      return InvalidArgument("tools: expected a JSON array");
  }
  const bool have_tools = tools.is_array() && !tools.empty();
  std::string out = opt.bos_text;
  std::string prev_type;  // "", "tool_call", "tool_response", "image", ...
  size_t first = 0;
  const bool first_is_system =
      !messages.empty() && (Role(messages[0]) == "system" || Role(messages[0]) == "developer");
  if (opt.enable_thinking || have_tools || first_is_system) {
    out += "<|turn>system\n";
    if (opt.enable_thinking) out += "<|think|>\n";
    if (first_is_system) {
      const Json* c = Get(messages[0], "content");
      if (c && c->is_string()) {
        out += Trim(c->get<std::string>());
      } else if (c && c->is_array()) {
        for (const Json& part : *c) {
          if (Str(Get(part, "type")) == "text") out += Trim(Str(Get(part, "text")));
        }
      }
      first = 1;
    }
    if (have_tools) {
      for (const Json& tool : tools) out += "<|tool>" + FormatDeclaration(tool) + "<tool|>";
    }
    out += "<turn|>\n";
  }
  int64_t last_user = -1;
  for (size_t i = first; i < messages.size(); ++i) {
    if (Role(messages[i]) == "user") last_user = static_cast<int64_t>(i - first);
  }
  for (size_t i = first; i < messages.size(); ++i) {
    const Json& m = messages[i];
    if (Role(m) == "tool") continue;
    prev_type.clear();
    const std::string role = Role(m) == "assistant" ? "model" : Role(m);
    std::string prev_role;
    for (size_t j = i; j-- > first;) {
      if (Role(messages[j]) != "tool") {
        prev_role = Role(messages[j]);
        break;
      }
    }
    if (!(role == "model" && prev_role == "assistant")) out += "<|turn>" + role + "\n";
    const Json* calls = Get(m, "tool_calls");
    const Json* reasoning =
        Truthy(Get(m, "reasoning")) ? Get(m, "reasoning") : Get(m, "reasoning_content");
    if (Truthy(reasoning) && static_cast<int64_t>(i - first) > last_user && Truthy(calls)) {
      out += "<|channel>thought\n" + PyStr(*reasoning) + "\n<channel|>";
    }
    if (Truthy(calls)) {
      for (const Json& call : *calls) {
        const Json& fn = call["function"];
        out += "<|tool_call>call:" + Str(Get(fn, "name")) + "{";
        const Json* args = Get(fn, "arguments");
        if (args && args->is_object()) {
          bool first_arg = true;
          for (const auto& [k, v] : DictSort(*args)) {
            if (!first_arg) out += ',';
            first_arg = false;
            out += k + ":";
            FormatArgument(*v, false, &out);
          }
        }
        out += "}<tool_call|>";
      }
      prev_type = "tool_call";
    }
    bool responded = false;
    if (const Json* native = Get(m, "tool_responses"); Truthy(native) && native->is_array()) {
      for (const Json& r : *native) {
        const Json* name = Get(r, "name");
        const Json* resp = Get(r, "response");
        ToolResponse(name && !name->is_null() ? PyStr(*name) : "unknown", resp ? *resp : Json(),
                     &out);
        responded = true;
        prev_type = "tool_response";
      }
    } else if (Truthy(calls)) {
      for (size_t k = i + 1; k < messages.size() && Role(messages[k]) == "tool"; ++k) {
        const Json& follow = messages[k];
        const Json* fname = Get(follow, "name");
        std::string name = fname && !fname->is_null() ? PyStr(*fname) : "unknown";
        const Json* id = Get(follow, "tool_call_id");
        for (const Json& tc : *calls) {
          const Json* tid = Get(tc, "id");
          if (tid && id && *tid == *id) name = Str(Get(tc["function"], "name"));
        }
        const Json* body = Get(follow, "content");
        if (body && body->is_array()) {
          std::string text;
          for (const Json& part : *body) {
            if (Str(Get(part, "type")) == "text") text += Str(Get(part, "text"));
          }
          ToolResponse(name, Json(text), &out);
        } else {
          ToolResponse(name, body ? *body : Json(), &out);
        }
        responded = true;
        prev_type = "tool_response";
      }
    }
    const Json* content = Get(m, "content");
    if (content && content->is_string()) {
      out += role == "model" ? StripThinking(content->get<std::string>())
                             : Trim(content->get<std::string>());
    } else if (content && content->is_array()) {
      for (const Json& item : *content) {
        const std::string type = Str(Get(item, "type"));
        if (type == "text") {
          const std::string text = Str(Get(item, "text"));
          out += role == "model" ? StripThinking(text) : Trim(text);
        } else if (type == "image" || type == "image_url") {
          out += "<|image|>";
          prev_type = "image";
        } else if (type == "audio" || type == "input_audio") {
          out += "<|audio|>";
          prev_type = "audio";
        } else if (type == "video") {
          out += "<|video|>";
          prev_type = "video";
        }
      }
    }
    if (prev_type == "tool_call" && !responded) {
      out += "<|tool_response>";
    } else if (!(responded && !Truthy(content))) {
      out += "<turn|>\n";
    }
  }
  if (opt.add_generation_prompt && prev_type != "tool_response" && prev_type != "tool_call") {
    out += "<|turn>model\n";
    if (!opt.enable_thinking) out += "<|channel>thought\n<channel|>";
  }
  return out;
}

Result<std::vector<PromptSegment>> RenderChatSegments(const std::string& messages_json,
                                                      const std::string& tools_json,
                                                      const ChatRenderOptions& options) {
  Json messages = Json::parse(messages_json, nullptr, false);
  if (messages.is_discarded() || !messages.is_array()) return InvalidArgument("messages: expected a JSON array");
  // Each user text goes through the template as a unique marker, then is put back as its
  // own segment, trimmed as the template trims it.
  std::vector<std::string> originals;
  // Private-use code points (U+E000/U+E001): never whitespace, so trimming keeps them.
  auto marker = [](size_t i) { return "\xEE\x80\x80" + std::to_string(i) + "\xEE\x80\x81"; };
  auto protect = [&](Json* text) {
    if (!text->is_string()) return;
    originals.push_back(text->get<std::string>());
    *text = marker(originals.size() - 1);
  };
  for (Json& m : messages) {
    if (!m.is_object() || !m.contains("role") || m["role"] != "user" || !m.contains("content")) continue;
    Json& c = m["content"];
    if (c.is_string()) {
      protect(&c);
    } else if (c.is_array()) {
      for (Json& part : c) {
        if (part.is_object() && part.contains("type") && part["type"] == "text" && part.contains("text")) {
          protect(&part["text"]);
        }
      }
    }
  }
  for (const std::string& o : originals) {
    if (o.find("\xEE\x80\x80") != std::string::npos) {  // cannot mark safely: one template segment
      ASSIGN_OR_RETURN(std::string text, RenderChat(messages_json, tools_json, options));
      return std::vector<PromptSegment>{{text, false}};
    }
  }
  ASSIGN_OR_RETURN(std::string text, RenderChat(messages.dump(), tools_json, options));
  std::vector<PromptSegment> out;
  size_t pos = 0;
  for (size_t i = 0; i < originals.size(); ++i) {
    const std::string m = marker(i);
    const size_t at = text.find(m, pos);
    if (at == std::string::npos) continue;  // the template dropped this content
    if (at > pos) out.push_back({text.substr(pos, at - pos), false});
    out.push_back({Trim(originals[i]), true});
    pos = at + m.size();
  }
  if (pos < text.size()) out.push_back({text.substr(pos), false});
  return out;
}

}  // namespace pocket
