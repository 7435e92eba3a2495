#include "kernels/matmul.h"

#include <algorithm>

#include "kernels/packed.h"

namespace pocket::kernels {
namespace {

constexpr int64_t kTokenBlock = 64;  // activation rows per tile: ~140 KB of int8 at H=2048

}  // namespace

void MatMul(const KernelTable& k, ThreadPool* pool, const WeightMatrix& w, const float* x,
            int64_t ldx, int64_t n_tok, float* y, int64_t ldy, MatMulScratch* scratch,
            const InputClamp* clamp) {
  const int tid = static_cast<int>(w.type);
  const DType act_type = ActivationType(w.type);
  const uint64_t act_bytes = *RowBytes(act_type, w.cols);
  const size_t need = static_cast<size_t>(act_bytes * static_cast<uint64_t>(n_tok));
  if (scratch->act.size() < need) scratch->act.resize(need);
  uint8_t* act = scratch->act.data();
  const QuantizeActFn quantize = k.quantize_act[static_cast<int>(act_type)];
  const int n_threads = pool ? pool->size() : 1;
  // Packed kernels also read per-block side information, computed with the encoding.
  const uint64_t info_bytes = w.packed ? ActivationInfoBytes(w.type, w.cols) : 0;
  const size_t info_need = static_cast<size_t>(info_bytes * static_cast<uint64_t>(n_tok));
  if (scratch->act_info.size() < info_need) scratch->act_info.resize(info_need);
  uint8_t* info = scratch->act_info.data();

  const size_t clamp_need = clamp ? static_cast<size_t>(n_threads * w.cols) : 0;
  if (scratch->clamped.size() < clamp_need) scratch->clamped.resize(clamp_need);

  auto encode = [&](int64_t t, int thread) {
    uint8_t* at = act + static_cast<uint64_t>(t) * act_bytes;
    const float* xt = x + t * ldx;
    if (clamp) {  // through this thread's row buffer, which stays in L1
      float* c = scratch->clamped.data() + static_cast<int64_t>(thread) * w.cols;
      for (int64_t i = 0; i < w.cols; ++i) c[i] = std::min(std::max(xt[i], clamp->lo), clamp->hi);
      xt = c;
    }
    quantize(xt, at, w.cols);
    if (info_bytes != 0)
      ActivationInfos(w.type, at, w.cols, info + static_cast<uint64_t>(t) * info_bytes);
  };
  if (pool && n_tok >= 8) {
    pool->ParallelFor(n_tok, encode);
  } else {
    for (int64_t t = 0; t < n_tok; ++t) encode(t, 0);
  }

  // Row chunks: enough tasks for load balance, multiples of 4 rows for the tile kernels and
  // of kPackRows for packed weights.
  const int64_t token_blocks = (n_tok + kTokenBlock - 1) / kTokenBlock;
  int64_t row_chunk = (w.rows + n_threads * 8 - 1) / (n_threads * 8);
  row_chunk = std::max<int64_t>(16, (row_chunk + 7) / 8 * 8);
  const int64_t row_chunks = (w.rows + row_chunk - 1) / row_chunk;
  const int64_t n_tasks = row_chunks * token_blocks;

  const GemmPackedFn packed = w.packed ? k.gemm_packed[tid] : nullptr;
  const VecDotFn dot = k.vec_dot[tid];
  const GemmTileFn tile = k.gemm_tile[tid];

  auto run = [&](int64_t task, int) {
    const int64_t rc = task % row_chunks, tb = task / row_chunks;
    const int64_t r0 = rc * row_chunk, r1 = std::min(w.rows, r0 + row_chunk);
    const int64_t t0 = tb * kTokenBlock, t1 = std::min(n_tok, t0 + kTokenBlock);
    const uint8_t* a0 = act + static_cast<uint64_t>(t0) * act_bytes;
    const uint8_t* w0 = w.data + static_cast<uint64_t>(r0) * w.row_bytes;
    if (packed) {  // decode and prefill alike
      packed(w.cols, w0, static_cast<int>((r1 - r0) / kPackRows), a0, act_bytes,
             info + static_cast<uint64_t>(t0) * info_bytes, info_bytes, static_cast<int>(t1 - t0),
             y + t0 * ldy + r0, ldy);
      return;
    }
    if (tile && t1 - t0 > 1) {
      tile(w.cols, w0, w.row_bytes, static_cast<int>(r1 - r0), a0, act_bytes,
           static_cast<int>(t1 - t0), y + t0 * ldy + r0, ldy);
      return;
    }
    for (int64_t t = t0; t < t1; ++t) {
      const uint8_t* at = act + static_cast<uint64_t>(t) * act_bytes;
      float* yt = y + t * ldy;
      for (int64_t r = r0; r < r1; ++r)
        yt[r] = dot(w.cols, w.data + static_cast<uint64_t>(r) * w.row_bytes, at);
    }
  };
  if (pool) {
    pool->ParallelFor(n_tasks, run);
  } else {
    for (int64_t t = 0; t < n_tasks; ++t) run(t, 0);
  }
}

}  // namespace pocket::kernels
