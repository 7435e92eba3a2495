// UTF-8 helpers for the tokenizer and the streaming detokenizer.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace pocket::utf8 {

inline constexpr char32_t kReplacement = 0xFFFD;

// Decodes one code point at s[*pos] the way llama.cpp does (lenient: overlong forms and
// surrogates are accepted as decoded; a malformed lead or truncated sequence yields
// U+FFFD and consumes one byte; values above U+10FFFF yield U+FFFD for the whole sequence).
char32_t DecodeLenient(std::string_view s, size_t* pos);

// Appends the UTF-8 encoding of cp (cp <= 0x10FFFF; surrogates are encoded as-is).
void Append(char32_t cp, std::string* out);

// Length of the sequence a lead byte announces (1 for ASCII and for invalid leads).
inline int SequenceLength(uint8_t lead) {
  if (lead < 0x80) return 1;
  if ((lead & 0xE0) == 0xC0) return 2;
  if ((lead & 0xF0) == 0xE0) return 3;
  if ((lead & 0xF8) == 0xF0) return 4;
  return 1;
}

// Number of bytes at the end of s that form an incomplete (but so far valid-looking)
// UTF-8 sequence: what a streaming decoder must hold back.
size_t IncompleteTail(std::string_view s);

// Replaces every invalid byte with U+FFFD (strict UTF-8: no overlongs, surrogates or values
// above U+10FFFF), as JSON output needs.
std::string Sanitize(std::string_view s);

}  // namespace pocket::utf8
