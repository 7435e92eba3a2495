// libFuzzer target: image decoding (JPEG, PNG, WebP, BMP, GIF sniffed from the bytes) and the
// preprocessing that follows must reject or accept any bytes without crashing; an accepted
// image has consistent dimensions.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "media/image_decode.h"
#include "media/image_preprocess.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  pocket::ImageLimits limits;
  limits.max_pixels = 1 << 20;  // keep each run fast
  auto img = pocket::DecodeImage(data, size, "fuzz", limits);
  if (!img.ok()) return 0;
  if (img->width <= 0 || img->height <= 0 ||
      img->rgb.size() != static_cast<size_t>(img->width) * static_cast<size_t>(img->height) * 3) {
    std::abort();
  }
  pocket::ImagePreprocessOptions o;
  o.budget = 70;
  auto px = pocket::PreprocessImage(*img, o);
  if (px.ok() && (px->width % 48 != 0 || px->height % 48 != 0)) std::abort();
  return 0;
}
