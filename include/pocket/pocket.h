/* pocket C API: load a Gemma 4 model, hold a conversation, stream answers.
 *
 * Plain C (C99), no C++ types across the boundary. Every function returns a pocket_status;
 * on failure pocket_last_error() gives a message naming the problem (thread-local, valid
 * until the next call on the same thread).
 *
 * Threading: a pocket_model is immutable once loaded and may be shared by sessions on any
 * threads; a pocket_session must be used by one thread at a time. Free sessions before their
 * model.
 *
 *   pocket_model* m; pocket_session* s;
 *   if (pocket_model_load("gemma-4-E2B-it-Q4_K_M.gguf", &m) != POCKET_OK) puts(pocket_last_error());
 *   pocket_session_create(m, NULL, &s);
 *   pocket_session_add_text(s, "Why is the sky blue?");
 *   pocket_session_generate(s, NULL, on_text, NULL);   // streams the answer; the turn is kept
 *   pocket_session_free(s); pocket_model_free(m);
 */
#ifndef POCKET_POCKET_H_
#define POCKET_POCKET_H_

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum pocket_status {
  POCKET_OK = 0,
  POCKET_ERROR_INVALID_ARGUMENT = 1, /* bad parameter or input */
  POCKET_ERROR_IO = 2,               /* file missing or unreadable */
  POCKET_ERROR_UNSUPPORTED = 3,      /* valid but not possible here (e.g. images without a projector) */
  POCKET_ERROR_CONTEXT_FULL = 4,     /* the conversation no longer fits the context */
  POCKET_ERROR_CANCELLED = 5,        /* the callback asked to stop */
  POCKET_ERROR_INTERNAL = 6
} pocket_status;

typedef struct pocket_model pocket_model;
typedef struct pocket_session pocket_session;

const char* pocket_last_error(void);
const char* pocket_version(void);

pocket_status pocket_model_load(const char* path, pocket_model** out);
void pocket_model_free(pocket_model* model);
/* Attaches the model's vision/audio projector (an mmproj .gguf or an HF folder); needed for
 * images and audio unless the model is an HF checkpoint that carries its own. */
pocket_status pocket_model_load_mmproj(pocket_model* model, const char* path);

typedef struct pocket_session_params {
  int32_t n_ctx;             /* context size in tokens (default 4096) */
  int32_t n_threads;         /* 0 = all cores */
  int32_t thinking;          /* 1: the model reasons before answering */
  const char* system_prompt; /* NULL: none; copied */
} pocket_session_params;

void pocket_session_params_init(pocket_session_params* params);
pocket_status pocket_session_create(pocket_model* model, const pocket_session_params* params, pocket_session** out);
void pocket_session_free(pocket_session* session);
/* Forgets the conversation. */
pocket_status pocket_session_reset(pocket_session* session);

/* Adds content to the next user turn (sent by pocket_session_generate). */
pocket_status pocket_session_add_text(pocket_session* session, const char* text);
/* Images (JPEG, PNG, WebP, BMP, GIF) and audio (WAV, FLAC, OGG, MP3) are decoded and encoded
 * now (this takes a while) and go before the turn's text. From a file or from memory. */
pocket_status pocket_session_add_image(pocket_session* session, const char* path);
pocket_status pocket_session_add_audio(pocket_session* session, const char* path);
pocket_status pocket_session_add_image_data(pocket_session* session, const void* data, size_t size);
pocket_status pocket_session_add_audio_data(pocket_session* session, const void* data, size_t size);

typedef struct pocket_sampling_params {
  float temperature; /* 0 = greedy */
  int32_t top_k;     /* 0 = off */
  float top_p;       /* 1 = off */
  float min_p;       /* 0 = off */
  float repetition_penalty;
  uint64_t seed;
  int32_t max_tokens; /* < 0: until the model ends its turn or the context is full */
} pocket_sampling_params;

/* The model's defaults (Gemma 4: temperature 1.0, top-k 64, top-p 0.95), seed 0, no limit. */
void pocket_sampling_params_init(const pocket_model* model, pocket_sampling_params* params);

/* Receives the answer as it is generated: `kind` 0 = answer text, 1 = reasoning, 2 = a tool
 * call as a JSON object {"name", "arguments"}. Return 0 to stop generating. */
typedef int (*pocket_text_callback)(const char* text, size_t length, int kind, void* user_data);

/* Sends the pending user turn and streams the answer. `params` NULL: the model's defaults. */
pocket_status pocket_session_generate(pocket_session* session, const pocket_sampling_params* params,
                                      pocket_text_callback callback, void* user_data);

typedef struct pocket_stats {
  int64_t context_tokens;    /* tokens in the conversation */
  int64_t prompt_tokens;     /* last turn: prompt length */
  int64_t prefilled_tokens;  /* last turn: of which computed (the rest came from the cache) */
  int64_t generated_tokens;  /* last turn */
  double prefill_tokens_per_second;
  double decode_tokens_per_second;
  double ttft_ms;
  double load_seconds;
} pocket_stats;

pocket_status pocket_session_stats(const pocket_session* session, pocket_stats* out);

#ifdef __cplusplus
}
#endif

#endif /* POCKET_POCKET_H_ */
