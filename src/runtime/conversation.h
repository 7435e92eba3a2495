// Conversation: a multi-turn Gemma 4 chat on a Session. Each user turn is rendered with the
// chat template and appended after the tokens the model actually generated, so earlier turns
// stay in the KV cache and are never prefilled again. Replies are parsed into reasoning,
// content and tool calls while they stream.
//
// Changing thinking or the system prompt re-renders the whole history from the messages
// (the Session still reuses the longest unchanged prefix). Borrows the Session; not
// thread-safe.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "chat/chat_template.h"
#include "chat/output_parser.h"
#include "runtime/generate.h"
#include "runtime/prompt.h"
#include "runtime/session.h"

namespace pocket {

struct ConversationOptions {
  std::string system;      // empty: no system turn
  std::string tools_json;  // OpenAI-style tools array, or empty
  bool thinking = false;
};

struct ConversationReply {
  ParsedOutput parsed;
  GenerateResult generation;
  int64_t prompt_tokens = 0;     // context length before generation
  int64_t prefilled_tokens = 0;  // of which computed for this turn
};

// One user turn: its media (images, audio; placed before the text, as Gemma's docs advise)
// and its text.
struct UserTurn {
  std::string text;
  std::vector<MediaItem> media;
};

class Conversation {
 public:
  using DeltaCallback = std::function<bool(const StreamingOutputParser::Delta&)>;

  Conversation(Session& session, ConversationOptions options);

  // Adds a user turn and generates the model's reply. `on_delta` gets the reply as it
  // streams (return false to stop). On error the conversation is unchanged.
  // `prefill_progress` (optional) reports the prompt tokens computed so far.
  Result<ConversationReply> Send(const UserTurn& turn, Sampler& sampler, const GenerateOptions& options,
                                 const DeltaCallback& on_delta = {}, const Session::Progress& prefill_progress = {});
  Result<ConversationReply> Send(const std::string& user_text, Sampler& sampler, const GenerateOptions& options,
                                 const DeltaCallback& on_delta = {}, const Session::Progress& prefill_progress = {}) {
    return Send(UserTurn{user_text, {}}, sampler, options, on_delta, prefill_progress);
  }
  void Reset();
  void set_thinking(bool on);
  void set_system(std::string system);
  bool thinking() const { return options_.thinking; }
  int64_t n_tokens() const { return static_cast<int64_t>(history_.tokens.size()); }

 private:
  Result<Prompt> PromptFor(const UserTurn& turn);
  Result<Prompt> Expand(const std::vector<int32_t>& ids, const std::vector<MediaItem>& media);

  Session& session_;
  ConversationOptions options_;
  std::string messages_json_;    // JSON array of past messages (without the new turn)
  Prompt history_;                // prompt + generated tokens so far
  std::vector<MediaItem> media_;  // every media item of the past turns, in order
  bool rerender_ = true;          // history_ must be rebuilt from messages_json_
};

// The text the template appends to ask the model to answer, e.g. "<|turn>model\n".
Result<std::string> GenerationPrompt(bool thinking);

// Tokenizes a rendered prompt: template pieces with special-token parsing, user text
// without (so typed "<|turn>" stays text). No BOS is added (the template writes <bos>).
std::vector<int32_t> EncodePrompt(const Tokenizer& tok, const std::vector<PromptSegment>& segments);

}  // namespace pocket
