// A one-line progress bar on stderr for long work (writing models, loading, long prefills).
// Draws only when stderr is a terminal and at most ~10 times a second; Finish() clears the
// line. Not thread-safe: call from one thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace pocket::cli {

class ProgressBar {
 public:
  // `bytes`: show done/total as sizes (GiB/MiB) instead of plain counts.
  ProgressBar(std::string label, bool bytes);
  ~ProgressBar() { Finish(); }
  void Update(uint64_t done, uint64_t total);
  void Finish();

 private:
  std::string label_;
  bool bytes_;
  bool enabled_;
  bool drawn_ = false;
  std::chrono::steady_clock::time_point last_draw_{};
};

// "1.23 GiB", "45.6 MiB", "789 B".
std::string FormatBytes(uint64_t n);

}  // namespace pocket::cli
