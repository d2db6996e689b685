// An append-only file of binary records (length + checksum + bytes), for state that must
// survive a kill -9: the gateway's order-event log uses it so StreamOrderEvents sequences,
// replay and "what clients were told" continue across a restart. A torn or damaged tail (a
// crash mid-write) is detected by the checksum and cut off on open, never misread. Rewrite()
// replaces the file atomically (write, fsync, rename, fsync dir). Not thread-safe: one owner.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace perpgw::runtime {

class RecordLog {
 public:
  struct Options {
    std::string path;
    // fdatasync after every append: durable across a power loss. Without it a record is in the
    // page cache once Append returns, which survives a process crash (kill -9) but not the
    // machine's.
    bool fsync = false;
  };
  struct Replay {
    std::vector<std::string> records;  // in file order
    size_t damaged_bytes = 0;          // cut from the end (torn or bad record and after it)
  };

  // Opens (creating the directory and file as needed), replays, and truncates a damaged tail.
  static absl::StatusOr<std::unique_ptr<RecordLog>> Open(const Options& opts, Replay* replay);
  ~RecordLog();

  absl::Status Append(std::string_view record);
  // Atomically replaces the whole file with `records`.
  absl::Status Rewrite(const std::vector<std::string_view>& records);

  uint64_t bytes() const { return bytes_; }
  const std::string& path() const { return opts_.path; }

 private:
  RecordLog(Options opts, int fd, uint64_t bytes)
      : opts_(std::move(opts)), fd_(fd), bytes_(bytes) {}
  Options opts_;
  int fd_ = -1;
  uint64_t bytes_ = 0;
};

// Record framing (pure), exposed for tests: 4-byte little-endian length, 4-byte FNV-1a of the
// bytes, the bytes.
std::string FrameRecord(std::string_view record);
// Parses records from `data`; returns how many bytes form whole valid records (the rest is a
// damaged tail).
size_t ParseRecords(std::string_view data, std::vector<std::string>* out);

}  // namespace perpgw::runtime
