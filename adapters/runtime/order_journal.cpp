// Order journal: line codec, locked append-only file, replay and atomic compaction.
#include "adapters/runtime/order_journal.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <unordered_map>

#include "adapters/runtime/durable_file.h"

namespace perpgw::runtime {
namespace {

constexpr std::string_view kVersion = "v1";

uint32_t Fnv1a(std::string_view s) {
  uint32_t h = 2166136261u;
  for (char c : s) {
    h ^= static_cast<uint8_t>(c);
    h *= 16777619u;
  }
  return h;
}

// Values are escaped so they never contain a tab, newline or backslash.
void Escape(std::string_view v, std::string* out) {
  for (char c : v) {
    switch (c) {
      case '\\': *out += "\\\\"; break;
      case '\t': *out += "\\t"; break;
      case '\n': *out += "\\n"; break;
      case '\r': *out += "\\r"; break;
      default: *out += c;
    }
  }
}

bool Unescape(std::string_view v, std::string* out) {
  out->clear();
  for (size_t i = 0; i < v.size(); ++i) {
    if (v[i] != '\\') {
      *out += v[i];
      continue;
    }
    if (++i == v.size()) return false;
    switch (v[i]) {
      case '\\': *out += '\\'; break;
      case 't': *out += '\t'; break;
      case 'n': *out += '\n'; break;
      case 'r': *out += '\r'; break;
      default: return false;
    }
  }
  return true;
}

void Field(std::string* out, std::string_view k, std::string_view v) {
  *out += '\t';
  *out += k;
  *out += '=';
  Escape(v, out);
}

bool ParseInt(std::string_view s, int64_t* out) {
  if (s.empty() || s.size() > 20) return false;
  bool neg = s[0] == '-';
  size_t i = neg ? 1 : 0;
  if (i == s.size()) return false;
  __int128 v = 0;
  for (; i < s.size(); ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (s[i] - '0');
    if (v > static_cast<__int128>(INT64_MAX) + 1) return false;
  }
  if (neg) v = -v;
  if (v > INT64_MAX || v < INT64_MIN) return false;
  *out = static_cast<int64_t>(v);
  return true;
}

}  // namespace

const char* ToString(EntryState s) {
  switch (s) {
    case EntryState::kInFlight: return "in_flight";
    case EntryState::kAccepted: return "accepted";
    case EntryState::kRejected: return "rejected";
    case EntryState::kUnknown: return "unknown";
    case EntryState::kNotExecuted: return "not_executed";
  }
  return "?";
}

std::string EncodeJournalLine(const JournalEntry& e) {
  std::string body(kVersion);
  Field(&body, "a", e.account);
  Field(&body, "c", e.client_order_id);
  Field(&body, "sym", e.symbol);
  Field(&body, "side", std::to_string(static_cast<int>(e.side)));
  Field(&body, "type", std::to_string(static_cast<int>(e.type)));
  Field(&body, "tif", std::to_string(static_cast<int>(e.tif)));
  Field(&body, "px", e.price.ToString());
  Field(&body, "sz", e.size.ToString());
  Field(&body, "slip", e.max_slippage_bps.ToString());
  Field(&body, "ro", e.reduce_only ? "1" : "0");
  Field(&body, "st", std::to_string(static_cast<int>(e.state)));
  Field(&body, "oid", e.venue_order_id);
  Field(&body, "vcid", std::to_string(e.venue_client_id));
  Field(&body, "sent", std::to_string(e.sent_time));
  Field(&body, "exp", std::to_string(e.expires));
  Field(&body, "os", std::to_string(static_cast<int>(e.status)));
  Field(&body, "fill", e.filled_size.ToString());
  Field(&body, "avg", e.avg_fill_price.ToString());
  Field(&body, "rsn", std::to_string(static_cast<int>(e.reason)));
  Field(&body, "msg", e.message.size() > 256 ? e.message.substr(0, 256) : e.message);
  Field(&body, "upd", std::to_string(e.updated));
  char sum[9];
  std::snprintf(sum, sizeof sum, "%08x", Fnv1a(body));
  return std::string(sum) + ' ' + body + '\n';
}

absl::StatusOr<JournalEntry> DecodeJournalLine(std::string_view line) {
  if (!line.empty() && line.back() == '\n') line.remove_suffix(1);
  if (line.size() < 10 || line[8] != ' ') return absl::DataLossError("journal line too short");
  std::string_view body = line.substr(9);
  char sum[9];
  std::snprintf(sum, sizeof sum, "%08x", Fnv1a(body));
  if (line.substr(0, 8) != std::string_view(sum, 8)) {
    return absl::DataLossError("journal line checksum mismatch");
  }
  std::unordered_map<std::string, std::string> f;
  size_t pos = body.find('\t');
  if (body.substr(0, pos) != kVersion) return absl::DataLossError("unknown journal version");
  while (pos != std::string_view::npos) {
    size_t next = body.find('\t', pos + 1);
    std::string_view kv =
        body.substr(pos + 1, next == std::string_view::npos ? next : next - pos - 1);
    size_t eq = kv.find('=');
    if (eq == std::string_view::npos) return absl::DataLossError("journal field without '='");
    std::string v;
    if (!Unescape(kv.substr(eq + 1), &v)) return absl::DataLossError("bad escape in journal");
    f[std::string(kv.substr(0, eq))] = std::move(v);
    pos = next;
  }
  JournalEntry e;
  auto str = [&](const char* k, std::string* out) {
    auto it = f.find(k);
    if (it == f.end()) return false;
    *out = it->second;
    return true;
  };
  auto num = [&](const char* k, int64_t* out) {
    auto it = f.find(k);
    return it != f.end() && ParseInt(it->second, out);
  };
  auto dec = [&](const char* k, Decimal* out) {
    auto it = f.find(k);
    if (it == f.end()) return false;
    auto d = Decimal::Parse(it->second);
    if (!d.ok()) return false;
    *out = *d;
    return true;
  };
  int64_t side, type, tif, st, os, rsn, vcid;
  std::string ro;
  bool ok = str("a", &e.account) && str("c", &e.client_order_id) && str("sym", &e.symbol) &&
            num("side", &side) && num("type", &type) && num("tif", &tif) && dec("px", &e.price) &&
            dec("sz", &e.size) && dec("slip", &e.max_slippage_bps) && str("ro", &ro) &&
            num("st", &st) && str("oid", &e.venue_order_id) && num("vcid", &vcid) &&
            num("sent", &e.sent_time) && num("exp", &e.expires) && num("os", &os) &&
            dec("fill", &e.filled_size) && dec("avg", &e.avg_fill_price) && num("rsn", &rsn) &&
            str("msg", &e.message) && num("upd", &e.updated);
  if (!ok) return absl::DataLossError("journal line misses a field");
  if (side < 1 || side > 2 || type < 1 || type > 2 || tif < 1 || tif > 4 || st < 1 || st > 5 ||
      os < 0 || os > 6 || rsn < 0 || rsn > static_cast<int>(CancelReason::kUnknown) || vcid < 0 ||
      e.account.empty() || e.client_order_id.empty()) {
    return absl::DataLossError("journal line has an out-of-range field");
  }
  e.side = static_cast<Side>(side);
  e.type = static_cast<OrderType>(type);
  e.tif = static_cast<TimeInForce>(tif);
  e.reduce_only = ro == "1";
  e.state = static_cast<EntryState>(st);
  e.venue_client_id = static_cast<uint64_t>(vcid);
  e.status = static_cast<OrderStatus>(os);
  e.reason = static_cast<CancelReason>(rsn);
  return e;
}

absl::StatusOr<std::unique_ptr<OrderJournal>> OrderJournal::Open(const Options& opts,
                                                                 Replay* replay) {
  if (opts.path.empty()) return absl::InvalidArgumentError("order journal: empty path");
  std::error_code ec;
  auto dir = std::filesystem::path(opts.path).parent_path();
  if (!dir.empty()) std::filesystem::create_directories(dir, ec);
  if (ec) {
    return absl::FailedPreconditionError("order journal: cannot create " + dir.string() + ": " +
                                         ec.message());
  }
  const std::string lock_path = opts.path + ".lock";
  int lock_fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (lock_fd < 0)
    return absl::FailedPreconditionError(ErrnoText("order journal: open", lock_path));
  if (::flock(lock_fd, LOCK_EX | LOCK_NB) != 0) {
    ::close(lock_fd);
    return absl::FailedPreconditionError(
        "order journal " + opts.path +
        " is locked by another process (another perpgwd using the same journal_dir?)");
  }
  // Replay.
  Replay r;
  {
    std::ifstream in(opts.path, std::ios::binary);
    std::unordered_map<std::string, size_t> index;
    std::string line;
    while (std::getline(in, line)) {
      ++r.lines;
      if (in.eof()) {  // no trailing newline: a torn last write
        ++r.skipped;
        break;
      }
      auto e = DecodeJournalLine(line);
      if (!e.ok()) {
        ++r.skipped;
        continue;
      }
      auto [it, fresh] = index.try_emplace(e->Key(), r.entries.size());
      if (fresh) {
        r.entries.push_back(std::move(*e));
      } else {
        r.entries[it->second] = std::move(*e);
      }
    }
  }
  int fd = ::open(opts.path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0) {
    ::close(lock_fd);
    return absl::FailedPreconditionError(ErrnoText("order journal: open", opts.path));
  }
  auto j = std::unique_ptr<OrderJournal>(new OrderJournal(opts, fd, lock_fd));
  j->lines_ = r.lines;
  if (replay) *replay = std::move(r);
  return j;
}

OrderJournal::~OrderJournal() {
  if (fd_ >= 0) ::close(fd_);
  if (lock_fd_ >= 0) ::close(lock_fd_);  // releases the flock
}

absl::Status OrderJournal::Append(const JournalEntry& e, bool sync) {
  // One write() per line: O_APPEND keeps lines whole against concurrent readers; a crash can
  // only tear the last line, which replay skips.
  if (auto st = WriteAll(fd_, EncodeJournalLine(e), "order journal", opts_.path); !st.ok()) {
    return st;
  }
  ++lines_;
  if (sync && opts_.fsync && ::fdatasync(fd_) != 0) {
    return absl::UnavailableError(ErrnoText("order journal: fdatasync", opts_.path));
  }
  return absl::OkStatus();
}

absl::Status OrderJournal::Compact(const std::vector<const JournalEntry*>& live) {
  std::string data;
  for (const auto* e : live) data += EncodeJournalLine(*e);
  auto nfd = ReplaceDurably(opts_.path, data, ".compact", "order journal");
  if (!nfd.ok()) return nfd.status();
  ::close(fd_);
  fd_ = *nfd;
  lines_ = live.size();
  return absl::OkStatus();
}

}  // namespace perpgw::runtime
