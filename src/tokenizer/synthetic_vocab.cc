#include "tokenizer/synthetic_vocab.h"

#include <cstdio>

namespace pocket {
namespace {

constexpr int32_t kNormal = 1, kControl = 3, kUserDefined = 4, kByte = 6;
const std::string kSpace = "\xE2\x96\x81";  // ▁, the space marker of the vocabulary

struct Special {
  int32_t id;
  const char* text;
  int32_t type;
};

// Ids and GGUF types of the real vocabulary (spec tokenizer-chat-formats.md §1.4).
constexpr Special kSpecials[] = {
    {0, "<pad>", kControl},           {1, "<eos>", kControl},         {2, "<bos>", kControl},
    {3, "<unk>", kControl},           {4, "<mask>", kControl},        {46, "<|tool>", kControl},
    {47, "<tool|>", kControl},        {48, "<|tool_call>", kUserDefined}, {49, "<tool_call|>", kUserDefined},
    {50, "<|tool_response>", kUserDefined}, {51, "<tool_response|>", kUserDefined},
    {52, "<|\"|>", kUserDefined},     {98, "<|think|>", kControl},    {100, "<|channel>", kUserDefined},
    {101, "<channel|>", kUserDefined}, {105, "<|turn>", kControl},    {106, "<turn|>", kControl},
    {255999, "<|image>", kControl},   {256000, "<|audio>", kControl}, {258880, "<|image|>", kControl},
    {258881, "<|audio|>", kControl},  {258882, "<image|>", kControl}, {258883, "<audio|>", kControl},
    {258884, "<|video|>", kControl},
};

std::string Repeat(const std::string& s, int n) {
  std::string out;
  for (int i = 0; i < n; ++i) out += s;
  return out;
}

}  // namespace

SyntheticVocab MakeSyntheticGemma4Vocab(int64_t n_vocab) {
  SyntheticVocab v;
  const size_t n = static_cast<size_t>(n_vocab);
  v.tokens.assign(n, std::string());
  v.types.assign(n, kNormal);
  std::vector<bool> taken(n, false);
  auto place = [&](int64_t id, std::string text, int32_t type) {
    if (id < 0 || id >= n_vocab) return;
    v.tokens[static_cast<size_t>(id)] = std::move(text);
    v.types[static_cast<size_t>(id)] = type;
    taken[static_cast<size_t>(id)] = true;
  };
  for (const Special& s : kSpecials) place(s.id, s.text, s.type);
  for (int k = 1; k <= 31; ++k) place(106 + k, std::string(static_cast<size_t>(k), '\n'), kNormal);  // 107-137
  for (int k = 2; k <= 31; ++k) place(136 + k, Repeat(kSpace, k), kNormal);                           // 138-167
  place(212, "</s>", kNormal);
  for (int b = 0; b < 256; ++b) {  // 238-493
    char buf[8];
    std::snprintf(buf, sizeof buf, "<0x%02X>", b);
    place(238 + b, buf, kByte);
  }
  place(236743, kSpace, kNormal);

  // Free ids, in order, for the learned-looking pieces and then the placeholders.
  int64_t next = 0;
  auto next_free = [&]() {
    while (next < n_vocab && taken[static_cast<size_t>(next)]) ++next;
    return next;
  };
  for (int c = 33; c < 127; ++c) place(next_free(), std::string(1, static_cast<char>(c)), kNormal);
  // Merges: runs of ▁ and newlines (their pieces exist above), then ▁x and xy for letters.
  for (int k = 2; k <= 31; ++k) {
    v.merges.push_back(Repeat(kSpace, k - 1) + " " + kSpace);
    v.merges.push_back(std::string(static_cast<size_t>(k - 1), '\n') + " \n");
  }
  for (char a = 'a'; a <= 'z'; ++a) {
    place(next_free(), kSpace + a, kNormal);
    v.merges.push_back(kSpace + " " + a);
    place(next_free(), kSpace + static_cast<char>(a - 'a' + 'A'), kNormal);
    v.merges.push_back(kSpace + " " + static_cast<char>(a - 'a' + 'A'));
  }
  for (char a = 'a'; a <= 'z'; ++a) {
    for (char b = 'a'; b <= 'z'; ++b) {
      place(next_free(), std::string{a, b}, kNormal);
      v.merges.push_back(std::string{a} + " " + b);
    }
  }
  for (int64_t id = next_free(); id < n_vocab; id = next_free()) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "[synthetic%lld]", static_cast<long long>(id));
    place(id, buf, kNormal);
  }
  return v;
}

}  // namespace pocket
