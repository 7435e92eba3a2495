// Sampler: picks the next token from a row of logits. Greedy when temperature <= 0; else the
// Hugging Face order (the reference): penalties -> temperature -> top-k -> top-p -> min-p ->
// draw. Penalties look at the last `penalty_last_n` accepted tokens: repetition (CTRL-style
// divide/multiply), presence and frequency (OpenAI-style subtraction). A seeded xoshiro256**
// generator makes runs reproducible on every platform. An optional TokenFilter (constrained
// output) masks tokens before sampling.
//
// Owns its scratch (sized n_vocab at construction); Sample() does not allocate. One Sampler
// per generation stream; not thread-safe.
#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <vector>

#include "base/status.h"

namespace pocket {

struct SamplingParams {
  float temperature = 1.0f;  // <= 0: greedy
  int top_k = 64;            // <= 0: off
  float top_p = 0.95f;       // >= 1: off
  float min_p = 0.0f;        // <= 0: off
  float repetition_penalty = 1.0f;  // 1: off
  float presence_penalty = 0.0f;
  float frequency_penalty = 0.0f;
  int penalty_last_n = 64;
  uint64_t seed = 0;

  // The first bad value, e.g. "top_p must be in (0, 1], got 1.5".
  Status Validate() const;
};

// Restricts which tokens may come next (JSON mode, grammars). Called with the logits row;
// sets disallowed entries to -infinity.
class TokenFilter {
 public:
  virtual ~TokenFilter() = default;
  virtual void Apply(float* logits, int64_t n_vocab) = 0;
  virtual void Accept(int32_t token) = 0;
};

class Sampler {
 public:
  Sampler(const SamplingParams& params, int64_t n_vocab);

  // Chooses a token from `logits` ([n_vocab], modified in place). Does not record it.
  int32_t Sample(float* logits);
  // Records a token (sampled, or forced by the prompt) for the penalties and the filter.
  void Accept(int32_t token);
  void set_filter(TokenFilter* filter) { filter_ = filter; }
  const SamplingParams& params() const { return p_; }

 private:
  void ApplyPenalties(float* logits);
  double NextUniform();  // [0, 1)

  SamplingParams p_;
  int64_t n_vocab_;
  TokenFilter* filter_ = nullptr;
  std::deque<int32_t> recent_;
  std::vector<std::pair<float, int32_t>> candidates_;
  std::vector<int32_t> counts_;  // occurrences of each token in recent_
  uint64_t rng_[4];
};

}  // namespace pocket
