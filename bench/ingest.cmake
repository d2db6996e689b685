# bench_ingest: in-process depth-diff ingest (decode + BookSync) per venue (Aster, Backpack,
# Paradex, Lighter) vs a ceiling on the same frames (simdjson for JSON venues, a raw schema walk
# for Paradex SBE; see bench/README.md).
# Paradex frames are encoded with perpgw-sim's SBE encoder (perpgw_sim_paradex).
add_executable(bench_ingest ${CMAKE_CURRENT_LIST_DIR}/ingest.cpp)
target_link_libraries(bench_ingest PRIVATE perpgw_aster_pure perpgw_backpack_pure
  perpgw_paradex_pure perpgw_sim_paradex perpgw_lighter_pure perpgw_api simdjson::simdjson)
