#include "apps/server/openai_api.h"

#include <nlohmann/json.hpp>

namespace pocket::server {
namespace {

using nlohmann::json;

ApiError Bad(std::string message, std::string code = "invalid_value") {
  ApiError e;
  e.status = 400;
  e.code = std::move(code);
  e.message = std::move(message);
  return e;
}

// Reads an optional number field within [lo, hi].
bool Number(const json& j, const char* key, double lo, double hi, float* out, ApiError* err) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return true;
  if (!it->is_number()) return *err = Bad(std::string("'") + key + "' must be a number", "invalid_type"), false;
  const double v = it->get<double>();
  if (!(v >= lo && v <= hi)) {
    return *err = Bad(StrFormat("'%s' must be between %g and %g, got %g", key, lo, hi, v)), false;
  }
  *out = static_cast<float>(v);
  return true;
}

bool Integer(const json& j, const char* key, int64_t lo, int64_t hi, int64_t* out, bool* given, ApiError* err) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return true;
  if (!it->is_number_integer()) return *err = Bad(std::string("'") + key + "' must be an integer", "invalid_type"), false;
  const int64_t v = it->get<int64_t>();
  if (v < lo || v > hi) {
    return *err = Bad(StrFormat("'%s' must be between %lld and %lld, got %lld", key, (long long)lo, (long long)hi,
                                (long long)v)),
           false;
  }
  *out = v;
  if (given) *given = true;
  return true;
}

bool Bool(const json& j, const char* key, bool* out, ApiError* err) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return true;
  if (!it->is_boolean()) return *err = Bad(std::string("'") + key + "' must be true or false", "invalid_type"), false;
  *out = it->get<bool>();
  return true;
}

bool ParseBody(const std::string& body, json* j, ApiError* err) {
  try {
    *j = json::parse(body);
  } catch (const json::exception& e) {
    *err = Bad(std::string("request body is not valid JSON: ") + e.what(), "invalid_json");
    return false;
  }
  if (!j->is_object()) return *err = Bad("request body must be a JSON object", "invalid_json"), false;
  return true;
}

bool CheckModel(const json& j, const std::string& model_id, ApiError* err) {
  auto it = j.find("model");
  if (it == j.end() || it->is_null()) return true;
  if (!it->is_string()) return *err = Bad("'model' must be a string", "invalid_type"), false;
  const std::string m = it->get<std::string>();
  if (!m.empty() && m != model_id) {
    err->status = 404;
    err->type = "invalid_request_error";
    err->code = "model_not_found";
    err->message = "the model '" + m + "' does not exist; this server serves '" + model_id + "'";
    return false;
  }
  return true;
}

// Sampling, limits and stop strings shared by both endpoints.
bool ParseCommon(const json& j, const SamplingParams& defaults, const Limits& limits, ChatRequest* r, ApiError* err) {
  r->sampling = defaults;
  SamplingParams& s = r->sampling;
  if (!Number(j, "temperature", 0, 2, &s.temperature, err) || !Number(j, "top_p", 1e-6, 1, &s.top_p, err) ||
      !Number(j, "min_p", 0, 1, &s.min_p, err) || !Number(j, "presence_penalty", -2, 2, &s.presence_penalty, err) ||
      !Number(j, "frequency_penalty", -2, 2, &s.frequency_penalty, err) ||
      !Number(j, "repetition_penalty", 0.01, 10, &s.repetition_penalty, err)) {
    return false;
  }
  int64_t top_k = s.top_k, seed = 0, n = 1;
  if (!Integer(j, "top_k", 0, 1 << 20, &top_k, nullptr, err) ||
      !Integer(j, "seed", INT64_MIN, INT64_MAX, &seed, &r->seed_given, err) ||
      !Integer(j, "n", 1, 1, &n, nullptr, err)) {
    return false;
  }
  s.top_k = static_cast<int>(top_k);
  s.seed = static_cast<uint64_t>(seed);
  r->max_tokens = limits.max_tokens;
  bool given = false;
  if (!Integer(j, "max_tokens", 1, limits.max_tokens, &r->max_tokens, &given, err)) return false;
  if (!Integer(j, "max_completion_tokens", 1, limits.max_tokens, &r->max_tokens, &given, err)) return false;
  if (!Bool(j, "stream", &r->stream, err)) return false;
  if (auto it = j.find("stream_options"); it != j.end() && !it->is_null()) {
    if (!it->is_object()) return *err = Bad("'stream_options' must be an object", "invalid_type"), false;
    if (!Bool(*it, "include_usage", &r->include_usage, err)) return false;
  }
  if (auto it = j.find("stop"); it != j.end() && !it->is_null()) {
    if (it->is_string()) {
      r->stop.push_back(it->get<std::string>());
    } else if (it->is_array()) {
      for (const json& x : *it) {
        if (!x.is_string()) return *err = Bad("'stop' entries must be strings", "invalid_type"), false;
        r->stop.push_back(x.get<std::string>());
      }
    } else {
      return *err = Bad("'stop' must be a string or an array of strings", "invalid_type"), false;
    }
    if (r->stop.size() > limits.max_stop) return *err = Bad(StrFormat("at most %zu stop strings", limits.max_stop)), false;
    for (const std::string& x : r->stop) {
      if (x.empty()) return *err = Bad("stop strings must not be empty"), false;
    }
  }
  if (auto it = j.find("logprobs"); it != j.end() && it->is_boolean() && it->get<bool>()) {
    return *err = Bad("'logprobs' is not supported", "unsupported_parameter"), false;
  }
  return true;
}

// Takes the media payload out of an image_url / input_audio part (leaving the part's type for
// the chat template) and appends it to `media`.
bool ExtractMedia(json& part, const std::string& role, size_t index, size_t part_index, const Limits& limits,
                  std::vector<MediaPart>* media, ApiError* err) {
  const std::string type = part["type"].get<std::string>();
  const std::string what = StrFormat("messages[%zu].content[%zu]", index, part_index);
  if (role != "user") return *err = Bad(what + ": images and audio are only accepted in user messages"), false;
  MediaPart m;
  m.what = what;
  if (type == "image_url") {
    const json* url = nullptr;
    if (auto it = part.find("image_url"); it != part.end()) {
      if (it->is_string()) url = &*it;
      else if (it->is_object() && it->contains("url") && (*it)["url"].is_string()) url = &(*it)["url"];
    }
    if (url == nullptr) return *err = Bad(what + ": an image_url part needs image_url.url", "missing_field"), false;
    const std::string u = url->get<std::string>();
    if (u.rfind("data:", 0) == 0) {
      const size_t comma = u.find(',');
      if (comma == std::string::npos || u.substr(0, comma).find(";base64") == std::string::npos) {
        return *err = Bad(what + ": image data URLs must be base64 (data:image/png;base64,...)", "invalid_image"), false;
      }
      if (!DecodeBase64(u.substr(comma + 1), &m.bytes) || m.bytes.empty()) {
        return *err = Bad(what + ": the image data URL is not valid base64", "invalid_image"), false;
      }
    } else if (u.rfind("http://", 0) == 0 || u.rfind("https://", 0) == 0) {
      if (!limits.allow_remote_media) {
        return *err = Bad(what + ": remote image URLs are disabled on this server; send the image as a data: URL "
                                 "(or start the server with --allow-remote-media)", "remote_media_disabled"),
               false;
      }
      m.url = u;
    } else {
      return *err = Bad(what + ": image_url.url must be a data: URL or an http(s) URL", "invalid_image"), false;
    }
    part["image_url"] = json::object({{"url", ""}});
  } else {
    m.audio = true;
    auto it = part.find("input_audio");
    if (it == part.end() || !it->is_object() || !it->contains("data") || !(*it)["data"].is_string()) {
      return *err = Bad(what + ": an input_audio part needs input_audio.data (base64)", "missing_field"), false;
    }
    if (!DecodeBase64((*it)["data"].get<std::string>(), &m.bytes) || m.bytes.empty()) {
      return *err = Bad(what + ": input_audio.data is not valid base64", "invalid_audio"), false;
    }
    (*it)["data"] = "";
  }
  media->push_back(std::move(m));
  size_t images = 0, audio = 0;
  for (const MediaPart& x : *media) (x.audio ? audio : images)++;
  if (images > limits.max_images) return *err = Bad(StrFormat("at most %zu images per request", limits.max_images)), false;
  if (audio > limits.max_audio) return *err = Bad(StrFormat("at most %zu audio clips per request", limits.max_audio)), false;
  return true;
}

bool ValidateContent(json& content, const std::string& role, size_t index, const Limits& limits,
                     std::vector<MediaPart>* media, ApiError* err) {
  if (content.is_null() || content.is_string()) return true;
  if (!content.is_array()) {
    return *err = Bad(StrFormat("messages[%zu].content must be a string, an array of parts, or null", index), "invalid_type"),
           false;
  }
  size_t part_index = 0;
  for (json& part : content) {
    if (!part.is_object() || !part.contains("type") || !part["type"].is_string()) {
      return *err = Bad(StrFormat("messages[%zu].content parts must be objects with a string 'type'", index), "invalid_type"),
             false;
    }
    const std::string type = part["type"].get<std::string>();
    if (type == "text") {
      if (!part.contains("text") || !part["text"].is_string()) {
        return *err = Bad(StrFormat("messages[%zu]: a text part needs a string 'text'", index), "invalid_type"), false;
      }
    } else if (type == "image_url" || type == "input_audio") {
      if (!ExtractMedia(part, role, index, part_index, limits, media, err)) return false;
    } else if (type == "image" || type == "audio") {
      return *err = Bad(StrFormat("messages[%zu]: send images as 'image_url' parts (data: URLs) and audio as "
                                  "'input_audio' parts", index), "unsupported_content"),
             false;
    } else {
      return *err = Bad(StrFormat("messages[%zu]: unknown content part type '%s'", index, type.c_str())), false;
    }
    ++part_index;
  }
  return true;
}

bool ValidateMessages(json& j, const Limits& limits, std::vector<MediaPart>* media, ApiError* err) {
  auto it = j.find("messages");
  if (it == j.end()) return *err = Bad("'messages' is required", "missing_field"), false;
  if (!it->is_array() || it->empty()) return *err = Bad("'messages' must be a non-empty array", "invalid_type"), false;
  if (it->size() > limits.max_messages) return *err = Bad(StrFormat("at most %zu messages", limits.max_messages)), false;
  size_t i = 0;
  for (json& m : *it) {
    if (!m.is_object()) return *err = Bad(StrFormat("messages[%zu] must be an object", i), "invalid_type"), false;
    if (!m.contains("role") || !m["role"].is_string()) {
      return *err = Bad(StrFormat("messages[%zu] needs a string 'role'", i), "missing_field"), false;
    }
    const std::string role = m["role"].get<std::string>();
    if (role != "system" && role != "developer" && role != "user" && role != "assistant" && role != "tool") {
      return *err = Bad(StrFormat("messages[%zu]: unknown role '%s'", i, role.c_str())), false;
    }
    if (!m.contains("content") && !(role == "assistant" && m.contains("tool_calls"))) {
      return *err = Bad(StrFormat("messages[%zu] needs 'content'", i), "missing_field"), false;
    }
    if (m.contains("content") && !ValidateContent(m["content"], role, i, limits, media, err)) return false;
    if (m.contains("tool_calls")) {
      const json& calls = m["tool_calls"];
      if (!calls.is_array()) return *err = Bad(StrFormat("messages[%zu].tool_calls must be an array", i), "invalid_type"), false;
      for (const json& c : calls) {
        if (!c.is_object() || !c.contains("function") || !c["function"].is_object() || !c["function"].contains("name") ||
            !c["function"]["name"].is_string()) {
          return *err = Bad(StrFormat("messages[%zu].tool_calls entries need function.name", i), "invalid_type"), false;
        }
      }
    }
    ++i;
  }
  return true;
}

bool ValidateTools(const json& j, ChatRequest* r, ApiError* err) {
  if (auto it = j.find("tools"); it != j.end() && !it->is_null()) {
    if (!it->is_array()) return *err = Bad("'tools' must be an array", "invalid_type"), false;
    for (const json& t : *it) {
      if (!t.is_object() || t.value("type", "") != "function" || !t.contains("function") || !t["function"].is_object() ||
          !t["function"].contains("name") || !t["function"]["name"].is_string()) {
        return *err = Bad("each tool must be {\"type\": \"function\", \"function\": {\"name\": ...}}", "invalid_type"), false;
      }
      if (t["function"].contains("parameters") && !t["function"]["parameters"].is_object()) {
        return *err = Bad("tool parameters must be a JSON schema object", "invalid_type"), false;
      }
    }
    if (!it->empty()) r->tools_json = it->dump();
  }
  if (auto it = j.find("tool_choice"); it != j.end() && !it->is_null()) {
    if (it->is_string()) {
      const std::string c = it->get<std::string>();
      if (c != "none" && c != "auto" && c != "required") {
        return *err = Bad("'tool_choice' must be none, auto, required or a function object"), false;
      }
      r->tools_enabled = c != "none";
    } else if (!it->is_object()) {
      return *err = Bad("'tool_choice' must be a string or an object", "invalid_type"), false;
    }
  }
  if (!r->tools_enabled) r->tools_json.clear();
  return true;
}

json UsageJson(const Usage& u) {
  return {{"prompt_tokens", u.prompt_tokens},
          {"completion_tokens", u.completion_tokens},
          {"total_tokens", u.prompt_tokens + u.completion_tokens}};
}

json ToolCallsJson(const std::vector<ParsedToolCall>& calls, size_t first_index, const std::string& id_prefix) {
  json out = json::array();
  for (size_t i = 0; i < calls.size(); ++i) {
    out.push_back({{"index", first_index + i},
                   {"id", id_prefix + "_call_" + std::to_string(first_index + i)},
                   {"type", "function"},
                   {"function", {{"name", calls[i].name}, {"arguments", calls[i].arguments_json}}}});
  }
  return out;
}

std::string Event(const json& j) { return "data: " + j.dump(-1, ' ', false, json::error_handler_t::replace) + "\n\n"; }

}  // namespace

bool DecodeBase64(const std::string& in, std::string* out) {
  out->clear();
  out->reserve(in.size() / 4 * 3);
  uint32_t acc = 0;
  int bits = 0;
  bool padding = false;
  for (unsigned char c : in) {
    int v;
    if (c >= 'A' && c <= 'Z') v = c - 'A';
    else if (c >= 'a' && c <= 'z') v = c - 'a' + 26;
    else if (c >= '0' && c <= '9') v = c - '0' + 52;
    else if (c == '+' || c == '-') v = 62;
    else if (c == '/' || c == '_') v = 63;
    else if (c == '=') { padding = true; continue; }
    else if (c == ' ' || c == '\n' || c == '\r' || c == '\t') continue;
    else return false;
    if (padding) return false;  // data after padding
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out->push_back(static_cast<char>((acc >> bits) & 0xFF));
    }
  }
  return bits < 6;  // a lone 6-bit remainder is not valid base64
}

std::string ErrorJson(const ApiError& e) {
  json j = {{"error", {{"message", e.message}, {"type", e.type}, {"code", e.code.empty() ? json(nullptr) : json(e.code)}}}};
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

bool ParseChatRequest(const std::string& body, const SamplingParams& defaults, const std::string& model_id,
                      const Limits& limits, ChatRequest* r, ApiError* err) {
  json j;
  if (!ParseBody(body, &j, err) || !CheckModel(j, model_id, err) || !ValidateMessages(j, limits, &r->media, err) ||
      !ValidateTools(j, r, err) || !ParseCommon(j, defaults, limits, r, err)) {
    return false;
  }
  if (auto it = j.find("chat_template_kwargs"); it != j.end() && !it->is_null()) {
    if (!it->is_object()) return *err = Bad("'chat_template_kwargs' must be an object", "invalid_type"), false;
    if (!Bool(*it, "enable_thinking", &r->thinking, err)) return false;
  }
  if (auto it = j.find("response_format"); it != j.end() && !it->is_null()) {
    if (!it->is_object() || !it->contains("type") || !(*it)["type"].is_string()) {
      return *err = Bad("'response_format' must be an object with a 'type'", "invalid_type"), false;
    }
    const std::string type = (*it)["type"].get<std::string>();
    if (type == "json_schema") {
      const json* schema = nullptr;
      if (it->contains("json_schema") && (*it)["json_schema"].is_object() && (*it)["json_schema"].contains("schema")) {
        schema = &(*it)["json_schema"]["schema"];
      }
      if (schema == nullptr) return *err = Bad("response_format json_schema needs json_schema.schema", "missing_field"), false;
      auto compiled = CompileJsonSchema(schema->dump());
      if (!compiled.ok()) return *err = Bad(compiled.status().message(), "unsupported_schema"), false;
      r->schema = *compiled;
    } else if (type == "json_object") {
      r->json_object = true;
    } else if (type != "text") {
      return *err = Bad("unknown response_format type '" + type + "'"), false;
    }
  }
  r->messages_json = j["messages"].dump();
  return true;
}

bool ParseCompletionRequest(const std::string& body, const SamplingParams& defaults, const std::string& model_id,
                            const Limits& limits, ChatRequest* r, ApiError* err) {
  json j;
  if (!ParseBody(body, &j, err) || !CheckModel(j, model_id, err) || !ParseCommon(j, defaults, limits, r, err)) return false;
  auto it = j.find("prompt");
  if (it == j.end()) return *err = Bad("'prompt' is required", "missing_field"), false;
  if (!it->is_string()) return *err = Bad("'prompt' must be a string", "invalid_type"), false;
  r->prompt = it->get<std::string>();
  if (r->prompt.empty()) return *err = Bad("'prompt' must not be empty"), false;
  r->raw_completion = true;
  return true;
}

std::string FinishReasonFor(FinishReason r, bool has_tool_calls) {
  if (has_tool_calls) return "tool_calls";
  return FinishReasonName(r) == std::string("length") ? "length" : "stop";
}

std::string ChatCompletionJson(const std::string& id, int64_t created, const std::string& model, const ParsedOutput& out,
                               const std::string& finish_reason, const Usage& usage) {
  json message = {{"role", "assistant"}, {"content", out.content}};
  if (!out.reasoning.empty()) message["reasoning_content"] = out.reasoning;
  if (!out.tool_calls.empty()) message["tool_calls"] = ToolCallsJson(out.tool_calls, 0, id);
  json j = {{"id", id},
            {"object", "chat.completion"},
            {"created", created},
            {"model", model},
            {"choices", json::array({{{"index", 0}, {"message", message}, {"finish_reason", finish_reason}}})},
            {"usage", UsageJson(usage)}};
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string TextCompletionJson(const std::string& id, int64_t created, const std::string& model, const std::string& text,
                               const std::string& finish_reason, const Usage& usage) {
  json j = {{"id", id},
            {"object", "text_completion"},
            {"created", created},
            {"model", model},
            {"choices", json::array({{{"index", 0}, {"text", text}, {"finish_reason", finish_reason}}})},
            {"usage", UsageJson(usage)}};
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string ChatChunkEvent(const std::string& id, int64_t created, const std::string& model, bool first,
                           const StreamingOutputParser::Delta& d, size_t tool_call_index, const std::string& finish_reason) {
  json delta = json::object();
  if (first) delta["role"] = "assistant";
  if (!d.reasoning.empty()) delta["reasoning_content"] = d.reasoning;
  if (!d.content.empty()) delta["content"] = d.content;
  if (!d.tool_calls.empty()) delta["tool_calls"] = ToolCallsJson(d.tool_calls, tool_call_index, id);
  json choice = {{"index", 0}, {"delta", delta}, {"finish_reason", finish_reason.empty() ? json(nullptr) : json(finish_reason)}};
  return Event({{"id", id}, {"object", "chat.completion.chunk"}, {"created", created}, {"model", model},
                {"choices", json::array({choice})}});
}

std::string UsageChunkEvent(const std::string& id, int64_t created, const std::string& model, const Usage& usage) {
  return Event({{"id", id}, {"object", "chat.completion.chunk"}, {"created", created}, {"model", model},
                {"choices", json::array()}, {"usage", UsageJson(usage)}});
}

std::string TextChunkEvent(const std::string& id, int64_t created, const std::string& model, const std::string& text,
                           const std::string& finish_reason) {
  json choice = {{"index", 0}, {"text", text}, {"finish_reason", finish_reason.empty() ? json(nullptr) : json(finish_reason)}};
  return Event({{"id", id}, {"object", "text_completion"}, {"created", created}, {"model", model},
                {"choices", json::array({choice})}});
}

std::string ModelsJson(const std::string& model_id, int64_t created) {
  json j = {{"object", "list"},
            {"data", json::array({{{"id", model_id}, {"object", "model"}, {"created", created}, {"owned_by", "pocket"}}})}};
  return j.dump();
}

}  // namespace pocket::server
