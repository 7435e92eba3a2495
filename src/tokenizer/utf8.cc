#include "tokenizer/utf8.h"

#include "formats/metadata.h"

namespace pocket::utf8 {

char32_t DecodeLenient(std::string_view s, size_t* pos) {
  const size_t i = *pos;
  const auto b = [&](size_t k) { return static_cast<uint8_t>(s[i + k]); };
  const auto cont = [&](size_t k) { return i + k < s.size() && (b(k) & 0xC0) == 0x80; };
  const uint8_t b0 = b(0);
  if (!(b0 & 0x80)) {
    *pos += 1;
    return b0;
  }
  if (b0 & 0x40) {
    if (!(b0 & 0x20)) {
      if (cont(1)) {
        *pos += 2;
        return (static_cast<char32_t>(b0 & 0x1F) << 6) | (b(1) & 0x3F);
      }
    } else if (!(b0 & 0x10)) {
      if (cont(1) && cont(2)) {
        *pos += 3;
        return (static_cast<char32_t>(b0 & 0x0F) << 12) |
               (static_cast<char32_t>(b(1) & 0x3F) << 6) | (b(2) & 0x3F);
      }
    } else if (!(b0 & 0x08)) {
      if (cont(1) && cont(2) && cont(3)) {
        *pos += 4;
        const char32_t cp = (static_cast<char32_t>(b0 & 0x07) << 18) |
                            (static_cast<char32_t>(b(1) & 0x3F) << 12) |
                            (static_cast<char32_t>(b(2) & 0x3F) << 6) | (b(3) & 0x3F);
        return cp > 0x10FFFF ? kReplacement : cp;
      }
    }
  }
  *pos += 1;
  return kReplacement;
}

void Append(char32_t cp, std::string* out) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

size_t IncompleteTail(std::string_view s) {
  // Look back at most 3 bytes for a lead byte whose sequence runs past the end.
  for (size_t back = 1; back <= 3 && back <= s.size(); ++back) {
    const uint8_t c = static_cast<uint8_t>(s[s.size() - back]);
    if ((c & 0xC0) == 0x80) continue;  // continuation: keep looking for the lead
    const int need = SequenceLength(c);
    return (c >= 0xC0 && need > static_cast<int>(back)) ? back : 0;
  }
  return 0;
}

std::string Sanitize(std::string_view s) {
  if (IsValidUtf8(s)) return std::string(s);
  std::string out;
  size_t i = 0;
  while (i < s.size()) {
    const int n = SequenceLength(static_cast<uint8_t>(s[i]));
    if (i + static_cast<size_t>(n) <= s.size() &&
        IsValidUtf8(s.substr(i, static_cast<size_t>(n))) &&
        (n > 1 || static_cast<uint8_t>(s[i]) < 0x80)) {
      out.append(s.substr(i, static_cast<size_t>(n)));
      i += static_cast<size_t>(n);
    } else {
      Append(kReplacement, &out);
      ++i;
    }
  }
  return out;
}

}  // namespace pocket::utf8
