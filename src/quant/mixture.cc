#include "quant/mixture.h"

#include <cctype>

namespace pocket {
namespace {

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}
bool Contains(std::string_view s, std::string_view part) { return s.find(part) != std::string_view::npos; }

// llama.cpp's `use_more_bits`: the first and last eighth of the layers and every third layer
// in between get more bits in *_M mixtures.
bool UseMoreBits(int layer, int n_layer) {
  return layer < n_layer / 8 || layer >= 7 * n_layer / 8 || (layer - n_layer / 8) % 3 == 2;
}

// llama.cpp's fallback when a row cannot be split into the type's blocks.
DType Fallback(DType t, int64_t ne0) {
  switch (t) {
    case DType::kQ4_K: t = ne0 % 256 == 0 ? t : DType::kQ5_0; break;
    case DType::kQ5_K: t = ne0 % 256 == 0 ? t : DType::kQ5_1; break;
    case DType::kQ6_K: t = ne0 % 256 == 0 ? t : DType::kQ8_0; break;
    default: break;
  }
  const DTypeTraits* tr = GetDTypeTraits(t);
  if (tr != nullptr && ne0 % tr->block_elems != 0) return DType::kF16;
  return t;
}

}  // namespace

Result<FileType> ParseFileType(std::string_view name) {
  std::string up(name);
  for (char& c : up) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (up == "F32") return FileType::kF32;
  if (up == "F16") return FileType::kF16;
  if (up == "BF16") return FileType::kBF16;
  if (up == "Q8_0") return FileType::kQ8_0;
  if (up == "Q4_0") return FileType::kQ4_0;
  if (up == "Q4_K_M") return FileType::kQ4_K_M;
  if (up == "Q5_K_M") return FileType::kQ5_K_M;
  return InvalidArgument("unknown file type '" + std::string(name) +
                         "' (expected F32, F16, BF16, Q8_0, Q4_0, Q4_K_M or Q5_K_M)");
}

const char* FileTypeName(FileType t) {
  switch (t) {
    case FileType::kF32: return "F32";
    case FileType::kF16: return "F16";
    case FileType::kBF16: return "BF16";
    case FileType::kQ8_0: return "Q8_0";
    case FileType::kQ4_0: return "Q4_0";
    case FileType::kQ4_K_M: return "Q4_K_M";
    case FileType::kQ5_K_M: return "Q5_K_M";
  }
  return "?";
}

uint32_t LlamaFileTypeId(FileType t) {
  switch (t) {
    case FileType::kF32: return 0;
    case FileType::kF16: return 1;
    case FileType::kBF16: return 32;
    case FileType::kQ8_0: return 7;
    case FileType::kQ4_0: return 2;
    case FileType::kQ4_K_M: return 15;
    case FileType::kQ5_K_M: return 17;
  }
  return 0;
}

DType MixtureTensorType(FileType ftype, std::string_view name, int n_dims, int64_t ne0, int layer, int n_layer) {
  const bool stays_f32 = n_dims < 2 || !EndsWith(name, ".weight") || EndsWith(name, "_norm.weight") ||
                         Contains(name, "ffn_gate_inp") || Contains(name, "rope_freqs") ||
                         Contains(name, "layer_output_scale");
  if (stays_f32 || ftype == FileType::kF32) return DType::kF32;
  if (ftype == FileType::kF16) return Fallback(DType::kF16, ne0);
  if (ftype == FileType::kBF16) return Fallback(DType::kBF16, ne0);
  if (name == "per_layer_model_proj.weight") return DType::kF16;
  const bool embedding = name == "token_embd.weight" || name == "per_layer_token_embd.weight" ||
                         name == "output.weight";
  switch (ftype) {
    case FileType::kQ8_0:
      return Fallback(DType::kQ8_0, ne0);
    case FileType::kQ4_0:
      return Fallback(embedding ? DType::kQ6_K : DType::kQ4_0, ne0);
    case FileType::kQ4_K_M:
    case FileType::kQ5_K_M: {
      // llama.cpp treats the two alike but for the base type (llama_tensor_get_type).
      if (embedding) return Fallback(DType::kQ6_K, ne0);
      const bool more_bits_kind = Contains(name, "attn_v.weight") || Contains(name, "ffn_down");
      if (more_bits_kind && layer >= 0 && UseMoreBits(layer, n_layer)) return Fallback(DType::kQ6_K, ne0);
      return Fallback(ftype == FileType::kQ4_K_M ? DType::kQ4_K : DType::kQ5_K, ne0);
    }
    default:
      return DType::kF32;
  }
}

}  // namespace pocket
