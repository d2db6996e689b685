# bench_e2e: perpgw-sim (Aster, Backpack, Paradex, Lighter) + perpgwd on loopback, gRPC book subscribers (latency, CPU, RSS,
# stalled subscriber), order path through the gateway vs direct, RSS with 50 books.
# Reuses the integration harness sources (process spawning, temp dirs, port files).
if(TARGET perpgwd AND TARGET perpgw-sim AND TARGET perpgw_proto)
  add_executable(bench_e2e ${CMAKE_CURRENT_LIST_DIR}/e2e.cpp
    ${PROJECT_SOURCE_DIR}/tests/integration/harness.cpp)
  target_include_directories(bench_e2e PRIVATE ${PROJECT_SOURCE_DIR})
  target_link_libraries(bench_e2e PRIVATE perpgw_proto perpgw_aster_pure perpgw_backpack_pure
    perpgw_paradex_pure perpgw_lighter_pure simdjson::simdjson
    Boost::system Threads::Threads)
  target_compile_definitions(bench_e2e PRIVATE
    PERPGWD_BIN="$<TARGET_FILE:perpgwd>" PERPGW_SIM_BIN="$<TARGET_FILE:perpgw-sim>")
endif()
