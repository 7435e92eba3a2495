#include "media/image_decode.h"

#include <csetjmp>
#include <cstdio>
#include <cstring>
#include <memory>
#include <vector>

// jpeglib.h needs size_t and FILE declared before it.
#include <jpeglib.h>
#include <libexif/exif-data.h>
#include <png.h>
#include <stb_image.h>
#include <webp/decode.h>
#include <webp/demux.h>

#include "base/mapped_file.h"
#include "formats/weight_source.h"

namespace pocket {
namespace {

Status CheckPixels(int64_t w, int64_t h, const std::string& what, const ImageLimits& limits) {
  if (w <= 0 || h <= 0) return InvalidArgument(what + ": image has no pixels");
  if (w * h > limits.max_pixels) {
    return InvalidArgument(StrFormat("%s: image is %lldx%lld pixels, more than the limit of %lld",
                                     what.c_str(), (long long)w, (long long)h,
                                     (long long)limits.max_pixels));
  }
  return Status::Ok();
}

// EXIF orientation from an APP1/eXIf payload ("Exif\0\0" + TIFF); 1 if absent or unreadable.
int ExifOrientation(const uint8_t* data, size_t size) {
  if (data == nullptr || size < 8) return 1;
  std::vector<uint8_t> buf;
  if (std::memcmp(data, "Exif\0\0", 6) != 0) {  // PNG eXIf / WebP EXIF may lack the header
    buf.assign({'E', 'x', 'i', 'f', 0, 0});
    buf.insert(buf.end(), data, data + size);
    data = buf.data();
    size = buf.size();
  }
  ExifData* ed = exif_data_new_from_data(data, static_cast<unsigned int>(size));
  if (ed == nullptr) return 1;
  int orientation = 1;
  if (ExifEntry* e = exif_data_get_entry(ed, EXIF_TAG_ORIENTATION)) {
    if (e->format == EXIF_FORMAT_SHORT && e->components >= 1 && e->data != nullptr &&
        e->size >= 2) {
      orientation = exif_get_short(e->data, exif_data_get_byte_order(ed));
    }
  }
  exif_data_unref(ed);
  return orientation;
}

// ---- JPEG (libjpeg-turbo) ----
struct JpegError {
  jpeg_error_mgr mgr;
  jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
};

void JpegErrorExit(j_common_ptr cinfo) {
  auto* err = reinterpret_cast<JpegError*>(cinfo->err);
  (*cinfo->err->format_message)(cinfo, err->message);
  longjmp(err->jump, 1);
}
void JpegSilence(j_common_ptr, int) {}

// Only plain data lives across setjmp here; the pixel buffer is sized before decoding.
Status DecodeJpeg(const uint8_t* data, size_t size, const std::string& what,
                  const ImageLimits& limits, RgbImage* out, int* orientation) {
  jpeg_decompress_struct cinfo;
  JpegError err;
  std::memset(&cinfo, 0, sizeof(cinfo));
  cinfo.err = jpeg_std_error(&err.mgr);
  err.mgr.error_exit = JpegErrorExit;
  err.mgr.emit_message = JpegSilence;
  err.message[0] = 0;
  uint8_t* pixels = nullptr;
  std::vector<uint8_t> cmyk_row;
  if (setjmp(err.jump)) {
    jpeg_destroy_decompress(&cinfo);
    return DataLoss(what + ": corrupt JPEG (" + err.message + ")");
  }
  jpeg_create_decompress(&cinfo);
  jpeg_mem_src(&cinfo, data, static_cast<unsigned long>(size));
  jpeg_save_markers(&cinfo, JPEG_APP0 + 1, 0xffff);
  jpeg_read_header(&cinfo, TRUE);
  for (jpeg_saved_marker_ptr m = cinfo.marker_list; m != nullptr; m = m->next) {
    if (m->marker == JPEG_APP0 + 1 && m->data_length > 6 &&
        std::memcmp(m->data, "Exif\0\0", 6) == 0) {
      *orientation = ExifOrientation(m->data, m->data_length);
    }
  }
  Status st = CheckPixels(cinfo.image_width, cinfo.image_height, what, limits);
  if (!st.ok()) {
    jpeg_destroy_decompress(&cinfo);
    return st;
  }
  const bool cmyk = cinfo.jpeg_color_space == JCS_CMYK || cinfo.jpeg_color_space == JCS_YCCK;
  cinfo.out_color_space = cmyk ? JCS_CMYK : JCS_RGB;
  jpeg_start_decompress(&cinfo);
  out->width = static_cast<int>(cinfo.output_width);
  out->height = static_cast<int>(cinfo.output_height);
  out->rgb.resize(static_cast<size_t>(out->width) * static_cast<size_t>(out->height) * 3);
  pixels = out->rgb.data();
  cmyk_row.resize(static_cast<size_t>(out->width) * 4);
  while (cinfo.output_scanline < cinfo.output_height) {
    uint8_t* row =
        pixels + static_cast<size_t>(cinfo.output_scanline) * static_cast<size_t>(out->width) * 3;
    JSAMPROW rows[1] = {cmyk ? cmyk_row.data() : row};
    jpeg_read_scanlines(&cinfo, rows, 1);
    if (cmyk) {  // Adobe CMYK JPEGs store inverted values: R = C·K/255
      for (int x = 0; x < out->width; ++x) {
        const int k = cmyk_row[static_cast<size_t>(x) * 4 + 3];
        for (int c = 0; c < 3; ++c) {
          row[x * 3 + c] = static_cast<uint8_t>(
              cmyk_row[static_cast<size_t>(x) * 4 + static_cast<size_t>(c)] * k / 255);
        }
      }
    }
  }
  jpeg_finish_decompress(&cinfo);
  jpeg_destroy_decompress(&cinfo);
  return Status::Ok();
}

// ---- PNG (libpng) ----
struct PngReader {
  const uint8_t* data;
  size_t size;
  size_t pos;
};

void PngRead(png_structp png, png_bytep out, png_size_t n) {
  auto* r = static_cast<PngReader*>(png_get_io_ptr(png));
  if (n > r->size - r->pos) png_error(png, "unexpected end of file");
  std::memcpy(out, r->data + r->pos, n);
  r->pos += n;
}

void PngErrorFn(png_structp png, png_const_charp msg) {
  auto* buf = static_cast<char*>(png_get_error_ptr(png));
  std::snprintf(buf, 200, "%s", msg);
  png_longjmp(png, 1);
}
void PngWarnFn(png_structp, png_const_charp) {}

Status DecodePng(const uint8_t* data, size_t size, const std::string& what,
                 const ImageLimits& limits, RgbImage* out, int* orientation) {
  char message[200] = "unknown error";
  png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, message, PngErrorFn, PngWarnFn);
  if (png == nullptr) return Internal("libpng: out of memory");
  png_infop info = png_create_info_struct(png);
  PngReader reader{data, size, 0};
  std::vector<png_bytep> rows;
  volatile bool too_big = false;  // read after longjmp
  if (setjmp(png_jmpbuf(png))) {
    png_destroy_read_struct(&png, &info, nullptr);
    if (too_big) return InvalidArgument(what + ": image is larger than the pixel limit");
    return DataLoss(what + ": corrupt PNG (" + message + ")");
  }
  png_set_read_fn(png, &reader, PngRead);
  png_set_user_limits(png, 0x7fffffff, 0x7fffffff);
  png_read_info(png, info);
  const png_uint_32 w = png_get_image_width(png, info), h = png_get_image_height(png, info);
  if (static_cast<int64_t>(w) * h > limits.max_pixels) {
    too_big = true;
    png_error(png, "too big");
  }
  png_set_expand(png);  // palette → RGB, grey < 8 bits → 8 bits, tRNS → alpha
  png_set_strip_16(png);
  png_set_strip_alpha(png);
  png_set_gray_to_rgb(png);
  png_set_interlace_handling(png);
  png_read_update_info(png, info);
  if (png_get_rowbytes(png, info) != static_cast<size_t>(w) * 3)
    png_error(png, "unexpected row layout");
  out->width = static_cast<int>(w);
  out->height = static_cast<int>(h);
  out->rgb.resize(static_cast<size_t>(w) * h * 3);
  rows.resize(h);
  for (png_uint_32 y = 0; y < h; ++y) rows[y] = out->rgb.data() + static_cast<size_t>(y) * w * 3;
  png_read_image(png, rows.data());
  png_read_end(png, info);
#ifdef PNG_eXIf_SUPPORTED
  png_bytep exif = nullptr;
  png_uint_32 exif_len = 0;
  if (png_get_eXIf_1(png, info, &exif_len, &exif) != 0 && exif != nullptr) {
    *orientation = ExifOrientation(exif, exif_len);
  }
#endif
  png_destroy_read_struct(&png, &info, nullptr);
  return CheckPixels(out->width, out->height, what, limits);
}

// ---- WebP (libwebp) ----
Status DecodeWebp(const uint8_t* data, size_t size, const std::string& what,
                  const ImageLimits& limits, RgbImage* out, int* orientation) {
  int w = 0, h = 0;
  if (!WebPGetInfo(data, size, &w, &h)) return DataLoss(what + ": corrupt WebP (bad header)");
  RETURN_IF_ERROR(CheckPixels(w, h, what, limits));
  out->width = w;
  out->height = h;
  out->rgb.resize(static_cast<size_t>(w) * static_cast<size_t>(h) * 3);
  if (WebPDecodeRGBInto(data, size, out->rgb.data(), out->rgb.size(), w * 3) == nullptr) {
    return DataLoss(what + ": corrupt WebP (decoding failed)");
  }
  WebPData wd{data, size};
  if (WebPDemuxer* demux = WebPDemux(&wd)) {
    WebPChunkIterator it;
    if (WebPDemuxGetChunk(demux, "EXIF", 1, &it)) {
      *orientation = ExifOrientation(it.chunk.bytes, it.chunk.size);
      WebPDemuxReleaseChunkIterator(&it);
    }
    WebPDemuxDelete(demux);
  }
  return Status::Ok();
}

// ---- BMP, GIF (stb_image) ----
Status DecodeStb(const uint8_t* data, size_t size, const std::string& what, const char* kind,
                 const ImageLimits& limits, RgbImage* out) {
  if (size > 0x7fffffff) return InvalidArgument(what + ": file too large");
  int w = 0, h = 0, comp = 0;
  if (!stbi_info_from_memory(data, static_cast<int>(size), &w, &h, &comp)) {
    return DataLoss(StrFormat("%s: corrupt %s (%s)", what.c_str(), kind, stbi_failure_reason()));
  }
  RETURN_IF_ERROR(CheckPixels(w, h, what, limits));
  std::unique_ptr<uint8_t, void (*)(void*)> pixels(
      stbi_load_from_memory(data, static_cast<int>(size), &w, &h, &comp, 3), stbi_image_free);
  if (!pixels)
    return DataLoss(StrFormat("%s: corrupt %s (%s)", what.c_str(), kind, stbi_failure_reason()));
  out->width = w;
  out->height = h;
  out->rgb.assign(pixels.get(), pixels.get() + static_cast<size_t>(w) * static_cast<size_t>(h) * 3);
  return Status::Ok();
}

}  // namespace

const char* ImageFormatName(ImageFormat f) {
  switch (f) {
    case ImageFormat::kJpeg:
      return "JPEG";
    case ImageFormat::kPng:
      return "PNG";
    case ImageFormat::kWebp:
      return "WebP";
    case ImageFormat::kBmp:
      return "BMP";
    case ImageFormat::kGif:
      return "GIF";
    default:
      return "unknown";
  }
}

ImageFormat DetectImageFormat(const uint8_t* d, size_t n) {
  if (n >= 3 && d[0] == 0xFF && d[1] == 0xD8 && d[2] == 0xFF) return ImageFormat::kJpeg;
  if (n >= 8 && std::memcmp(d, "\x89PNG\r\n\x1a\n", 8) == 0) return ImageFormat::kPng;
  if (n >= 12 && std::memcmp(d, "RIFF", 4) == 0 && std::memcmp(d + 8, "WEBP", 4) == 0)
    return ImageFormat::kWebp;
  if (n >= 2 && d[0] == 'B' && d[1] == 'M') return ImageFormat::kBmp;
  if (n >= 6 && (std::memcmp(d, "GIF87a", 6) == 0 || std::memcmp(d, "GIF89a", 6) == 0))
    return ImageFormat::kGif;
  return ImageFormat::kUnknown;
}

RgbImage ApplyExifOrientation(const RgbImage& in, int o) {
  if (o < 2 || o > 8) return in;
  const int W = in.width, H = in.height;
  const bool swap = o >= 5;
  RgbImage out;
  out.width = swap ? H : W;
  out.height = swap ? W : H;
  out.rgb.resize(in.rgb.size());
  for (int y = 0; y < out.height; ++y) {
    for (int x = 0; x < out.width; ++x) {
      int sx = x, sy = y;
      switch (o) {
        case 2:
          sx = W - 1 - x;
          break;  // mirror
        case 3:
          sx = W - 1 - x;
          sy = H - 1 - y;
          break;  // rotate 180
        case 4:
          sy = H - 1 - y;
          break;  // flip
        case 5:
          sx = y;
          sy = x;
          break;  // transpose
        case 6:
          sx = y;
          sy = H - 1 - x;
          break;  // rotate 90 clockwise
        case 7:
          sx = W - 1 - y;
          sy = H - 1 - x;
          break;  // transverse
        case 8:
          sx = W - 1 - y;
          sy = x;
          break;  // rotate 90 counter-clockwise
      }
      std::memcpy(
          &out.rgb[(static_cast<size_t>(y) * static_cast<size_t>(out.width) +
                    static_cast<size_t>(x)) *
                   3],
          &in.rgb[(static_cast<size_t>(sy) * static_cast<size_t>(W) + static_cast<size_t>(sx)) * 3],
          3);
    }
  }
  return out;
}

Result<RgbImage> DecodeImage(const uint8_t* data, size_t size, const std::string& what,
                             const ImageLimits& limits) {
  if (size == 0) return InvalidArgument(what + ": image is empty (0 bytes)");
  if (size > limits.max_file_bytes) {
    return InvalidArgument(StrFormat("%s: image is %llu bytes, more than the limit of %llu",
                                     what.c_str(), (unsigned long long)size,
                                     (unsigned long long)limits.max_file_bytes));
  }
  RgbImage img;
  int orientation = 1;
  switch (DetectImageFormat(data, size)) {
    case ImageFormat::kJpeg:
      RETURN_IF_ERROR(DecodeJpeg(data, size, what, limits, &img, &orientation));
      break;
    case ImageFormat::kPng:
      RETURN_IF_ERROR(DecodePng(data, size, what, limits, &img, &orientation));
      break;
    case ImageFormat::kWebp:
      RETURN_IF_ERROR(DecodeWebp(data, size, what, limits, &img, &orientation));
      break;
    case ImageFormat::kBmp:
      RETURN_IF_ERROR(DecodeStb(data, size, what, "BMP", limits, &img));
      break;
    case ImageFormat::kGif:
      RETURN_IF_ERROR(DecodeStb(data, size, what, "GIF", limits, &img));
      break;
    default:
      return InvalidArgument(
          what + ": not an image pocket can read (supported: JPEG, PNG, WebP, BMP, GIF)");
  }
  if (orientation != 1) img = ApplyExifOrientation(img, orientation);
  return img;
}

Result<RgbImage> LoadImageFile(const std::string& path, const ImageLimits& limits) {
  if (IsDirectory(path)) return InvalidArgument(path + ": is a directory, not an image");
  ASSIGN_OR_RETURN(std::string bytes, ReadFileToString(path, limits.max_file_bytes));
  return DecodeImage(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), path, limits);
}

}  // namespace pocket
