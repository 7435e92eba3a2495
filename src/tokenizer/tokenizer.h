// Tokenizer: Gemma 4's BPE with byte fallback (spec tokenizer-chat-formats.md §1), loaded
// from GGUF metadata (tokenizer.ggml.*) or an HF tokenizer.json (+ tokenizer_config.json).
//
// Encoding: special-token partition (longest text first), space -> '▁', newline-run split,
// then BPE with a priority queue keyed by (merge rank, position) over a linked list of
// symbols: O(n log n) per run, no rescans. Symbols that are not in the vocabulary fall back
// to <0xHH> byte tokens. Decoding renders NORMAL pieces with '▁' -> ' ', BYTE tokens as
// their raw byte, USER_DEFINED tokens as their text and CONTROL tokens as nothing (or their
// text when asked).
//
// Special-token ids are found by their text at load. Immutable after Load; Encode/Decode
// are const and thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "base/status.h"

namespace pocket {

class Metadata;

enum class TokenType : uint8_t {
  kNormal = 1,
  kUnknown = 2,
  kControl = 3,
  kUserDefined = 4,
  kUnused = 5,
  kByte = 6
};

class Tokenizer {
 public:
  // From a .gguf (full model or vocab-only), an HF folder with tokenizer.json, or a
  // tokenizer.json path.
  static Result<std::unique_ptr<Tokenizer>> Load(const std::string& path);
  static Result<std::unique_ptr<Tokenizer>> FromGgufMetadata(const Metadata& md,
                                                             const std::string& name);
  static Result<std::unique_ptr<Tokenizer>> FromTokenizerJson(const std::string& json_text,
                                                              const std::string& name);

  struct EncodeOptions {
    bool add_bos = true;
    // Match special-token text in the input. Off: no special text is ever matched, so user
    // text cannot inject control tokens (Hugging Face semantics).
    bool parse_special = false;
  };
  std::vector<int32_t> Encode(std::string_view text, const EncodeOptions& options) const;

  // Concatenated pieces (lossless: no space clean-up). `special`: CONTROL tokens render as
  // their text. Ids out of range render as nothing.
  std::string Decode(const std::vector<int32_t>& ids, bool special = false) const;
  // The bytes one token contributes to the output (may be part of a UTF-8 sequence).
  const std::string& Piece(int32_t id, bool special = false) const;
  // The vocabulary entry's own text ("▁the", "<0x0A>", "<|turn>").
  const std::string& Text(int32_t id) const { return texts_[static_cast<size_t>(id)]; }
  TokenType Type(int32_t id) const { return types_[static_cast<size_t>(id)]; }

  int32_t n_vocab() const { return static_cast<int32_t>(texts_.size()); }
  // Id of a token by its exact text, or -1.
  int32_t Find(std::string_view text) const;
  int32_t bos() const { return bos_; }
  int32_t eos() const { return eos_; }
  int32_t pad() const { return pad_; }
  // End-of-generation tokens: <eos>, <turn|>, <|tool_response>, found by text.
  const std::vector<int32_t>& eog_ids() const { return eog_; }
  bool IsEog(int32_t id) const;
  size_t n_merges() const { return n_merges_; }

 private:
  Tokenizer() = default;
  Status Build(std::vector<std::string> texts, std::vector<TokenType> types,
               const std::vector<std::pair<std::string, std::string>>& merges);
  void EncodeRun(std::string_view run, std::vector<int32_t>* out) const;
  void EncodeRaw(std::string_view fragment, std::vector<int32_t>* out) const;
  int32_t SymbolId(std::string_view s) const;

  std::vector<std::string> texts_;
  std::vector<TokenType> types_;
  std::vector<std::string> pieces_;                            // decoded bytes (CONTROL: empty)
  std::vector<std::string> special_pieces_;                    // with CONTROL text
  std::unordered_map<std::string_view, int32_t> ids_;          // vocabulary + merge-only strings
  std::vector<std::unique_ptr<std::string>> virtual_strings_;  // merge parts not in the vocab
  int32_t ascii_ids_[128];
  int32_t byte_ids_[256];
  // Open-addressing hash map from a 64-bit key to a 64-bit value: the BPE inner loop does one
  // lookup per candidate pair, and node-based maps dominated its profile.
  class FlatMap {
   public:
    void Reserve(size_t n);
    // Inserts if absent; returns false if the key was present.
    bool Insert(uint64_t key, uint64_t value);
    const uint64_t* Find(uint64_t key) const;

   private:
    static constexpr uint64_t kEmpty = ~0ull;
    size_t Slot(uint64_t key) const {
      return static_cast<size_t>((key * 0x9E3779B97F4A7C15ull) >> shift_);
    }
    std::vector<uint64_t> keys_, values_;
    int shift_ = 64;
    size_t size_ = 0;
  };
  FlatMap merges_;  // (left id << 32 | right id) -> (rank << 32 | result id)
  FlatMap chars_;   // one UTF-8 character (bytes packed little-endian) -> id
  size_t n_merges_ = 0;
  std::vector<int32_t> specials_;  // CONTROL/USER_DEFINED/UNKNOWN ids, longest text first
  std::vector<int32_t> eog_;
  int32_t bos_ = -1, eos_ = -1, pad_ = -1;
};

// The byte a byte-fallback token's text ("<0x0A>") stands for, or -1 if the text is not one.
int ParseByteToken(std::string_view text);

}  // namespace pocket
