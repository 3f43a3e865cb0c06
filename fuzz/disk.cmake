# Fuzz targets of the local disk formats (src/disk).
fvx_add_fuzz(NAME fuzz_disk_header SOURCE ${CMAKE_CURRENT_LIST_DIR}/disk_header.c SECONDS 20)
fvx_add_fuzz(NAME fuzz_disk_descriptor SOURCE ${CMAKE_CURRENT_LIST_DIR}/disk_descriptor.c SECONDS 20)
fvx_add_fuzz(NAME fuzz_disk_grain SOURCE ${CMAKE_CURRENT_LIST_DIR}/disk_grain.c SECONDS 20)
# The delta readers (one harness, built per format).
fvx_add_fuzz(NAME fuzz_disk_cowd SOURCE ${CMAKE_CURRENT_LIST_DIR}/disk_delta.c SECONDS 20)
target_compile_definitions(fuzz_disk_cowd PRIVATE FUZZ_COWD)
fvx_add_fuzz(NAME fuzz_disk_sesparse SOURCE ${CMAKE_CURRENT_LIST_DIR}/disk_delta.c SECONDS 20)
