# bench_prepare: cold and warm PrepareForAccess + EndAccess pairs against the
# simulator, next to VDDK's per-call-login pattern (see docs/performance.md).
add_executable(bench_prepare ${CMAKE_CURRENT_LIST_DIR}/prepare_pair.c
               ${CMAKE_CURRENT_LIST_DIR}/vddk_pattern.c)
target_link_libraries(bench_prepare PRIVATE fvx_core fvx_testsupport_plain)
if(TARGET freevix-sim)
  add_dependencies(bench_prepare freevix-sim)
endif()
