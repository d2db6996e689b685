# bench_lighter_signing: Lighter tx hash / Schnorr sign / verify timings (medians of several runs).
add_executable(bench_lighter_signing ${CMAKE_CURRENT_LIST_DIR}/lighter_signing_bench.cpp)
target_link_libraries(bench_lighter_signing PRIVATE perpgw_lighter_signing)
