#include "runtime/profile.h"

#include <cstdlib>
#include <cstring>

#include "base/status.h"

namespace pocket {

std::unique_ptr<PhaseProfile> PhaseProfile::FromEnvironment() {
  const char* v = std::getenv("POCKET_PROFILE");
  if (v == nullptr || *v == '\0' || std::strcmp(v, "0") == 0) return nullptr;
  return std::make_unique<PhaseProfile>();
}

void PhaseProfile::AddForward(bool decode, int64_t tokens, double seconds) {
  Stats& s = stats_[decode];
  s.total += seconds;
  s.calls += 1;
  s.tokens += tokens;
}

std::string PhaseProfile::Report() const {
  static const char* kNames[kNumPhases] = {
      "embedding + per-layer inputs", "attention: norms, projections, RoPE",
      "attention: QK^T, softmax, PV", "feed-forward",
      "per-layer embedding block",    "final norm, LM head, softcap"};
  std::string out;
  for (int decode = 1; decode >= 0; --decode) {
    const Stats& s = stats_[decode];
    if (s.tokens == 0 || s.total <= 0) continue;
    out += StrFormat("pocket profile: %s, %lld calls, %lld tokens, %.3f ms per token\n",
                     decode ? "decode" : "prefill", (long long)s.calls, (long long)s.tokens,
                     1e3 * s.total / static_cast<double>(s.tokens));
    double covered = 0;
    auto line = [&](const char* name, double sec) {
      out += StrFormat("  %-38s %9.3f ms/token %6.1f%%\n", name,
                       1e3 * sec / static_cast<double>(s.tokens), 100.0 * sec / s.total);
    };
    for (int p = 0; p < kNumPhases; ++p) {
      // The attention block's timer includes its core, which has its own line.
      const double sec = s.phase[p] - (p == kAttention ? s.phase[kAttnCore] : 0.0);
      line(kNames[p], sec);
      covered += sec;
    }
    line("other (RoPE tables, layer scales, ...)", s.total - covered);
  }
  return out;
}

}  // namespace pocket
