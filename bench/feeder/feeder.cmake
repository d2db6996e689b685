# bench_feeder: a Backpack depth feed cheap enough to drive perpgwd and ccxt pro past what
# perpgw-sim generates on a 2-core box (pre-generated, pre-serialized frames; bench/peers.py
# --feeder). Its own epoll HTTP/WS server; OpenSSL only for the WS handshake's SHA-1/base64.
add_executable(bench_feeder ${CMAKE_CURRENT_LIST_DIR}/feeder.cpp)
target_link_libraries(bench_feeder PRIVATE OpenSSL::Crypto Threads::Threads)
target_include_directories(bench_feeder PRIVATE ${PROJECT_SOURCE_DIR})
