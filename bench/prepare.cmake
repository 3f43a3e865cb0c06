# bench_prepare: cold and warm PrepareForAccess + EndAccess pairs against the
# simulator, next to VDDK's per-call-login pattern (see docs/performance.md).
fvx_sim_bench(NAME bench_prepare
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/prepare_pair.c
          ${CMAKE_CURRENT_LIST_DIR}/vddk_pattern.c)
