// libFuzzer target: the safetensors parser must reject or accept any bytes without crashing,
// and every accepted tensor must lie inside the buffer.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "formats/safetensors_reader.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto f = pocket::SafetensorsFile::ParseBuffer(data, size, "fuzz.safetensors");
  if (!f.ok()) return 0;
  for (const pocket::TensorInfo& t : f->tensors()) {
    if (t.offset + t.nbytes > size) std::abort();
  }
  return 0;
}
