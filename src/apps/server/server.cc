#include "apps/server/server.h"

#include <httplib.h>

#include <atomic>
#include <chrono>
#include <limits>
#include <random>
#include <thread>

#include "apps/server/slots.h"
#include "chat/chat_template.h"
#include "runtime/conversation.h"
#include "runtime/json_constraint.h"

namespace pocket::server {
namespace {

int64_t NowSeconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

void SendError(httplib::Response& res, const ApiError& e) {
  res.status = e.status;
  res.set_content(ErrorJson(e), "application/json");
}

ApiError MakeError(int status, std::string type, std::string code, std::string message) {
  ApiError e;
  e.status = status;
  e.type = std::move(type);
  e.code = std::move(code);
  e.message = std::move(message);
  return e;
}

std::string ModelId(const std::string& path) {
  std::string name = path;
  while (!name.empty() && name.back() == '/') name.pop_back();
  const size_t slash = name.find_last_of('/');
  if (slash != std::string::npos) name = name.substr(slash + 1);
  if (name.size() > 5 && name.compare(name.size() - 5, 5, ".gguf") == 0) name.resize(name.size() - 5);
  return name;
}

// Forces a fixed sequence of tokens (ServerOptions::test_script), then end of turn.
class ScriptFilter : public TokenFilter {
 public:
  explicit ScriptFilter(const std::vector<int32_t>& script) : script_(script) {}
  void Apply(float* logits, int64_t n_vocab) override {
    const int32_t want = pos_ < script_.size() ? script_[pos_] : kEndOfTurn;
    for (int64_t i = 0; i < n_vocab; ++i) {
      if (i != want) logits[i] = -std::numeric_limits<float>::infinity();
    }
  }
  void Accept(int32_t) override { ++pos_; }

 private:
  static constexpr int32_t kEndOfTurn = 106;
  const std::vector<int32_t>& script_;
  size_t pos_ = 0;
};

}  // namespace

struct Server::Impl {
  const Model& model;
  ServerOptions opt;
  std::string model_id;
  int64_t created = NowSeconds();
  std::unique_ptr<SlotPool> slots;
  std::unique_ptr<ThreadPool> media_pool;  // used only inside Mmproj's lock (one encode at a time)
  httplib::Server http;
  std::thread listener;
  int bound_port = 0;
  int listen_fd = -1;  // captured to raise cpp-httplib's listen backlog of 5
  std::atomic<uint64_t> next_id{1};
  std::atomic<uint64_t> requests{0}, errors{0}, prompt_tokens{0}, completion_tokens{0}, cancelled{0};

  Impl(const Model& m, const ServerOptions& o) : model(m), opt(o), model_id(ModelId(m.path())) {}

  std::string NewId(const char* prefix) {
    return std::string(prefix) + std::to_string(NowSeconds()) + "-" + std::to_string(next_id++);
  }

  // Decodes and encodes the request's images and audio (in prompt order).
  bool EncodeMedia(const ChatRequest& r, std::vector<MediaItem>* items, ApiError* err) {
    if (r.media.empty()) return true;
    if (opt.mmproj == nullptr) {
      *err = MakeError(400, "invalid_request_error", "unsupported_content",
                       "this server has no vision/audio projector; start it with --mmproj FILE");
      return false;
    }
    for (const MediaPart& part : r.media) {
      std::string fetched;
      const std::string* bytes = &part.bytes;
      if (!part.url.empty()) {
        if (!opt.fetch_media) {
          *err = MakeError(400, "invalid_request_error", "remote_media_disabled", part.what + ": remote URLs are disabled");
          return false;
        }
        Result<std::string> got = opt.fetch_media(part.url, opt.media.image_limits.max_file_bytes);
        if (!got.ok()) {
          *err = MakeError(400, "invalid_request_error", "invalid_image", part.what + ": " + got.status().message());
          return false;
        }
        fetched = std::move(*got);
        bytes = &fetched;
      }
      const auto* data = reinterpret_cast<const uint8_t*>(bytes->data());
      Result<MediaEmbedding> e =
          part.audio ? EncodeAudioBytes(*opt.mmproj, data, bytes->size(), part.what, opt.media, media_pool.get())
                     : EncodeImageBytes(*opt.mmproj, data, bytes->size(), part.what, opt.media, media_pool.get());
      if (!e.ok()) {
        *err = MakeError(400, "invalid_request_error", part.audio ? "invalid_audio" : "invalid_image", e.status().message());
        return false;
      }
      items->push_back(MakeMediaItem(part.audio ? MediaKind::kAudio : MediaKind::kImage, std::move(*e)));
    }
    return true;
  }

  // Renders/tokenizes the prompt (with media soft tokens) and clamps max_tokens to the
  // context. False: `err` set.
  bool Prepare(ChatRequest* r, Prompt* out, ApiError* err) {
    const Tokenizer& tok = model.tokenizer();
    Tokenizer::EncodeOptions enc;
    std::vector<int32_t> ids;
    std::vector<int32_t>* prompt = &ids;
    if (r->raw_completion) {
      enc.add_bos = true;
      enc.parse_special = false;
      *prompt = tok.Encode(r->prompt, enc);
      out->tokens = std::move(ids);
      prompt = &out->tokens;
    } else {
      ChatRenderOptions ro;
      ro.enable_thinking = r->thinking;
      auto segments = RenderChatSegments(r->messages_json, r->tools_json, ro);
      if (!segments.ok()) {
        *err = MakeError(400, "invalid_request_error", "invalid_messages", segments.status().message());
        return false;
      }
      *prompt = EncodePrompt(tok, *segments);  // user text can never become a control token
      std::vector<MediaItem> items;
      if (!EncodeMedia(*r, &items, err)) return false;
      if (items.empty()) {
        out->tokens = std::move(ids);
      } else {
        Result<MediaTokenIds> t = MediaTokenIds::From(tok);
        Result<Prompt> p = t.ok() ? ExpandMedia(ids, items, *t, model.config().image_bidirectional) : t.status();
        if (!p.ok()) {
          *err = MakeError(400, "invalid_request_error", "invalid_messages", p.status().message());
          return false;
        }
        *out = std::move(*p);
      }
      prompt = &out->tokens;
    }
    const int64_t n_ctx = slots->n_ctx();
    if (static_cast<int64_t>(prompt->size()) >= n_ctx) {
      *err = MakeError(400, "invalid_request_error", "context_length_exceeded",
                       StrFormat("the prompt has %zu tokens but the context holds %lld", prompt->size(), (long long)n_ctx));
      return false;
    }
    r->max_tokens = std::min<int64_t>(r->max_tokens, n_ctx - static_cast<int64_t>(prompt->size()));
    if (!r->seed_given) r->sampling.seed = (static_cast<uint64_t>(std::random_device{}()) << 32) ^ std::random_device{}();
    return true;
  }

  // Runs one request on a leased slot. `on_delta` returns false when the client is gone.
  struct Outcome {
    Status status;
    ParsedOutput parsed;
    GenerateResult gen;
    int64_t prompt_tokens = 0;
  };
  Outcome Run(SlotPool::Lease& lease, const ChatRequest& r, const Prompt& prompt,
              const std::function<bool(const StreamingOutputParser::Delta&, const std::string& text)>& on_delta) {
    Outcome o;
    o.prompt_tokens = static_cast<int64_t>(prompt.tokens.size());
    Session& s = lease.session();
    o.status = s.Prefill(prompt);
    if (!o.status.ok()) return o;
    Sampler sampler(r.sampling, model.config().n_vocab);
    for (int32_t id : prompt.tokens) sampler.Accept(id);
    ScriptFilter script(opt.test_script);
    JsonObjectFilter json_only(model.tokenizer(), r.max_tokens);
    std::unique_ptr<JsonSchemaFilter> json_schema;
    if (!opt.test_script.empty()) {
      sampler.set_filter(&script);
    } else if (r.schema) {
      json_schema = std::make_unique<JsonSchemaFilter>(model.tokenizer(), SchemaPrefix(r.schema), r.max_tokens);
      sampler.set_filter(json_schema.get());
    } else if (r.json_object) {
      sampler.set_filter(&json_only);
    }
    GenerateOptions go;
    go.max_tokens = r.max_tokens;
    go.stop = r.stop;
    StreamingOutputParser parser(false);
    auto gen = Generate(s, sampler, go, [&](std::string_view piece) {
      if (!on_delta) return true;
      if (r.raw_completion) return on_delta({}, std::string(piece));
      StreamingOutputParser::Delta d = parser.Push(piece);
      if (d.reasoning.empty() && d.content.empty() && d.tool_calls.empty()) return true;
      return on_delta(d, "");
    });
    if (!gen.ok()) {
      o.status = gen.status();
      return o;
    }
    o.gen = std::move(*gen);
    if (!r.raw_completion) {
      StreamingOutputParser::Delta last = parser.Finish();
      if (on_delta && (!last.reasoning.empty() || !last.content.empty() || !last.tool_calls.empty())) on_delta(last, "");
      o.parsed = ParseModelOutput(o.gen.text, false);
    }
    prompt_tokens += o.prompt_tokens;
    completion_tokens += o.gen.tokens.size();
    if (o.gen.finish == FinishReason::kCancelled) ++cancelled;
    return o;
  }

  void HandleGeneration(const httplib::Request& req, httplib::Response& res, bool chat) {
    ++requests;
    auto r = std::make_shared<ChatRequest>();
    ApiError err;
    const bool ok = chat ? ParseChatRequest(req.body, model.default_sampling(), model_id, opt.limits, r.get(), &err)
                         : ParseCompletionRequest(req.body, model.default_sampling(), model_id, opt.limits, r.get(), &err);
    auto prompt = std::make_shared<Prompt>();
    if (!ok || !Prepare(r.get(), prompt.get(), &err)) {
      ++errors;
      return SendError(res, err);
    }
    std::shared_ptr<SlotPool::Lease> lease = slots->Acquire(prompt->tokens);
    if (!lease) {
      ++errors;
      return SendError(res, MakeError(503, "server_error", "server_busy", "all slots are busy and the queue is full; retry later"));
    }
    const std::string id = NewId(chat ? "chatcmpl-" : "cmpl-");
    const int64_t now = NowSeconds();
    if (!r->stream) {
      Outcome o = Run(*lease, *r, *prompt, {});
      if (!o.status.ok()) {
        ++errors;
        return SendError(res, MakeError(500, "server_error", "generation_failed", o.status.message()));
      }
      const Usage usage{o.prompt_tokens, static_cast<int64_t>(o.gen.tokens.size())};
      const std::string finish = FinishReasonFor(o.gen.finish, !o.parsed.tool_calls.empty());
      res.set_content(chat ? ChatCompletionJson(id, now, model_id, o.parsed, finish, usage)
                           : TextCompletionJson(id, now, model_id, o.gen.text, finish, usage),
                      "application/json");
      return;
    }
    res.set_header("Cache-Control", "no-cache");
    res.set_chunked_content_provider("text/event-stream", [this, r, prompt, lease, id, now, chat](size_t, httplib::DataSink& sink) {
      bool first = true;
      size_t tool_index = 0;
      bool any_tool_call = false;
      auto write = [&](const std::string& event) { return sink.write(event.data(), event.size()); };
      if (chat && !write(ChatChunkEvent(id, now, model_id, true, {}, 0, ""))) return false;
      first = false;
      Outcome o = Run(*lease, *r, *prompt, [&](const StreamingOutputParser::Delta& d, const std::string& text) {
        if (!chat) return write(TextChunkEvent(id, now, model_id, text, ""));
        any_tool_call |= !d.tool_calls.empty();
        const bool sent = write(ChatChunkEvent(id, now, model_id, first, d, tool_index, ""));
        tool_index += d.tool_calls.size();
        return sent;
      });
      if (!o.status.ok()) {
        write("data: " + ErrorJson(MakeError(500, "server_error", "generation_failed", o.status.message())) + "\n\n");
      } else if (o.gen.finish != FinishReason::kCancelled) {
        const std::string finish = FinishReasonFor(o.gen.finish, any_tool_call);
        const Usage usage{o.prompt_tokens, static_cast<int64_t>(o.gen.tokens.size())};
        write(chat ? ChatChunkEvent(id, now, model_id, false, {}, 0, finish) : TextChunkEvent(id, now, model_id, "", finish));
        if (r->include_usage) write(UsageChunkEvent(id, now, model_id, usage));
        write("data: [DONE]\n\n");
      }
      sink.done();
      return true;
    });
  }

  std::string Metrics() {
    std::string m;
    auto line = [&](const char* name, const char* type, const char* help, double v) {
      m += StrFormat("# HELP %s %s\n# TYPE %s %s\n%s %.0f\n", name, help, name, type, name, v);
    };
    line("pocket_requests_total", "counter", "Generation requests received.", static_cast<double>(requests.load()));
    line("pocket_request_errors_total", "counter", "Requests answered with an error.", static_cast<double>(errors.load()));
    line("pocket_requests_cancelled_total", "counter", "Generations stopped because the client left.",
         static_cast<double>(cancelled.load()));
    line("pocket_prompt_tokens_total", "counter", "Prompt tokens processed.", static_cast<double>(prompt_tokens.load()));
    line("pocket_generated_tokens_total", "counter", "Tokens generated.", static_cast<double>(completion_tokens.load()));
    line("pocket_slots_busy", "gauge", "Decoding slots in use.", static_cast<double>(slots->busy()));
    line("pocket_slots_total", "gauge", "Decoding slots.", static_cast<double>(slots->n_slots()));
    line("pocket_requests_queued", "gauge", "Requests waiting for a slot.", static_cast<double>(slots->queued()));
    return m;
  }

  void Routes() {
    http.set_payload_max_length(opt.max_body_bytes);
    const int n_http = opt.http_threads;
    http.new_task_queue = [n_http] { return new httplib::ThreadPool(static_cast<size_t>(n_http)); };
    http.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
      if (opt.api_key.empty() || req.path == "/health") return httplib::Server::HandlerResponse::Unhandled;
      const std::string auth = req.get_header_value("Authorization");
      if (auth == "Bearer " + opt.api_key) return httplib::Server::HandlerResponse::Unhandled;
      SendError(res, MakeError(401, "authentication_error", "invalid_api_key",
                               auth.empty() ? "missing API key (Authorization: Bearer ...)" : "invalid API key"));
      return httplib::Server::HandlerResponse::Handled;
    });
    http.Post("/v1/chat/completions", [this](const httplib::Request& q, httplib::Response& s) { HandleGeneration(q, s, true); });
    http.Post("/v1/completions", [this](const httplib::Request& q, httplib::Response& s) { HandleGeneration(q, s, false); });
    http.Get("/v1/models", [this](const httplib::Request&, httplib::Response& s) {
      s.set_content(ModelsJson(model_id, created), "application/json");
    });
    http.Get("/health", [](const httplib::Request&, httplib::Response& s) {
      s.set_content("{\"status\":\"ok\"}", "application/json");
    });
    http.Get("/metrics", [this](const httplib::Request&, httplib::Response& s) {
      s.set_content(Metrics(), "text/plain; version=0.0.4");
    });
    http.set_error_handler([](const httplib::Request& req, httplib::Response& res) {
      if (!res.body.empty()) return;
      if (res.status == 404) {
        SendError(res, MakeError(404, "invalid_request_error", "not_found", "no route " + req.method + " " + req.path));
      } else if (res.status == 413) {
        SendError(res, MakeError(413, "invalid_request_error", "payload_too_large", "request body is too large"));
      } else {
        SendError(res, MakeError(res.status, "invalid_request_error", "", StrFormat("HTTP %d", res.status)));
      }
    });
    http.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr) {
      SendError(res, MakeError(500, "server_error", "internal_error", "internal error"));
    });
  }
};

Result<std::unique_ptr<Server>> Server::Create(const Model& model, const ServerOptions& options) {
  auto impl = std::make_unique<Impl>(model, options);
  SessionOptions so;
  so.n_ctx = options.n_ctx;
  const int threads = options.threads > 0 ? options.threads : ThreadPool::HardwareThreads();
  ASSIGN_OR_RETURN(impl->slots, SlotPool::Create(model, options.parallel, threads, so, options.max_queue));
  if (options.mmproj != nullptr) {
    RETURN_IF_ERROR(options.mmproj->CheckTextWidth(model.config().n_embd));
    impl->media_pool = std::make_unique<ThreadPool>(threads);
  }
  impl->Routes();
  return std::unique_ptr<Server>(new Server(std::move(impl)));
}

Server::Server(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Server::~Server() { Stop(); }

Status Server::Start() {
  Impl& s = *impl_;
  s.http.set_socket_options([&s](socket_t sock) {
    int one = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    s.listen_fd = sock;
  });
  if (s.opt.port == 0) {
    s.bound_port = s.http.bind_to_any_port(s.opt.host.c_str());
  } else {
    s.bound_port = s.http.bind_to_port(s.opt.host.c_str(), s.opt.port) ? s.opt.port : -1;
  }
  if (s.bound_port <= 0) return IoError(StrFormat("cannot listen on %s:%d (in use, or not a local address?)", s.opt.host.c_str(), s.opt.port));
  // cpp-httplib listens with a backlog of 5: a burst of clients would overflow it and some
  // connections would be dropped. Listening again on the bound socket raises the backlog.
  if (s.listen_fd >= 0) ::listen(s.listen_fd, 512);
  s.listener = std::thread([&s] { s.http.listen_after_bind(); });
  return Status::Ok();
}

void Server::Wait() {
  if (impl_->listener.joinable()) impl_->listener.join();
}

void Server::Stop() {
  impl_->http.stop();
  Wait();
}

int Server::port() const { return impl_->bound_port; }

}  // namespace pocket::server
