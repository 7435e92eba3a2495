// Audio against ../shared/golden/audio: every set found there (shared and hidden ones),
// `pocket embed --audio pcm16k.wav` from the mmproj GGUF and from hf/ against the judge, the
// log-mel features against transformers', the original compressed file decoded close to the
// reference samples, long audio in 30 s passes, and audio end to end through the CLI.
#include <sndfile.h>
#include <unistd.h>

#include <cmath>
#include <cstring>
#include <nlohmann/json.hpp>

#include "common/test_util.h"
#include "media/audio_decode.h"

namespace pocket {
namespace {

using json = nlohmann::json;

bool Exists(const std::string& p) { return access(p.c_str(), R_OK) == 0; }

// Output in a fixed scratch folder per test binary (TempDir() makes a new folder per call).
const std::string& Scratch() {
  static const std::string dir = testing::TempDir();
  return dir;
}
std::string EmbOut() { return Scratch() + "/emb.f32"; }

testing::CommandResult Embed(const std::string& set, const std::string& proj,
                             const std::string& audio, std::vector<std::string> extra = {}) {
  std::vector<std::string> args = {"embed",    "-m",    set + "/text-model.gguf",
                                   "--mmproj", proj,    "--audio",
                                   audio,      "--out", EmbOut(),
                                   "-t",       "2"};
  args.insert(args.end(), extra.begin(), extra.end());
  return testing::RunPocket(args);
}

TEST(AudioGolden, SetsArePresent) {
  POCKET_REQUIRE_GOLDEN_OR_SKIP();
  EXPECT_GE(testing::GoldenSets("audio").size(), 2u);
}

// Judge and tolerance per the READMEs: transformers' embeddings where llama.cpp deviates
// (conformer: end to end from the samples, max 1e-3, cosine 0.99999), else llama.cpp's
// (unified: max 1e-4, cosine 0.999999).
TEST(AudioGolden, EmbeddingsFromWavMatchJudgeFromGgufAndHf) {
  POCKET_REQUIRE_GOLDEN_OR_SKIP();
  for (const std::string& set : testing::GoldenSets("audio")) {
    SCOPED_TRACE(set);
    const json m = json::parse(testing::ReadFile(set + "/manifest.json"));
    const size_t width = m["n_embd"].get<size_t>();
    const bool hf_judge = Exists(set + "/embeddings_hf.f32");
    const std::vector<float> want =
        testing::ReadF32(set + (hf_judge ? "/embeddings_hf.f32" : "/embeddings.f32"));
    for (const std::string& proj : {set + "/mmproj.gguf", set + "/hf"}) {
      SCOPED_TRACE(proj);
      const auto r = Embed(set, proj, set + "/pcm16k.wav");
      ASSERT_EQ(r.exit_code, 0) << r.err;
      const std::vector<float> got = testing::ReadF32(EmbOut());
      ASSERT_EQ(got.size(), want.size());
      const testing::Closeness c = testing::CompareRows(got, want, width);
      EXPECT_LE(c.max_abs, hf_judge ? 1e-3 : 1e-4);
      EXPECT_GE(c.min_cos, hf_judge ? 0.99999 : 0.999999);
    }
  }
}

TEST(AudioGolden, LogMelMatchesTransformers) {
  POCKET_REQUIRE_GOLDEN_OR_SKIP();
  int checked = 0;
  for (const std::string& set : testing::GoldenSets("audio")) {
    if (!Exists(set + "/mel_hf.f32")) continue;
    SCOPED_TRACE(set);
    const std::string mel = testing::TempDir() + "/mel.f32";
    const auto r = Embed(set, set + "/mmproj.gguf", set + "/pcm16k.wav", {"--mel-out", mel});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const std::vector<float> want = testing::ReadF32(set + "/mel_hf.f32"),
                             got = testing::ReadF32(mel);
    ASSERT_EQ(got.size(), want.size());
    const testing::Closeness c = testing::CompareRows(got, want, want.size());
    EXPECT_LE(c.max_abs, 5e-3);
    EXPECT_LE(c.mean_abs, 5e-4);
    ++checked;
  }
  EXPECT_GE(checked, 1);
}

// The set's original (compressed, 44.1 kHz) file decodes and resamples to samples close to
// the reference 16 kHz PCM. The references were resampled by another resampler, so the
// comparison allows a small shift and reports the SNR.
TEST(AudioGolden, OriginalFileDecodesCloseToReferencePcm) {
  POCKET_REQUIRE_GOLDEN_OR_SKIP();
  for (const std::string& set : testing::GoldenSets("audio")) {
    SCOPED_TRACE(set);
    const json m = json::parse(testing::ReadFile(set + "/manifest.json"));
    Result<AudioClip> ours = LoadAudioFile(set + "/" + m["input_file"].get<std::string>());
    ASSERT_TRUE(ours.ok()) << ours.status().ToString();
    Result<AudioClip> ref = LoadAudioFile(set + "/pcm16k.wav");
    ASSERT_TRUE(ref.ok());
    ASSERT_EQ(ref->samples.size(), m["pcm_samples"].get<size_t>());
    EXPECT_NEAR(static_cast<double>(ours->samples.size()), static_cast<double>(ref->samples.size()),
                16.0);
    double best = -100;
    for (int lag = -4; lag <= 4; ++lag) {
      double sig = 0, err = 0;
      for (size_t i = 1000; i + 1000 < ref->samples.size(); ++i) {
        const double d =
            ours->samples[static_cast<size_t>(static_cast<long>(i) + lag)] - ref->samples[i];
        sig += static_cast<double>(ref->samples[i]) * ref->samples[i];
        err += d * d;
      }
      best = std::max(best, 10 * std::log10(sig / err));
    }
    std::printf("%s: decoded %zu samples (reference %zu), SNR %.1f dB at the best shift\n",
                set.c_str(), ours->samples.size(), ref->samples.size(), best);
    EXPECT_GT(best, 18.0);
  }
}

// Past 30 s the conformer runs in 30 s passes, each its own <|audio> ... <audio|> block.
TEST(AudioGolden, LongAudioIsEncodedInThirtySecondPasses) {
  POCKET_REQUIRE_GOLDEN_OR_SKIP();
  for (const std::string& set : testing::GoldenSets("audio")) {
    const json m = json::parse(testing::ReadFile(set + "/manifest.json"));
    if (m["projector_type"] != "gemma4a") continue;
    Result<AudioClip> clip = LoadAudioFile(set + "/pcm16k.wav");
    ASSERT_TRUE(clip.ok());
    std::vector<float> long_audio;
    while (long_audio.size() < 16000 * 65)
      long_audio.insert(long_audio.end(), clip->samples.begin(), clip->samples.end());
    long_audio.resize(16000 * 65);  // 65 s: passes of 30 + 30 + 5 s
    const std::string path = testing::TempDir() + "/long.wav";
    SF_INFO info;
    std::memset(&info, 0, sizeof(info));
    info.samplerate = 16000;
    info.channels = 1;
    info.format = SF_FORMAT_WAV | SF_FORMAT_FLOAT;
    SNDFILE* f = sf_open(path.c_str(), SFM_WRITE, &info);
    ASSERT_NE(f, nullptr);
    sf_writef_float(f, long_audio.data(), static_cast<sf_count_t>(long_audio.size()));
    sf_close(f);
    const auto r = Embed(set, set + "/mmproj.gguf", path);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const size_t width = m["n_embd"].get<size_t>();
    // 750 + 750 + ceil(ceil(F_v/2)/2) for the last 5 s (F_v = 499: 125 tokens).
    EXPECT_EQ(testing::ReadF32(EmbOut()).size(), (750 + 750 + 125) * width);
    // Through run: three audio blocks in the prompt.
    const auto run = testing::RunPocket({"run", "-m", set + "/text-model.gguf", "--mmproj",
                                         set + "/mmproj.gguf", "--audio", path, "-p", "Transcribe.",
                                         "-n", "1", "--temp", "0", "--stats", "-c", "2048"});
    ASSERT_EQ(run.exit_code, 0) << run.err;
    EXPECT_NE(run.err.find("3 passes"), std::string::npos) << run.err;
    EXPECT_GT(std::stoi(run.err.substr(run.err.find("prompt ") + 7)), 1625 + 6);
  }
}

TEST(AudioCli, RunChatAndErrors) {
  POCKET_REQUIRE_GOLDEN_OR_SKIP();
  for (const std::string& set : testing::GoldenSets("audio")) {
    SCOPED_TRACE(set);
    const std::string model = set + "/text-model.gguf", mmproj = set + "/mmproj.gguf";
    auto r =
        testing::RunPocket({"run", "-m", model, "--mmproj", mmproj, "--audio", set + "/test-2.mp3",
                            "-p", "Transcribe this audio.", "-n", "3", "--temp", "0", "--stats"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_GT(std::stoi(r.err.substr(r.err.find("prompt ") + 7)), 436);
    r = testing::RunPocketWithInput(
        {"chat", "-m", model, "--mmproj", mmproj, "-n", "2", "--temp", "0"},
        "/audio " + set + "/pcm16k.wav\nWhat is said?\n/audio " + model + "\n");
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find("audio attached: 436 tokens"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("not audio"), std::string::npos) << r.out;
    // Errors: empty file, not audio, image projector for audio.
    const std::string dir = testing::TempDir();
    testing::WriteFile(dir + "/empty.wav", "");
    r = Embed(set, mmproj, dir + "/empty.wav");
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.err.find("empty"), std::string::npos) << r.err;
    r = Embed(set, mmproj, model);
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.err.find("not audio"), std::string::npos) << r.err;
  }
  const std::string vset = testing::GoldenDir() + "/vision/gemma4v_test1";
  const std::string aset = testing::GoldenDir() + "/audio/gemma4a_test2";
  const auto r = Embed(vset, vset + "/mmproj.gguf", aset + "/pcm16k.wav");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("cannot hear"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace pocket
