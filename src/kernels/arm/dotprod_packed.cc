// The `dotprod` table (ARMv8.2-A dot product: Cortex-A55/A75 and later, Apple M1 and later):
// the NEON table with the packed tiles (packed_tiles.h) and row-major dot products
// (row_dots.h) built on SDOT. Compiled with -march=armv8.2-a+dotprod.
#define POCKET_ARM_SDOT 1
#include "kernels/arm/packed_tiles.h"
#include "kernels/arm/row_dots.h"
#include "kernels/table_fill.h"

namespace pocket::kernels {

void FillDotprodKernels(KernelTable* t) {
  t->isa = Isa::kDotprod;
  SetArmPackedKernels(t);
  SetArmRowDots(t);
}

}  // namespace pocket::kernels
