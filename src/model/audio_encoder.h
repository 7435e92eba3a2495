// AudioEncoder: turns one chunk of audio features into soft tokens in the text model's width.
//  * gemma4a (E2B/E4B): the conformer — two stride-2 3×3 convs with channel LayerNorm and
//    ReLU, a linear projection, then blocks of half-step FFN, chunked local self-attention with
//    relative positions and a logit cap, a light causal depthwise-conv module, a second FFN and
//    a norm; output projection (with bias), weightless RMSNorm and the embedder (spec
//    gemma4-multimodal.md §4.2–4.5).
//  * gemma4ua (12B unified): 640-sample frames → weightless RMSNorm → projection (§6.3).
// Weights from an mmproj GGUF or an HF checkpoint (per_dim_scale's softplus is applied at load
// for HF, where it is a runtime op).
//
// Borrows config, weights, kernel table and pool; owns activation buffers. Not thread-safe.
#pragma once

#include <vector>

#include "base/thread_pool.h"
#include "formats/weight_source.h"
#include "model/encoder_ops.h"
#include "model/mmproj_config.h"

namespace pocket {

struct AudioFfnWeights {
  std::vector<float> pre_norm, post_norm;
  ClippedLinear up, down;
};

struct AudioLayerWeights {
  AudioFfnWeights ffn1, ffn2;
  std::vector<float> attn_pre_norm, attn_post_norm, out_norm;
  ClippedLinear q, k, v, o;
  ref::MatView k_rel;          // [D, D], not clipped
  std::vector<float> q_scale;  // softplus(per_dim_scale) · d_h^-0.5 / ln 2, [d_h]
  std::vector<float> k_scale;  // per_dim_k_scale (optional; else the constant ln(1+e)/ln 2)
  std::vector<float> conv_pre_norm,
      conv_norm;  // LConv: before linear_start / after the depthwise conv
  ClippedLinear conv_start, conv_end;
  std::vector<float> conv_dw_taps;  // depthwise kernel as [K][D] (stored [D][K]): tap-major
};

struct AudioWeights {
  ref::MatView conv0, conv1;  // [C0, 1·9], [C1, C0·9]
  // The same in f32, transposed to [C_in·9][C_out] for the NN GEMM (small: 147 KB at E2B).
  std::vector<float> conv0_t, conv1_t;
  std::vector<float> conv0_norm, conv1_norm;
  ref::MatView input_proj;  // [D, (n_mel/4)·C1]
  std::vector<AudioLayerWeights> layers;
  ref::MatView out_proj;  // [n_out, D]
  std::vector<float> out_bias;
  ref::MatView proj;  // [n_embd_text, n_out] (unified: [n_embd_text, frame])

  static Result<AudioWeights> Bind(const WeightSource& ws, const AudioConfig& c);
  // Every matrix the encoder multiplies through EncoderOps::MatMul (for repacking).
  std::vector<const ref::MatView*> Matrices() const;
};

class AudioEncoder {
 public:
  // `packed` (may be null) holds repacked copies of w's matrices (AudioWeights::Matrices).
  AudioEncoder(const AudioConfig& c, const AudioWeights& w, const kernels::KernelTable& k,
               ThreadPool* pool, const kernels::PackedWeights* packed = nullptr)
      : c_(c), w_(w), ops_(k, pool, packed) {}

  // Conformer: log-mel features [n_frames][n_mel] of which the first n_valid are real;
  // `out` receives [ConformerTokenCount(n_valid), n_embd_text].
  Status EncodeMel(const float* mel, int64_t n_frames, int64_t n_valid, std::vector<float>* out);
  // Unified: raw 16 kHz samples; `out` receives [ceil(n / frame), n_embd_text].
  Status EncodeFrames(const float* samples, int64_t n, std::vector<float>* out);

 private:
  void Conv(const float* in, int64_t t_in, int64_t f_in, int c_in, const std::vector<float>& w_t,
            const std::vector<float>& norm, int c_out, const std::vector<uint8_t>& valid,
            std::vector<float>* out);
  void Ffn(const AudioFfnWeights& f, int64_t n);
  void Attention(const AudioLayerWeights& l, int64_t n, const std::vector<uint8_t>& valid);
  void LightConv(const AudioLayerWeights& l, int64_t n);

  const AudioConfig& c_;
  const AudioWeights& w_;
  EncoderOps ops_;
  std::vector<float> h_, a_, b_, q_, k_, v_, rk_, attn_, ff_, cols_;
  std::vector<float> rel_pe_;  // [past + 1][D] relative position embeddings
};

}  // namespace pocket
