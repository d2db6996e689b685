# bench_grpc_floor: a gRPC server-streaming pair with nothing of perpgwd in it, the floor under
# the peers bench's CPU per update (bench/grpc_floor.py, issue 17).
if(TARGET perpgw_proto)
  add_executable(bench_grpc_floor ${CMAKE_CURRENT_LIST_DIR}/grpc_floor.cpp)
  target_link_libraries(bench_grpc_floor PRIVATE perpgw_proto Threads::Threads)
  target_include_directories(bench_grpc_floor PRIVATE ${PROJECT_SOURCE_DIR})
endif()
