// Model: everything loaded from one model path that generation needs — the mapped weights,
// the text config, the bound weight views, the tokenizer, the default sampling parameters
// (generation_config.json or GGUF `general.sampling.*`, else Gemma 4's 1.0 / 64 / 0.95).
//
// Immutable after Load and shared by every Session on it (sessions only read it). Owns the
// mapping; the views into it live as long as the Model. Cost: mmap plus a tokenizer build
// (~50 ms for the 262k vocabulary); weights are paged in lazily by the OS.
#pragma once

#include <memory>
#include <string>

#include "base/status.h"
#include "formats/weight_source.h"
#include "kernels/packed.h"
#include "model/config.h"
#include "model/weights.h"
#include "runtime/sampler.h"
#include "tokenizer/tokenizer.h"

namespace pocket {

class Model {
 public:
  static Result<std::unique_ptr<Model>> Load(const std::string& path);

  const std::string& path() const { return path_; }
  const WeightSource& source() const { return *ws_; }
  const Gemma4TextConfig& config() const { return config_; }
  const Gemma4Weights& weights() const { return weights_; }
  const Tokenizer& tokenizer() const { return *tokenizer_; }
  const SamplingParams& default_sampling() const { return default_sampling_; }
  double load_seconds() const { return load_seconds_; }
  // The matrices repacked for the kernels at load (shared by every session).
  const kernels::PackedWeights* packed() const { return packed_.get(); }

 private:
  Model() = default;
  std::string path_;
  std::unique_ptr<WeightSource> ws_;
  Gemma4TextConfig config_;
  Gemma4Weights weights_;
  std::unique_ptr<Tokenizer> tokenizer_;
  SamplingParams default_sampling_;
  double load_seconds_ = 0;
  std::unique_ptr<kernels::PackedWeights> packed_;
};

}  // namespace pocket
