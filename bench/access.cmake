# bench_access_batch: prepare + end of 1,000 VMs in batches, next to VDDK's
# per-call-login pattern and to govmomi batching the same calls
# (bench/govmomi_batch); see docs/performance.md, "Access batches".
add_executable(bench_access_batch ${CMAKE_CURRENT_LIST_DIR}/access_batch.c
               ${CMAKE_CURRENT_LIST_DIR}/vddk_pattern.c)
target_link_libraries(bench_access_batch PRIVATE fvx_core fvx_testsupport_plain)
if(TARGET freevix-sim)
  add_dependencies(bench_access_batch freevix-sim)
endif()
find_program(FVX_GO go)
if(FVX_GO)
  set(batch_peer ${CMAKE_CURRENT_BINARY_DIR}/govmomi_batch)
  add_custom_command(OUTPUT ${batch_peer}
    COMMAND ${CMAKE_COMMAND} -E env CGO_ENABLED=0 GO111MODULE=off GOPATH=/usr/share/gocode
            GOCACHE=${CMAKE_BINARY_DIR}/gocache ${FVX_GO} build -o ${batch_peer} .
    WORKING_DIRECTORY ${CMAKE_CURRENT_LIST_DIR}/govmomi_batch
    DEPENDS ${CMAKE_CURRENT_LIST_DIR}/govmomi_batch/main.go
    COMMENT "Building govmomi_batch (go build)" VERBATIM)
  add_custom_target(bench_govmomi_batch DEPENDS ${batch_peer})
  add_dependencies(bench_access_batch bench_govmomi_batch)
endif()
