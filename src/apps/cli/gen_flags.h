// The options `pocket run` and `pocket chat` share: model, context, threads, sampling,
// thinking, system prompt; model loading with a progress line; printing a streamed reply
// (reasoning dimmed on a terminal, tool calls as JSON).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "apps/cli/args.h"
#include "base/thread_pool.h"
#include "media/media_input.h"
#include "runtime/conversation.h"
#include "runtime/model.h"
#include "runtime/session.h"

namespace pocket::cli {

std::vector<FlagSpec> GenerationFlags();

struct GenerationSetup {
  std::string model_path;
  SessionOptions session;
  SamplingParams sampling;  // the model's defaults overridden by flags
  GenerateOptions generate;
  ConversationOptions conversation;
  int threads = 0;
  bool show_stats = false;
  std::string mmproj_path;  // empty: the model's own projector (HF checkpoints), if any
  MediaOptions media;
};

// Reads the shared flags. Sampling values not given keep `defaults`. Returns false with a
// usage message in `error`.
bool ReadGenerationFlags(Args& args, GenerationSetup* setup, std::string* error);
// Applies the sampling flags on top of the model's defaults (after the model is loaded).
bool ApplySamplingFlags(Args& args, const SamplingParams& defaults, SamplingParams* out, std::string* error);

// Loaded model + pool + session, ready to chat.
struct Engine {
  std::unique_ptr<Model> model;
  std::unique_ptr<ThreadPool> pool;
  std::unique_ptr<Session> session;
  std::unique_ptr<Mmproj> mmproj;  // null: text only
};
Result<Engine> LoadEngine(const GenerationSetup& setup);

// Encodes an image or audio file for the engine's model (with progress on stderr for audio).
Result<MediaItem> LoadMedia(Engine& engine, MediaKind kind, const std::string& path, const MediaOptions& options);

// Prints reply deltas to stdout as they stream.
class ReplyPrinter {
 public:
  explicit ReplyPrinter(bool show_reasoning);
  bool operator()(const StreamingOutputParser::Delta& d);
  void End();  // newline, colours reset

 private:
  bool show_reasoning_;
  bool color_;
  bool in_reasoning_ = false;
  bool any_output_ = false;
};

// "prompt 12 tok (0 reused) 850 tok/s | 40 tok 35.2 tok/s | TTFT 15 ms" on stderr.
void PrintStats(const Session& session, const ConversationReply& reply);

}  // namespace pocket::cli
