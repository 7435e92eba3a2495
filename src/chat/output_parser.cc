#include "chat/output_parser.h"

#include <nlohmann/json.hpp>

namespace pocket {
namespace {

using Json = nlohmann::ordered_json;

constexpr std::string_view kChannelOpen = "<|channel>";
constexpr std::string_view kChannelClose = "<channel|>";
constexpr std::string_view kCallOpen = "<|tool_call>";
constexpr std::string_view kCallClose = "<tool_call|>";
constexpr std::string_view kQuote = "<|\"|>";
constexpr std::string_view kTurnModel = "<|turn>model\n";
constexpr std::string_view kThought = "thought";

bool IsWs(char c) { return c == ' ' || c == '\n' || c == '\t' || c == '\r'; }

// Result of trying to read a value: ok, malformed, or ran out of text (streaming: wait).
enum class Read { kOk, kBad, kNeedMore };

class DictReader {
 public:
  explicit DictReader(std::string_view s) : s_(s) {}
  size_t pos = 0;

  Read Value(Json* out) {
    if (pos >= s_.size()) return Read::kNeedMore;
    if (s_.compare(pos, kQuote.size(), kQuote) == 0 ||
        kQuote.substr(0, s_.size() - pos) == s_.substr(pos)) {
      if (s_.size() - pos < kQuote.size()) return Read::kNeedMore;
      const size_t end = s_.find(kQuote, pos + kQuote.size());
      if (end == std::string_view::npos) return Read::kNeedMore;
      *out = std::string(s_.substr(pos + kQuote.size(), end - pos - kQuote.size()));
      pos = end + kQuote.size();
      return Read::kOk;
    }
    const char c = s_[pos];
    if (c == '{') return Dict(out);
    if (c == '[') return List(out);
    for (const auto& [word, value] : {std::pair<std::string_view, Json>{"true", Json(true)},
                                      {"false", Json(false)},
                                      {"null", Json()}}) {
      const std::string_view rest = s_.substr(pos);
      if (rest.substr(0, word.size()) == word) {
        pos += word.size();
        *out = value;
        return Read::kOk;
      }
      if (word.substr(0, rest.size()) == rest) return Read::kNeedMore;
    }
    return Number(out);
  }

  Read Dict(Json* out) {
    ++pos;  // '{'
    *out = Json::object();
    SkipWs();
    if (pos >= s_.size()) return Read::kNeedMore;
    if (s_[pos] == '}') {
      ++pos;
      return Read::kOk;
    }
    for (;;) {
      const size_t start = pos;
      while (pos < s_.size() && s_[pos] != ':' && s_[pos] != '}') ++pos;
      if (pos >= s_.size()) return Read::kNeedMore;
      if (s_[pos] != ':' || pos == start) return Read::kBad;
      const std::string key(s_.substr(start, pos - start));
      ++pos;
      SkipWs();
      Json v;
      if (Read r = Value(&v); r != Read::kOk) return r;
      (*out)[key] = std::move(v);
      SkipWs();
      if (pos >= s_.size()) return Read::kNeedMore;
      if (s_[pos] == ',') {
        ++pos;
        SkipWs();
        continue;
      }
      if (s_[pos] == '}') {
        ++pos;
        return Read::kOk;
      }
      return Read::kBad;
    }
  }

  Read List(Json* out) {
    ++pos;  // '['
    *out = Json::array();
    SkipWs();
    if (pos >= s_.size()) return Read::kNeedMore;
    if (s_[pos] == ']') {
      ++pos;
      return Read::kOk;
    }
    for (;;) {
      Json v;
      if (Read r = Value(&v); r != Read::kOk) return r;
      out->push_back(std::move(v));
      SkipWs();
      if (pos >= s_.size()) return Read::kNeedMore;
      if (s_[pos] == ',') {
        ++pos;
        SkipWs();
        continue;
      }
      if (s_[pos] == ']') {
        ++pos;
        return Read::kOk;
      }
      return Read::kBad;
    }
  }

  // A JSON number literal, parsed as JSON parses it (1.5e10 -> float, 3 -> integer).
  Read Number(Json* out) {
    const size_t start = pos;
    if (pos < s_.size() && s_[pos] == '-') ++pos;
    // One or more digits: kOk, or why not (the text may still be arriving).
    auto digits = [&] {
      const size_t first = pos;
      while (pos < s_.size() && std::isdigit(static_cast<unsigned char>(s_[pos]))) ++pos;
      if (pos > first) return Read::kOk;
      return pos >= s_.size() ? Read::kNeedMore : Read::kBad;
    };
    if (Read r = digits(); r != Read::kOk) return r;
    if (pos < s_.size() && s_[pos] == '.') {
      ++pos;
      if (Read r = digits(); r != Read::kOk) return r;
    }
    if (pos < s_.size() && (s_[pos] == 'e' || s_[pos] == 'E')) {
      ++pos;
      if (pos < s_.size() && (s_[pos] == '+' || s_[pos] == '-')) ++pos;
      if (Read r = digits(); r != Read::kOk) return r;
    }
    if (pos >= s_.size()) return Read::kNeedMore;  // the number may continue
    Json v = Json::parse(s_.substr(start, pos - start), nullptr, false);
    if (v.is_discarded()) return Read::kBad;
    *out = std::move(v);
    return Read::kOk;
  }

 private:
  void SkipWs() {
    while (pos < s_.size() && IsWs(s_[pos])) ++pos;
  }
  std::string_view s_;
};

// Tries to read `call:NAME{…}<tool_call|>` at s[0]. On kOk sets *end past the closing tag.
Read ReadCall(std::string_view s, ParsedToolCall* call, size_t* end) {
  constexpr std::string_view kCall = "call:";
  if (s.size() < kCall.size()) return kCall.substr(0, s.size()) == s ? Read::kNeedMore : Read::kBad;
  if (s.substr(0, kCall.size()) != kCall) return Read::kBad;
  const size_t brace = s.find('{', kCall.size());
  if (brace == std::string_view::npos) {
    // The name may still be arriving, unless a tag already ended the call.
    return s.find(kCallClose) == std::string_view::npos ? Read::kNeedMore : Read::kBad;
  }
  if (brace == kCall.size()) return Read::kBad;
  const std::string_view name = s.substr(kCall.size(), brace - kCall.size());
  if (name.find('<') != std::string_view::npos) return Read::kBad;
  DictReader r(s);
  r.pos = brace;
  Json args;
  if (Read rd = r.Dict(&args); rd != Read::kOk) return rd;
  const std::string_view rest = s.substr(r.pos);
  if (rest.size() < kCallClose.size())
    return kCallClose.substr(0, rest.size()) == rest ? Read::kNeedMore : Read::kBad;
  if (rest.substr(0, kCallClose.size()) != kCallClose) return Read::kBad;
  call->name = std::string(name);
  call->arguments_json =
      args.dump(-1, ' ', false, Json::error_handler_t::replace);  // invalid UTF-8 -> U+FFFD
  *end = r.pos + kCallClose.size();
  return Read::kOk;
}

// Length of the longest suffix of s that is a proper prefix of one of the markers.
size_t PartialMarker(std::string_view s, std::initializer_list<std::string_view> markers) {
  size_t best = 0;
  for (std::string_view m : markers) {
    for (size_t n = std::min(s.size(), m.size() - 1); n > best; --n) {
      if (s.substr(s.size() - n) == m.substr(0, n)) {
        best = n;
        break;
      }
    }
  }
  return best;
}

// The parser proper. `partial`: the text may continue; stop before anything undecided.
ParsedOutput Parse(std::string_view text, bool started_in_reasoning, bool partial) {
  ParsedOutput out;
  size_t pos = 0;
  if (text.substr(0, kTurnModel.size()) == kTurnModel) {
    pos = kTurnModel.size();
  } else if (partial && kTurnModel.substr(0, text.size()) == text) {
    return out;
  }
  bool reasoning = started_in_reasoning;
  auto skip_ws = [&] {
    while (pos < text.size() && IsWs(text[pos])) ++pos;
  };
  if (reasoning) skip_ws();
  while (pos < text.size()) {
    const std::string_view rest = text.substr(pos);
    if (reasoning) {
      const size_t close = rest.find(kChannelClose);
      if (close == std::string_view::npos) {
        const size_t hold = partial ? PartialMarker(rest, {kChannelClose}) : 0;
        out.reasoning += rest.substr(0, rest.size() - hold);
        return out;
      }
      out.reasoning += rest.substr(0, close);
      pos += close + kChannelClose.size();
      reasoning = false;
      continue;
    }
    // Content: find the next marker.
    size_t next = std::string_view::npos;
    std::string_view which;
    for (std::string_view m : {kChannelOpen, kChannelClose, kCallOpen}) {
      const size_t at = rest.find(m);
      if (at < next) {
        next = at;
        which = m;
      }
    }
    if (next == std::string_view::npos) {
      const size_t hold =
          partial ? PartialMarker(rest, {kChannelOpen, kChannelClose, kCallOpen}) : 0;
      out.content += rest.substr(0, rest.size() - hold);
      return out;
    }
    out.content += rest.substr(0, next);
    pos += next + which.size();
    if (which == kChannelClose) continue;  // stray close: dropped
    if (which == kChannelOpen) {
      while (text.substr(pos, kChannelOpen.size()) == kChannelOpen) pos += kChannelOpen.size();
      const std::string_view after = text.substr(pos);
      if (after.substr(0, kThought.size()) == kThought) {
        pos += kThought.size();
        reasoning = true;
        skip_ws();
        if (partial && pos >= text.size()) return out;
      } else if (partial && (kThought.substr(0, after.size()) == after ||
                             kChannelOpen.substr(0, after.size()) == after)) {
        return out;  // "thought" may still be arriving
      }
      continue;
    }
    // A tool call.
    ParsedToolCall call;
    size_t len = 0;
    const Read r = ReadCall(text.substr(pos), &call, &len);
    if (r == Read::kOk) {
      out.tool_calls.push_back(std::move(call));
      pos += len;
      continue;
    }
    const size_t close = text.find(kCallClose, pos);
    if (partial && (r == Read::kNeedMore || close == std::string_view::npos)) return out;
    // Malformed: keep it verbatim as content, through the next close tag (or the end).
    const size_t stop = close == std::string_view::npos ? text.size() : close + kCallClose.size();
    out.content += text.substr(pos - kCallOpen.size(), stop - (pos - kCallOpen.size()));
    out.warnings.push_back("malformed tool call kept as content");
    pos = stop;
  }
  return out;
}

}  // namespace

ParsedOutput ParseModelOutput(std::string_view text, bool started_in_reasoning) {
  return Parse(text, started_in_reasoning, /*partial=*/false);
}

std::string ParsedOutputToJson(const ParsedOutput& p) {
  Json j = Json::object();
  j["reasoning"] = p.reasoning;
  j["content"] = p.content;
  j["tool_calls"] = Json::array();
  for (const ParsedToolCall& c : p.tool_calls) {
    j["tool_calls"].push_back({{"name", c.name}, {"arguments", Json::parse(c.arguments_json)}});
  }
  return j.dump(-1, ' ', false, Json::error_handler_t::replace);
}

StreamingOutputParser::Delta StreamingOutputParser::Diff(const ParsedOutput& now) {
  Delta d;
  if (now.reasoning.size() > reasoning_sent_) d.reasoning = now.reasoning.substr(reasoning_sent_);
  if (now.content.size() > content_sent_) d.content = now.content.substr(content_sent_);
  for (size_t i = calls_sent_; i < now.tool_calls.size(); ++i)
    d.tool_calls.push_back(now.tool_calls[i]);
  reasoning_sent_ = std::max(reasoning_sent_, now.reasoning.size());
  content_sent_ = std::max(content_sent_, now.content.size());
  calls_sent_ = std::max(calls_sent_, now.tool_calls.size());
  return d;
}

StreamingOutputParser::Delta StreamingOutputParser::Push(std::string_view text) {
  text_.append(text);
  return Diff(Parse(text_, started_in_reasoning_, /*partial=*/true));
}

StreamingOutputParser::Delta StreamingOutputParser::Finish() {
  return Diff(Parse(text_, started_in_reasoning_, false));
}

}  // namespace pocket
