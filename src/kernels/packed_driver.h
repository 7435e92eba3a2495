// The loop every packed GEMM kernel shares (layout in kernels/packed.h), whatever the ISA:
// row groups outer, activation rows in tiles inner. Each ISA file supplies its register
// tiles (TileFn) for 1-4 (optionally 6) activation rows.
//
// Internal linkage on purpose (an anonymous namespace): each ISA file instantiates it with
// its own -m flags, and an external-linkage copy built for AVX-512 or +dotprod could be the
// one the linker keeps (scripts/check-isa-objects). Include only from ISA kernel files.
#pragma once

#include <cstdint>

#include "kernels/kernels.h"

namespace pocket::kernels {
namespace {  // NOLINT(build/namespaces): internal linkage per ISA file, see above

// Bytes of one group-block (eight rows' share of one quant block) in the packed layout of
// kernels/packed.h, per type; the tiles step through a group by these.
constexpr int kQ4GroupBlock = 144;      // 8 f16 scales + 8 rows x 16 quant bytes
constexpr int kQ8GroupBlock = 272;      // 8 f16 scales + 8 rows x 32 quants
constexpr int kIQ4XSGroupBlock = 1104;  // d[8], int8 scales[8][8], 8 rows x 128 quant bytes
constexpr int kQ2KGroupBlock = 672;     // d, dmin, scale/min bytes, 8 rows x 64 quant bytes
constexpr int kQ3KGroupBlock = 912;     // d, int8 scales, 8 rows x 64 quant + 32 hmask bytes
constexpr int kQ4KGroupBlock = 1184;    // d, dmin, scales, mins, 8 rows x 128 quant bytes
constexpr int kQ5KGroupBlock = 1440;    // the Q4_K group-block + 32 x 8 fifth-bit bytes
constexpr int kQ6KGroupBlock = 1680;    // d, int8 scales, 16 code triples of 3 x 32 bytes

using TileFn = void (*)(int64_t nb, const uint8_t* wg, const uint8_t* a, uint64_t a_stride,
                        const uint8_t* info, uint64_t info_stride, float* out, int64_t ldo);

// Groups outer, activation rows in fours inner: a group's weights (nb x group-block bytes)
// stay in L1 while the activation rows stream through.
// kTile6 (optional): six activation rows at a time, where the tile's registers allow it (the
// 4-bit nibble formats: +3.5% on a 64-row Q4_0 tile, the shared unpacking spread further).
template <TileFn kTile1, TileFn kTile2, TileFn kTile3, TileFn kTile4, int kBlockElems,
          int kGroupBlock, TileFn kTile6 = nullptr>
void GemmPacked(int64_t n, const uint8_t* w, int n_groups, const uint8_t* a, uint64_t a_stride,
                const uint8_t* info, uint64_t info_stride, int nc, float* out, int64_t ldo) {
  const int64_t nb = n / kBlockElems;
  for (int g = 0; g < n_groups; ++g) {
    const uint8_t* wg = w + static_cast<uint64_t>(g) * nb * kGroupBlock;
    float* og = out + static_cast<int64_t>(g) * kPackRows;
    int c = 0;
    if constexpr (kTile6 != nullptr) {
      for (; c + 6 <= nc; c += 6)
        kTile6(nb, wg, a + c * a_stride, a_stride, info + c * info_stride, info_stride,
               og + c * ldo, ldo);
    }
    for (; c + 4 <= nc; c += 4)
      kTile4(nb, wg, a + c * a_stride, a_stride, info + c * info_stride, info_stride, og + c * ldo,
             ldo);
    const uint8_t* ac = a + c * a_stride;
    const uint8_t* ic = info + c * info_stride;
    switch (nc - c) {
      case 3:
        kTile3(nb, wg, ac, a_stride, ic, info_stride, og + c * ldo, ldo);
        break;
      case 2:
        kTile2(nb, wg, ac, a_stride, ic, info_stride, og + c * ldo, ldo);
        break;
      case 1:
        kTile1(nb, wg, ac, a_stride, ic, info_stride, og + c * ldo, ldo);
        break;
      default:
        break;
    }
  }
}

}  // namespace
}  // namespace pocket::kernels
