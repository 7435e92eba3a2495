// Tokenizer from a Hugging Face tokenizer.json (the only tokenizer file that needs a JSON
// parser; kept in its own translation unit because of json.hpp's compile cost).
#include <nlohmann/json.hpp>

#include "tokenizer/tokenizer.h"

namespace pocket {
namespace {

constexpr std::string_view kVisibleSpecials[] = {
    "<|channel>",       "<channel|>",       "<|tool_call>", "<tool_call|>",
    "<|tool_response>", "<tool_response|>", "<|\"|>"};

}  // namespace

Result<std::unique_ptr<Tokenizer>> Tokenizer::FromTokenizerJson(const std::string& json_text,
                                                                const std::string& name) {
  using nlohmann::json;
  json j = json::parse(json_text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return InvalidArgument(name + ": not valid JSON");
  const json* model = j.contains("model") ? &j["model"] : nullptr;
  if (!model || !model->is_object()) return InvalidArgument(name + ": missing object 'model'");
  const std::string type = model->value("type", "");
  if (type != "BPE")
    return Unimplemented(name + ": model.type '" + type + "' is not supported (expected BPE)");
  if (!model->contains("vocab") || !(*model)["vocab"].is_object())
    return InvalidArgument(name + ": missing object 'model.vocab'");
  std::vector<std::string> texts;
  std::vector<bool> seen;
  auto put = [&](const std::string& text, const json& idv) -> Status {
    if (!idv.is_number_integer())
      return InvalidArgument(name + ": id of '" + text + "' is not an integer");
    const int64_t id = idv.get<int64_t>();
    if (id < 0 || id > (1 << 24))
      return InvalidArgument(
          StrFormat("%s: token id %lld out of range", name.c_str(), (long long)id));
    if (static_cast<size_t>(id) >= texts.size()) {
      texts.resize(static_cast<size_t>(id) + 1);
      seen.resize(static_cast<size_t>(id) + 1);
    }
    texts[static_cast<size_t>(id)] = text;
    seen[static_cast<size_t>(id)] = true;
    return Status::Ok();
  };
  for (const auto& [text, idv] : (*model)["vocab"].items()) RETURN_IF_ERROR(put(text, idv));
  std::vector<int64_t> special_ids;
  if (j.contains("added_tokens")) {
    if (!j["added_tokens"].is_array())
      return InvalidArgument(name + ": 'added_tokens' is not an array");
    for (const json& t : j["added_tokens"]) {
      if (!t.is_object() || !t.contains("content") || !t["content"].is_string() ||
          !t.contains("id")) {
        return InvalidArgument(name + ": malformed entry in 'added_tokens'");
      }
      RETURN_IF_ERROR(put(t["content"].get<std::string>(), t["id"]));
      if (t.value("special", false)) special_ids.push_back(t["id"].get<int64_t>());
    }
  }
  for (size_t i = 0; i < seen.size(); ++i) {
    if (!seen[i])
      return InvalidArgument(
          StrFormat("%s: token id %zu is missing from the vocabulary", name.c_str(), i));
  }
  // Types as Gemma 4's converter assigns them: BYTE for <0xHH>, CONTROL for special added
  // tokens, the seven tool/channel tokens USER_DEFINED, NORMAL otherwise.
  std::vector<TokenType> types(texts.size(), TokenType::kNormal);
  for (size_t i = 0; i < texts.size(); ++i) {
    if (ParseByteToken(texts[i]) >= 0) types[i] = TokenType::kByte;
  }
  for (int64_t id : special_ids) {
    TokenType& t = types[static_cast<size_t>(id)];
    t = TokenType::kControl;
    for (std::string_view v : kVisibleSpecials) {
      if (texts[static_cast<size_t>(id)] == v) t = TokenType::kUserDefined;
    }
  }
  std::vector<std::pair<std::string, std::string>> merges;
  if (model->contains("merges")) {
    const json& m = (*model)["merges"];
    if (!m.is_array()) return InvalidArgument(name + ": 'model.merges' is not an array");
    merges.reserve(m.size());
    for (size_t i = 0; i < m.size(); ++i) {
      const json& e = m[i];
      if (e.is_array() && e.size() == 2 && e[0].is_string() && e[1].is_string()) {
        merges.emplace_back(e[0].get<std::string>(), e[1].get<std::string>());
      } else if (e.is_string()) {
        const std::string s = e.get<std::string>();
        const size_t sp = s.find(' ', 1);
        if (sp == std::string::npos)
          return InvalidArgument(
              StrFormat("%s: merge %zu has no space separator", name.c_str(), i));
        merges.emplace_back(s.substr(0, sp), s.substr(sp + 1));
      } else {
        return InvalidArgument(
            StrFormat("%s: merge %zu is neither a pair nor a string", name.c_str(), i));
      }
    }
  }
  std::unique_ptr<Tokenizer> t(new Tokenizer());
  RETURN_IF_ERROR(t->Build(std::move(texts), std::move(types), merges).WithContext(name));
  return t;
}

}  // namespace pocket
