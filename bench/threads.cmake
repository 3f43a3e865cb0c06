# threaded_read: N threads reading N local disks, for the scaling figures of
# docs/performance.md ("Threads").  Public API and the shared library only.
add_executable(threaded_read ${CMAKE_CURRENT_LIST_DIR}/threaded_read.c
                             ${CMAKE_CURRENT_LIST_DIR}/measure.c)
target_include_directories(threaded_read PRIVATE ${PROJECT_SOURCE_DIR}/include)
target_link_libraries(threaded_read PRIVATE vixDiskLib Threads::Threads)
