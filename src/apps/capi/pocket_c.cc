// The C API (include/pocket/pocket.h) over Model / Session / Conversation. Exceptions and
// Status never cross the boundary: every entry point returns a pocket_status and leaves a
// message in a thread-local buffer.
#include "pocket/pocket.h"

#include <memory>
#include <new>
#include <string>

#include "base/json_writer.h"
#include "base/thread_pool.h"
#include "media/media_input.h"
#include "runtime/conversation.h"
#include "runtime/model.h"

struct pocket_model {
  std::unique_ptr<pocket::Model> model;
  std::unique_ptr<pocket::Mmproj> mmproj;  // null: text only
};

struct pocket_session {
  const pocket_model* model = nullptr;
  std::unique_ptr<pocket::ThreadPool> pool;
  std::unique_ptr<pocket::Session> session;
  std::unique_ptr<pocket::Conversation> conversation;
  pocket::UserTurn pending;  // the next user turn
  pocket::ConversationReply last;
  bool has_last = false;
};

namespace {

thread_local std::string g_last_error;

pocket_status Fail(pocket_status code, std::string message) {
  g_last_error = std::move(message);
  return code;
}

pocket_status FromStatus(const pocket::Status& s) {
  using pocket::StatusCode;
  if (s.ok()) return POCKET_OK;
  switch (s.code()) {
    case StatusCode::kInvalidArgument:
    case StatusCode::kDataLoss:
    case StatusCode::kNotFound: return Fail(POCKET_ERROR_INVALID_ARGUMENT, s.message());
    case StatusCode::kIoError: return Fail(POCKET_ERROR_IO, s.message());
    case StatusCode::kUnimplemented: return Fail(POCKET_ERROR_UNSUPPORTED, s.message());
    case StatusCode::kOutOfRange: return Fail(POCKET_ERROR_CONTEXT_FULL, s.message());
    case StatusCode::kCancelled: return Fail(POCKET_ERROR_CANCELLED, s.message());
    default: return Fail(POCKET_ERROR_INTERNAL, s.message());
  }
}

// Runs `fn` so that no C++ exception (e.g. bad_alloc) escapes into C.
template <typename Fn>
pocket_status Guard(Fn&& fn) {
  try {
    return fn();
  } catch (const std::bad_alloc&) {
    return Fail(POCKET_ERROR_INTERNAL, "out of memory");
  } catch (const std::exception& e) {
    return Fail(POCKET_ERROR_INTERNAL, e.what());
  }
}

}  // namespace

extern "C" {

const char* pocket_last_error(void) { return g_last_error.c_str(); }
const char* pocket_version(void) { return POCKET_VERSION; }

pocket_status pocket_model_load(const char* path, pocket_model** out) {
  if (path == nullptr || out == nullptr) return Fail(POCKET_ERROR_INVALID_ARGUMENT, "pocket_model_load: null argument");
  *out = nullptr;
  return Guard([&] {
    auto m = pocket::Model::Load(path);
    if (!m.ok()) return FromStatus(m.status());
    auto model = std::make_unique<pocket_model>();
    model->model = std::move(*m);
    if (model->model->source().format() != pocket::SourceFormat::kGguf) {
      // An HF checkpoint of a multimodal model carries its own projector.
      auto own = pocket::Mmproj::FromSource(model->model->source());
      if (own.ok() && (*own)->CheckTextWidth(model->model->config().n_embd).ok()) model->mmproj = std::move(*own);
    }
    *out = model.release();
    return POCKET_OK;
  });
}

void pocket_model_free(pocket_model* model) { delete model; }

pocket_status pocket_model_load_mmproj(pocket_model* model, const char* path) {
  if (model == nullptr || path == nullptr) return Fail(POCKET_ERROR_INVALID_ARGUMENT, "pocket_model_load_mmproj: null argument");
  return Guard([&] {
    auto mm = pocket::Mmproj::Open(path);
    if (!mm.ok()) return FromStatus(mm.status());
    if (pocket::Status st = (*mm)->CheckTextWidth(model->model->config().n_embd); !st.ok()) return FromStatus(st);
    model->mmproj = std::move(*mm);
    return POCKET_OK;
  });
}

void pocket_session_params_init(pocket_session_params* p) {
  if (p == nullptr) return;
  p->n_ctx = 4096;
  p->n_threads = 0;
  p->thinking = 0;
  p->system_prompt = nullptr;
}

pocket_status pocket_session_create(pocket_model* model, const pocket_session_params* params, pocket_session** out) {
  if (model == nullptr || out == nullptr) return Fail(POCKET_ERROR_INVALID_ARGUMENT, "pocket_session_create: null argument");
  *out = nullptr;
  pocket_session_params p;
  pocket_session_params_init(&p);
  if (params != nullptr) p = *params;
  if (p.n_ctx <= 0 || p.n_threads < 0) {
    return Fail(POCKET_ERROR_INVALID_ARGUMENT, "pocket_session_create: n_ctx must be > 0 and n_threads >= 0");
  }
  return Guard([&] {
    auto s = std::make_unique<pocket_session>();
    s->model = model;
    s->pool = std::make_unique<pocket::ThreadPool>(p.n_threads > 0 ? p.n_threads : pocket::ThreadPool::HardwareThreads());
    pocket::SessionOptions so;
    so.n_ctx = p.n_ctx;
    auto session = pocket::Session::Create(*model->model, s->pool.get(), so);
    if (!session.ok()) return FromStatus(session.status());
    s->session = std::move(*session);
    pocket::ConversationOptions co;
    co.system = p.system_prompt != nullptr ? p.system_prompt : "";
    co.thinking = p.thinking != 0;
    s->conversation = std::make_unique<pocket::Conversation>(*s->session, co);
    *out = s.release();
    return POCKET_OK;
  });
}

void pocket_session_free(pocket_session* session) { delete session; }

pocket_status pocket_session_reset(pocket_session* s) {
  if (s == nullptr) return Fail(POCKET_ERROR_INVALID_ARGUMENT, "pocket_session_reset: null session");
  s->conversation->Reset();
  s->pending = pocket::UserTurn{};
  s->has_last = false;
  return POCKET_OK;
}

pocket_status pocket_session_add_text(pocket_session* s, const char* text) {
  if (s == nullptr || text == nullptr) return Fail(POCKET_ERROR_INVALID_ARGUMENT, "pocket_session_add_text: null argument");
  return Guard([&] {
    s->pending.text += text;
    return POCKET_OK;
  });
}

namespace {

// Encodes an image or audio clip (file or bytes) for the session's model and queues it on the
// turn. Errors leave the turn unchanged.
pocket_status AddMedia(pocket_session* s, bool audio, const char* path, const void* data, size_t size) {
  const pocket_model* m = s->model;
  if (!m->mmproj) {
    return Fail(POCKET_ERROR_UNSUPPORTED, std::string(audio ? "audio" : "images") +
                                              " need the model's projector: call pocket_model_load_mmproj first");
  }
  return Guard([&] {
    pocket::MediaOptions mo;
    pocket::Result<pocket::MediaEmbedding> e = pocket::Status::Ok();
    const auto* bytes = static_cast<const uint8_t*>(data);
    if (audio) {
      e = path ? pocket::EncodeAudioFile(*m->mmproj, path, mo, s->pool.get())
               : pocket::EncodeAudioBytes(*m->mmproj, bytes, size, "audio data", mo, s->pool.get());
    } else {
      e = path ? pocket::EncodeImageFile(*m->mmproj, path, mo, s->pool.get())
               : pocket::EncodeImageBytes(*m->mmproj, bytes, size, "image data", mo, s->pool.get());
    }
    if (!e.ok()) return FromStatus(e.status());
    s->pending.media.push_back(pocket::MakeMediaItem(audio ? pocket::MediaKind::kAudio : pocket::MediaKind::kImage, std::move(*e)));
    return POCKET_OK;
  });
}

}  // namespace

pocket_status pocket_session_add_image(pocket_session* s, const char* path) {
  if (s == nullptr || path == nullptr) return Fail(POCKET_ERROR_INVALID_ARGUMENT, "pocket_session_add_image: null argument");
  return AddMedia(s, false, path, nullptr, 0);
}

pocket_status pocket_session_add_audio(pocket_session* s, const char* path) {
  if (s == nullptr || path == nullptr) return Fail(POCKET_ERROR_INVALID_ARGUMENT, "pocket_session_add_audio: null argument");
  return AddMedia(s, true, path, nullptr, 0);
}

pocket_status pocket_session_add_image_data(pocket_session* s, const void* data, size_t size) {
  if (s == nullptr || data == nullptr) return Fail(POCKET_ERROR_INVALID_ARGUMENT, "pocket_session_add_image_data: null argument");
  return AddMedia(s, false, nullptr, data, size);
}

pocket_status pocket_session_add_audio_data(pocket_session* s, const void* data, size_t size) {
  if (s == nullptr || data == nullptr) return Fail(POCKET_ERROR_INVALID_ARGUMENT, "pocket_session_add_audio_data: null argument");
  return AddMedia(s, true, nullptr, data, size);
}

void pocket_sampling_params_init(const pocket_model* model, pocket_sampling_params* p) {
  if (p == nullptr) return;
  const pocket::SamplingParams d = model != nullptr ? model->model->default_sampling() : pocket::SamplingParams();
  p->temperature = d.temperature;
  p->top_k = d.top_k;
  p->top_p = d.top_p;
  p->min_p = d.min_p;
  p->repetition_penalty = d.repetition_penalty;
  p->seed = 0;
  p->max_tokens = -1;
}

pocket_status pocket_session_generate(pocket_session* s, const pocket_sampling_params* params, pocket_text_callback callback,
                                      void* user_data) {
  if (s == nullptr) return Fail(POCKET_ERROR_INVALID_ARGUMENT, "pocket_session_generate: null session");
  if (s->pending.text.empty() && s->pending.media.empty()) {
    return Fail(POCKET_ERROR_INVALID_ARGUMENT, "pocket_session_generate: add text, an image or audio to the turn first");
  }
  pocket_sampling_params p;
  pocket_sampling_params_init(s->model, &p);
  if (params != nullptr) p = *params;
  pocket::SamplingParams sp;
  sp.temperature = p.temperature;
  sp.top_k = p.top_k;
  sp.top_p = p.top_p;
  sp.min_p = p.min_p;
  sp.repetition_penalty = p.repetition_penalty;
  sp.seed = p.seed;
  if (pocket::Status st = sp.Validate(); !st.ok()) return FromStatus(st);
  return Guard([&] {
    pocket::Sampler sampler(sp, s->model->model->config().n_vocab);
    pocket::GenerateOptions go;
    go.max_tokens = p.max_tokens;
    auto reply = s->conversation->Send(s->pending, sampler, go, [&](const pocket::StreamingOutputParser::Delta& d) {
      if (callback == nullptr) return true;
      if (!d.reasoning.empty() && !callback(d.reasoning.data(), d.reasoning.size(), 1, user_data)) return false;
      if (!d.content.empty() && !callback(d.content.data(), d.content.size(), 0, user_data)) return false;
      for (const pocket::ParsedToolCall& c : d.tool_calls) {
        const std::string call = "{\"name\":\"" + pocket::JsonWriter::Escape(c.name) + "\",\"arguments\":" + c.arguments_json + "}";
        if (!callback(call.data(), call.size(), 2, user_data)) return false;
      }
      return true;
    });
    if (!reply.ok()) return FromStatus(reply.status());
    s->pending = pocket::UserTurn{};
    s->last = std::move(*reply);
    s->has_last = true;
    if (s->last.generation.finish == pocket::FinishReason::kContextFull) {
      return Fail(POCKET_ERROR_CONTEXT_FULL, "the context is full; reset the session or use a larger n_ctx");
    }
    return POCKET_OK;
  });
}

pocket_status pocket_session_stats(const pocket_session* s, pocket_stats* out) {
  if (s == nullptr || out == nullptr) return Fail(POCKET_ERROR_INVALID_ARGUMENT, "pocket_session_stats: null argument");
  *out = pocket_stats{};
  const pocket::SessionStats& st = s->session->stats();
  out->context_tokens = static_cast<int64_t>(s->session->tokens().size());
  out->load_seconds = s->model->model->load_seconds();
  if (s->has_last) {
    const pocket::GenerateResult& g = s->last.generation;
    out->prompt_tokens = s->last.prompt_tokens;
    out->prefilled_tokens = s->last.prefilled_tokens;
    out->generated_tokens = static_cast<int64_t>(g.tokens.size());
    out->prefill_tokens_per_second = st.prefill_seconds > 0 ? static_cast<double>(st.prefilled_tokens) / st.prefill_seconds : 0;
    const double decode_time = g.decode_seconds - g.ttft_seconds;
    out->decode_tokens_per_second = decode_time > 0 && g.tokens.size() > 1 ? static_cast<double>(g.tokens.size() - 1) / decode_time : 0;
    out->ttft_ms = (st.prefill_seconds + g.ttft_seconds) * 1000;
  }
  return POCKET_OK;
}

}  // extern "C"
