// Writes a random-weight Gemma 4 GGUF of a real (or the tiny) shape: llama.cpp tensor names
// and metadata so llama.cpp loads it too, the synthetic real-size vocabulary, the tensor-type
// mixture of the named file type, streamed to disk row chunk by row chunk (memory stays at a
// few tens of MB whatever the model size). Values are a deterministic function of (seed,
// tensor name, row), so the result does not depend on the thread count.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "base/status.h"
#include "model/config.h"
#include "quant/mixture.h"

namespace pocket {

struct TestModelOptions {
  std::string shape = "tiny";  // see VariantTextConfig
  FileType type = FileType::kF32;
  std::string out_path;
  uint64_t seed = 0;
  int threads = 0;  // 0 = all hardware threads
  // Called as bytes are written (done, total).
  std::function<void(uint64_t, uint64_t)> progress;
};

struct TestModelPlan {
  Gemma4TextConfig config;
  uint64_t file_bytes = 0;
  size_t n_tensors = 0;
};

// Computes what WriteTestModel would write, without writing.
Result<TestModelPlan> PlanTestModel(const TestModelOptions& options);

// Refuses (ResourceExhausted-like InvalidArgument) when the file would not fit the free space
// of the target folder. Writes to `out_path + ".part"` and renames on success.
Result<TestModelPlan> WriteTestModel(const TestModelOptions& options);

// A random-weight multimodal projector (mmproj GGUF, llama.cpp's clip naming) of the real
// shape for `options.shape`: the gemma4v vision tower (+ the gemma4a conformer for E2B/E4B),
// the unified gemma4uv/gemma4ua embedders for 12B, small towers for "tiny". Matrices are F16
// (F32 when options.type is F32, Q8_0 for quantized types); norms, tables and convs F32.
// Written like WriteTestModel (.part + rename, disk check).
Result<TestModelPlan> WriteTestMmproj(const TestModelOptions& options);

}  // namespace pocket
