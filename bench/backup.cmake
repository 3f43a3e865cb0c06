# The backup bench (bench/backup_bench.sh): the freevix command and the
# simulator, and bench/govmomi_download for the comparison.
#   cmake --build build --target bench_backup && bench/backup_bench.sh build
add_custom_target(bench_backup)
add_dependencies(bench_backup freevix)
if(TARGET freevix-sim)
  add_dependencies(bench_backup freevix-sim)
endif()
fvx_go_peer(NAME govmomi_download FOR bench_backup)
