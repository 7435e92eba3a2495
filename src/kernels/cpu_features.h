// CPU feature detection, done once. The kernel dispatch table (kernels.h) is chosen from it.
#pragma once

#include <string>

namespace pocket {

struct CpuFeatures {
  bool avx2 = false, fma = false, f16c = false;
  bool avx512f = false, avx512bw = false, avx512vl = false, avx512vnni = false, avx512bf16 = false;
  bool avxvnni = false;
  // AMX tiles with int8 dot products (TDPBSSD & co.), usable: the CPU has them, the OS saves
  // their state (XCR0) and, on Linux, granted this process the tile data permission.
  bool amx_int8 = false;
  // 64-bit ARM: ASIMD (always there) and the ARMv8.2 dot-product extension (SDOT).
  bool neon = false, dotprod = false;
  // "avx2 fma f16c ..." for logs and `pocket bench`.
  std::string ToString() const;
};

// Features of the running CPU (and OS support for the wider registers). Thread-safe.
const CpuFeatures& GetCpuFeatures();

}  // namespace pocket
