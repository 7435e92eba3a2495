// The packed tiles (packed_tiles.h) and row-major dot products (row_dots.h) for the baseline
// NEON table (ARMv8.0 CPUs without the dot product: Cortex-A53/A72/A73, Raspberry Pi 4), each
// four-byte dot product emulated by widening multiplies. Compiled with the baseline flags.
#define POCKET_ARM_SDOT 0
#include "kernels/arm/packed_tiles.h"
#include "kernels/arm/row_dots.h"
#include "kernels/table_fill.h"

namespace pocket::kernels {

void FillNeonPackedKernels(KernelTable* t) {
  SetArmPackedKernels(t);
  SetArmRowDots(t);
}

}  // namespace pocket::kernels
