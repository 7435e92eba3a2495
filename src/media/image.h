// Image value types passed between decoding (media/image_decode), preprocessing
// (media/image_preprocess) and the vision encoders (model/vision_encoder). Plain owning values.
#pragma once

#include <cstdint>
#include <vector>

namespace pocket {

// 8-bit RGB, row-major [height][width][3].
struct RgbImage {
  int width = 0;
  int height = 0;
  std::vector<uint8_t> rgb;
};

// Float RGB in [0, 1], row-major [height][width][3] (HWC), as the encoders take it.
struct PixelImage {
  int width = 0;
  int height = 0;
  std::vector<float> rgb;
};

}  // namespace pocket
