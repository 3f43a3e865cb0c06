# Runs one libFuzzer target for SECONDS from a fresh copy of its seed corpus.
if(NOT IS_DIRECTORY "${SEEDS}")
  message(FATAL_ERROR "no seed corpus at ${SEEDS}")
endif()
file(REMOVE_RECURSE "${WORK}")
file(COPY "${SEEDS}/" DESTINATION "${WORK}")
execute_process(COMMAND "${EXE}" -max_total_time=${SECONDS} -timeout=10
                        -rss_limit_mb=2048 -max_len=65536 -print_final_stats=1
                        "${WORK}"
                RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "fuzzer ${EXE} failed (${rc})")
endif()
