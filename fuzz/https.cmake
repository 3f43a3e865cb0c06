# Fuzz targets of the datastore HTTPS reader (src/https): the answer heads
# (status line, Content-Range, Content-Length, ...) a server sends.
fvx_add_fuzz(NAME fuzz_https_head SOURCE ${CMAKE_CURRENT_LIST_DIR}/https_head.c SECONDS 20)
