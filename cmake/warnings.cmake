# Warnings for our own targets (third-party headers come in as SYSTEM includes).
function(pocket_set_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wno-unused-parameter)
endfunction()

# Float arithmetic is part of the quant formats' definition: never fuse multiply-adds behind
# our back (SIMD kernels use FMA explicitly through intrinsics).
add_compile_options(-ffp-contract=off)
