// Packed weights: matrices repacked at load into the layout of the packed GEMM kernels
// (KernelTable::gemm_packed), which serve decode and prefill alike.
//
// Layout: rows go in groups of kPackRows = 8. For each block index b a group stores the eight
// rows' block headers, then the quants four bytes at a time, row after row: 32 bytes that
// hold quant bytes [4j, 4j + 4) of rows 0..7, for j = 0, 1, ... Quant bytes keep the file's
// packing.
//   Q4_0 (144 bytes per group-block, as the original): d[8] f16, then 4 x 32 quant bytes; byte
//     i holds elements i (low nibble) and i + 16 (high).
//   Q5_0 (176 bytes, as the original): d[8] f16, the low nibbles as Q4_0 (4 x 32 bytes),
//     then 4 x 8 bytes of fifth bits: byte r of chunk j holds the bits of row r's elements
//     4j..4j+3 (low half) and 16+4j..19+4j (high half), in element order.
//   Q4_1 (160 bytes) and Q5_1 (192 bytes), as the originals: d[8] then m[8] (f16), then the
//     quants as Q4_0 / Q5_0.
//   IQ4_NL (144 bytes, as the original): laid out as Q4_0; the nibbles index kIQ4NLValues.
//   MXFP4 (136 bytes, as the original): e[8] E8M0 scale bytes, then the nibbles as Q4_0's,
//     indexing kMXFP4Values.
//   Q8_0 (272 bytes, as the original): d[8] f16, then 8 x 32 quant bytes.
//   Q2_K (672 bytes per 256-element group-block, as the original): d[8], dmin[8] f16, the
//     scale (low nibble) / min (high nibble) bytes as [16 sub-blocks][8 rows], then 16 x 32
//     quant bytes; byte b of quant bytes [32i, 32i + 32) holds elements 128i + 32s + b in
//     bits 2s, 2s + 1 (s < 4), as in the file.
//   Q3_K (912 bytes, 3.6% more than the original's 880): d[8] f16, the scales minus 32 as
//     int8 [16][8], the 2-bit quants as Q2_K's (16 x 32 bytes), then the hmask (8 x 32
//     bytes): byte b holds the third bit of elements 128i + 32s + b in bit 4i + s.
//   Q4_K (1184 bytes per 256-element group-block, 2.8% more than the original's 1152):
//     d[8], dmin[8] f16, the 6-bit scales and mins unpacked to bytes as scales[8 sub-blocks]
//     [8 rows] and mins[8][8], then 32 x 32 quant bytes; byte i of quant bytes [32p, 32p + 32)
//     holds elements 64p + i (low nibble) and 64p + 32 + i (high).
//   Q5_K (1440 bytes, 2.3% more than the original's 1408): the Q4_K group-block, then 32 x 8
//     bytes of fifth bits: byte r of quant vector (p, j) holds the bits of row r's elements
//     64p + 4j + k (bit k) and 64p + 32 + 4j + k (bit 4 + k), k < 4.
//   IQ4_XS (1104 bytes, 1.5% more than the original's 1088): d[8] f16, the signed sub-block
//     scales ls - 32 as int8 [8 sub-blocks][8 rows], then 32 x 32 quant bytes; byte i of
//     quant bytes [16s, 16s + 16) holds elements 32s + i (low nibble) and 32s + 16 + i (high).
//   Q6_K (1680 bytes, as the original): d[8] f16, the int8 scales as [16 sub-blocks][8 rows],
//     then the 6-bit codes re-encoded as 16 triples of 32-byte vectors (x0, x1, x2), one per
//     half h and 4-element chunk j (triple 8h + j), each byte of x_k holding the code of
//     element 128h + 32k + 4j + i in its low six bits and bits 2k, 2k + 1 of the code of
//     element 128h + 96 + 4j + i in its top two: three masks give three codes, three shifts
//     the fourth (the file's ql/qh split needs about half again as many operations).
//
// PackedWeights owns the repacked copies of one model's (or projector's) matrices, keyed by
// the address of the tensor data they replace. Built once, then immutable: safe to share
// between threads. Cost: the packed bytes, all in one LargeBuffer (huge pages where the system
// grants them: a decoded token streams every matrix once, and on 4 KiB pages the TLB misses
// cost E2B Q4_0 decode ~20% on a virtual machine); the mapped originals are released page by
// page as each matrix is packed, so peak memory stays near one copy.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <unordered_map>
#include <vector>

#include "base/large_buffer.h"
#include "base/thread_pool.h"
#include "kernels/matmul.h"

namespace pocket::kernels {

// True if `type` has a packed layout and the table a packed kernel for it, and the shape fits.
bool CanPack(const KernelTable& k, DType type, int64_t rows, int64_t cols);
// Bytes per row in the packed layout (0: no layout).
uint64_t PackedRowBytes(DType type, int64_t cols);
// Packs row groups [g0, g1) of a row-major matrix of `type` with `cols` elements per row into
// dst, which holds rows * PackedRowBytes(type, cols) bytes for the whole matrix.
void PackRowGroups(DType type, const uint8_t* src, int64_t cols, int64_t g0, int64_t g1,
                   uint8_t* dst);
// The side information the packed kernel of `weight_type` reads for one activation row of n
// elements (encoded in ActivationType(weight_type)): ActBlockInfo per Q8_0 block or
// ActSuperBlockInfo per Q8_K block, ActivationInfoBytes(weight_type, n) bytes.
uint64_t ActivationInfoBytes(DType weight_type, int64_t n);
void ActivationInfos(DType weight_type, const void* act_row, int64_t n, void* out);

class PackedWeights {
 public:
  struct Source {
    DType type;
    const uint8_t* data;  // the mapped original, rows * row bytes
    int64_t rows;
    int64_t cols;
  };
  // Called after each matrix is packed with the original's bytes, which the kernels will not
  // read again (the caller may release their pages).
  using ReleaseFn = std::function<void(const uint8_t* data, uint64_t bytes)>;

  // Packs every source the kernels have a layout for, in order, while the packed total stays
  // within `max_bytes` (0: the physical memory less a reserve of an eighth, at least 2 GiB,
  // so a model larger than RAM keeps paging the rest from its file instead of pinning
  // anonymous memory); the others are left out and keep using their mapped rows. Sources sharing an
  // address are packed once. POCKET_REPACK=0 in the environment turns packing off (for comparisons
  // and debugging).
  static std::unique_ptr<PackedWeights> Build(const KernelTable& k,
                                              const std::vector<Source>& sources, ThreadPool* pool,
                                              const ReleaseFn& release = {},
                                              uint64_t max_bytes = 0);

  // Rows [row_offset, row_offset + rows) of the matrix whose original lies at `data`: the
  // packed rows where that matrix was packed, the range is group-aligned and table `k` has a
  // packed kernel for the type; else the original rows. `store` may be null (nothing packed).
  static WeightMatrix View(const PackedWeights* store, const KernelTable& k, DType type,
                           const uint8_t* data, int64_t row_offset, int64_t rows, int64_t cols);

  size_t count() const { return entries_.size(); }
  uint64_t bytes() const { return bytes_; }

 private:
  struct Entry {
    uint8_t* data = nullptr;  // in arena_
    int64_t rows = 0;
    int64_t cols = 0;
  };
  LargeBuffer arena_;  // every packed matrix, 64-byte aligned
  std::unordered_map<const uint8_t*, Entry> entries_;
  uint64_t bytes_ = 0;
};

}  // namespace pocket::kernels
