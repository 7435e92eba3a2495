// StreamDecoder: turns a stream of token ids into text chunks that never split a UTF-8
// character. Byte-fallback tokens (<0xE2><0x96><0x81>...) are buffered until their sequence
// is complete. A byte that can never complete a sequence is emitted as U+FFFD when
// `sanitize` is on (JSON output must be valid UTF-8) or passed through raw otherwise.
//
// Borrows the tokenizer. One instance per generation stream; not thread-safe. Cost: O(piece).
#pragma once

#include <string>

#include "tokenizer/tokenizer.h"

namespace pocket {

class StreamDecoder {
 public:
  StreamDecoder(const Tokenizer& tok, bool special = false, bool sanitize = true)
      : tok_(tok), special_(special), sanitize_(sanitize) {}

  // Returns the text that became complete with this token (possibly empty).
  std::string Push(int32_t id);
  // Returns whatever is still buffered (an incomplete sequence at the end of the stream).
  std::string Flush();

 private:
  const Tokenizer& tok_;
  bool special_;
  bool sanitize_;
  std::string pending_;
};

}  // namespace pocket
