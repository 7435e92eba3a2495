// The OpenAI-compatible HTTP server of `pocket serve`: routes, authentication, limits,
// streaming, metrics. HTTP comes from cpp-httplib (included only by server.cc); the wire
// format lives in openai_api.cc; decoding in the SlotPool's sessions.
//
// Start() binds and serves on background threads until Stop(). Thread-safe.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "apps/server/openai_api.h"
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
  size_t max_body_bytes = 8u << 20;
  size_t max_queue = 64;      // requests waiting for a slot before 503
  int http_threads = 32;      // connections served at once
  Limits limits;
  // Tests only: every request "generates" exactly these ids, then <turn|>, instead of
  // sampling (random weights never emit a tool call; this exercises the real output path).
  std::vector<int32_t> test_script;
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
