# Fuzz target of the freevix command's backup manifests (cli/manifest.c and
# the JSON parser under it): what `freevix verify`, `restore`, `list` and an
# incremental backup read from a directory anyone may have written to.
fvx_add_fuzz(NAME fuzz_backup_manifest
             SOURCE ${CMAKE_CURRENT_LIST_DIR}/backup_manifest.c SECONDS 20
             EXTRA_SOURCES ${PROJECT_SOURCE_DIR}/cli/json.c
                           ${PROJECT_SOURCE_DIR}/cli/manifest.c
             INCLUDES ${PROJECT_SOURCE_DIR}/cli)
