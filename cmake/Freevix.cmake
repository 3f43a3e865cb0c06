# Helpers shared by every CMakeLists of the tree.
#
# Library code is compiled several times (plain for the shipped library and the
# plain tests, sanitized for the *.asan tests, instrumented for the fuzzers), so
# components do not create their own targets: they register their sources with
# fvx_library_sources() and src/CMakeLists.txt builds every variant from the
# one list.

set(FVX_SANITIZE_FLAGS -fsanitize=address,undefined -fno-sanitize-recover=all
    -fno-omit-frame-pointer)
set(FVX_FUZZ_FLAGS -fsanitize=fuzzer-no-link,address,undefined
    -fno-sanitize-recover=all -fno-omit-frame-pointer)

# fvx_library_sources(file...) -- add files to libvixDiskLib (paths relative
# to the calling CMakeLists).
function(fvx_library_sources)
  foreach(f IN LISTS ARGN)
    get_filename_component(abs "${f}" ABSOLUTE)
    set_property(GLOBAL APPEND PROPERTY FVX_LIBRARY_SOURCES "${abs}")
  endforeach()
endfunction()

# fvx_add_test(NAME n SOURCES s... LABELS l... [SIM] [NO_VALGRIND]
#              [TIMEOUT sec] [ENV K=V...] [ARGS a...])
#
# Builds test executable n against the internal static library (so internals
# can be tested) and cmocka, and registers:
#   n           with LABELS
#   n.asan      the same sources against the sanitized library (label asan)
#   n.valgrind  the plain binary under memcheck (label valgrind)
# SIM tests get FREEVIX_SIM (the simulator binary) in their environment and
# depend on its target.  Exit code 77 means "skipped" (the reason is printed).
function(fvx_add_test)
  cmake_parse_arguments(T "SIM;NO_VALGRIND;NO_ASAN" "NAME;TIMEOUT"
                        "SOURCES;LABELS;ENV;ARGS" ${ARGN})
  if(NOT T_TIMEOUT)
    set(T_TIMEOUT 300)
  endif()
  set(env "FREEVIX_SRCDIR=${PROJECT_SOURCE_DIR}" "LANG=C" ${T_ENV})
  if(T_SIM)
    list(APPEND env "FREEVIX_SIM=${FREEVIX_SIM_BIN}")
    list(APPEND T_LABELS integration)
  endif()

  set(variants plain)
  if(FREEVIX_SANITIZED_TESTS AND NOT T_NO_ASAN)
    list(APPEND variants asan)
  endif()
  foreach(v IN LISTS variants)
    if(v STREQUAL "plain")
      set(exe ${T_NAME})
      set(core fvx_core)
      set(labels ${T_LABELS})
    else()
      set(exe ${T_NAME}.asan)
      set(core fvx_core_asan)
      set(labels ${T_LABELS} asan)
    endif()
    add_executable(${exe} ${T_SOURCES})
    target_link_libraries(${exe} PRIVATE ${core} fvx_testsupport_${v})
    if(v STREQUAL "asan")
      target_compile_options(${exe} PRIVATE ${FVX_SANITIZE_FLAGS})
      target_link_options(${exe} PRIVATE ${FVX_SANITIZE_FLAGS})
    endif()
    if(T_SIM AND TARGET freevix-sim)
      add_dependencies(${exe} freevix-sim)
    endif()
    add_test(NAME ${exe} COMMAND ${exe} ${T_ARGS})
    set_tests_properties(${exe} PROPERTIES LABELS "${labels}"
      TIMEOUT ${T_TIMEOUT} SKIP_RETURN_CODE 77
      ENVIRONMENT "${env};ASAN_OPTIONS=detect_leaks=1:abort_on_error=0;UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1")
  endforeach()

  if(FREEVIX_VALGRIND_TESTS AND NOT T_NO_VALGRIND)
    find_program(VALGRIND valgrind REQUIRED)
    add_test(NAME ${T_NAME}.valgrind
      COMMAND ${VALGRIND} --tool=memcheck --error-exitcode=99 --leak-check=full
              --show-leak-kinds=definite,indirect --errors-for-leak-kinds=definite,indirect
              --track-fds=no --trace-children=no --quiet
              --suppressions=${PROJECT_SOURCE_DIR}/tests/valgrind.supp
              $<TARGET_FILE:${T_NAME}> ${T_ARGS})
    math(EXPR vt "${T_TIMEOUT} * 4")
    set_tests_properties(${T_NAME}.valgrind PROPERTIES
      LABELS "${T_LABELS};valgrind" TIMEOUT ${vt} SKIP_RETURN_CODE 77
      ENVIRONMENT "${env};FREEVIX_UNDER_VALGRIND=1")
  endif()
endfunction()

# fvx_add_fuzz(NAME n SOURCE s [SECONDS sec]) -- a libFuzzer target built
# against the instrumented library, run from CTest for a short while from its
# committed seed corpus fuzz/corpus/<n> (copied, so runs never dirty the tree).
function(fvx_add_fuzz)
  cmake_parse_arguments(F "" "NAME;SOURCE;SECONDS" "" ${ARGN})
  if(NOT F_SECONDS)
    set(F_SECONDS 20)
  endif()
  add_executable(${F_NAME} ${F_SOURCE})
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
