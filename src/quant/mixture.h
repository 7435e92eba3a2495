// Which tensor type each tensor of a Gemma 4 GGUF gets for a named file type ("Q4_K_M",
// "Q8_0", ...), following what llama.cpp's llama-quantize writes (spec quant-mixtures.md), so
// pocket-written files have the same mixtures as the files users download. Pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/status.h"
#include "tensor/dtype.h"

namespace pocket {

enum class FileType { kF32, kF16, kBF16, kQ8_0, kQ4_0, kQ4_K_M, kQ5_K_M };

Result<FileType> ParseFileType(std::string_view name);  // "F32", "Q4_K_M", ... (case-insensitive)
const char* FileTypeName(FileType t);
// The llama_ftype number stored in `general.file_type`.
uint32_t LlamaFileTypeId(FileType t);

// The type of tensor `name` (GGUF naming) with `n_dims` dimensions, rows of `ne0` elements, in
// layer `layer` (-1 for non-layer tensors) of `n_layer`. Norms, scales, rope_freqs and router
// weights stay F32; K-quant types fall back to 32-element blocks when ne0 % 256 != 0 and
// 32-block types to F16 when ne0 % 32 != 0, as llama.cpp does.
DType MixtureTensorType(FileType ftype, std::string_view name, int n_dims, int64_t ne0, int layer, int n_layer);

}  // namespace pocket
