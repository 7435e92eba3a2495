// The text-decoder shapes of the released Gemma 4 variants (spec gemma4-text.md §1.1) and the
// "tiny" smoke-test shape, as Gemma4TextConfig values. Used to *make* files (make-test-model);
// loading never consults this table — behaviour always comes from the file's own config.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "model/config.h"

namespace pocket {

// `shape`: "e2b", "e4b", "12b", "26b-a4b", "31b" or "tiny" (case-insensitive).
Result<Gemma4TextConfig> VariantTextConfig(std::string_view shape);
std::vector<std::string> VariantShapeNames();

}  // namespace pocket
