// A synthetic Gemma 4 vocabulary for test models: the real size (262,144 entries) with the 24
// real special tokens, newline/space runs, byte tokens and `▁` at their real ids, plus
// single-character and two-letter pieces with merges so ordinary text tokenizes into a
// handful of ids. The remaining ids are unique placeholder pieces that BPE never produces.
// Deterministic; costs ~30 ms and ~10 MB.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace pocket {

struct SyntheticVocab {
  std::vector<std::string> tokens;  // piece text per id
  std::vector<int32_t> types;       // GGUF token types: 1 normal, 3 control, 4 user-defined, 6 byte
  std::vector<std::string> merges;  // "left right", highest priority first
};

// `n_vocab` >= 262,144 keeps every real id; smaller sizes are refused by the caller.
SyntheticVocab MakeSyntheticGemma4Vocab(int64_t n_vocab = 262144);

}  // namespace pocket
