#include "tokenizer/stream_decoder.h"

#include "tokenizer/utf8.h"

namespace pocket {

std::string StreamDecoder::Push(int32_t id) {
  pending_ += tok_.Piece(id, special_);
  const size_t hold = utf8::IncompleteTail(pending_);
  std::string out = pending_.substr(0, pending_.size() - hold);
  pending_.erase(0, pending_.size() - hold);
  return sanitize_ ? utf8::Sanitize(out) : out;
}

std::string StreamDecoder::Flush() {
  std::string out;
  out.swap(pending_);
  return sanitize_ ? utf8::Sanitize(out) : out;
}

}  // namespace pocket
