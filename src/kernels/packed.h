// Packed weights: matrices repacked at load into the layout of the packed GEMM kernels
// (KernelTable::gemm_packed), which serve decode and prefill alike.
//
// Layout (Q4_0 and Q8_0; the packed matrix has exactly the bytes of the original): rows go in
// groups of kPackRows = 8. For each 32-element block index b a group stores the eight rows'
// f16 scales (16 bytes), then the quants four elements at a time, row after row: 32 bytes
// that hold elements [4j, 4j + 4) of rows 0..7, for j = 0, 1, ... Q4_0 keeps its nibble
// packing (byte i of a block holds elements i and i + 16), so the j-th 32 bytes of a Q4_0
// group-block give elements [4j, 4j + 4) in the low nibbles and [16 + 4j, 20 + 4j) in the
// high ones (j < 4): 144 bytes per group-block; Q8_0 has j < 8: 272 bytes.
//
// PackedWeights owns the repacked copies of one model's (or projector's) matrices, keyed by
// the address of the tensor data they replace. Built once, then immutable: safe to share
// between threads. Cost: the packed bytes (the mapped originals are released page by page as
// each matrix is packed, so peak memory stays near one copy).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <unordered_map>
#include <vector>

#include "base/thread_pool.h"
#include "kernels/matmul.h"

namespace pocket::kernels {

// True if `type` has a packed layout and the table a packed kernel for it, and the shape fits.
bool CanPack(const KernelTable& k, DType type, int64_t rows, int64_t cols);
// Packs rows [0, rows) (a multiple of kPackRows) of a row-major matrix of `type` with `cols`
// elements per row into dst, which must hold rows * row bytes. Groups [g0, g1) only.
void PackRowGroups(DType type, const uint8_t* src, int64_t cols, int64_t g0, int64_t g1,
                   uint8_t* dst);
// The per-block scale and quant sum of one Q8_0 activation row of n elements.
void ActivationBlockInfos(const void* q8_0_row, int64_t n, ActBlockInfo* out);

class PackedWeights {
 public:
  struct Source {
    DType type;
    const uint8_t* data;  // the mapped original, rows * row bytes
    int64_t rows;
    int64_t cols;
  };
  // Called after each matrix is packed with the original's bytes, which will not be read by
  // the kernels again (the caller may release their pages).
  using ReleaseFn = std::function<void(const uint8_t* data, uint64_t bytes)>;

  // Packs every source the kernels have a layout for; the others are left out and keep using
  // their mapped rows. Sources sharing an address are packed once. POCKET_REPACK=0 in the
  // environment turns packing off (for comparisons and debugging).
  static std::unique_ptr<PackedWeights> Build(const KernelTable& k,
                                              const std::vector<Source>& sources, ThreadPool* pool,
                                              const ReleaseFn& release = {});

  // Rows [row_offset, row_offset + rows) of the matrix whose original lies at `data`: the
  // packed rows where that matrix was packed, the range is group-aligned and table `k` has a
  // packed kernel for the type; else the original rows. `store` may be null (nothing packed).
  static WeightMatrix View(const PackedWeights* store, const KernelTable& k, DType type,
                           const uint8_t* data, int64_t row_offset, int64_t rows, int64_t cols);

  size_t count() const { return entries_.size(); }
  uint64_t bytes() const { return bytes_; }

 private:
  struct Entry {
    std::unique_ptr<uint8_t[]> data;
    int64_t rows = 0;
    int64_t cols = 0;
  };
  std::unordered_map<const uint8_t*, Entry> entries_;
  uint64_t bytes_ = 0;
};

}  // namespace pocket::kernels
