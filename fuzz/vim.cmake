# Fuzz targets of the vSphere SOAP client (src/vim): answer parsing and
# fault decoding on hostile bytes, the remote-disk decoders.
fvx_add_fuzz(NAME fuzz_vim_response SOURCE ${CMAKE_CURRENT_LIST_DIR}/vim_response.c SECONDS 20)
fvx_add_fuzz(NAME fuzz_vim_fault SOURCE ${CMAKE_CURRENT_LIST_DIR}/vim_fault.c SECONDS 20)
fvx_add_fuzz(NAME fuzz_vim_remote SOURCE ${CMAKE_CURRENT_LIST_DIR}/vim_remote.c SECONDS 20)
