# POCKET_SANITIZE=address,undefined builds everything with those sanitizers (see
# scripts/check-sanitizers). POCKET_FUZZ adds libFuzzer targets (clang only).
if(POCKET_SANITIZE)
  add_compile_options(-fsanitize=${POCKET_SANITIZE} -fno-omit-frame-pointer -fno-sanitize-recover=all)
  add_link_options(-fsanitize=${POCKET_SANITIZE})
endif()
if(POCKET_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID MATCHES "Clang")
    message(FATAL_ERROR "POCKET_FUZZ=ON requires clang (set CC=clang CXX=clang++)")
  endif()
  # Coverage instrumentation for the library too, so the fuzzer sees into the parsers.
  add_compile_options(-fsanitize=fuzzer-no-link)
endif()
