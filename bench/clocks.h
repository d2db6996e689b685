// Clock reads shared by the bench programs (bench_e2e, bench_peers_client, bench_feeder): ns as
// int64, straight from clock_gettime (no std::chrono epoch questions across processes).
#pragma once

#include <time.h>

#include <cstdint>

namespace perpgw::bench {

inline int64_t ClockNs(clockid_t id) {
  timespec ts;
  clock_gettime(id, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}
// CLOCK_REALTIME: comparable with stamps taken by other processes on this machine.
inline int64_t RealNs() { return ClockNs(CLOCK_REALTIME); }
inline int64_t MonoNs() { return ClockNs(CLOCK_MONOTONIC); }
// CPU time of the calling thread.
inline int64_t ThreadCpuNs() { return ClockNs(CLOCK_THREAD_CPUTIME_ID); }

}  // namespace perpgw::bench
