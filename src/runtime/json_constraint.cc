#include "runtime/json_constraint.h"

#include <cctype>
#include <cstring>

namespace pocket {
namespace {

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsHex(char c) { return IsDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

}  // namespace

bool JsonPrefix::Feed(const std::string& s) {
  JsonPrefix copy = *this;
  for (char c : s) {
    if (!copy.Feed(c)) return false;
  }
  *this = copy;
  return true;
}

void JsonPrefix::EndValue() {
  lex_ = Lex::kNone;
  expect_ = depth_ == 0 ? Expect::kDone : Expect::kCommaOrEnd;
}

bool JsonPrefix::StartValue(char c) {
  if (object_only_ && depth_ == 0 && c != '{') return false;
  empty_array_ = false;
  switch (c) {
    case '{':
    case '[':
      if (depth_ >= kMaxDepth) return false;
      stack_[depth_++] = c;
      expect_ = c == '{' ? Expect::kKeyOrEnd : Expect::kValue;
      empty_array_ = c == '[';  // `]` may follow at once
      return true;
    case '"': lex_ = Lex::kString, string_is_key_ = false; return true;
    case 't': lex_ = Lex::kLiteral, literal_ = "true", literal_pos_ = 1; return true;
    case 'f': lex_ = Lex::kLiteral, literal_ = "false", literal_pos_ = 1; return true;
    case 'n': lex_ = Lex::kLiteral, literal_ = "null", literal_pos_ = 1; return true;
    case '-': lex_ = Lex::kMinus; return true;
    case '0': lex_ = Lex::kZero; return true;
    default:
      if (c >= '1' && c <= '9') {
        lex_ = Lex::kInt;
        return true;
      }
      return false;
  }
}

bool JsonPrefix::FeedStructural(char c) {
  if (IsSpace(c)) return true;
  switch (expect_) {
    case Expect::kValue:
      // ']' right after '[' closes an empty array.
      if (c == ']' && empty_array_) {
        empty_array_ = false;
        --depth_;
        EndValue();
        return true;
      }
      return StartValue(c);
    case Expect::kKeyOrEnd:
      if (c == '}') {
        --depth_;
        EndValue();
        return true;
      }
      [[fallthrough]];
    case Expect::kKey:
      if (c != '"') return false;
      lex_ = Lex::kString;
      string_is_key_ = true;
      return true;
    case Expect::kColon:
      if (c != ':') return false;
      expect_ = Expect::kValue;
      return true;
    case Expect::kCommaOrEnd: {
      const char open = stack_[depth_ - 1];
      if (c == ',') {
        expect_ = open == '{' ? Expect::kKey : Expect::kValue;
        return true;
      }
      if ((open == '{' && c == '}') || (open == '[' && c == ']')) {
        --depth_;
        EndValue();
        return true;
      }
      return false;
    }
    case Expect::kDone:
      return false;
  }
  return false;
}

bool JsonPrefix::Feed(char c) {
  switch (lex_) {
    case Lex::kString:
      if (c == '"') {
        lex_ = Lex::kNone;
        if (string_is_key_) {
          expect_ = Expect::kColon;
        } else {
          EndValue();
        }
        return true;
      }
      if (c == '\\') {
        lex_ = Lex::kEscape;
        return true;
      }
      return static_cast<unsigned char>(c) >= 0x20;
    case Lex::kEscape:
      if (c == 'u') {
        lex_ = Lex::kUnicode;
        unicode_left_ = 4;
        return true;
      }
      if (std::strchr("\"\\/bfnrt", c) == nullptr || c == '\0') return false;
      lex_ = Lex::kString;
      return true;
    case Lex::kUnicode:
      if (!IsHex(c)) return false;
      if (--unicode_left_ == 0) lex_ = Lex::kString;
      return true;
    case Lex::kLiteral:
      if (c != literal_[literal_pos_]) return false;
      if (literal_[++literal_pos_] == '\0') EndValue();
      return true;
    case Lex::kMinus:
      if (c == '0') return lex_ = Lex::kZero, true;
      if (IsDigit(c)) return lex_ = Lex::kInt, true;
      return false;
    case Lex::kZero:
    case Lex::kInt:
    case Lex::kFrac:
      if (IsDigit(c) && lex_ != Lex::kZero) return true;
      if (c == '.' && lex_ != Lex::kFrac) return lex_ = Lex::kDot, true;
      if (c == 'e' || c == 'E') return lex_ = Lex::kExp, true;
      break;  // the number ends here; `c` is structural
    case Lex::kDot:
      return IsDigit(c) ? (lex_ = Lex::kFrac, true) : false;
    case Lex::kExp:
      if (c == '+' || c == '-') return lex_ = Lex::kExpSign, true;
      return IsDigit(c) ? (lex_ = Lex::kExpInt, true) : false;
    case Lex::kExpSign:
      return IsDigit(c) ? (lex_ = Lex::kExpInt, true) : false;
    case Lex::kExpInt:
      if (IsDigit(c)) return true;
      break;
    case Lex::kNone:
      return FeedStructural(c);
  }
  // A finished number followed by `c`.
  JsonPrefix next = *this;
  next.EndValue();
  if (!next.FeedStructural(c)) return false;
  *this = next;
  return true;
}

std::string JsonPrefix::Completion() const {
  std::string out;
  JsonPrefix s = *this;
  switch (s.lex_) {
    case Lex::kEscape: out.append("n\""); break;
    case Lex::kUnicode: out.append(s.unicode_left_, '0').push_back('"'); break;
    case Lex::kString: out.push_back('"'); break;
    case Lex::kLiteral: out.append(s.literal_ + s.literal_pos_); break;
    case Lex::kMinus: case Lex::kDot: case Lex::kExp: case Lex::kExpSign: out += "0"; break;
    default: break;
  }
  if (!s.Feed(out)) return out;  // unreachable for a valid state
  if (s.NumberDone()) s.EndValue();  // a number ends where the structure continues
  while (!s.complete()) {
    const char* step = nullptr;  // (const char*: g++ 12 warns falsely on std::string = "literal")
    switch (s.expect_) {
      case Expect::kValue: step = s.depth_ == 0 ? "{}" : "0"; break;
      case Expect::kKeyOrEnd: step = "}"; break;
      case Expect::kKey: step = "\"\""; break;
      case Expect::kColon: step = ":"; break;
      case Expect::kCommaOrEnd: step = s.stack_[s.depth_ - 1] == '{' ? "}" : "]"; break;
      case Expect::kDone: break;
    }
    if (step == nullptr || !s.Feed(std::string(step))) break;
    if (s.NumberDone()) s.EndValue();
    out.append(step);
  }
  return out;
}

}  // namespace pocket
