# bench_peers_client: the minimal C++ StreamOrderBooks consumer of the peers bench (ccxt pro vs
# perpgwd + this client on the same perpgw-sim Backpack feed; bench/peers.py, bench/run.sh --peers).
if(TARGET perpgw_proto)
  add_executable(bench_peers_client ${CMAKE_CURRENT_LIST_DIR}/peers_client.cpp)
  target_link_libraries(bench_peers_client PRIVATE perpgw_proto Threads::Threads)
  target_include_directories(bench_peers_client PRIVATE ${PROJECT_SOURCE_DIR})
endif()
