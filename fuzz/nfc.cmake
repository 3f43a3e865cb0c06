# Fuzz targets of the NFC client (src/nfc): the AIO reply decoder on a
# socket fed with hostile bytes, and the pure parsers (authd lines, ERROR
# payloads, OPEN_FILE replies, CONNECT_TO lists, decompressors).
fvx_add_fuzz(NAME fuzz_nfc_reply SOURCE ${CMAKE_CURRENT_LIST_DIR}/nfc_reply.c SECONDS 20)
fvx_add_fuzz(NAME fuzz_nfc_line SOURCE ${CMAKE_CURRENT_LIST_DIR}/nfc_line.c SECONDS 20)
