# bench_ingest: in-process Aster/Backpack depth-diff ingest (decode + BookSync) vs a simdjson
# ceiling on the same frames (see bench/README.md).
add_executable(bench_ingest ${CMAKE_CURRENT_LIST_DIR}/ingest.cpp)
target_link_libraries(bench_ingest PRIVATE perpgw_aster_pure perpgw_backpack_pure perpgw_api
  simdjson::simdjson)
