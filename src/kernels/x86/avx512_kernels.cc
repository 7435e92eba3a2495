// The AVX-512 table (AVX-512 F/BW/VL with VNNI: Ice Lake and later servers, Zen 4): the AVX2
// table with the packed GEMM tiles of vnni_packed_tiles.h in the EVEX encoding (32 vector
// registers), 512-bit attention kernels (avx512_attention.cc) and 512-bit GEMM tiles for
// F32 / F16 / BF16 weights (avx512_gemm.cc), and the GELU gate and activation encoders in
// 512 bits (avx512_elementwise.cc). Compiled with -mavx2 -mfma -mf16c
// -mavx512f -mavx512bw -mavx512vl -mavx512vnni.
#define POCKET_VNNI_EVEX 1
#include "kernels/table_fill.h"
#include "kernels/x86/avx512_util.h"  // first: its GCC 12 warning workaround
#include "kernels/x86/vnni_packed_tiles.h"

namespace pocket::kernels {

void FillAvx512Kernels(KernelTable* t) {
  t->isa = Isa::kAvx512;
  FillVnniPackedKernels(t);
  FillAvx512AttentionKernels(t);
  FillAvx512GemmKernels(t);
  FillAvx512ElementwiseKernels(t);
}

}  // namespace pocket::kernels
