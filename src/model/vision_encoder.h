// VisionEncoder: turns preprocessed pixels into soft tokens in the text model's width.
//  * gemma4v (E2B/E4B/26B/31B): 16-px patch embedding + 2-D position table, ViT layers with
//    q/k/v norms, 2-D RoPE (θ 100), clippable linears and tanh-GELU MLP, 3×3 average pooling,
//    ×√D, optional standardize, weightless RMSNorm and the projection (spec
//    gemma4-multimodal.md §3).
//  * gemma4uv (12B unified): 48-px patches → LayerNorm → dense → LayerNorm → + 2-D position →
//    LayerNorm → weightless RMSNorm → projection (§6.1–6.2).
// Weights come from an mmproj GGUF or an HF checkpoint; either patch layout (GGUF's CHW conv
// kernel, HF's HWC rows) is used as stored by building each patch vector in the weights'
// order, so nothing is copied or permuted at load.
//
// Borrows the config, weights, kernel table and pool; owns activation buffers (grown to the
// largest image seen). Not thread-safe: one encoder call at a time.
#pragma once

#include <vector>

#include "base/thread_pool.h"
#include "formats/weight_source.h"
#include "media/image.h"
#include "model/encoder_ops.h"
#include "model/mmproj_config.h"

namespace pocket {

struct VisionLayerWeights {
  std::vector<float> ln1, ln2, attn_post_norm, ffn_post_norm, q_norm, k_norm;
  ClippedLinear q, k, v, o, gate, up, down;
  float out_scale = 1.0f;
};

struct VisionWeights {
  ref::MatView patch_embd;  // [D, patch·patch·3] in the order given by patch_hwc; f32
  std::shared_ptr<OwnedMatrix> patch_f32;  // the f32 copy when the file stores it otherwise
  bool patch_hwc = false;         // true: (dy, dx, channel) columns (HF); false: CHW (GGUF)
  std::vector<float> patch_bias;  // unified only
  ref::MatView pos;               // 2·n_pos rows of D; row of (axis, p) per pos_axis_major
  bool pos_axis_major = true;     // true: row axis·n_pos + p; false: p·2 + axis (HF unified)
  std::vector<VisionLayerWeights> layers;
  std::vector<float> std_bias, std_scale;
  // Unified LayerNorms (LN1 in the patch layout).
  std::vector<float> ln1_w, ln1_b, ln2_w, ln2_b, ln3_w, ln3_b;
  ref::MatView proj;  // [n_embd_text, D]

  static Result<VisionWeights> Bind(const WeightSource& ws, const VisionConfig& c);
  // Every matrix the encoder multiplies through EncoderOps::MatMul (for repacking).
  std::vector<const ref::MatView*> Matrices() const;
};

class VisionEncoder {
 public:
  // `packed` (may be null) holds repacked copies of w's matrices (VisionWeights::Matrices).
  VisionEncoder(const VisionConfig& c, const VisionWeights& w, const kernels::KernelTable& k,
                ThreadPool* pool, const kernels::PackedWeights* packed = nullptr)
      : c_(c), w_(w), ops_(k, pool, packed) {}

  // Soft tokens for an image of this size: an error unless both sides are positive multiples
  // of the side multiple (48) and fit the position table.
  Result<int64_t> TokenCount(int width, int height) const;
  // Encodes one image; `out` receives [TokenCount, n_embd_text] row-major.
  Status Encode(const PixelImage& image, std::vector<float>* out);

 private:
  void EncodeTower(const PixelImage& image, int npw, int nph, std::vector<float>* out);
  void EncodeUnified(const PixelImage& image, int npw, int nph, std::vector<float>* out);
  void AddPosition(int64_t n, int npw, float* h);
  void Layer(const VisionLayerWeights& l, int64_t n);
  void Rope2d(float* x, int64_t n);

  const VisionConfig& c_;
  const VisionWeights& w_;
  EncoderOps ops_;
  std::vector<float> x_, h_, a_, q_, k_, v_, attn_, o_, gate_, up_, rope_, pos_row_;
};

}  // namespace pocket
