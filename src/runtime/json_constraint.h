// Constrained JSON output. JsonPrefix is an incremental, byte-level JSON (RFC 8259) checker:
// it accepts exactly the prefixes of valid documents and can name the shortest text that
// completes the current one. JsonObjectFilter uses it as the Sampler's TokenFilter so that
// generation can only produce a JSON object (OpenAI's response_format json_object): every
// token whose text would break the prefix is masked, end-of-generation is allowed only once
// the object is complete, and when the token budget runs short only tokens that spell the
// shortest completion are allowed, so even a max_tokens cut leaves valid JSON.
//
// JsonPrefix is a small value type (copied per candidate token). The filter borrows the
// tokenizer; one per generation; not thread-safe. Cost per step: one pass over the vocabulary
// (~1 M byte steps for 262k tokens).
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "runtime/sampler.h"
#include "tokenizer/tokenizer.h"

namespace pocket {

class SchemaPrefix;

class JsonPrefix {
 public:
  // `object_only`: the top-level value must be an object.
  explicit JsonPrefix(bool object_only = true) : object_only_(object_only) {}

  // False (state unchanged) when `c` cannot continue a valid document.
  bool Feed(char c);
  bool Feed(const std::string& s);
  // A whole top-level value has been read.
  bool complete() const { return expect_ == Expect::kDone && lex_ == Lex::kNone; }
  // The shortest text that makes the document complete.
  std::string Completion() const;

 private:
  friend class SchemaPrefix;  // json_schema.cc reads the syntax state to track the schema
  static constexpr int kMaxDepth = 32;
  enum class Expect : uint8_t { kValue, kKeyOrEnd, kKey, kColon, kCommaOrEnd, kDone };
  enum class Lex : uint8_t {
    kNone, kString, kEscape, kUnicode, kLiteral,
    kMinus, kZero, kInt, kDot, kFrac, kExp, kExpSign, kExpInt
  };
  bool FeedStructural(char c);
  bool StartValue(char c);
  void EndValue();
  bool NumberDone() const { return lex_ == Lex::kZero || lex_ == Lex::kInt || lex_ == Lex::kFrac || lex_ == Lex::kExpInt; }

  bool object_only_;
  Expect expect_ = Expect::kValue;
  Lex lex_ = Lex::kNone;
  bool string_is_key_ = false;
  uint8_t unicode_left_ = 0;
  const char* literal_ = nullptr;  // "true", "false", "null"
  uint8_t literal_pos_ = 0;
  uint8_t depth_ = 0;
  bool empty_array_ = false;  // just after '['
  char stack_[kMaxDepth] = {};  // '{' or '['
};

// A TokenFilter over any prefix checker `State` (Feed(string), complete(), Completion()):
// masks tokens whose text the state rejects, allows end-of-generation only once complete,
// and near the token budget only tokens that spell the shortest completion.
template <typename State>
class PrefixFilter : public TokenFilter {
 public:
  // `max_tokens` < 0: no budget (no forced completion).
  PrefixFilter(const Tokenizer& tok, State initial, int64_t max_tokens)
      : tok_(tok), max_tokens_(max_tokens), state_(std::move(initial)) {}

  void Apply(float* logits, int64_t n_vocab) override {
    const float kNo = -std::numeric_limits<float>::infinity();
    const bool done = state_.complete();
    const std::string completion = done ? std::string() : state_.Completion();
    // Every ASCII character is a token of its own, so a char-per-token budget is enough.
    const bool forcing = max_tokens_ >= 0 && max_tokens_ - generated_ <= static_cast<int64_t>(completion.size()) + 1;
    for (int64_t id = 0; id < n_vocab; ++id) {
      const int32_t t = static_cast<int32_t>(id);
      if (id >= tok_.n_vocab()) {
        logits[id] = kNo;
      } else if (tok_.IsEog(t)) {
        if (!done) logits[id] = kNo;
      } else {
        const std::string& piece = tok_.Piece(t);
        if (done || piece.empty() || (forcing && completion.compare(0, piece.size(), piece) != 0)) {
          logits[id] = kNo;
        } else {
          State next = state_;
          if (!next.Feed(piece)) logits[id] = kNo;
        }
      }
    }
  }

  void Accept(int32_t token) override {
    ++generated_;
    if (token >= 0 && token < tok_.n_vocab() && !tok_.IsEog(token)) state_.Feed(tok_.Piece(token));
  }

 private:
  const Tokenizer& tok_;
  int64_t max_tokens_;
  int64_t generated_ = 0;
  State state_;
};

// Output constrained to one JSON object (response_format json_object).
class JsonObjectFilter : public PrefixFilter<JsonPrefix> {
 public:
  JsonObjectFilter(const Tokenizer& tok, int64_t max_tokens) : PrefixFilter(tok, JsonPrefix(true), max_tokens) {}
};

}  // namespace pocket
