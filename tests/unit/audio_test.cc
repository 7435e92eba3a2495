// Audio decoding (every container and sample format libsndfile writes, stereo, odd rates,
// corrupt and over-long input) and the log-mel front end (FFT, frame and token counts).
#include <sndfile.h>

#include <cmath>
#include <complex>
#include <cstring>

#include "common/test_util.h"
#include "media/audio_decode.h"
#include "media/audio_features.h"

namespace pocket {
namespace {

// A sine of `hz` at `rate`, `channels` identical channels, encoded by libsndfile as `format`.
std::string EncodeSine(int format, int rate, int channels, double seconds, double hz = 440.0) {
  const std::string path = testing::TempDir() + "/tone";
  SF_INFO info;
  std::memset(&info, 0, sizeof(info));
  info.samplerate = rate;
  info.channels = channels;
  info.format = format;
  SNDFILE* f = sf_open(path.c_str(), SFM_WRITE, &info);
  EXPECT_NE(f, nullptr) << sf_strerror(nullptr);
  if (f == nullptr) return "";
  const sf_count_t n = static_cast<sf_count_t>(seconds * rate);
  std::vector<float> buf(static_cast<size_t>(n * channels));
  for (sf_count_t i = 0; i < n; ++i) {
    for (int c = 0; c < channels; ++c)
      buf[static_cast<size_t>(i * channels + c)] =
          0.5f * static_cast<float>(std::sin(2 * M_PI * hz * static_cast<double>(i) / rate));
  }
  sf_writef_float(f, buf.data(), n);
  sf_close(f);
  return testing::ReadFile(path);
}

Result<AudioClip> Decode(const std::string& bytes, const AudioLimits& limits = {}) {
  return DecodeAudio(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), "test", limits);
}

// Amplitude of the 440 Hz tone in a 16 kHz clip (projection on sin/cos over whole periods).
double ToneAmplitude(const AudioClip& c, double hz = 440.0) {
  double s = 0, co = 0;
  const size_t n = c.samples.size() / 2 * 2;
  for (size_t i = 0; i < n; ++i) {
    s += c.samples[i] * std::sin(2 * M_PI * hz * static_cast<double>(i) / c.sample_rate);
    co += c.samples[i] * std::cos(2 * M_PI * hz * static_cast<double>(i) / c.sample_rate);
  }
  return 2 * std::sqrt(s * s + co * co) / static_cast<double>(n);
}

TEST(AudioDecode, EveryFormatBecomesMono16k) {
  struct Case {
    int format;
    int rate;
    int channels;
    const char* name;
  } cases[] = {
      {SF_FORMAT_WAV | SF_FORMAT_PCM_U8, 16000, 1, "wav u8"},
      {SF_FORMAT_WAV | SF_FORMAT_PCM_16, 16000, 1, "wav s16"},
      {SF_FORMAT_WAV | SF_FORMAT_PCM_24, 44100, 1, "wav s24 44.1k"},
      {SF_FORMAT_WAV | SF_FORMAT_PCM_32, 22050, 1, "wav s32"},
      {SF_FORMAT_WAV | SF_FORMAT_FLOAT, 48000, 2, "wav float stereo 48k"},
      {SF_FORMAT_WAV | SF_FORMAT_PCM_16, 8000, 1, "wav 8 kHz"},
      {SF_FORMAT_FLAC | SF_FORMAT_PCM_16, 44100, 2, "flac stereo"},
      {SF_FORMAT_OGG | SF_FORMAT_VORBIS, 48000, 2, "ogg vorbis"},
      {SF_FORMAT_MPEG | SF_FORMAT_MPEG_LAYER_III, 44100, 1, "mp3"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    const std::string bytes = EncodeSine(c.format, c.rate, c.channels, 1.0);
    ASSERT_FALSE(bytes.empty());
    Result<AudioClip> clip = Decode(bytes);
    ASSERT_TRUE(clip.ok()) << clip.status().ToString();
    EXPECT_EQ(clip->sample_rate, 16000);
    // Lossy codecs add priming/padding; the duration stays within a few hundredths of a second.
    EXPECT_NEAR(clip->seconds(), 1.0, 0.08);
    EXPECT_NEAR(ToneAmplitude(*clip), 0.5, 0.06);
  }
}

TEST(AudioDecode, BadInputGivesClearErrors) {
  EXPECT_NE(Decode("").status().message().find("empty"), std::string::npos);
  EXPECT_NE(Decode("this is just some text, not a sound").status().message().find("not audio"),
            std::string::npos);
  std::string wav = EncodeSine(SF_FORMAT_WAV | SF_FORMAT_PCM_16, 16000, 1, 0.5);
  Result<AudioClip> r = Decode(wav.substr(0, 20));  // cut inside the header
  EXPECT_FALSE(r.ok());
  // Cut inside the data: what is there decodes (players do the same).
  r = Decode(wav.substr(0, wav.size() / 2));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_NEAR(r->seconds(), 0.25, 0.01);
  std::string garbage = wav;
  for (size_t i = 12; i < 40; ++i) garbage[i] = static_cast<char>(0xA5);
  EXPECT_FALSE(Decode(garbage).ok());
  // Over the duration limit (a long file is refused up front, from its header).
  AudioLimits limits;
  limits.max_seconds = 0.25;
  r = Decode(wav, limits);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("limit"), std::string::npos) << r.status().message();
  limits = AudioLimits{};
  limits.max_file_bytes = 100;
  EXPECT_NE(Decode(wav, limits).status().message().find("limit"), std::string::npos);
  EXPECT_FALSE(LoadAudioFile("/nonexistent.wav").ok());
  EXPECT_FALSE(LoadAudioFile(testing::TempDir()).ok());
}

TEST(AudioDecode, HourLongAudioIsRefusedByDefault) {
  // One hour of 8 kHz mono: refused from the header, before decoding it all.
  const std::string bytes = EncodeSine(SF_FORMAT_WAV | SF_FORMAT_PCM_U8, 8000, 1, 3600.0);
  Result<AudioClip> r = Decode(bytes);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("3600 s"), std::string::npos) << r.status().message();
}

TEST(AudioFeatures, FftMatchesDirectDft) {
  std::vector<std::complex<double>> x(512);
  for (size_t i = 0; i < x.size(); ++i)
    x[i] = std::complex<double>(
        std::sin(0.37 * static_cast<double>(i)) + 0.1 * static_cast<double>(i % 7), 0.0);
  std::vector<std::complex<double>> want(512);
  for (size_t k = 0; k < 512; ++k) {
    for (size_t n = 0; n < 512; ++n)
      want[k] += x[n] * std::polar(1.0, -2 * M_PI * static_cast<double>(k * n) / 512);
  }
  Fft(&x);
  for (size_t k = 0; k < 512; ++k) ASSERT_LT(std::abs(x[k] - want[k]), 1e-9) << k;
}

TEST(AudioFeatures, FrameAndTokenCountsFollowTheSpec) {
  std::vector<float> one_second(16000, 0.1f);
  LogMel m = ComputeLogMel(one_second.data(), 16000);
  EXPECT_EQ(m.n_valid, 99);
  EXPECT_EQ(ConformerTokenCount(m.n_valid), 25);
  EXPECT_EQ(m.n_frames, (16000 + 160 - 321) / 160 + 1);  // padded to 128 (already), +160, framed
  std::vector<float> thirty(480000 + 5000, 0.1f);        // past 30 s: one pass takes 30 s
  m = ComputeLogMel(thirty.data(), static_cast<int64_t>(thirty.size()));
  EXPECT_EQ(m.n_valid, 2999);
  EXPECT_EQ(ConformerTokenCount(m.n_valid), 750);
  // Frames past the audio are zero; a silent frame is ln(1e-3).
  std::vector<float> silence(1100, 0.0f);
  m = ComputeLogMel(silence.data(), 1100);
  EXPECT_EQ(m.n_frames, 7);
  EXPECT_EQ(m.n_valid, 6);
  EXPECT_FLOAT_EQ(m.data[0], static_cast<float>(std::log(1e-3)));
  EXPECT_EQ(m.data.back(), 0.0f);
  EXPECT_EQ(ComputeLogMel(silence.data(), 100).n_valid, 0);
}

TEST(AudioFeatures, ThreadsDoNotChangeTheFeatures) {
  std::vector<float> chirp(16000 * 7 + 33);
  for (size_t i = 0; i < chirp.size(); ++i)
    chirp[i] = static_cast<float>(0.5 * std::sin(1e-5 * static_cast<double>(i * i)));
  const LogMel one = ComputeLogMel(chirp.data(), static_cast<int64_t>(chirp.size()));
  ThreadPool pool(3);
  const LogMel many = ComputeLogMel(chirp.data(), static_cast<int64_t>(chirp.size()), &pool);
  ASSERT_EQ(one.n_frames, many.n_frames);
  ASSERT_EQ(one.n_valid, many.n_valid);
  EXPECT_EQ(one.data, many.data);
  EXPECT_GT(one.data[100 * kMelBins + 5], static_cast<float>(std::log(1e-3)));  // not silence
}

}  // namespace
}  // namespace pocket
