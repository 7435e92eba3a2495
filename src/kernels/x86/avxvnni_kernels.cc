// The AVX-VNNI table (Alder Lake and later client cores, Zen 5): the AVX2 table with the
// packed GEMM tiles of vnni_packed_tiles.h in the VEX encoding. Compiled with -mavx2 -mfma
// -mf16c -mavxvnni.
#define POCKET_VNNI_EVEX 0
#include "kernels/table_fill.h"
#include "kernels/x86/vnni_packed_tiles.h"

namespace pocket::kernels {

void FillAvxVnniKernels(KernelTable* t) {
  t->isa = Isa::kAvxVnni;
  FillVnniPackedKernels(t);
}

}  // namespace pocket::kernels
