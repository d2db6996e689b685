#include "adapters/runtime/durable_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace perpgw::runtime {

std::string ErrnoText(const std::string& what, const std::string& path) {
  return what + " " + path + ": " + std::strerror(errno);
}

absl::Status WriteAll(int fd, std::string_view data, const std::string& what,
                      const std::string& path) {
  size_t off = 0;
  while (off < data.size()) {
    ssize_t n = ::write(fd, data.data() + off, data.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      return absl::UnavailableError(ErrnoText(what + ": write", path));
    }
    off += static_cast<size_t>(n);
  }
  return absl::OkStatus();
}

absl::StatusOr<int> ReplaceDurably(const std::string& path, std::string_view data,
                                   const std::string& tmp_suffix, const std::string& what) {
  const std::string tmp = path + tmp_suffix;
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return absl::UnavailableError(ErrnoText(what + ": open", tmp));
  absl::Status st = WriteAll(fd, data, what, tmp);
  if (st.ok() && ::fsync(fd) != 0) st = absl::UnavailableError(ErrnoText(what + ": fsync", tmp));
  ::close(fd);
  if (!st.ok()) {
    ::unlink(tmp.c_str());
    return st;
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    ::unlink(tmp.c_str());
    return absl::UnavailableError(ErrnoText(what + ": rename", tmp));
  }
  auto dir = std::filesystem::path(path).parent_path().string();
  if (dir.empty()) dir = ".";
  if (int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  int nfd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
  if (nfd < 0) return absl::UnavailableError(ErrnoText(what + ": reopen", path));
  return nfd;
}

}  // namespace perpgw::runtime
