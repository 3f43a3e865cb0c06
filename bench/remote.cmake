# Remote disks (not tests; figures in docs/performance.md, "Remote disks"):
# a 2 GiB snapshot disk read over the datastore HTTPS interface next to curl
# and govmomi (bench/govmomi_download), and over NFC (nbdssl, nbd) next to
# the simulator's own reader.  Each starts the simulator itself.
foreach(b IN ITEMS https nfc)
  fvx_sim_bench(NAME bench_remote_${b}
    SOURCES ${CMAKE_CURRENT_LIST_DIR}/remote_${b}.c
            ${CMAKE_CURRENT_LIST_DIR}/remote_bench.c
            ${CMAKE_CURRENT_LIST_DIR}/remote_child.c)
  if(TARGET freevix-sim)
    target_compile_definitions(bench_remote_${b} PRIVATE
      FVX_SIM_DEFAULT="${FREEVIX_SIM_BIN}")
  endif()
endforeach()
fvx_go_peer(NAME govmomi_download FOR bench_remote_https)
if(govmomi_download_PATH)
  target_compile_definitions(bench_remote_https PRIVATE
    FVX_GOVMOMI_DOWNLOAD="${govmomi_download_PATH}")
endif()
