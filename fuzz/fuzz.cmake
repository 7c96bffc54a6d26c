# --- fuzzing (fuzz/, docs/fuzz.md) ----------------------------------------------------------------
# A separate tree built with clang, e.g.
#   CC=clang-14 cmake -S . -B build-fuzz -DGANTRY_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo
#   cmake --build build-fuzz --target fuzz_all
# compiles the library with -fsanitize=fuzzer-no-link,address,undefined (coverage for libFuzzer) and
# links each fuzz/fuzz_*.c into a libFuzzer program build-fuzz/fuzz/fuzz_<name>. fuzz/run.sh runs them.
# In the ordinary tree, GANTRY_FUZZ_BUILD (the path of such a tree) adds one ctest per harness
# (label fuzz): GANTRY_FUZZ_SECONDS of fuzzing on the committed corpus fuzz/corpus/<name>/.
option(GANTRY_FUZZ "build the libFuzzer harnesses of fuzz/ (needs clang)" OFF)
file(GLOB GANTRY_FUZZERS CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/fuzz/fuzz_*.c)
if(GANTRY_FUZZ)
  if(NOT CMAKE_C_COMPILER_ID MATCHES "Clang")
    message(FATAL_ERROR "GANTRY_FUZZ needs clang (CC=clang-14 cmake ...), not ${CMAKE_C_COMPILER_ID}")
  endif()
  set(GT_FUZZ_SAN -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer)
  # (the sanitizers' checks keep some "omp simd" loops from vectorizing: a note, not a fault here)
  target_compile_options(gantry PRIVATE -fsanitize=fuzzer-no-link ${GT_FUZZ_SAN} -Wno-pass-failed)
  target_link_options(gantry INTERFACE -fsanitize=address,undefined)
  add_custom_target(fuzz_all)
  foreach(f ${GANTRY_FUZZERS})
    get_filename_component(name ${f} NAME_WE)
    add_executable(${name} ${f})
    target_compile_options(${name} PRIVATE -fsanitize=fuzzer ${GT_FUZZ_SAN} -U_POSIX_C_SOURCE -D_GNU_SOURCE)
    target_link_options(${name} PRIVATE -fsanitize=fuzzer,address,undefined)
    target_link_libraries(${name} gantry)
    set_target_properties(${name} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/fuzz)
    add_dependencies(fuzz_all ${name})
  endforeach()
endif()
set(GANTRY_FUZZ_BUILD "" CACHE PATH "a build tree configured with -DGANTRY_FUZZ=ON (adds the fuzz/ ctests)")
set(GANTRY_FUZZ_SECONDS 15 CACHE STRING "seconds of fuzzing per harness in the fuzz/ ctests")
if(GANTRY_FUZZ_BUILD)
  foreach(f ${GANTRY_FUZZERS})
    get_filename_component(name ${f} NAME_WE)
    string(REGEX REPLACE "^fuzz_" "" h ${name})
    add_test(NAME fuzz/${h} COMMAND bash ${CMAKE_SOURCE_DIR}/fuzz/run.sh ${GANTRY_FUZZ_SECONDS} ${h})
    set_tests_properties(fuzz/${h} PROPERTIES TIMEOUT 300 LABELS "fuzz"
                         ENVIRONMENT "FUZZ_BUILD=${GANTRY_FUZZ_BUILD};FUZZ_NO_BUILD=1")
  endforeach()
endif()
