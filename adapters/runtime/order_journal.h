// The order journal: an append-only file per venue that makes client order ids idempotent
// across a gateway restart. One line per write, each a full snapshot of one entry (the last
// line for a key wins on replay); each line carries a checksum so a torn or damaged line (a
// crash mid-write) is skipped, never misread. Compaction rewrites the live entries to a new file
// and renames it over the old one. No secrets are ever written here: the entries hold order
// parameters, ids, states and times only.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "adapters/api/types.h"

namespace perpgw::runtime {

// Where one client order id stands with the venue.
enum class EntryState : uint8_t {
  kInFlight = 1,     // request sent (or about to be); no answer yet
  kAccepted = 2,     // the venue has the order (ack or found by query)
  kRejected = 3,     // the venue refused it; final for this client order id
  kUnknown = 4,      // no answer we can trust: resolve by querying before any resend
  kNotExecuted = 5,  // proven absent after its request could no longer execute: may be resent
};
const char* ToString(EntryState s);

struct JournalEntry {
  std::string account;
  std::string client_order_id;
  // The request as the strategy sent it (what a retry must match).
  std::string symbol;
  Side side = Side::kBuy;
  OrderType type = OrderType::kLimit;
  TimeInForce tif = TimeInForce::kGtc;
  Decimal price, size, max_slippage_bps;
  bool reduce_only = false;

  EntryState state = EntryState::kInFlight;
  std::string venue_order_id;
  uint64_t venue_client_id = 0;  // per-venue numeric id (Backpack clientId); 0 = none
  UnixNanos sent_time = 0;       // last attempt
  UnixNanos expires = 0;         // after this the last attempt can no longer execute
  OrderStatus status = OrderStatus::kPendingNew;  // last known venue state
  Decimal filled_size, avg_fill_price;            // avg_fill_price 0: none known (Order: absent)
  CancelReason reason = CancelReason::kNone;
  std::string message;  // last ack's message (venue text; never secrets)
  UnixNanos updated = 0;

  std::string Key() const { return Key(account, client_order_id); }
  static std::string Key(const std::string& account, const std::string& cid) {
    return account + '\x1f' + cid;
  }
};

// Line codec (pure): exposed for tests.
std::string EncodeJournalLine(const JournalEntry& e);
// Error on a bad checksum, an unknown version or a malformed field.
absl::StatusOr<JournalEntry> DecodeJournalLine(std::string_view line);

class OrderJournal {
 public:
  struct Options {
    std::string path;   // the journal file; its directory must exist or be creatable
    bool fsync = true;  // fsync after every Append(sync=true) (the default: power-loss safe)
  };
  struct Replay {
    std::vector<JournalEntry> entries;  // the last state of every key, in file order
    size_t lines = 0;                   // lines read
    size_t skipped = 0;                 // damaged/torn lines skipped
  };

  // Opens (creating) the file, takes an exclusive lock (a second gateway on the same journal
  // is an error, not a silent corruption) and replays it.
  static absl::StatusOr<std::unique_ptr<OrderJournal>> Open(const Options& opts, Replay* replay);
  ~OrderJournal();

  // Appends one entry's state. `sync`: fsync before returning when the policy asks for it
  // (used for the write that must be durable before an order request leaves).
  absl::Status Append(const JournalEntry& e, bool sync);
  // Rewrites the file with exactly `live` (atomically: new file, fsync, rename, fsync dir).
  absl::Status Compact(const std::vector<const JournalEntry*>& live);

  size_t lines_written() const { return lines_; }
  const std::string& path() const { return opts_.path; }

 private:
  OrderJournal(Options opts, int fd, int lock_fd)
      : opts_(std::move(opts)), fd_(fd), lock_fd_(lock_fd) {}
  Options opts_;
  int fd_ = -1;
  int lock_fd_ = -1;  // flock on <path>.lock (the journal itself is replaced by Compact)
  size_t lines_ = 0;
};

}  // namespace perpgw::runtime
