// Dead man's switch: a strategy asks that its account's open orders are cancelled when its
// order-event stream has been gone for N ms, or when it stops renewing a heartbeat. Pure (times
// are passed in; the gateway polls Due() and does the cancelling); thread-safe.
//
// Streams: an account's countdown starts when its last guarded stream ends (with that stream's
// timeout) and stops when a guarded stream for the account opens again (the strategy came
// back). Heartbeats: per (account, owner), each renewal moves the deadline to now + timeout;
// timeout 0 disarms. Either firing cancels every open order of the account (the venues' own
// cancel-on-disconnect works the same way: per account, not per order).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "adapters/api/clock.h"
#include "adapters/api/mutex.h"

namespace perpgw::gateway::risk {

class DeadMan {
 public:
  uint64_t StreamOpened(const std::string& account, int64_t timeout_ns);
  void StreamClosed(uint64_t id, UnixNanos now);
  void Heartbeat(const std::string& account, const std::string& owner, int64_t timeout_ns,
                 UnixNanos now);

  struct Firing {
    std::string account;
    std::string why;  // "order-event stream gone for 1500 ms" / "no heartbeat from 'x' for ..."
  };
  // Countdowns that ran out by `now`; each fires once.
  std::vector<Firing> Due(UnixNanos now);

  struct View {
    int guarded_streams = 0;
    std::optional<UnixNanos> stream_deadline;              // countdown running (no guarded stream)
    std::map<std::string, UnixNanos> heartbeat_deadlines;  // by owner
  };
  View Of(const std::string& account) const;

 private:
  struct Stream {
    std::string account;
    int64_t timeout_ns = 0;
  };
  struct Countdown {
    UnixNanos deadline = 0;
    int64_t timeout_ns = 0;
  };
  mutable perpgw::Mutex mu_;
  uint64_t next_id_ ABSL_GUARDED_BY(mu_) = 1;
  std::map<uint64_t, Stream> streams_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, Countdown> stream_countdowns_ ABSL_GUARDED_BY(mu_);  // by account
  std::map<std::pair<std::string, std::string>, Countdown> heartbeats_ ABSL_GUARDED_BY(mu_);
};

}  // namespace perpgw::gateway::risk
