#include "runtime/conversation.h"

#include "base/json_writer.h"
#include "chat/chat_template.h"

namespace pocket {
namespace {

constexpr int32_t kEndOfTurn = 106;  // <turn|>

std::string MessageJson(const std::string& role, const std::string& content) {
  JsonWriter w(false);
  w.BeginObject().Key("role").String(role).Key("content").String(content).EndObject();
  return w.str();
}

// A user message whose content lists the media parts, then the text part.
std::string UserMessageJson(const UserTurn& turn) {
  if (turn.media.empty()) return MessageJson("user", turn.text);
  JsonWriter w(false);
  w.BeginObject().Key("role").String("user").Key("content").BeginArray();
  for (const MediaItem& m : turn.media) {
    w.BeginObject().Key("type").String(m.kind == MediaKind::kImage ? "image" : "audio").EndObject();
  }
  if (!turn.text.empty()) w.BeginObject().Key("type").String("text").Key("text").String(turn.text).EndObject();
  w.EndArray().EndObject();
  return w.str();
}

// Builds strings with append(): g++ 12 warns falsely (-Wrestrict) on operator+ chains here.
std::string AppendToArray(const std::string& array, const std::string& item) {
  std::string out = array.empty() ? std::string("[") : array.substr(0, array.size() - 1);
  if (out.size() > 1) out.push_back(',');
  out.append(item);
  out.push_back(']');
  return out;
}

}  // namespace

Result<std::string> GenerationPrompt(bool thinking) {
  const std::string msgs = AppendToArray("", MessageJson("user", "x"));
  ChatRenderOptions with, without;
  with.enable_thinking = without.enable_thinking = thinking;
  without.add_generation_prompt = false;
  ASSIGN_OR_RETURN(std::string a, RenderChat(msgs, "", with));
  ASSIGN_OR_RETURN(std::string b, RenderChat(msgs, "", without));
  if (a.compare(0, b.size(), b) != 0) return Internal("generation prompt is not a suffix of the rendered chat");
  return a.substr(b.size());
}

std::vector<int32_t> EncodePrompt(const Tokenizer& tok, const std::vector<PromptSegment>& segments) {
  std::vector<int32_t> ids;
  for (const PromptSegment& s : segments) {
    Tokenizer::EncodeOptions enc;
    enc.add_bos = false;
    enc.parse_special = !s.user_text;
    const std::vector<int32_t> part = tok.Encode(s.text, enc);
    ids.insert(ids.end(), part.begin(), part.end());
  }
  return ids;
}

Conversation::Conversation(Session& session, ConversationOptions options)
    : session_(session), options_(std::move(options)) {}

void Conversation::Reset() {
  messages_json_.clear();
  history_ = Prompt{};
  media_.clear();
  rerender_ = true;
}

void Conversation::set_thinking(bool on) {
  if (on != options_.thinking) rerender_ = true;
  options_.thinking = on;
}

void Conversation::set_system(std::string system) {
  if (system != options_.system) rerender_ = true;
  options_.system = std::move(system);
}

Result<Prompt> Conversation::Expand(const std::vector<int32_t>& ids, const std::vector<MediaItem>& media) {
  if (media.empty()) {
    Prompt p;
    p.tokens = ids;
    return p;
  }
  ASSIGN_OR_RETURN(MediaTokenIds t, MediaTokenIds::From(session_.model().tokenizer()));
  return ExpandMedia(ids, media, t, session_.model().config().image_bidirectional);
}

Result<Prompt> Conversation::PromptFor(const UserTurn& turn) {
  const Tokenizer& tok = session_.model().tokenizer();
  const std::string user = UserMessageJson(turn);
  if (rerender_ || history_.tokens.empty()) {
    // Whole conversation: system turn, past messages, the new user turn, generation prompt.
    std::string msgs;
    if (!options_.system.empty()) msgs = AppendToArray(msgs, MessageJson("system", options_.system));
    if (!messages_json_.empty()) {  // splice the stored array's items in
      if (msgs.empty()) {
        msgs = messages_json_;
      } else {
        msgs.pop_back();
        msgs.push_back(',');
        msgs.append(messages_json_, 1, std::string::npos);
      }
    }
    msgs = AppendToArray(msgs, user);
    ChatRenderOptions ro;
    ro.enable_thinking = options_.thinking;
    ASSIGN_OR_RETURN(std::vector<PromptSegment> segments, RenderChatSegments(msgs, options_.tools_json, ro));
    std::vector<MediaItem> all = media_;
    all.insert(all.end(), turn.media.begin(), turn.media.end());
    return Expand(EncodePrompt(tok, segments), all);
  }
  // Continuation: close the model's turn if generation did not, then the new user turn.
  Prompt prompt = history_;
  const char* close_turn = history_.tokens.back() == kEndOfTurn ? "\n" : "<turn|>\n";
  ChatRenderOptions ro;
  ro.add_generation_prompt = false;
  ro.bos_text = "";
  ASSIGN_OR_RETURN(std::vector<PromptSegment> segs, RenderChatSegments(AppendToArray("", user), "", ro));
  ASSIGN_OR_RETURN(std::string gen, GenerationPrompt(options_.thinking));
  segs.insert(segs.begin(), PromptSegment{close_turn, false});
  segs.push_back(PromptSegment{gen, false});
  ASSIGN_OR_RETURN(Prompt more, Expand(EncodePrompt(tok, segs), turn.media));
  AppendPrompt(&prompt, more);
  return prompt;
}

Result<ConversationReply> Conversation::Send(const UserTurn& turn, Sampler& sampler,
                                             const GenerateOptions& options, const DeltaCallback& on_delta,
                                             const Session::Progress& prefill_progress) {
  ASSIGN_OR_RETURN(Prompt prompt, PromptFor(turn));
  RETURN_IF_ERROR(session_.Prefill(prompt, prefill_progress, options.cancel));
  for (int32_t id : prompt.tokens) sampler.Accept(id);
  ConversationReply reply;
  reply.prompt_tokens = static_cast<int64_t>(prompt.tokens.size());
  reply.prefilled_tokens = session_.stats().prefilled_tokens;
  StreamingOutputParser parser(/*started_in_reasoning=*/false);
  bool keep_going = true;
  auto on_text = [&](std::string_view piece) {
    StreamingOutputParser::Delta d = parser.Push(piece);
    if (on_delta && (!d.reasoning.empty() || !d.content.empty() || !d.tool_calls.empty())) keep_going = on_delta(d);
    return keep_going;
  };
  ASSIGN_OR_RETURN(reply.generation, Generate(session_, sampler, options, on_text));
  StreamingOutputParser::Delta last = parser.Finish();
  if (on_delta && (!last.reasoning.empty() || !last.content.empty() || !last.tool_calls.empty())) on_delta(last);
  reply.parsed = ParseModelOutput(reply.generation.text, false);
  // The context now holds the prompt and every generated token but the final one.
  history_ = std::move(prompt);
  history_.tokens.insert(history_.tokens.end(), reply.generation.tokens.begin(), reply.generation.tokens.end());
  media_.insert(media_.end(), turn.media.begin(), turn.media.end());
  messages_json_ = AppendToArray(messages_json_, UserMessageJson(turn));
  messages_json_ = AppendToArray(messages_json_, MessageJson("assistant", reply.parsed.content));
  rerender_ = false;
  return reply;
}

}  // namespace pocket
