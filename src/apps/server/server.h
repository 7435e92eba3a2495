// The OpenAI-compatible HTTP server of `pocket serve`: routes, authentication, limits,
// streaming, metrics. HTTP comes from cpp-httplib (included only by server.cc); the wire
// format lives in openai_api.cc; decoding in the SlotPool's sessions.
//
// Start() binds and serves on background threads until Stop(). Thread-safe.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "apps/server/openai_api.h"
#include "media/media_input.h"
#include "runtime/mmproj.h"
#include "base/status.h"
#include "runtime/model.h"

namespace pocket::server {

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 8080;            // 0: any free port (see port())
  std::string api_key;        // when set, required on every route but /health
  int parallel = 1;           // decoding slots
  int threads = 0;            // compute threads in all (0: all cores)
  int64_t n_ctx = 4096;       // per slot
  size_t max_body_bytes = 32u << 20;  // room for base64 images and audio
  size_t max_queue = 64;      // requests waiting for a slot before 503
  int http_threads = 32;      // connections served at once
  Limits limits;
  // Tests only: every request "generates" exactly these ids, then <turn|>, instead of
  // sampling (random weights never emit a tool call; this exercises the real output path).
  std::vector<int32_t> test_script;
  // Vision/audio: the model's projector (null: requests with media get a 400) and how media
  // are decoded. `fetch_media` downloads a remote image URL (set only with --allow-remote-media;
  // it should honour the byte limit it is given).
  const Mmproj* mmproj = nullptr;
  MediaOptions media;
  std::function<Result<std::string>(const std::string& url, size_t max_bytes)> fetch_media;
};

class Server {
 public:
  static Result<std::unique_ptr<Server>> Create(const Model& model, const ServerOptions& options);
  ~Server();

  // Binds and starts serving in the background.
  Status Start();
  // Blocks until Stop() (from another thread or a signal handler's helper thread).
  void Wait();
  void Stop();
  int port() const;

 private:
  struct Impl;
  explicit Server(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace pocket::server
