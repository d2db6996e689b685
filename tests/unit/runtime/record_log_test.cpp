// Record log: framing round trip, a torn or damaged tail cut on open (never misread), appends
// after a cut, atomic rewrite.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

#include "adapters/runtime/record_log.h"

namespace perpgw::runtime {
namespace {

std::string TempPath(const std::string& name) {
  auto dir = std::filesystem::temp_directory_path() /
             ("perpgw_records_" + std::to_string(::getpid()) + "_" + name);
  std::filesystem::remove_all(dir);
  return (dir / "events.log").string();
}

std::vector<std::string> Reopen(const std::string& path, size_t* damaged = nullptr) {
  RecordLog::Replay r;
  auto log = RecordLog::Open({path}, &r);
  REQUIRE(log.ok());
  if (damaged) *damaged = r.damaged_bytes;
  return r.records;
}

}  // namespace

TEST_CASE("record framing round trip, binary safe", "[runtime][records]") {
  std::string data;
  const std::vector<std::string> in = {"", std::string("a\0b\n\xff", 5), std::string(70000, 'x')};
  for (const auto& r : in) data += FrameRecord(r);
  std::vector<std::string> out;
  CHECK(ParseRecords(data, &out) == data.size());
  CHECK(out == in);
}

TEST_CASE("a torn or damaged tail is cut on open and appends continue after it",
          "[runtime][records]") {
  const std::string path = TempPath("torn");
  {
    auto log = RecordLog::Open({path}, nullptr);
    REQUIRE(log.ok());
    REQUIRE((*log)->Append("one").ok());
    REQUIRE((*log)->Append("two").ok());
  }
  const auto good = std::filesystem::file_size(path);
  {
    std::ofstream f(path, std::ios::binary | std::ios::app);
    f << FrameRecord("three").substr(0, 9);  // a crash mid-write
  }
  size_t damaged = 0;
  CHECK(Reopen(path, &damaged) == std::vector<std::string>{"one", "two"});
  CHECK(damaged == 9);
  CHECK(std::filesystem::file_size(path) == good);
  {
    auto log = RecordLog::Open({path}, nullptr);
    REQUIRE(log.ok());
    REQUIRE((*log)->Append("four").ok());
  }
  CHECK(Reopen(path) == std::vector<std::string>{"one", "two", "four"});

  // A flipped byte inside a record: that record and everything after it are cut.
  {
    std::fstream f(path, std::ios::binary | std::ios::in | std::ios::out);
    f.seekp(static_cast<std::streamoff>(good) - 1);
    f.put('X');
  }
  CHECK(Reopen(path, &damaged) == std::vector<std::string>{"one"});
  CHECK(damaged > 0);
}

TEST_CASE("rewrite replaces the file atomically and appends go to the new file",
          "[runtime][records]") {
  const std::string path = TempPath("rewrite");
  auto log = RecordLog::Open({path, /*fsync=*/true}, nullptr);
  REQUIRE(log.ok());
  for (int i = 0; i < 100; ++i) REQUIRE((*log)->Append("r" + std::to_string(i)).ok());
  REQUIRE((*log)->Rewrite({"r98", "r99"}).ok());
  REQUIRE((*log)->Append("r100").ok());
  CHECK((*log)->bytes() == std::filesystem::file_size(path));
  CHECK(Reopen(path) == std::vector<std::string>{"r98", "r99", "r100"});
  CHECK_FALSE(std::filesystem::exists(path + ".rewrite"));
}

}  // namespace perpgw::runtime
