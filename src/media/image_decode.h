// Image decoding: JPEG (libjpeg-turbo, the decoder PIL uses), PNG (libpng), WebP (libwebp),
// BMP and GIF (first frame; stb_image), from a file or from memory (server uploads). The EXIF
// orientation of JPEG, PNG and WebP files is applied (as PIL's exif_transpose), alpha is
// dropped, grey and palette images become RGB. Bad input — empty, truncated, corrupt, too
// big, not an image — returns a clear error and never crashes. Thread-safe (no shared state).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "base/status.h"
#include "media/image.h"

namespace pocket {

struct ImageLimits {
  uint64_t max_file_bytes = uint64_t{64} << 20;  // 64 MiB
  int64_t max_pixels = int64_t{64} << 20;        // 64 Mpx (~192 MB decoded)
};

enum class ImageFormat { kUnknown, kJpeg, kPng, kWebp, kBmp, kGif };
const char* ImageFormatName(ImageFormat f);
// Sniffs the format from the first bytes (never from the file name).
ImageFormat DetectImageFormat(const uint8_t* data, size_t size);

// `what` names the input in errors (a path, "image_url #2", ...).
Result<RgbImage> DecodeImage(const uint8_t* data, size_t size, const std::string& what,
                             const ImageLimits& limits = {});
Result<RgbImage> LoadImageFile(const std::string& path, const ImageLimits& limits = {});

// Applies an EXIF orientation (1..8) as PIL's exif_transpose does; other values: unchanged.
RgbImage ApplyExifOrientation(const RgbImage& in, int orientation);

}  // namespace pocket
