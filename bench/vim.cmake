# bench_vim_roundtrip: cost of SOAP calls on warm and cold sessions against
# the simulator, next to a govmomi peer doing the same calls (see
# docs/performance.md, "SOAP client").
fvx_sim_bench(NAME bench_vim_roundtrip
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/vim_roundtrip.c)
if(TARGET freevix-sim)
  target_compile_definitions(bench_vim_roundtrip PRIVATE
    FVX_SIM_DEFAULT="${FREEVIX_SIM_BIN}")
endif()
fvx_go_peer(NAME govmomi_peer FOR bench_vim_roundtrip)
if(govmomi_peer_PATH)
  target_compile_definitions(bench_vim_roundtrip PRIVATE
    FVX_GOVMOMI_PEER="${govmomi_peer_PATH}")
endif()
