// File primitives the journal and the record log share: whole writes and atomic replacement.
#pragma once

#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace perpgw::runtime {

// "<what> <path>: <strerror(errno)>".
std::string ErrnoText(const std::string& what, const std::string& path);

// write() until all of `data` is written (EINTR retried); UNAVAILABLE naming `what` and `path`.
absl::Status WriteAll(int fd, std::string_view data, const std::string& what,
                      const std::string& path);

// Replaces `path` with `data` so a crash leaves either the old or the new file, never a mix:
// writes `path` + `tmp_suffix`, fsyncs it, renames it over `path`, fsyncs the directory.
// Returns an O_WRONLY|O_APPEND descriptor on the new file (the caller owns it).
absl::StatusOr<int> ReplaceDurably(const std::string& path, std::string_view data,
                                   const std::string& tmp_suffix, const std::string& what);

}  // namespace perpgw::runtime
