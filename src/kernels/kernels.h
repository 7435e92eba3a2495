// The kernel dispatch table: every hot loop of the engine behind one struct of function
// pointers, chosen once at start-up from the CPU's features (cpu_features.h).
//
// Each entry has a portable scalar reference (kernels/scalar/); ISA folders (kernels/x86/,
// later kernels/arm/) override the entries they speed up and inherit the rest, so adding an
// ISA is one more folder plus one line in dispatch.cc. Model and runtime code call only
// through this table and never contain SIMD. Tests run every table the CPU supports against
// the scalar one (KernelsFor(isa) lets a test force an ISA).
//
// Tables are immutable after initialisation and safe to use from any thread.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "tensor/dtype.h"

namespace pocket::kernels {

// x86 tiers build on each other: AVX-VNNI and AVX-512 (F/BW/VL/VNNI) tables start as copies
// of the AVX2 one and override the integer kernels that VNNI's dpbusd speeds up; the AMX table
// starts as the AVX-512 one and runs the packed GEMMs of 16+ activation rows on the tile unit.
// On 64-bit ARM the NEON table (every CPU) is the base of the dot-product one (ARMv8.2 SDOT).
enum class Isa {
  kScalar = 0,
  kAvx2 = 1,
  kAvxVnni = 2,
  kAvx512 = 3,
  kNeon = 4,
  kDotprod = 5,
  kAmx = 6
};
inline constexpr int kNumIsas = 7;
const char* IsaName(Isa isa);

// Storage type of the KV cache.
enum class KvType { kF32 = 0, kF16 = 1, kBF16 = 2 };
inline constexpr int kNumKvTypes = 3;
int KvTypeBytes(KvType t);
const char* KvTypeName(KvType t);
// The type KvTypeName calls `name` ("f32", "f16", "bf16"); false for any other name.
bool ParseKvType(std::string_view name, KvType* t);

// ggml type ids index the per-type entries (all ids are < 64).
inline constexpr int kMaxTypeId = 64;

// Dot product of one weight row of n elements (in its file type) with an activation row of
// n elements already encoded in ActivationType(weight type).
using VecDotFn = float (*)(int64_t n, const void* w, const void* act);
// Encodes n f32 activations into an activation format (Q8_0, Q8_K, F16, BF16, F32).
using QuantizeActFn = void (*)(const float* x, void* dst, int64_t n);
// out[r * ldo + c] = dot(weight row r, activation row c) for r < nr, c < nc: a GEMM tile.
// Weight rows are `w_stride` bytes apart, activation rows `a_stride` bytes apart. Lets an ISA
// unpack a weight block once and reuse it across activation rows (prefill).
using GemmTileFn = void (*)(int64_t n, const uint8_t* w, uint64_t w_stride, int nr,
                            const uint8_t* a, uint64_t a_stride, int nc, float* out, int64_t ldo);

// Packed weights (kernels/packed.h): groups of kPackRows rows interleaved four quant bytes at
// a time, so one 32-byte register holds four bytes of each of the eight rows and an integer
// multiply-add yields eight outputs at once.
inline constexpr int kPackRows = 8;

// Softmax terms exp(x_i - max) below 2^-64 (x_i - max < -64 ln 2) are set to 0. Their share
// of the sum is below n * 2^-64, far under f32's resolution for any context, so no
// normalised weight moves; but left in, the weights of far-off keys become subnormal after
// the division by the sum, and every P·V product with a subnormal operand costs a microcode
// assist on x86 (E2B decode attention at 4096 keys was 5x slower for it).
inline constexpr float kSoftmaxCutoff = -44.3614196f;
// What a packed GEMM reads about each activation block besides its quants (kernels/packed.h
// computes them). Q8_0 blocks: the scale in f32 and the sum of the quants (formats with an
// implicit offset use Σ(q - 8)·a = Σ q·a - 8·Σ a). Q8_K blocks: the scale and the sums of the
// 32- and 16-element sub-blocks (exact integers, as floats) for the K-quants' minimums and
// offsets.
struct ActBlockInfo {
  float d;
  int32_t sum;
};
struct ActSuperBlockInfo {
  float d;
  float sums[8];     // 32-element sub-blocks
  float sums16[16];  // 16-element sub-blocks
};
// out[c * ldo + r] = dot(packed weight row r, activation row c) for r < kPackRows * n_groups,
// c < nc. Groups follow each other in `w`; activation row c starts at a + c * a_stride and
// its infos (ActBlockInfo or ActSuperBlockInfo, by weight type) at info + c * info_stride
// bytes. Every output is computed with the same operations whatever nc is, so a token gets
// bit-identical results in decode (nc = 1) and in a prefill chunk; ISA variants equal the
// scalar one bit for bit.
using GemmPackedFn = void (*)(int64_t n, const uint8_t* w, int n_groups, const uint8_t* a,
                              uint64_t a_stride, const uint8_t* info, uint64_t info_stride, int nc,
                              float* out, int64_t ldo);

struct KernelTable {
  Isa isa = Isa::kScalar;
  VecDotFn vec_dot[kMaxTypeId] = {};            // null: weight type has no dot kernel
  GemmTileFn gemm_tile[kMaxTypeId] = {};        // null: use vec_dot per (row, column)
  QuantizeActFn quantize_act[kMaxTypeId] = {};  // by activation type id
  GemmPackedFn gemm_packed[kMaxTypeId] = {};    // null: the type has no packed layout

  // f32 vectors.
  float (*dot_f32)(int64_t n, const float* a, const float* b) = nullptr;
  void (*axpy_f32)(int64_t n, float a, const float* x, float* y) = nullptr;  // y += a * x
  void (*scale_f32)(int64_t n, float a, float* y) = nullptr;                 // y *= a
  void (*add_f32)(int64_t n, const float* x, float* y) = nullptr;            // y += x
  // y = x / sqrt(mean(x^2) + eps) * w (w null: weightless). In place allowed.
  void (*rms_norm)(const float* x, const float* w, int64_t n, float eps, float* y) = nullptr;
  // out = gelu_tanh(gate) * up. In place (out == gate) allowed.
  void (*gelu_tanh_mul)(int64_t n, const float* gate, const float* up, float* out) = nullptr;
  // out = x · sigmoid(gate) (SiLU when gate == x; the audio encoder's GLU). In place allowed.
  void (*sigmoid_mul)(int64_t n, const float* gate, const float* x, float* out) = nullptr;
  // x = softmax(x), in place (max-subtracted), with exp(x_i - max) taken as 0 below
  // kSoftmaxCutoff.
  void (*softmax)(int64_t n, float* x) = nullptr;
  // C[m][n] = Σ_k A[m][k] · B[k][n] for m < M, n < N (row-major, leading dimensions lda, ldb,
  // ldc): the f32 "NN" GEMM of the encoders' attention (Q·Kᵀ with Kᵀ stored, P·V), where the
  // contraction is short (head size) or the outputs are few, so broadcasts beat dot products.
  void (*sgemm_nn)(int64_t M, int64_t N, int64_t K, const float* A, int64_t lda, const float* B,
                   int64_t ldb, float* C, int64_t ldc) = nullptr;
  // y = cap * tanh(y / cap), in place (final logit soft-capping).
  void (*softcap)(int64_t n, float cap, float* y) = nullptr;

  // KV cache rows, by KvType.
  void (*kv_store[kNumKvTypes])(const float* x, void* dst, int64_t n) = {};
  // s[h * s_stride + j] = q_h · k_j for h < nh, j < n_keys (q_h at q + h * q_stride, key row
  // j at k + j * k_stride bytes): the Q·Kᵀ of attention. Each score is one 8-lane FMA chain
  // over the first d - d % 8 elements (lane l takes elements 8t + l), reduced as
  // ((l0 + l4) + (l1 + l5)) + ((l2 + l6) + (l3 + l7)), then one FMA per remaining element,
  // whatever tile the kernel computes it in: bit-identical across ISAs and call shapes, so
  // a token's scores do not depend on how many queries or keys share the call.
  void (*kv_scores[kNumKvTypes])(int64_t n_keys, int d, int nh, const float* q, int64_t q_stride,
                                 const void* k, uint64_t k_stride, float* s, int64_t s_stride) = {};
  void (*kv_axpy[kNumKvTypes])(int64_t n, float a, const void* v, float* y) = {};
  // For h < nh: o_h[0..d) += Σ_j p_h[j] · V_j over key rows j < n_keys (row j at
  // v + j * v_stride bytes, p_h at p + h * p_stride, o_h at o + h * o_stride), each element
  // accumulated in key order exactly as n_keys kv_axpy calls would (bit-identical), but with
  // the outputs held in registers across keys: the P·V product of attention.
  void (*kv_weighted_sum[kNumKvTypes])(int64_t n_keys, int d, int nh, const float* p,
                                       int64_t p_stride, const void* v, uint64_t v_stride, float* o,
                                       int64_t o_stride) = {};
  // Columns of V per pass of a prefill block's queries over a key chunk (a multiple of 16) when
  // a KV head has four or more query heads: what suits this table's kv_weighted_sum.
  int kv_value_strip = 16;
};

// The best table for this CPU. Chosen on first use;
// POCKET_ISA=scalar|avx2|avxvnni|avx512|amx|neon|dotprod in
// the environment forces a table this CPU supports (others are ignored with a warning), for
// debugging and benchmarks.
const KernelTable& Kernels();
// The table for one ISA, or null if this CPU (or build) cannot run it.
const KernelTable* KernelsFor(Isa isa);
// Every ISA this CPU can run, scalar first.
std::vector<Isa> SupportedIsas();

// The activation format a weight type's dot product consumes: Q8_0 for the 32-element
// formats, Q8_K for K-quants and IQ4_XS, F16/BF16 for 16-bit weights, F32 otherwise.
DType ActivationType(DType weight_type);
// True if weights of this type can go through the kernels (a vec_dot exists).
bool HasMatMulKernel(DType weight_type);

}  // namespace pocket::kernels
