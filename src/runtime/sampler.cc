#include "runtime/sampler.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace pocket {
namespace {

uint64_t SplitMix(uint64_t* s) {
  uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

uint64_t Rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

}  // namespace

Status SamplingParams::Validate() const {
  if (!std::isfinite(temperature) || temperature < 0) return InvalidArgument(StrFormat("temperature must be >= 0, got %g", temperature));
  if (!(top_p > 0 && top_p <= 1)) return InvalidArgument(StrFormat("top_p must be in (0, 1], got %g", top_p));
  if (!(min_p >= 0 && min_p <= 1)) return InvalidArgument(StrFormat("min_p must be in [0, 1], got %g", min_p));
  if (top_k < 0) return InvalidArgument(StrFormat("top_k must be >= 0, got %d", top_k));
  if (!(repetition_penalty > 0) || !std::isfinite(repetition_penalty)) {
    return InvalidArgument(StrFormat("repetition_penalty must be > 0, got %g", repetition_penalty));
  }
  if (!std::isfinite(presence_penalty) || std::fabs(presence_penalty) > 2) {
    return InvalidArgument(StrFormat("presence_penalty must be in [-2, 2], got %g", presence_penalty));
  }
  if (!std::isfinite(frequency_penalty) || std::fabs(frequency_penalty) > 2) {
    return InvalidArgument(StrFormat("frequency_penalty must be in [-2, 2], got %g", frequency_penalty));
  }
  if (penalty_last_n < 0) return InvalidArgument(StrFormat("penalty_last_n must be >= 0, got %d", penalty_last_n));
  return Status::Ok();
}

Sampler::Sampler(const SamplingParams& params, int64_t n_vocab) : p_(params), n_vocab_(n_vocab) {
  candidates_.reserve(static_cast<size_t>(n_vocab));
  counts_.assign(static_cast<size_t>(n_vocab), 0);
  uint64_t s = params.seed;
  for (uint64_t& r : rng_) r = SplitMix(&s);
}

double Sampler::NextUniform() {
  const uint64_t result = Rotl(rng_[1] * 5, 7) * 9;
  const uint64_t t = rng_[1] << 17;
  rng_[2] ^= rng_[0];
  rng_[3] ^= rng_[1];
  rng_[1] ^= rng_[2];
  rng_[0] ^= rng_[3];
  rng_[2] ^= t;
  rng_[3] = Rotl(rng_[3], 45);
  return static_cast<double>(result >> 11) * (1.0 / 9007199254740992.0);
}

void Sampler::Accept(int32_t token) {
  if (filter_ != nullptr) filter_->Accept(token);
  if (token < 0 || token >= n_vocab_ || p_.penalty_last_n == 0) return;
  recent_.push_back(token);
  ++counts_[static_cast<size_t>(token)];
  if (static_cast<int>(recent_.size()) > p_.penalty_last_n) {
    --counts_[static_cast<size_t>(recent_.front())];
    recent_.pop_front();
  }
}

void Sampler::ApplyPenalties(float* logits) {
  const bool any = p_.repetition_penalty != 1.0f || p_.presence_penalty != 0.0f || p_.frequency_penalty != 0.0f;
  if (!any) return;
  // Each distinct token is penalised once: its count is negated while visited, then restored.
  for (int32_t t : recent_) {
    int32_t& c = counts_[static_cast<size_t>(t)];
    if (c <= 0) continue;
    float& l = logits[t];
    if (p_.repetition_penalty != 1.0f) l = l > 0 ? l / p_.repetition_penalty : l * p_.repetition_penalty;
    l -= p_.presence_penalty + p_.frequency_penalty * static_cast<float>(c);
    c = -c;
  }
  for (int32_t t : recent_) {
    int32_t& c = counts_[static_cast<size_t>(t)];
    if (c < 0) c = -c;
  }
}

int32_t Sampler::Sample(float* logits) {
  if (filter_ != nullptr) filter_->Apply(logits, n_vocab_);
  ApplyPenalties(logits);
  if (p_.temperature <= 0.0f) {
    return static_cast<int32_t>(std::max_element(logits, logits + n_vocab_) - logits);
  }
  // Candidates: finite logits, scaled by the temperature.
  candidates_.clear();
  const float inv_t = 1.0f / p_.temperature;
  for (int64_t i = 0; i < n_vocab_; ++i) {
    if (logits[i] > -std::numeric_limits<float>::infinity()) {
      candidates_.emplace_back(logits[i] * inv_t, static_cast<int32_t>(i));
    }
  }
  if (candidates_.empty()) return 0;
  auto by_logit = [](const std::pair<float, int32_t>& a, const std::pair<float, int32_t>& b) {
    return a.first > b.first || (a.first == b.first && a.second < b.second);
  };
  size_t n = candidates_.size();
  if (p_.top_k > 0 && static_cast<size_t>(p_.top_k) < n) {
    std::partial_sort(candidates_.begin(), candidates_.begin() + p_.top_k, candidates_.end(), by_logit);
    n = static_cast<size_t>(p_.top_k);
  } else {
    std::sort(candidates_.begin(), candidates_.end(), by_logit);
  }
  // Softmax over the kept candidates (sorted, so the max is first).
  const float max_logit = candidates_[0].first;
  double sum = 0;
  for (size_t i = 0; i < n; ++i) {
    candidates_[i].first = std::exp(candidates_[i].first - max_logit);
    sum += candidates_[i].first;
  }
  // Top-p: the smallest prefix whose mass reaches top_p (at least one token).
  if (p_.top_p < 1.0f) {
    double cum = 0;
    size_t keep = n;
    for (size_t i = 0; i < n; ++i) {
      cum += candidates_[i].first / sum;
      if (cum >= p_.top_p) {
        keep = i + 1;
        break;
      }
    }
    n = keep;
  }
  // Min-p: drop tokens below min_p times the most likely one.
  if (p_.min_p > 0.0f) {
    const float floor = p_.min_p * candidates_[0].first;
    size_t keep = 1;
    while (keep < n && candidates_[keep].first >= floor) ++keep;
    n = keep;
  }
  double mass = 0;
  for (size_t i = 0; i < n; ++i) mass += candidates_[i].first;
  const double r = NextUniform() * mass;
  double cum = 0;
  for (size_t i = 0; i < n; ++i) {
    cum += candidates_[i].first;
    if (r < cum) return candidates_[i].second;
  }
  return candidates_[n - 1].second;
}

}  // namespace pocket
