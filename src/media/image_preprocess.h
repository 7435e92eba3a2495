// Image preprocessing with transformers' Gemma 4 semantics (spec gemma4-multimodal.md §3.1):
// the size that fills a token budget with sides multiple of 48, PIL's antialiased bicubic
// resize (the PIL backend the golden data was made with), and rescaling to [0, 1].
// Pure functions, thread-safe.
#pragma once

#include "base/status.h"
#include "media/image.h"

namespace pocket {

// The token budgets Gemma 4 accepts; 280 is the default for images.
inline constexpr int kImageBudgets[] = {70, 140, 280, 560, 1120};
inline constexpr int kDefaultImageBudget = 280;
Status CheckImageBudget(int budget);  // InvalidArgument naming the allowed values

struct ImageSize {
  int width = 0;
  int height = 0;
};

// The aspect-preserving size that fills `budget` tokens: both sides multiples of
// `side_multiple` (48), upscaling small images (§3.1 step 2).
Result<ImageSize> TargetImageSize(int width, int height, int budget, int side_multiple = 48);

// PIL Image.resize(..., BICUBIC) on 8-bit RGB: separable, antialiased (the kernel widens by
// the scale when shrinking), fixed-point coefficients, horizontal pass first, each pass
// rounded and clipped to 8 bits.
RgbImage ResizeBicubic(const RgbImage& in, int width, int height);

// Pixels / 255 as floats.
PixelImage ToPixels(const RgbImage& in);

struct ImagePreprocessOptions {
  int budget = kDefaultImageBudget;
  int side_multiple = 48;
  bool keep_size = false;  // encode as is; the sides must already be multiples of side_multiple
};

// Resize (unless keep_size) and rescale.
Result<PixelImage> PreprocessImage(const RgbImage& in, const ImagePreprocessOptions& options);

}  // namespace pocket
