# perpgw-nats-book: the NATS book consumer (bench/nats_book.h), a library for the NATS
# integration test and a program for people (gateway/publish/, README "Scale-out with NATS").
if(TARGET PkgConfig::LIBNATS)
  add_library(perpgw_nats_book STATIC ${CMAKE_CURRENT_LIST_DIR}/nats_book.cpp)
  target_include_directories(perpgw_nats_book PUBLIC ${PROJECT_SOURCE_DIR})
  target_link_libraries(perpgw_nats_book PUBLIC perpgw_proto perpgw_api PkgConfig::LIBNATS)
  add_executable(perpgw-nats-book ${CMAKE_CURRENT_LIST_DIR}/nats_book_main.cpp)
  target_link_libraries(perpgw-nats-book PRIVATE perpgw_nats_book)
endif()
