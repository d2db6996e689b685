# Helpers shared by every directory: Catch2 unit-test executables registered with CTest.

# perpgw_add_unit_test(NAME name SOURCES a.cpp b.cpp LIBS lib1 lib2)
# Builds one Catch2 v2 test binary (main comes from perpgw_catch_main, compiled once) and
# registers it with CTest; the working directory is the source tree so tests can read
# tests/data/<venue>/... via the PERPGW_TEST_DATA definition.
function(perpgw_add_unit_test)
  cmake_parse_arguments(T "NO_TEST" "NAME" "SOURCES;LIBS" ${ARGN})
  add_executable(${T_NAME} ${T_SOURCES})
  target_link_libraries(${T_NAME} PRIVATE perpgw_catch_main ${T_LIBS})
  target_compile_definitions(${T_NAME} PRIVATE
    PERPGW_TEST_DATA="${PROJECT_SOURCE_DIR}/tests/data")
  if(NOT T_NO_TEST)  # NO_TEST: the caller registers the binary's CTest entries itself
    add_test(NAME ${T_NAME} COMMAND ${T_NAME})
    set_tests_properties(${T_NAME} PROPERTIES TIMEOUT 300 LABELS unit)
  endif()
endfunction()
