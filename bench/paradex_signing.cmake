# bench_paradex_signing: Paradex Stark signing/verification timings (plain chrono, medians).
add_executable(bench_paradex_signing ${CMAKE_CURRENT_LIST_DIR}/paradex_signing_bench.cpp)
target_link_libraries(bench_paradex_signing PRIVATE perpgw_paradex_signing OpenSSL::Crypto)
