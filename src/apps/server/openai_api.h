// The OpenAI-compatible wire format: parsing and validating request bodies of
// /v1/chat/completions and /v1/completions, and building responses, stream chunks and errors.
// Only this file and openai_api.cc know JSON field names; the server only moves bytes.
//
// Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "chat/output_parser.h"
#include "runtime/generate.h"
#include "runtime/json_schema.h"
#include "runtime/sampler.h"

namespace pocket::server {

// An error answer: HTTP status and OpenAI's {"error": {message, type, code}}.
struct ApiError {
  int status = 400;
  std::string type = "invalid_request_error";
  std::string code;
  std::string message;
};
std::string ErrorJson(const ApiError& e);

struct Limits {
  int64_t max_tokens = 4096;   // per request (also the default when the request gives none)
  size_t max_messages = 1024;
  size_t max_stop = 4;
  size_t max_images = 8;       // image_url parts per request
  size_t max_audio = 4;        // input_audio parts per request
  bool allow_remote_media = false;  // http(s) image URLs (else only data: URLs)
};

// One image or audio part of a request, in prompt order: the decoded bytes of a data: URL or
// of input_audio, or a remote URL to fetch (only when allowed).
struct MediaPart {
  bool audio = false;
  std::string bytes;
  std::string url;
  std::string what;  // "messages[1].content[0]" for errors
};

struct ChatRequest {
  std::string messages_json;  // validated array, re-serialized (media payloads dropped)
  std::vector<MediaPart> media;
  std::string tools_json;     // "" when none
  bool stream = false;
  bool include_usage = false;
  bool thinking = false;
  bool tools_enabled = true;  // tool_choice != "none"
  SamplingParams sampling;
  bool seed_given = false;
  int64_t max_tokens = 0;
  std::vector<std::string> stop;
  bool json_object = false;     // response_format json_object: output is one JSON object
  std::shared_ptr<const CompiledSchema> schema;  // response_format json_schema
  bool raw_completion = false;  // /v1/completions: `prompt` is used as is
  std::string prompt;           // raw completion prompt
};

// Parses a request body. `defaults` are the model's sampling defaults; `model_id` the only
// model name accepted (an absent "model" is fine).
// Standard base64 (whitespace ignored, padding optional). False on any other character.
bool DecodeBase64(const std::string& in, std::string* out);

bool ParseChatRequest(const std::string& body, const SamplingParams& defaults, const std::string& model_id,
                      const Limits& limits, ChatRequest* out, ApiError* error);
bool ParseCompletionRequest(const std::string& body, const SamplingParams& defaults, const std::string& model_id,
                            const Limits& limits, ChatRequest* out, ApiError* error);

struct Usage {
  int64_t prompt_tokens = 0;
  int64_t completion_tokens = 0;
};

// "stop", "length" or "tool_calls".
std::string FinishReasonFor(FinishReason r, bool has_tool_calls);

std::string ChatCompletionJson(const std::string& id, int64_t created, const std::string& model,
                               const ParsedOutput& out, const std::string& finish_reason, const Usage& usage);
std::string TextCompletionJson(const std::string& id, int64_t created, const std::string& model,
                               const std::string& text, const std::string& finish_reason, const Usage& usage);
// One SSE event "data: {...}\n\n" of a chat stream. `first` adds the assistant role;
// `finish_reason` non-empty ends the choice.
std::string ChatChunkEvent(const std::string& id, int64_t created, const std::string& model, bool first,
                           const StreamingOutputParser::Delta& delta, size_t tool_call_index,
                           const std::string& finish_reason);
std::string UsageChunkEvent(const std::string& id, int64_t created, const std::string& model, const Usage& usage);
std::string TextChunkEvent(const std::string& id, int64_t created, const std::string& model, const std::string& text,
                           const std::string& finish_reason);
std::string ModelsJson(const std::string& model_id, int64_t created);

}  // namespace pocket::server
