# Datastore read throughput over plain HTTP on loopback (not a test): the
# scripted peer of tests/support against freevix and against curl.
fvx_sim_bench(NAME https_read SOURCES ${CMAKE_CURRENT_LIST_DIR}/https_read.c)
