// Opt-in wall-clock profile of the decoder: set POCKET_PROFILE=1 and each decoder reports on
// stderr, when destroyed, where its time went, per phase and separately for decode steps
// (one token) and prefill chunks. For finding what limits speed on a given machine (thread
// scaling, attention at depth) without an external profiler.
//
// Off (the default) it is never constructed and the decoder pays one null check per phase.
// Not thread-safe: it belongs to one decoder, which is driven from one thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

namespace pocket {

class PhaseProfile {
 public:
  enum Phase : int {
    kEmbed,      // token embedding and per-layer inputs
    kAttention,  // the whole attention block (reported without its core)
    kAttnCore,   // its core: Q·Kᵀ, softmax and P·V over the cache
    kFfn,        // feed-forward block (dense and mixture of experts)
    kPle,        // per-layer embedding block
    kOutput,     // final norm, LM head and soft-capping
    kNumPhases
  };

  // A profile if POCKET_PROFILE is set to something other than "0", else null.
  static std::unique_ptr<PhaseProfile> FromEnvironment();

  void Add(Phase phase, bool decode, double seconds) { stats_[decode].phase[phase] += seconds; }
  void AddForward(bool decode, int64_t tokens, double seconds);
  // The report: per kind of call, time per token of each phase and its share ("other" is
  // what no phase covers). Empty if nothing ran.
  std::string Report() const;

 private:
  struct Stats {
    double phase[kNumPhases] = {};
    double total = 0;
    int64_t calls = 0;
    int64_t tokens = 0;
  };
  Stats stats_[2];  // [0] prefill chunks, [1] decode steps
};

// Adds the time from construction to destruction to `phase` (no-op when profile is null).
class PhaseTimer {
 public:
  PhaseTimer(PhaseProfile* profile, PhaseProfile::Phase phase, bool decode)
      : profile_(profile), phase_(phase), decode_(decode) {
    if (profile_) start_ = std::chrono::steady_clock::now();
  }
  ~PhaseTimer() {
    if (profile_) {
      profile_->Add(
          phase_, decode_,
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count());
    }
  }
  PhaseTimer(const PhaseTimer&) = delete;
  PhaseTimer& operator=(const PhaseTimer&) = delete;

 private:
  PhaseProfile* profile_;
  PhaseProfile::Phase phase_;
  bool decode_;
  std::chrono::steady_clock::time_point start_;
};

}  // namespace pocket
