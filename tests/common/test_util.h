// Helpers shared by the tests: locating ../shared/golden, reading fixture files, running the
// pocket binary.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace pocket::testing {

// The golden data folder: $POCKET_GOLDEN_DIR, else <repo>/../shared/golden. Empty if absent.
std::string GoldenDir();

// Skips the current test when the golden data is absent — unless POCKET_REQUIRE_GOLDEN=1,
// where a missing folder is a failure (CI sets it).
#define POCKET_REQUIRE_GOLDEN_OR_SKIP()                                                     \
  do {                                                                                      \
    if (::pocket::testing::GoldenDir().empty()) {                                           \
      if (::pocket::testing::GoldenRequired()) {                                            \
        FAIL() << "golden data not found (POCKET_REQUIRE_GOLDEN=1): set POCKET_GOLDEN_DIR"; \
      }                                                                                     \
      GTEST_SKIP() << "golden data not found at ../shared/golden; set POCKET_GOLDEN_DIR";   \
    }                                                                                       \
  } while (0)

bool GoldenRequired();

std::string ReadFile(const std::string& path);
std::vector<float> ReadF32(const std::string& path);
// The non-empty lines of a text file (JSON Lines fixtures).
std::vector<std::string> ReadLines(const std::string& path);
void WriteFile(const std::string& path, const std::string& bytes);

// The golden sets under GoldenDir()/<kind> ("vision", "audio"): every folder holding an
// mmproj.gguf, sorted, so sets added later (hidden ones) are picked up.
std::vector<std::string> GoldenSets(const std::string& kind);

// Row-wise closeness of two [rows, width] float arrays (want.size() decides the rows).
struct Closeness {
  double max_abs = 0, mean_abs = 0, min_cos = 1;
};
Closeness CompareRows(const std::vector<float>& got, const std::vector<float>& want, size_t width);

// A fresh temporary directory under $TMPDIR (else /tmp), removed with its contents when the
// test process exits.
std::string TempDir();

// The tiny random-weight model (make-test-model --shape tiny --type Q8_0), written once per
// test binary into a temporary folder.
const std::string& TinyModelPath();

struct CommandResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};
// Runs the pocket CLI with the given arguments (no shell).
CommandResult RunPocket(const std::vector<std::string>& args);
// Same, with `input` on stdin.
CommandResult RunPocketWithInput(const std::vector<std::string>& args, const std::string& input);

}  // namespace pocket::testing
