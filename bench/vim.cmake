# bench_vim_roundtrip: cost of SOAP calls on warm and cold sessions against
# the simulator, next to a govmomi peer doing the same calls (see
# docs/performance.md, "SOAP client").
add_executable(bench_vim_roundtrip ${CMAKE_CURRENT_LIST_DIR}/vim_roundtrip.c)
target_link_libraries(bench_vim_roundtrip PRIVATE fvx_core fvx_testsupport_plain)
if(TARGET freevix-sim)
  add_dependencies(bench_vim_roundtrip freevix-sim)
  target_compile_definitions(bench_vim_roundtrip PRIVATE
    FVX_SIM_DEFAULT="${FREEVIX_SIM_BIN}")
endif()
find_program(FVX_GO go)
if(FVX_GO)
  set(peer ${CMAKE_CURRENT_BINARY_DIR}/govmomi_peer)
  add_custom_command(OUTPUT ${peer}
    COMMAND ${CMAKE_COMMAND} -E env CGO_ENABLED=0 GO111MODULE=off GOPATH=/usr/share/gocode
            GOCACHE=${CMAKE_BINARY_DIR}/gocache ${FVX_GO} build -o ${peer} .
    WORKING_DIRECTORY ${CMAKE_CURRENT_LIST_DIR}/govmomi_peer
    DEPENDS ${CMAKE_CURRENT_LIST_DIR}/govmomi_peer/main.go
    COMMENT "Building govmomi_peer (go build)" VERBATIM)
  add_custom_target(bench_govmomi_peer DEPENDS ${peer})
  add_dependencies(bench_vim_roundtrip bench_govmomi_peer)
  target_compile_definitions(bench_vim_roundtrip PRIVATE
    FVX_GOVMOMI_PEER="${peer}")
endif()
