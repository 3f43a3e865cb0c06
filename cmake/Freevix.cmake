# Helpers shared by every CMakeLists of the tree.
#
# Library code is compiled several times (plain for the shipped library and the
# plain tests, sanitized for the *.asan tests, instrumented for the fuzzers), so
# components do not create their own targets: they register their sources with
# fvx_library_sources() and src/CMakeLists.txt builds every variant from the
# one list.

set(FVX_SANITIZE_FLAGS -fsanitize=address,undefined -fno-sanitize-recover=all
    -fno-omit-frame-pointer)
set(FVX_ASAN_FLAGS ${FVX_SANITIZE_FLAGS})
set(FVX_FUZZ_FLAGS -fsanitize=fuzzer-no-link,address,undefined
    -fno-sanitize-recover=all -fno-omit-frame-pointer)
set(FVX_TSAN_FLAGS -fsanitize=thread -fno-omit-frame-pointer)
# Sanitizer reports make a process exit with this status (ASan's and UBSan's
# default, 1, is also freevix's "other failure"): tests that run the freevix
# command tell a sanitizer or valgrind finding from an ordinary failure by it.
set(FVX_CHECKER_EXIT 99)

# fvx_probe_toolchain() -- turns off, with a line in the configure output,
# what this compiler cannot build: libFuzzer targets (clang with
# libclang-rt), the ASan+UBSan and ThreadSanitizer twins (their runtimes),
# the valgrind runs (valgrind).  Sets the FREEVIX_* options in the cache.
function(fvx_probe_toolchain)
  include(CheckCSourceCompiles)
  set(probe "int main(void) { return 0; }")
  set(fuzz_probe "#include <stddef.h>
#include <stdint.h>
int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);
int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { (void)d; (void)n; return 0; }")
  foreach(item IN ITEMS
      "FREEVIX_FUZZ|-fsanitize=fuzzer,address,undefined|fuzz_probe|fuzz targets (libFuzzer)"
      "FREEVIX_SANITIZED_TESTS|-fsanitize=address,undefined|probe|ASan+UBSan test twins"
      "FREEVIX_TSAN_TESTS|-fsanitize=thread|probe|ThreadSanitizer test twins")
    string(REPLACE "|" ";" f "${item}")
    list(GET f 0 opt)
    list(GET f 1 flags)
    list(GET f 2 src)
    list(GET f 3 what)
    if(NOT ${opt})
      message(STATUS "freevix: ${what}: off (${opt}=OFF)")
      continue()
    endif()
    string(MAKE_C_IDENTIFIER "FVX_HAVE_${opt}_${CMAKE_C_COMPILER_ID}" var)
    set(CMAKE_REQUIRED_FLAGS "${flags}")
    set(CMAKE_REQUIRED_QUIET ON)
    check_c_source_compiles("${${src}}" ${var})
    if(${var})
      message(STATUS "freevix: ${what}: on")
    else()
      message(STATUS "freevix: ${what}: off (${CMAKE_C_COMPILER_ID} cannot "
                     "build with ${flags})")
      set(${opt} OFF CACHE BOOL "" FORCE)
    endif()
  endforeach()
  if(FREEVIX_VALGRIND_TESTS)
    find_program(VALGRIND valgrind)
    if(VALGRIND)
      message(STATUS "freevix: valgrind runs: on (${VALGRIND})")
    else()
      message(STATUS "freevix: valgrind runs: off (no valgrind)")
      set(FREEVIX_VALGRIND_TESTS OFF CACHE BOOL "" FORCE)
    endif()
  endif()
endfunction()

# fvx_library_sources(file...) -- add files to libvixDiskLib (paths relative
# to the calling CMakeLists).
function(fvx_library_sources)
  foreach(f IN LISTS ARGN)
    get_filename_component(abs "${f}" ABSOLUTE)
    set_property(GLOBAL APPEND PROPERTY FVX_LIBRARY_SOURCES "${abs}")
  endforeach()
endfunction()

# fvx_add_test(NAME n SOURCES s... LABELS l... [SIM] [CLI] [TSAN]
#              [NO_ASAN] [NO_VALGRIND] [TIMEOUT sec] [ENV K=V...] [ARGS a...]
#              [LINK_OPTIONS o...])
#
# Builds test executable n against the internal static library (so internals
# can be tested) and cmocka, and registers:
#   n           with LABELS
#   n.asan      the same sources against the sanitized library (label asan)
#   n.tsan      with TSAN only: against the ThreadSanitizer library (label
#               tsan); for the tests whose threads race on purpose
#   n.valgrind  the plain binary under memcheck (label valgrind)
# SIM tests get FREEVIX_SIM (the simulator binary) in their environment and
# depend on its target.  CLI tests run the freevix command: FREEVIX_CLI names
# it (in n.asan the ASan build freevix_asan), and in n.valgrind
# FREEVIX_CLI_WRAPPER is the valgrind command line to put in front of it, so
# the command's own processes are checked too (tests/support/cli.h).  Exit
# code 77 means "skipped" (the reason is printed).
function(fvx_add_test)
  cmake_parse_arguments(T "SIM;CLI;TSAN;NO_VALGRIND;NO_ASAN" "NAME;TIMEOUT"
                        "SOURCES;LABELS;ENV;ARGS;LINK_OPTIONS" ${ARGN})
  if(NOT T_TIMEOUT)
    set(T_TIMEOUT 300)
  endif()
  set(env "FREEVIX_SRCDIR=${PROJECT_SOURCE_DIR}" "LANG=C" ${T_ENV})
  if(T_SIM)
    list(APPEND env "FREEVIX_SIM=${FREEVIX_SIM_BIN}")
    list(APPEND T_LABELS integration)
  endif()
  set(valgrind_cmd ${VALGRIND} --tool=memcheck
      --error-exitcode=${FVX_CHECKER_EXIT} --leak-check=full
      --show-leak-kinds=definite,indirect
      --errors-for-leak-kinds=definite,indirect --track-fds=no
      --trace-children=no --quiet
      --suppressions=${PROJECT_SOURCE_DIR}/tests/valgrind.supp)

  set(variants plain)
  if(FREEVIX_SANITIZED_TESTS AND NOT T_NO_ASAN)
    list(APPEND variants asan)
  endif()
  if(FREEVIX_TSAN_TESTS AND T_TSAN)
    list(APPEND variants tsan)
  endif()
  foreach(v IN LISTS variants)
    set(venv ${env})
    if(v STREQUAL "plain")
      set(exe ${T_NAME})
      set(labels ${T_LABELS})
      set(cli freevix)
    else()
      set(exe ${T_NAME}.${v})
      set(labels ${T_LABELS} ${v})
      set(cli freevix_${v})
    endif()
    add_executable(${exe} ${T_SOURCES})
    if(v STREQUAL "plain")
      target_link_libraries(${exe} PRIVATE fvx_core fvx_testsupport_plain)
    else()
      target_link_libraries(${exe} PRIVATE fvx_core_${v} fvx_testsupport_${v})
      string(TOUPPER ${v} V)
      target_compile_options(${exe} PRIVATE ${FVX_${V}_FLAGS})
      target_link_options(${exe} PRIVATE ${FVX_${V}_FLAGS})
    endif()
    if(T_LINK_OPTIONS)
      target_link_options(${exe} PRIVATE ${T_LINK_OPTIONS})
    endif()
    if(T_SIM AND TARGET freevix-sim)
      add_dependencies(${exe} freevix-sim)
    endif()
    if(T_CLI)
      if(NOT TARGET ${cli})
        set(cli freevix)
      endif()
      add_dependencies(${exe} ${cli})
      list(APPEND venv "FREEVIX_CLI=$<TARGET_FILE:${cli}>")
    endif()
    add_test(NAME ${exe} COMMAND ${exe} ${T_ARGS})
    set_tests_properties(${exe} PROPERTIES LABELS "${labels}"
      TIMEOUT ${T_TIMEOUT} SKIP_RETURN_CODE 77
      ENVIRONMENT "${venv};ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:exitcode=${FVX_CHECKER_EXIT};UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:exitcode=${FVX_CHECKER_EXIT};TSAN_OPTIONS=halt_on_error=1:exitcode=${FVX_CHECKER_EXIT}:second_deadlock_stack=1:suppressions=${PROJECT_SOURCE_DIR}/tests/tsan.supp")
  endforeach()

  if(FREEVIX_VALGRIND_TESTS AND NOT T_NO_VALGRIND)
    set(venv ${env} "FREEVIX_UNDER_VALGRIND=1")
    if(T_CLI)
      string(REPLACE ";" " " wrapper "${valgrind_cmd}")
      list(APPEND venv "FREEVIX_CLI=$<TARGET_FILE:freevix>"
                       "FREEVIX_CLI_WRAPPER=${wrapper}")
    endif()
    add_test(NAME ${T_NAME}.valgrind
      COMMAND ${valgrind_cmd} $<TARGET_FILE:${T_NAME}> ${T_ARGS})
    math(EXPR vt "${T_TIMEOUT} * 4")
    set_tests_properties(${T_NAME}.valgrind PROPERTIES
      LABELS "${T_LABELS};valgrind" TIMEOUT ${vt} SKIP_RETURN_CODE 77
      ENVIRONMENT "${venv}")
  endif()
endfunction()

# fvx_add_fuzz(NAME n SOURCE s [SECONDS sec] [EXTRA_SOURCES f...]
#              [INCLUDES dir...])
# -- a libFuzzer target built against the instrumented library (and
# fuzz/common.c, the helpers every target shares), run from CTest for a
# short while from its committed seed corpus fuzz/corpus/<n> (copied, so
# runs never dirty the tree).  bench/fuzz_long.sh runs the same targets for
# hours and merges what they find back into that corpus.
function(fvx_add_fuzz)
  cmake_parse_arguments(F "" "NAME;SOURCE;SECONDS" "EXTRA_SOURCES;INCLUDES"
                        ${ARGN})
  if(NOT F_SECONDS)
    set(F_SECONDS 20)
  endif()
  add_executable(${F_NAME} ${F_SOURCE} ${PROJECT_SOURCE_DIR}/fuzz/common.c
                           ${F_EXTRA_SOURCES})
  target_include_directories(${F_NAME} PRIVATE ${PROJECT_SOURCE_DIR}/fuzz
                                               ${F_INCLUDES})
  target_link_libraries(${F_NAME} PRIVATE fvx_core_fuzz)
  target_compile_options(${F_NAME} PRIVATE ${FVX_FUZZ_FLAGS})
  target_link_options(${F_NAME} PRIVATE -fsanitize=fuzzer,address,undefined)
  set(work ${CMAKE_CURRENT_BINARY_DIR}/${F_NAME}.corpus)
  add_test(NAME ${F_NAME}
    COMMAND ${CMAKE_COMMAND} -DEXE=$<TARGET_FILE:${F_NAME}>
            -DSEEDS=${PROJECT_SOURCE_DIR}/fuzz/corpus/${F_NAME}
            -DWORK=${work} -DSECONDS=${F_SECONDS}
            -P ${PROJECT_SOURCE_DIR}/cmake/RunFuzz.cmake)
  math(EXPR ft "${F_SECONDS} + 120")
  set_tests_properties(${F_NAME} PROPERTIES LABELS "fuzz" TIMEOUT ${ft})
endfunction()
