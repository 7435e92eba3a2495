#include "media/audio_decode.h"

#include <sndfile.h>
#include <soxr.h>

#include <cmath>
#include <cstring>

#include "base/mapped_file.h"
#include "formats/weight_source.h"

namespace pocket {
namespace {

// libsndfile's virtual I/O over a memory buffer.
struct MemoryFile {
  const uint8_t* data;
  sf_count_t size;
  sf_count_t pos;
};

sf_count_t VioLength(void* user) { return static_cast<MemoryFile*>(user)->size; }
sf_count_t VioSeek(sf_count_t offset, int whence, void* user) {
  auto* f = static_cast<MemoryFile*>(user);
  sf_count_t base = whence == SEEK_SET ? 0 : whence == SEEK_CUR ? f->pos : f->size;
  const sf_count_t to = base + offset;
  if (to < 0 || to > f->size) return -1;
  f->pos = to;
  return f->pos;
}
sf_count_t VioRead(void* ptr, sf_count_t count, void* user) {
  auto* f = static_cast<MemoryFile*>(user);
  const sf_count_t n = std::max<sf_count_t>(0, std::min(count, f->size - f->pos));
  std::memcpy(ptr, f->data + f->pos, static_cast<size_t>(n));
  f->pos += n;
  return n;
}
sf_count_t VioWrite(const void*, sf_count_t, void*) { return 0; }
sf_count_t VioTell(void* user) { return static_cast<MemoryFile*>(user)->pos; }

}  // namespace

Result<AudioClip> ResampleAudio(const AudioClip& in, int rate) {
  if (in.sample_rate == rate || in.samples.empty()) {
    AudioClip out = in;
    out.sample_rate = rate;
    return out;
  }
  AudioClip out;
  out.sample_rate = rate;
  const double ratio = static_cast<double>(rate) / in.sample_rate;
  out.samples.resize(
      static_cast<size_t>(std::ceil(static_cast<double>(in.samples.size()) * ratio)) + 16);
  size_t done = 0;
  const soxr_io_spec_t io = soxr_io_spec(SOXR_FLOAT32_I, SOXR_FLOAT32_I);
  const soxr_quality_spec_t q = soxr_quality_spec(SOXR_VHQ, 0);
  soxr_error_t err =
      soxr_oneshot(in.sample_rate, rate, 1, in.samples.data(), in.samples.size(), nullptr,
                   out.samples.data(), out.samples.size(), &done, &io, &q, nullptr);
  if (err != nullptr) return Internal(std::string("resampling failed: ") + err);
  // Keep exactly round(n · ratio) samples so durations are preserved.
  const size_t want =
      static_cast<size_t>(std::llround(static_cast<double>(in.samples.size()) * ratio));
  out.samples.resize(std::min(done, want));
  if (out.samples.size() < want) out.samples.resize(want, 0.0f);
  return out;
}

Result<AudioClip> DecodeAudio(const uint8_t* data, size_t size, const std::string& what,
                              const AudioLimits& limits) {
  if (size == 0) return InvalidArgument(what + ": audio is empty (0 bytes)");
  if (size > limits.max_file_bytes) {
    return InvalidArgument(StrFormat("%s: audio is %llu bytes, more than the limit of %llu",
                                     what.c_str(), (unsigned long long)size,
                                     (unsigned long long)limits.max_file_bytes));
  }
  MemoryFile mf{data, static_cast<sf_count_t>(size), 0};
  SF_VIRTUAL_IO vio{VioLength, VioSeek, VioRead, VioWrite, VioTell};
  SF_INFO info;
  std::memset(&info, 0, sizeof(info));
  SNDFILE* f = sf_open_virtual(&vio, SFM_READ, &info, &mf);
  if (f == nullptr) {
    return InvalidArgument(
        what + ": not audio pocket can read (supported: WAV, FLAC, OGG/Vorbis, Opus, MP3): " +
        sf_strerror(nullptr));
  }
  struct Closer {
    SNDFILE* f;
    ~Closer() { sf_close(f); }
  } closer{f};
  if (info.channels <= 0 || info.samplerate <= 0)
    return DataLoss(what + ": audio header has no channels or rate");
  if (info.samplerate < 1000 || info.samplerate > 768000) {
    return InvalidArgument(
        StrFormat("%s: unsupported sample rate %d Hz", what.c_str(), info.samplerate));
  }
  const double declared = static_cast<double>(info.frames) / info.samplerate;
  if (info.frames > 0 && declared > limits.max_seconds) {
    return InvalidArgument(StrFormat("%s: audio is %.0f s long, more than the limit of %.0f s",
                                     what.c_str(), declared, limits.max_seconds));
  }
  const sf_count_t max_frames = static_cast<sf_count_t>(limits.max_seconds * info.samplerate) + 1;
  AudioClip clip;
  clip.sample_rate = info.samplerate;
  std::vector<float> block(static_cast<size_t>(4096) * static_cast<size_t>(info.channels));
  while (true) {
    const sf_count_t got = sf_readf_float(f, block.data(), 4096);
    if (got <= 0) break;
    for (sf_count_t i = 0; i < got; ++i) {
      double sum = 0;
      for (int c = 0; c < info.channels; ++c)
        sum += block[static_cast<size_t>(i * info.channels + c)];
      float v = static_cast<float>(sum / info.channels);
      if (!std::isfinite(v)) v = 0.0f;
      clip.samples.push_back(v);
    }
    if (static_cast<sf_count_t>(clip.samples.size()) > max_frames) {
      return InvalidArgument(StrFormat("%s: audio is longer than the limit of %.0f s", what.c_str(),
                                       limits.max_seconds));
    }
  }
  if (sf_error(f) != SF_ERR_NO_ERROR && clip.samples.empty()) {
    return DataLoss(what + ": corrupt audio (" + sf_strerror(f) + ")");
  }
  if (clip.samples.empty()) return InvalidArgument(what + ": audio has no samples");
  return ResampleAudio(clip, kModelSampleRate);
}

Result<AudioClip> LoadAudioFile(const std::string& path, const AudioLimits& limits) {
  if (IsDirectory(path)) return InvalidArgument(path + ": is a directory, not audio");
  ASSIGN_OR_RETURN(std::string bytes, ReadFileToString(path, limits.max_file_bytes));
  return DecodeAudio(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), path, limits);
}

}  // namespace pocket
