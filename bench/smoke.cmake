# bench_smoke: a CTest that runs every bench program briefly so the suite keeps working as venues
# arrive (exit codes and result shape only; figures come from bench/run.sh).
find_program(PERPGW_BENCH_PYTHON3 python3 PATHS /usr/bin NO_DEFAULT_PATH)
if(TARGET bench_ingest AND TARGET bench_e2e AND PERPGW_BENCH_PYTHON3)
  add_test(NAME perpgw_bench_smoke
    COMMAND ${PERPGW_BENCH_PYTHON3} ${CMAKE_CURRENT_LIST_DIR}/smoke_test.py
            $<TARGET_FILE:bench_ingest> $<TARGET_FILE:bench_e2e>)
  set_tests_properties(perpgw_bench_smoke PROPERTIES LABELS integration TIMEOUT 900)
endif()
