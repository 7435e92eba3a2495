#include "media/image_preprocess.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

namespace pocket {
namespace {

constexpr int kPrecisionBits = 32 - 8 - 2;  // PIL's fixed-point precision for 8-bit images

double BicubicFilter(double x) {
  constexpr double a = -0.5;
  if (x < 0.0) x = -x;
  if (x < 1.0) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
  if (x < 2.0) return (((x - 5) * x + 8) * x - 4) * a;
  return 0.0;
}

// Per output pixel: the first input index, the tap count and fixed-point weights (ksize each).
struct Coefficients {
  int ksize = 0;
  std::vector<int> first, count;
  std::vector<int32_t> weights;
};

Coefficients Precompute(int in_size, int out_size) {
  constexpr double kSupport = 2.0;  // bicubic
  const double scale = static_cast<double>(in_size) / out_size;
  const double filter_scale = std::max(scale, 1.0);
  const double support = kSupport * filter_scale;
  Coefficients co;
  co.ksize = static_cast<int>(std::ceil(support)) * 2 + 1;
  co.first.resize(static_cast<size_t>(out_size));
  co.count.resize(static_cast<size_t>(out_size));
  co.weights.assign(static_cast<size_t>(out_size) * static_cast<size_t>(co.ksize), 0);
  std::vector<double> k(static_cast<size_t>(co.ksize));
  for (int xx = 0; xx < out_size; ++xx) {
    const double center = (xx + 0.5) * scale;
    const double ss = 1.0 / filter_scale;
    int xmin = static_cast<int>(center - support + 0.5);
    if (xmin < 0) xmin = 0;
    int xmax = static_cast<int>(center + support + 0.5);
    if (xmax > in_size) xmax = in_size;
    xmax -= xmin;
    double ww = 0.0;
    for (int x = 0; x < xmax; ++x) {
      const double w = BicubicFilter((x + xmin - center + 0.5) * ss);
      k[static_cast<size_t>(x)] = w;
      ww += w;
    }
    int32_t* out = co.weights.data() + static_cast<size_t>(xx) * static_cast<size_t>(co.ksize);
    for (int x = 0; x < xmax; ++x) {
      const double v = ww != 0.0 ? k[static_cast<size_t>(x)] / ww : k[static_cast<size_t>(x)];
      out[x] = static_cast<int32_t>(v < 0 ? -0.5 + v * (1 << kPrecisionBits)
                                          : 0.5 + v * (1 << kPrecisionBits));
    }
    co.first[static_cast<size_t>(xx)] = xmin;
    co.count[static_cast<size_t>(xx)] = xmax;
  }
  return co;
}

uint8_t Clip8(int64_t v) {
  if (v >= (int64_t{1} << kPrecisionBits << 8)) return 255;
  if (v <= 0) return 0;
  return static_cast<uint8_t>(v >> kPrecisionBits);
}

// Resamples rows [row0, row0 + rows) of `in` horizontally to `out_w`.
RgbImage Horizontal(const RgbImage& in, int row0, int rows, int out_w, const Coefficients& co) {
  RgbImage out;
  out.width = out_w;
  out.height = rows;
  out.rgb.resize(static_cast<size_t>(out_w) * static_cast<size_t>(rows) * 3);
  for (int y = 0; y < rows; ++y) {
    const uint8_t* src =
        in.rgb.data() + static_cast<size_t>(row0 + y) * static_cast<size_t>(in.width) * 3;
    uint8_t* dst = out.rgb.data() + static_cast<size_t>(y) * static_cast<size_t>(out_w) * 3;
    for (int x = 0; x < out_w; ++x) {
      const int32_t* k = co.weights.data() + static_cast<size_t>(x) * static_cast<size_t>(co.ksize);
      const int first = co.first[static_cast<size_t>(x)], n = co.count[static_cast<size_t>(x)];
      for (int ch = 0; ch < 3; ++ch) {
        int64_t ss = int64_t{1} << (kPrecisionBits - 1);
        for (int i = 0; i < n; ++i) ss += int64_t{src[(first + i) * 3 + ch]} * k[i];
        dst[x * 3 + ch] = Clip8(ss);
      }
    }
  }
  return out;
}

RgbImage Vertical(const RgbImage& in, int out_h, const Coefficients& co, int shift) {
  RgbImage out;
  out.width = in.width;
  out.height = out_h;
  const size_t row = static_cast<size_t>(in.width) * 3;
  out.rgb.resize(row * static_cast<size_t>(out_h));
  for (int y = 0; y < out_h; ++y) {
    const int32_t* k = co.weights.data() + static_cast<size_t>(y) * static_cast<size_t>(co.ksize);
    const int first = co.first[static_cast<size_t>(y)] - shift,
              n = co.count[static_cast<size_t>(y)];
    uint8_t* dst = out.rgb.data() + static_cast<size_t>(y) * row;
    for (size_t i = 0; i < row; ++i) {
      int64_t ss = int64_t{1} << (kPrecisionBits - 1);
      for (int j = 0; j < n; ++j)
        ss += int64_t{in.rgb[static_cast<size_t>(first + j) * row + i]} * k[j];
      dst[i] = Clip8(ss);
    }
  }
  return out;
}

}  // namespace

Status CheckImageBudget(int budget) {
  for (int b : kImageBudgets) {
    if (b == budget) return Status::Ok();
  }
  return InvalidArgument(
      StrFormat("image token budget %d is not one Gemma 4 accepts: use 70, 140, "
                "280 (default), 560 or 1120",
                budget));
}

Result<ImageSize> TargetImageSize(int width, int height, int budget, int side_multiple) {
  RETURN_IF_ERROR(CheckImageBudget(budget));
  if (width <= 0 || height <= 0) return InvalidArgument("image has no pixels");
  const double patch = side_multiple / 3.0;  // the 16-px patch of a 48-px pooled side
  const double target_px = 9.0 * budget * patch * patch;
  const double f = std::sqrt(target_px / (static_cast<double>(height) * width));
  int h = static_cast<int>(std::floor(f * height / side_multiple)) * side_multiple;
  int w = static_cast<int>(std::floor(f * width / side_multiple)) * side_multiple;
  if (h == 0 && w == 0) return InvalidArgument("image is too small to resize to the token budget");
  if (h == 0) {
    h = side_multiple;
    w = std::min(width / height * side_multiple, budget * side_multiple);
  } else if (w == 0) {
    w = side_multiple;
    h = std::min(height / width * side_multiple, budget * side_multiple);
  }
  return ImageSize{w, h};
}

RgbImage ResizeBicubic(const RgbImage& in, int width, int height) {
  const bool need_h = width != in.width, need_v = height != in.height;
  if (!need_h && !need_v) return in;
  const Coefficients cv = Precompute(in.height, height);
  if (!need_v) return Horizontal(in, 0, in.height, width, Precompute(in.width, width));
  // Only the input rows the vertical pass reads go through the horizontal pass (as in PIL).
  const int first_row = cv.first[0];
  const int last_row =
      cv.first[static_cast<size_t>(height - 1)] + cv.count[static_cast<size_t>(height - 1)];
  if (!need_h) return Vertical(in, height, cv, 0);
  const RgbImage tmp =
      Horizontal(in, first_row, last_row - first_row, width, Precompute(in.width, width));
  return Vertical(tmp, height, cv, first_row);
}

PixelImage ToPixels(const RgbImage& in) {
  PixelImage out;
  out.width = in.width;
  out.height = in.height;
  out.rgb.resize(in.rgb.size());
  constexpr float kScale = static_cast<float>(1.0 / 255.0);
  for (size_t i = 0; i < in.rgb.size(); ++i) out.rgb[i] = in.rgb[i] * kScale;
  return out;
}

Result<PixelImage> PreprocessImage(const RgbImage& in, const ImagePreprocessOptions& o) {
  if (in.width <= 0 || in.height <= 0 ||
      in.rgb.size() != static_cast<size_t>(in.width) * static_cast<size_t>(in.height) * 3) {
    return InvalidArgument("image has no pixels");
  }
  if (o.keep_size) {
    if (in.width % o.side_multiple != 0 || in.height % o.side_multiple != 0) {
      return InvalidArgument(
          StrFormat("--keep-size: the image is %dx%d, but both sides must be "
                    "multiples of %d",
                    in.width, in.height, o.side_multiple));
    }
    return ToPixels(in);
  }
  ASSIGN_OR_RETURN(const ImageSize size,
                   TargetImageSize(in.width, in.height, o.budget, o.side_multiple));
  return ToPixels(ResizeBicubic(in, size.width, size.height));
}

}  // namespace pocket
