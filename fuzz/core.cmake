# Fuzz targets of the parsers the core branch owns: vmxSpecs and operator VM
# references (src/access), the InitEx configuration file (src/util), the
# lease journal (src/access) and the command's --vm-file reader (cli/).
fvx_add_fuzz(NAME fuzz_vmxspec SOURCE ${CMAKE_CURRENT_LIST_DIR}/vmxspec.c SECONDS 20)
fvx_add_fuzz(NAME fuzz_config SOURCE ${CMAKE_CURRENT_LIST_DIR}/config.c SECONDS 20)
fvx_add_fuzz(NAME fuzz_journal SOURCE ${CMAKE_CURRENT_LIST_DIR}/journal.c SECONDS 20)
fvx_add_fuzz(NAME fuzz_vmfile SOURCE ${CMAKE_CURRENT_LIST_DIR}/vmfile.c SECONDS 20
             EXTRA_SOURCES ${PROJECT_SOURCE_DIR}/cli/vmfile.c
             INCLUDES ${PROJECT_SOURCE_DIR}/cli)
