# bench_access_batch: prepare + end of 1,000 VMs in batches, next to VDDK's
# per-call-login pattern and to govmomi batching the same calls
# (bench/govmomi_batch); see docs/performance.md, "Access batches".
fvx_sim_bench(NAME bench_access_batch
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/access_batch.c
          ${CMAKE_CURRENT_LIST_DIR}/vddk_pattern.c)
fvx_go_peer(NAME govmomi_batch FOR bench_access_batch)
