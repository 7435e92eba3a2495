// pocket embed -m MODEL [--mmproj MMPROJ] (--image F [--image-tokens N] [--keep-size] |
//              --audio F [--mel-out MEL.f32]) --out EMB.f32 [-t THREADS]
// Writes the soft-token embeddings of one image or audio clip as they enter the decoder:
// raw little-endian float32 [n_tokens, n_embd].
#include <cstdio>
#include <memory>

#include "apps/cli/args.h"
#include "apps/cli/commands.h"
#include "base/mapped_file.h"
#include "base/thread_pool.h"
#include "media/media_input.h"
#include "runtime/mmproj.h"

namespace pocket::cli {

int RunEmbed(int argc, char** argv) {
  Args args(
      "embed", "-m MODEL [--mmproj F] (--image F | --audio F) --out EMB.f32 [options]",
      {{"-m,--model", "MODEL",
        "text model (.gguf or HF folder); with a full HF checkpoint it is also the projector"},
       {"--mmproj", "FILE", "projector: mmproj .gguf or HF folder with the vision/audio tensors"},
       {"--image", "FILE", "image to encode (JPEG, PNG, WebP, BMP, GIF)"},
       {"--image-tokens", "N", "image token budget: 70, 140, 280 (default), 560, 1120"},
       {"--keep-size", "", "do not resize (sides must be multiples of 48)"},
       {"--audio", "FILE", "audio to encode (WAV, FLAC, OGG, MP3)"},
       {"--mel-out", "FILE", "also write the log-mel features, float32 [128, n_frames]"},
       {"--out", "FILE", "raw float32 embeddings [n_tokens, n_embd]"},
       {"-t,--threads", "N", "threads (default: all cores)"}});
  if (!args.Parse(argc, argv)) return ReportUsage("embed", args.error());
  if (args.help_requested()) {
    std::printf("%s", args.HelpText().c_str());
    return kExitOk;
  }
  for (const char* req : {"--model", "--out"}) {
    if (!args.Has(req)) return ReportUsage("embed", std::string("missing required option ") + req);
  }
  if (args.Has("--image") == args.Has("--audio")) {
    return ReportUsage("embed", "give exactly one of --image or --audio");
  }
  if (args.Has("--audio") && (args.Has("--keep-size") || args.Has("--image-tokens"))) {
    return ReportUsage("embed", "--keep-size and --image-tokens apply to --image only");
  }
  if (args.Has("--image") && args.Has("--mel-out"))
    return ReportUsage("embed", "--mel-out applies to --audio only");
  long long threads = 0, budget = 0;
  if (!args.GetInt("--threads", 0, 0, 1024, &threads) ||
      !args.GetInt("--image-tokens", kDefaultImageBudget, 1, 100000, &budget)) {
    return ReportUsage("embed", args.error());
  }

  auto mm = Mmproj::OpenForModel(args.Get("--model"), args.Get("--mmproj"));
  if (!mm.ok()) return ReportError(mm.status());
  ThreadPool pool(threads > 0 ? static_cast<int>(threads) : ThreadPool::HardwareThreads());

  Result<MediaEmbedding> emb = Status::Ok();
  if (args.Has("--image")) {
    MediaOptions mo;
    mo.image_budget = static_cast<int>(budget);
    mo.keep_size = args.Has("--keep-size");
    emb = EncodeImageFile(**mm, args.Get("--image"), mo, &pool);
  } else {
    std::vector<float> mel;
    emb = EncodeAudioFile(**mm, args.Get("--audio"), MediaOptions{}, &pool,
                          args.Has("--mel-out") ? &mel : nullptr);
    if (emb.ok() && args.Has("--mel-out")) {
      if (mel.empty())
        return ReportError(
            InvalidArgument("--mel-out: this projector takes raw audio frames, not mel features"));
      Status st = WriteBinaryFile(args.Get("--mel-out"), mel.data(), mel.size() * sizeof(float));
      if (!st.ok()) return ReportError(st);
    }
  }
  if (!emb.ok()) return ReportError(emb.status());
  Status st =
      WriteBinaryFile(args.Get("--out"), emb->data.data(), emb->data.size() * sizeof(float));
  if (!st.ok()) return ReportError(st);
  std::fprintf(stderr, "embed: %lld tokens x %lld -> %s\n", (long long)emb->n_tokens,
               (long long)emb->n_embd, args.Get("--out").c_str());
  return kExitOk;
}

}  // namespace pocket::cli
