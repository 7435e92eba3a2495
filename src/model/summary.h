// What a model file is: architecture, the Gemma 4 variant its shape matches, the mechanisms it
// uses, and its main hyper-parameters, for `pocket inspect` and load-time logging. Works for
// text models, mmproj projectors and HF folders alike. Cheap: reads metadata and tensor
// headers only.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "formats/weight_source.h"

namespace pocket {

struct ModelSummary {
  std::string architecture;            // "gemma4", "clip", ...
  std::string variant;                 // "E2B", "E4B", "12B", "26B-A4B", "31B" or "custom"
  std::string shape;                   // compact shape string ("L=8 H=64 heads=4 ...")
  std::vector<std::string> features;   // "ple", "kv_shared", "moe", "k_eq_v", "double_wide_mlp",
                                       // "vision", "audio", "unified_vision", "unified_audio"
  std::vector<std::pair<std::string, std::string>> hparams;  // display order
  std::string config_error;            // set when a decoder is present but its config is invalid
  // Tokenizer summary.
  std::string tokenizer;               // "gemma4 BPE, 262144 tokens, 514906 merges" or ""
};

ModelSummary Summarize(const WeightSource& ws);

}  // namespace pocket
