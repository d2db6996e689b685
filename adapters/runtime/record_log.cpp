#include "adapters/runtime/record_log.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "adapters/runtime/durable_file.h"

namespace perpgw::runtime {
namespace {

constexpr size_t kHeader = 8;
constexpr uint32_t kMaxRecord = 16u << 20;  // a length beyond this is damage, not a record

uint32_t Fnv1a(std::string_view s) {
  uint32_t h = 2166136261u;
  for (unsigned char c : s) {
    h ^= c;
    h *= 16777619u;
  }
  return h;
}

void PutU32(std::string* out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

uint32_t GetU32(const char* p) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}

}  // namespace

std::string FrameRecord(std::string_view record) {
  std::string out;
  out.reserve(kHeader + record.size());
  PutU32(&out, static_cast<uint32_t>(record.size()));
  PutU32(&out, Fnv1a(record));
  out.append(record);
  return out;
}

size_t ParseRecords(std::string_view data, std::vector<std::string>* out) {
  size_t off = 0;
  while (data.size() - off >= kHeader) {
    const uint32_t len = GetU32(data.data() + off);
    const uint32_t sum = GetU32(data.data() + off + 4);
    if (len > kMaxRecord || data.size() - off - kHeader < len) break;
    std::string_view body = data.substr(off + kHeader, len);
    if (Fnv1a(body) != sum) break;
    out->emplace_back(body);
    off += kHeader + len;
  }
  return off;
}

absl::StatusOr<std::unique_ptr<RecordLog>> RecordLog::Open(const Options& opts, Replay* replay) {
  if (opts.path.empty()) return absl::InvalidArgumentError("record log: empty path");
  std::error_code ec;
  auto dir = std::filesystem::path(opts.path).parent_path();
  if (!dir.empty()) std::filesystem::create_directories(dir, ec);
  if (ec) {
    return absl::FailedPreconditionError("record log: cannot create " + dir.string() + ": " +
                                         ec.message());
  }
  int fd = ::open(opts.path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return absl::FailedPreconditionError(ErrnoText("record log: open", opts.path));
  std::string data;
  char buf[1 << 16];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      ::close(fd);
      return absl::FailedPreconditionError(ErrnoText("record log: read", opts.path));
    }
    if (n == 0) break;
    data.append(buf, static_cast<size_t>(n));
  }
  Replay r;
  const size_t good = ParseRecords(data, &r.records);
  r.damaged_bytes = data.size() - good;
  if (r.damaged_bytes > 0 && ::ftruncate(fd, static_cast<off_t>(good)) != 0) {
    ::close(fd);
    return absl::FailedPreconditionError(ErrnoText("record log: truncate", opts.path));
  }
  if (::lseek(fd, static_cast<off_t>(good), SEEK_SET) < 0) {
    ::close(fd);
    return absl::FailedPreconditionError(ErrnoText("record log: seek", opts.path));
  }
  if (replay) *replay = std::move(r);
  return std::unique_ptr<RecordLog>(new RecordLog(opts, fd, good));
}

RecordLog::~RecordLog() {
  if (fd_ >= 0) ::close(fd_);
}

absl::Status RecordLog::Append(std::string_view record) {
  // One write() per record: a crash can only tear the last one, which Open cuts off.
  if (auto st = WriteAll(fd_, FrameRecord(record), "record log", opts_.path); !st.ok()) {
    // A partial record (disk full) would hide every later one from the next Open: cut it.
    if (::ftruncate(fd_, static_cast<off_t>(bytes_)) == 0) ::lseek(fd_, 0, SEEK_END);
    return st;
  }
  bytes_ += kHeader + record.size();
  if (opts_.fsync && ::fdatasync(fd_) != 0) {
    return absl::UnavailableError(ErrnoText("record log: fdatasync", opts_.path));
  }
  return absl::OkStatus();
}

absl::Status RecordLog::Rewrite(const std::vector<std::string_view>& records) {
  std::string data;
  for (auto r : records) data += FrameRecord(r);
  auto nfd = ReplaceDurably(opts_.path, data, ".rewrite", "record log");
  if (!nfd.ok()) return nfd.status();
  ::close(fd_);
  fd_ = *nfd;
  bytes_ = data.size();
  return absl::OkStatus();
}

}  // namespace perpgw::runtime
