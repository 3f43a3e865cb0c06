# Fuzz targets of the local disk formats (src/disk).
fvx_add_fuzz(NAME fuzz_disk_header SOURCE ${CMAKE_CURRENT_LIST_DIR}/disk_header.c SECONDS 20)
fvx_add_fuzz(NAME fuzz_disk_descriptor SOURCE ${CMAKE_CURRENT_LIST_DIR}/disk_descriptor.c SECONDS 20)
fvx_add_fuzz(NAME fuzz_disk_grain SOURCE ${CMAKE_CURRENT_LIST_DIR}/disk_grain.c SECONDS 20)
