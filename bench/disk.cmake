# Local-disk read benchmark (not a test): bench/disk_bench.sh drives it.
add_executable(disk_read ${CMAKE_CURRENT_LIST_DIR}/disk_read.c)
target_link_libraries(disk_read PRIVATE fvx_core)
