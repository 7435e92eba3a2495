// libFuzzer target: arbitrary bytes through Encode (both special modes), Decode and the
// streaming decoder of the golden vocabulary. Invariants: no crash, ids in range, streamed
// text equals whole decode, decode of an encode of valid UTF-8 without '▁' round-trips.
#include <cstdlib>
#include <memory>

#include "formats/metadata.h"
#include "tokenizer/stream_decoder.h"
#include "tokenizer/tokenizer.h"

namespace {
std::unique_ptr<pocket::Tokenizer> g_tok;
}

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  const char* dir = std::getenv("POCKET_GOLDEN_DIR");
  const std::string path = std::string(dir ? dir : "../shared/golden") + "/tokenizer/vocab.gguf";
  auto t = pocket::Tokenizer::Load(path);
  if (!t.ok()) {
    std::fprintf(stderr, "tokenizer_fuzz: %s\n", t.status().ToString().c_str());
    std::abort();
  }
  g_tok = std::move(*t);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  for (bool special : {false, true}) {
    const std::vector<int32_t> ids = g_tok->Encode(text, {true, special});
    for (int32_t id : ids) {
      if (id < 0 || id >= g_tok->n_vocab()) std::abort();
    }
    const std::string whole = g_tok->Decode(ids);
    pocket::StreamDecoder dec(*g_tok, false, /*sanitize=*/false);
    std::string streamed;
    for (int32_t id : ids) streamed += dec.Push(id);
    streamed += dec.Flush();
    if (streamed != whole) std::abort();
    if (!special && pocket::IsValidUtf8(text) &&
        text.find("\xE2\x96\x81") == std::string_view::npos && whole != text)
      std::abort();
  }
  // Ids straight from the bytes (decode must accept anything in range).
  std::vector<int32_t> ids;
  for (size_t i = 0; i + 1 < size; i += 2)
    ids.push_back((data[i] | (data[i + 1] << 8)) % g_tok->n_vocab());
  pocket::StreamDecoder dec(*g_tok);
  for (int32_t id : ids) {
    const std::string chunk = dec.Push(id);
    if (!pocket::IsValidUtf8(chunk)) std::abort();
  }
  return 0;
}
