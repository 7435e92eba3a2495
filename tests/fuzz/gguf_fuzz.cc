// libFuzzer target: the GGUF parser must reject or accept any bytes without crashing, and
// every accepted tensor must lie inside the buffer.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "formats/gguf_reader.h"
#include "model/config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto f = pocket::GgufFile::ParseBuffer(data, size, "fuzz.gguf");
  if (!f.ok()) return 0;
  for (const pocket::TensorInfo& t : f->tensors()) {
    if (t.data < data || t.offset + t.nbytes > size) std::abort();
  }
  for (const auto& [key, value] : f->metadata().entries()) (void)value.ToString();
  return 0;
}
