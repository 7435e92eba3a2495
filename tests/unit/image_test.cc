// Image decoding and preprocessing: every format from memory, EXIF orientation, the token-
// budget sizes of the spec, and corrupt / empty / oversized / non-image input.
#include <cstdio>
#include <cstdlib>
#include <cstring>

// jpeglib.h needs size_t and FILE declared before it.
#include <jpeglib.h>
#include <png.h>
#include <webp/encode.h>

#include "common/test_util.h"
#include "media/image_decode.h"
#include "media/image_preprocess.h"

namespace pocket {
namespace {

// A w x h image whose pixel (x, y) is (x*10, y*10, 7): positions survive lossless codecs.
RgbImage Gradient(int w, int h) {
  RgbImage img;
  img.width = w;
  img.height = h;
  for (int y = 0; y < h; ++y) {
    for (int x = 0; x < w; ++x) {
      img.rgb.push_back(static_cast<uint8_t>(x * 10));
      img.rgb.push_back(static_cast<uint8_t>(y * 10));
      img.rgb.push_back(7);
    }
  }
  return img;
}

std::string EncodePng(const RgbImage& img) {
  png_image p;
  std::memset(&p, 0, sizeof(p));
  p.version = PNG_IMAGE_VERSION;
  p.width = static_cast<png_uint_32>(img.width);
  p.height = static_cast<png_uint_32>(img.height);
  p.format = PNG_FORMAT_RGB;
  png_alloc_size_t size = 0;
  EXPECT_TRUE(png_image_write_to_memory(&p, nullptr, &size, 0, img.rgb.data(), 0, nullptr));
  std::string out(size, '\0');
  EXPECT_TRUE(png_image_write_to_memory(&p, out.data(), &size, 0, img.rgb.data(), 0, nullptr));
  out.resize(size);
  return out;
}

// A baseline JPEG, optionally with an EXIF APP1 segment carrying `orientation`.
std::string EncodeJpeg(const RgbImage& img, int orientation) {
  jpeg_compress_struct c;
  jpeg_error_mgr err;
  c.err = jpeg_std_error(&err);
  jpeg_create_compress(&c);
  unsigned char* buf = nullptr;
  unsigned long size = 0;
  jpeg_mem_dest(&c, &buf, &size);
  c.image_width = static_cast<JDIMENSION>(img.width);
  c.image_height = static_cast<JDIMENSION>(img.height);
  c.input_components = 3;
  c.in_color_space = JCS_RGB;
  jpeg_set_defaults(&c);
  jpeg_set_quality(&c, 100, TRUE);
  jpeg_start_compress(&c, TRUE);
  if (orientation > 0) {
    // "Exif\0\0" + little-endian TIFF header + IFD0 with one entry: Orientation (0x0112), SHORT.
    const uint8_t exif[] = {'E', 'x',  'i',  'f', 0,
                            0,   'I',  'I',  42,  0,
                            8,   0,    0,    0,   1,
                            0,   0x12, 0x01, 3,   0,
                            1,   0,    0,    0,   static_cast<uint8_t>(orientation),
                            0,   0,    0,    0,   0,
                            0,   0};
    jpeg_write_marker(&c, JPEG_APP0 + 1, exif, sizeof(exif));
  }
  while (c.next_scanline < c.image_height) {
    JSAMPROW row =
        const_cast<uint8_t*>(img.rgb.data()) + c.next_scanline * static_cast<size_t>(img.width) * 3;
    jpeg_write_scanlines(&c, &row, 1);
  }
  jpeg_finish_compress(&c);
  std::string out(reinterpret_cast<char*>(buf), size);
  jpeg_destroy_compress(&c);
  free(buf);
  return out;
}

std::string EncodeBmp(const RgbImage& img) {
  const int row = (img.width * 3 + 3) & ~3;
  const uint32_t size = 54 + static_cast<uint32_t>(row * img.height);
  std::string b(size, '\0');
  auto put32 = [&](size_t at, uint32_t v) { std::memcpy(&b[at], &v, 4); };
  auto put16 = [&](size_t at, uint16_t v) { std::memcpy(&b[at], &v, 2); };
  b[0] = 'B';
  b[1] = 'M';
  put32(2, size);
  put32(10, 54);
  put32(14, 40);
  put32(18, static_cast<uint32_t>(img.width));
  put32(22, static_cast<uint32_t>(img.height));
  put16(26, 1);
  put16(28, 24);
  for (int y = 0; y < img.height; ++y) {  // bottom-up, BGR
    for (int x = 0; x < img.width; ++x) {
      const uint8_t* p = &img.rgb[(static_cast<size_t>(y) * img.width + x) * 3];
      char* d = &b[54 + static_cast<size_t>(img.height - 1 - y) * row + static_cast<size_t>(x) * 3];
      d[0] = static_cast<char>(p[2]);
      d[1] = static_cast<char>(p[1]);
      d[2] = static_cast<char>(p[0]);
    }
  }
  return b;
}

Result<RgbImage> Decode(const std::string& bytes, const ImageLimits& limits = {}) {
  return DecodeImage(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), "test", limits);
}

TEST(ImageDecode, PngBmpWebpAreLossless) {
  const RgbImage src = Gradient(7, 5);
  uint8_t* webp = nullptr;
  const size_t webp_size = WebPEncodeLosslessRGB(src.rgb.data(), 7, 5, 21, &webp);
  ASSERT_GT(webp_size, 0u);
  const std::string webp_bytes(reinterpret_cast<char*>(webp), webp_size);
  WebPFree(webp);
  for (const std::string& bytes : {EncodePng(src), EncodeBmp(src), webp_bytes}) {
    Result<RgbImage> img = Decode(bytes);
    ASSERT_TRUE(img.ok()) << img.status().ToString();
    EXPECT_EQ(img->width, 7);
    EXPECT_EQ(img->height, 5);
    EXPECT_EQ(img->rgb, src.rgb);
  }
}

TEST(ImageDecode, GifFirstFrame) {
  // A 1x1 GIF87a with a red pixel.
  const uint8_t gif[] = {'G', 'I', 'F', '8', '7', 'a', 1, 0, 1, 0, 0x80, 0, 0, 255,  0, 0, 0,  0,
                         0,   ',', 0,   0,   0,   0,   1, 0, 1, 0, 0,    2, 2, 0x44, 1, 0, ';'};
  Result<RgbImage> img = DecodeImage(gif, sizeof(gif), "gif");
  ASSERT_TRUE(img.ok()) << img.status().ToString();
  ASSERT_EQ(img->rgb.size(), 3u);
  EXPECT_EQ(img->rgb[0], 255);
  EXPECT_EQ(img->rgb[1], 0);
}

TEST(ImageDecode, JpegExifOrientationIsApplied) {
  // 16x8 image, left half black, right half white; orientation 6 = rotate 90° clockwise.
  RgbImage src;
  src.width = 16;
  src.height = 8;
  for (int y = 0; y < 8; ++y)
    for (int x = 0; x < 16; ++x)
      for (int c = 0; c < 3; ++c) src.rgb.push_back(x < 8 ? 0 : 255);
  Result<RgbImage> plain = Decode(EncodeJpeg(src, 0));
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(plain->width, 16);
  Result<RgbImage> rotated = Decode(EncodeJpeg(src, 6));
  ASSERT_TRUE(rotated.ok()) << rotated.status().ToString();
  EXPECT_EQ(rotated->width, 8);
  EXPECT_EQ(rotated->height, 16);
  // After a clockwise turn the former left (black) half is on top.
  EXPECT_LT(rotated->rgb[(1 * 8 + 4) * 3], 40);
  EXPECT_GT(rotated->rgb[(14 * 8 + 4) * 3], 215);
}

TEST(ImageDecode, OrientationTransformsMatchPil) {
  const RgbImage src = Gradient(3, 2);  // pixel (x, y) has R = 10x, G = 10y
  auto at = [](const RgbImage& im, int x, int y) {
    const uint8_t* p = &im.rgb[(static_cast<size_t>(y) * im.width + x) * 3];
    return std::make_pair(p[0] / 10, p[1] / 10);
  };
  // Which source pixel lands at output (0, 0) for each orientation (PIL exif_transpose).
  const std::pair<int, int> top_left[9] = {{0, 0}, {0, 0}, {2, 0}, {2, 1}, {0, 1},
                                           {0, 0}, {0, 1}, {2, 1}, {2, 0}};
  for (int o = 1; o <= 8; ++o) {
    const RgbImage out = ApplyExifOrientation(src, o);
    EXPECT_EQ(out.width, o >= 5 ? 2 : 3) << o;
    EXPECT_EQ(at(out, 0, 0), top_left[o]) << "orientation " << o;
  }
}

TEST(ImageDecode, BadInputGivesClearErrors) {
  const std::string png = EncodePng(Gradient(8, 8));
  const std::string jpeg = EncodeJpeg(Gradient(8, 8), 0);
  struct Case {
    std::string bytes;
    const char* expect;
  } cases[] = {
      {"", "empty"},
      {"hello, I am text", "not an image"},
      {png.substr(0, png.size() / 2), "PNG"},
      {jpeg.substr(0, 40), "JPEG"},
      {std::string("\x89PNG\r\n\x1a\n", 8) + std::string(40, '\xff'), "PNG"},
      {std::string("RIFF\x10\0\0\0WEBPVP8 ", 16) + std::string(8, '\0'), "WebP"},
      {std::string("BM") + std::string(60, '\x7f'), "BMP"},
      {std::string("GIF89a") + std::string(3, '\0'), "no pixels"},
  };
  for (const Case& c : cases) {
    Result<RgbImage> img = Decode(c.bytes);
    ASSERT_FALSE(img.ok()) << c.expect;
    EXPECT_NE(img.status().message().find(c.expect), std::string::npos)
        << c.expect << ": " << img.status().message();
  }
  // Limits.
  ImageLimits small;
  small.max_pixels = 10;
  EXPECT_NE(Decode(png, small).status().message().find("limit"), std::string::npos)
      << Decode(png, small).status().message();
  small = ImageLimits{};
  small.max_file_bytes = 10;
  EXPECT_NE(Decode(png, small).status().message().find("limit"), std::string::npos)
      << Decode(png, small).status().message();
  // Files: missing, directory.
  EXPECT_FALSE(LoadImageFile("/nonexistent/x.png").ok());
  EXPECT_FALSE(LoadImageFile(testing::TempDir()).ok());
}

TEST(ImagePreprocess, TargetSizesFromTheSpec) {
  struct Case {
    int w, h, budget, tw, th;
  } cases[] = {
      {1000, 1000, 70, 384, 384},    {1000, 1000, 140, 528, 528},    {1000, 1000, 280, 768, 768},
      {1000, 1000, 560, 1104, 1104}, {1000, 1000, 1120, 1584, 1584}, {640, 480, 280, 912, 672},
      {1280, 720, 280, 1056, 576},   {2000, 100, 280, 3552, 144},    {224, 224, 280, 768, 768},
  };
  for (const Case& c : cases) {
    Result<ImageSize> s = TargetImageSize(c.w, c.h, c.budget);
    ASSERT_TRUE(s.ok());
    EXPECT_EQ(s->width, c.tw) << c.w << "x" << c.h << " @" << c.budget;
    EXPECT_EQ(s->height, c.th) << c.w << "x" << c.h << " @" << c.budget;
  }
  EXPECT_FALSE(TargetImageSize(100, 100, 100).ok());  // not a Gemma 4 budget
  EXPECT_NE(CheckImageBudget(300).message().find("280"), std::string::npos);
}

TEST(ImagePreprocess, KeepSizeNeedsMultiplesOf48) {
  ImagePreprocessOptions o;
  o.keep_size = true;
  EXPECT_TRUE(PreprocessImage(Gradient(48, 96), o).ok());
  Result<PixelImage> bad = PreprocessImage(Gradient(50, 48), o);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("48"), std::string::npos);
}

TEST(ImagePreprocess, ResizeKeepsFlatColoursAndScalesToUnit) {
  RgbImage flat;
  flat.width = 33;
  flat.height = 17;
  flat.rgb.assign(33 * 17 * 3, 200);
  const RgbImage up = ResizeBicubic(flat, 96, 48);
  ASSERT_EQ(up.rgb.size(), 96u * 48 * 3);
  for (uint8_t v : up.rgb) ASSERT_EQ(v, 200);
  const PixelImage px = ToPixels(up);
  EXPECT_FLOAT_EQ(px.rgb[0], 200.0f / 255.0f);
}

}  // namespace
}  // namespace pocket
