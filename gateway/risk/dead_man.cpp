#include "gateway/risk/dead_man.h"

namespace perpgw::gateway::risk {
namespace {
std::string Ms(int64_t ns) {
  return std::to_string(ns / 1000000) + " ms";
}
}  // namespace

uint64_t DeadMan::StreamOpened(const std::string& account, int64_t timeout_ns) {
  MutexLock lock(&mu_);
  const uint64_t id = next_id_++;
  streams_[id] = {account, timeout_ns};
  stream_countdowns_.erase(account);  // the strategy is back
  return id;
}

void DeadMan::StreamClosed(uint64_t id, UnixNanos now) {
  MutexLock lock(&mu_);
  auto it = streams_.find(id);
  if (it == streams_.end()) return;
  const Stream s = it->second;
  streams_.erase(it);
  for (const auto& [other, st] : streams_) {
    if (st.account == s.account) return;  // another guarded stream still watches the account
  }
  stream_countdowns_[s.account] = {now + s.timeout_ns, s.timeout_ns};
}

void DeadMan::Heartbeat(const std::string& account, const std::string& owner, int64_t timeout_ns,
                        UnixNanos now) {
  MutexLock lock(&mu_);
  if (timeout_ns <= 0) {
    heartbeats_.erase({account, owner});
    return;
  }
  heartbeats_[{account, owner}] = {now + timeout_ns, timeout_ns};
}

std::vector<DeadMan::Firing> DeadMan::Due(UnixNanos now) {
  MutexLock lock(&mu_);
  std::vector<Firing> out;
  for (auto it = stream_countdowns_.begin(); it != stream_countdowns_.end();) {
    if (it->second.deadline > now) {
      ++it;
      continue;
    }
    out.push_back({it->first, "order-event stream gone for " + Ms(it->second.timeout_ns)});
    it = stream_countdowns_.erase(it);
  }
  for (auto it = heartbeats_.begin(); it != heartbeats_.end();) {
    if (it->second.deadline > now) {
      ++it;
      continue;
    }
    out.push_back({it->first.first, "no heartbeat from '" + it->first.second + "' for " +
                                        Ms(it->second.timeout_ns)});
    it = heartbeats_.erase(it);
  }
  return out;
}

DeadMan::View DeadMan::Of(const std::string& account) const {
  MutexLock lock(&mu_);
  View v;
  for (const auto& [id, s] : streams_) v.guarded_streams += s.account == account;
  if (auto it = stream_countdowns_.find(account); it != stream_countdowns_.end())
    v.stream_deadline = it->second.deadline;
  for (const auto& [key, c] : heartbeats_)
    if (key.first == account) v.heartbeat_deadlines[key.second] = c.deadline;
  return v;
}

}  // namespace perpgw::gateway::risk
