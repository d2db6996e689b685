// bench_feeder: a Backpack order-book feed that is cheap by construction, for the peers bench
// (bench/peers.py --feeder, issue 17) at rates perpgw-sim cannot generate on a 2-core box.
//
// It speaks the subset of Backpack's public protocol (/work/shared/protocols/backpack.md) that
// perpgwd's Backpack adapter and ccxt pro's backpack client use for order books:
//   REST  GET /api/v1/markets, /api/v1/assets, /api/v1/depth?symbol=&limit=, /api/v1/markPrices,
//         /api/v1/tickers, /api/v1/ticker?symbol=, /api/v1/openInterest, /api/v1/fundingRates
//         (the non-book answers are minimal and derived from the instrument list);
//   WS    one endpoint, {"method":"SUBSCRIBE"|"UNSUBSCRIBE","params":[...]}; only `depth.<SYMBOL>`
//         produces frames (other streams are accepted and stay quiet), in the envelope
//         {"stream":"depth.S","data":{"e":"depth","E":..,"s":..,"a":[..],"b":[..],"U":..,"u":..,
//         "T":..,"sim_ns":..}} exactly as perpgw-sim's sim/backpack/ws.cpp writes them
//         (U == u, contiguous per symbol; E/T microseconds; sim_ns the send stamp in ns).
//   Control (same port, the sim's control API shapes): GET /book?symbol=&depth=N (truth, with
//         update_id), GET /venues (updates_published), POST /rate {"rate":"R"}, GET /stats.
//
// How it stays cheap: per symbol a ring of valid deltas (a random walk of a book on an integer
// tick grid: level changes, deletes, mid moves that delete the crossed level in the same frame;
// the ring closes, i.e. its last frames bring the book back to the first state, so it can be
// replayed forever) is generated and serialized once, WS header included. At run time a frame's
// U/u (10 fixed digits: ids start at 1,000,000,000) and E/T/sim_ns (16/16/19 digits) are patched
// in place, the frame is appended to each subscriber's buffer and the truth book (dense integer
// arrays) gets the same changes. One write(2) per connection per 1 ms tick. A connection whose
// unsent bytes exceed --max-pending-mb is dropped and counted (the venue/sim drop slow readers).
//
// Usage: bench_feeder [--symbols N] [--rate R] [--levels L] [--port P] [--host H]
//                     [--ring FRAMES] [--seed S] [--max-pending-mb M] [--endpoints-out FILE]
//                     [--tick-us US (pacing tick, default 1000)]
//        bench_feeder --selftest-rate [--seconds S] [--symbols N] [--rate R (0 = as fast as
//                     possible)]: a thread reads and discards; prints the updates/s sustained
//                     and the feeder thread's CPU µs per update (one JSON line).
// Prints one JSON line on stdout once bound: {"rest_url","ws_url","control_url","symbols"}.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

#include "bench/clocks.h"

namespace {

using perpgw::bench::MonoNs;
using perpgw::bench::RealNs;
using perpgw::bench::ThreadCpuNs;

constexpr uint64_t kSeq0 = 1'000'000'000;  // 10 digits from the first id on
constexpr int kSeqW = 10, kUsW = 16, kNsW = 19;

void PutDigits(char* p, uint64_t v, int w) {
  for (int i = w - 1; i >= 0; --i) {
    p[i] = static_cast<char>('0' + v % 10);
    v /= 10;
  }
}

// Fixed-point integer -> decimal string with `dec` decimals (sizes and prices are never double).
std::string Fixed(int64_t v, int dec) {
  std::string s = std::to_string(v);
  if (dec == 0) return s;
  if (static_cast<int>(s.size()) <= dec) s.insert(0, dec + 1 - s.size(), '0');
  s.insert(s.size() - dec, ".");
  return s;
}

struct Change {
  int32_t idx;   // index in the symbol's dense arrays
  uint8_t side;  // 0 bid, 1 ask
  int64_t size;  // step units; 0 deletes
};

struct FrameRef {
  uint32_t off, len;                    // in Symbol::frames (WS header included)
  uint16_t o_e, o_u0, o_u1, o_t, o_ns;  // offsets of the patched digits from `off`
  uint32_t ch_begin, ch_end;            // in Symbol::changes
};

struct Symbol {
  std::string name, base;
  int price_dec = 1, size_dec = 3;
  int64_t center_ticks = 0;  // price ticks of the initial mid
  int width = 0, mid0 = 0;   // dense array width; array index of the initial mid
  std::vector<int64_t> bid, ask;  // the truth, step units by index
  std::string frames;
  std::vector<FrameRef> refs;
  std::vector<Change> changes;
  size_t pos = 0;
  uint64_t seq = kSeq0 - 1;  // id of the last update sent (the snapshot's lastUpdateId)
  std::vector<struct Conn*> subs;

  int64_t Ticks(int idx) const { return center_ticks - mid0 + idx; }
  std::string PriceAt(int idx) const { return Fixed(Ticks(idx), price_dec); }
};

// Builds the ring: `n` random-walk frames, then the closing frames back to the initial book.
void Generate(Symbol& s, int levels, size_t n, uint64_t seed) {
  const int R = 200;  // the mid stays within +-R ticks of its start (mean-reverting walk)
  const int D = levels;
  s.width = 2 * (R + D + 2) + 1;
  s.mid0 = R + D + 2;
  std::mt19937_64 rng(seed);
  auto uni = [&](int64_t lo, int64_t hi) {
    return lo + static_cast<int64_t>(rng() % static_cast<uint64_t>(hi - lo + 1));
  };
  std::vector<int64_t> bid(s.width, 0), ask(s.width, 0);
  for (int d = 1; d <= D; ++d) {
    bid[s.mid0 - d] = uni(1, 200);
    ask[s.mid0 + d] = uni(1, 200);
  }
  s.bid = bid;
  s.ask = ask;
  const std::vector<int64_t> bid0 = bid, ask0 = ask;
  int m = s.mid0;
  std::vector<Change> ch;
  auto set = [&](uint8_t side, int idx, int64_t size) {
    for (auto& c : ch) {
      if (c.side == side && c.idx == idx) {
        c.size = size;
        (side ? ask : bid)[idx] = size;
        return;
      }
    }
    ch.push_back({idx, side, size});
    (side ? ask : bid)[idx] = size;
  };
  auto shift = [&](int dir) {  // the mid moves one tick; crossed / out-of-range levels go
    m += dir;
    if (dir > 0) {
      if (ask[m]) set(1, m, 0);
      if (bid[m - D - 1]) set(0, m - D - 1, 0);
      if (!ask[m + D] && rng() % 2) set(1, m + D, uni(1, 200));
    } else {
      if (bid[m]) set(0, m, 0);
      if (ask[m + D + 1]) set(1, m + D + 1, 0);
      if (!bid[m - D] && rng() % 2) set(0, m - D, uni(1, 200));
    }
  };
  auto emit = [&]() {
    // {"stream":"depth.S","data":{"e":"depth","E":<16>,"s":"S","a":[..],"b":[..],"U":<10>,
    //  "u":<10>,"T":<16>,"sim_ns":<19>}}
    std::string j = "{\"stream\":\"depth." + s.name + "\",\"data\":{\"e\":\"depth\",\"E\":";
    const size_t o_e = j.size();
    j.append(kUsW, '0');
    // One side's changed levels as ["price","size"] pairs (side 1 = asks, 0 = bids).
    auto side_levels = [&](int side) {
      bool first = true;
      for (const auto& c : ch) {
        if (c.side != side) continue;
        j += first ? "[\"" : ",[\"";
        j += s.PriceAt(c.idx) + "\",\"" + Fixed(c.size, s.size_dec) + "\"]";
        first = false;
      }
    };
    j += ",\"s\":\"" + s.name + "\",\"a\":[";
    side_levels(1);
    j += "],\"b\":[";
    side_levels(0);
    j += "],\"U\":";
    const size_t o_u0 = j.size();
    j.append(kSeqW, '0');
    j += ",\"u\":";
    const size_t o_u1 = j.size();
    j.append(kSeqW, '0');
    j += ",\"T\":";
    const size_t o_t = j.size();
    j.append(kUsW, '0');
    j += ",\"sim_ns\":";
    const size_t o_ns = j.size();
    j.append(kNsW, '0');
    j += "}}";
    // Server frame, unmasked, FIN + text.
    std::string h;
    h += static_cast<char>(0x81);
    if (j.size() < 126) {
      h += static_cast<char>(j.size());
    } else {
      h += static_cast<char>(126);
      h += static_cast<char>((j.size() >> 8) & 0xff);
      h += static_cast<char>(j.size() & 0xff);
    }
    FrameRef r;
    r.off = static_cast<uint32_t>(s.frames.size());
    r.len = static_cast<uint32_t>(h.size() + j.size());
    r.o_e = static_cast<uint16_t>(h.size() + o_e);
    r.o_u0 = static_cast<uint16_t>(h.size() + o_u0);
    r.o_u1 = static_cast<uint16_t>(h.size() + o_u1);
    r.o_t = static_cast<uint16_t>(h.size() + o_t);
    r.o_ns = static_cast<uint16_t>(h.size() + o_ns);
    r.ch_begin = static_cast<uint32_t>(s.changes.size());
    s.changes.insert(s.changes.end(), ch.begin(), ch.end());
    r.ch_end = static_cast<uint32_t>(s.changes.size());
    s.frames += h;
    s.frames += j;
    s.refs.push_back(r);
    ch.clear();
  };
  for (size_t f = 0; f < n; ++f) {
    if (rng() % 100 < 15) {
      // Toward the start more often the farther the mid has wandered.
      const int off = m - s.mid0;
      const int64_t up_pm = 500 - 500 * off / R;  // per mille
      int dir = static_cast<int64_t>(rng() % 1000) < up_pm ? 1 : -1;
      if (off + dir > R - 1 || off + dir < -(R - 1)) dir = -dir;
      shift(dir);
    }
    const int k = 1 + static_cast<int>(rng() % 4);
    for (int i = 0; i < k; ++i) {
      // Distance from the touch: geometric-ish, near the top more often.
      int d = 1;
      while (d < D && rng() % 100 < 70) ++d;
      const uint8_t side = rng() % 2;
      const int idx = side ? m + d : m - d;
      const int64_t cur = (side ? ask : bid)[idx];
      // A delete only of a level that is there (a delete of an absent level is legal on the venue
      // but adds nothing here).
      if (cur && rng() % 100 < 30) {
        set(side, idx, 0);
      } else {
        int64_t v = uni(1, 200);
        if (v == cur) v = cur % 200 + 1;
        set(side, idx, v);
      }
    }
    if (ch.empty()) set(1, m + 1, ask[m + 1] % 200 + 1);
    emit();
  }
  // Close the ring: walk the mid back, then restore every level of the first book.
  while (m != s.mid0) {
    shift(m < s.mid0 ? 1 : -1);
    if (ch.empty()) set(1, m + 1, ask[m + 1] % 200 + 1);
    emit();
  }
  for (uint8_t side = 0; side < 2; ++side) {
    auto& cur = side ? ask : bid;
    const auto& want = side ? ask0 : bid0;
    for (int i = 0; i < s.width; ++i) {
      if (cur[i] != want[i]) {
        set(side, i, want[i]);
        if (ch.size() >= 8) emit();
      }
    }
  }
  if (!ch.empty()) emit();
  // The ring's last frame leaves the book as its first state found it: checked, so a replay is
  // a valid continuation.
  if (bid != bid0 || ask != ask0) {
    std::fprintf(stderr, "bench_feeder: ring for %s does not close\n", s.name.c_str());
    std::exit(3);
  }
}

// ------------------------------------------------------------------ connections

struct Conn {
  int fd = -1;
  bool ws = false;
  bool closing = false;
  std::string in;
  std::string out;
  size_t out_off = 0;
  std::vector<int> depth_subs;  // symbol indexes
  bool want_out = false;
  size_t pending() const { return out.size() - out_off; }
};

struct Args {
  int symbols = 1;
  double rate = 1000;
  int levels = 20;
  int port = 0;
  std::string host = "127.0.0.1";
  size_t ring = 0;
  uint64_t seed = 7;
  size_t max_pending = 16u << 20;
  std::string endpoints_out;
  bool selftest = false;
  double seconds = 3;
  int tick_us = 1000;
};

class Feeder {
 public:
  explicit Feeder(const Args& a) : a_(a) {
    const size_t ring = a.ring ? a.ring : std::max<size_t>(4096, (size_t{1} << 18) / a.symbols);
    for (int i = 0; i < a.symbols; ++i) {
      Symbol s;
      if (i == 0) {
        s.name = "BTC_USDC_PERP";
        s.base = "BTC";
        s.price_dec = 1;
        s.size_dec = 3;
        s.center_ticks = 1000000;  // 100000.0
      } else {
        char b[16];
        std::snprintf(b, sizeof b, "S%03d", i);
        s.base = b;
        s.name = s.base + "_USDC_PERP";
        s.price_dec = 2;
        s.size_dec = 2;
        s.center_ticks = (100 + i) * 100;  // 100.00 + i
      }
      Generate(s, a.levels, ring, a.seed * 1000003 + i);
      index_[s.name] = i;
      syms_.push_back(std::move(s));
    }
    rate_ = a.rate;
  }

  bool Listen() {
    lfd_ = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(lfd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(static_cast<uint16_t>(a_.port));
    inet_pton(AF_INET, a_.host.c_str(), &sa.sin_addr);
    if (bind(lfd_, reinterpret_cast<sockaddr*>(&sa), sizeof sa) || listen(lfd_, 128)) {
      std::perror("bench_feeder: bind/listen");
      return false;
    }
    socklen_t sl = sizeof sa;
    getsockname(lfd_, reinterpret_cast<sockaddr*>(&sa), &sl);
    port_ = ntohs(sa.sin_port);
    ep_ = epoll_create1(EPOLL_CLOEXEC);
    Add(lfd_, EPOLLIN, nullptr);
    tfd_ = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    itimerspec its{};
    // 1 ms ticks by default (--tick-us): every update due in the tick goes out in one write, so a
    // reader sees bursts of rate/1000 frames (a gateway may merge them into fewer messages).
    its.it_interval.tv_nsec = static_cast<long>(a_.tick_us) * 1000;
    its.it_value.tv_nsec = static_cast<long>(a_.tick_us) * 1000;
    timerfd_settime(tfd_, 0, &its, nullptr);
    Add(tfd_, EPOLLIN, &tfd_);
    epoch_ns_ = MonoNs();
    return true;
  }

  int port() const { return port_; }
  const std::vector<Symbol>& symbols() const { return syms_; }

  std::string EndpointsLine() const {
    const std::string base = "http://" + a_.host + ":" + std::to_string(port_);
    const std::string ws = "ws://" + a_.host + ":" + std::to_string(port_);
    std::string syms = "[";
    for (size_t i = 0; i < syms_.size(); ++i) syms += (i ? ",\"" : "\"") + syms_[i].name + "\"";
    syms += "]";
    // The sim's endpoints document shape (peers.py and ccxt_consumer.mjs read it) + flat URLs.
    return "{\"rest_url\":\"" + base + "\",\"ws_url\":\"" + ws + "\",\"control_url\":\"" + base +
           "\",\"pid\":" + std::to_string(getpid()) + ",\"symbols\":" + syms +
           ",\"venues\":{\"backpack\":{\"rest_url\":\"" + base + "\",\"ws_url\":\"" + ws +
           "\",\"symbols\":" + syms + "}}}";
  }

  // Runs until `stop` (selftest) or forever.
  void Run(const std::atomic<bool>* stop = nullptr) {
    epoll_event evs[64];
    while (!stop || !stop->load(std::memory_order_relaxed)) {
      // As fast as possible (rate 0 in selftest): keep ticking while the readers keep up.
      const int timeout = (unlimited_ && Drained()) ? 0 : 50;
      const int n = epoll_wait(ep_, evs, 64, timeout);
      for (int i = 0; i < n; ++i) {
        void* p = evs[i].data.ptr;
        if (p == nullptr) {
          Accept();
        } else if (p == &tfd_) {
          uint64_t x;
          while (read(tfd_, &x, sizeof x) > 0) {
          }
          if (!unlimited_) Tick();
        } else {
          Conn* c = static_cast<Conn*>(p);
          if (evs[i].events & (EPOLLERR | EPOLLHUP)) {
            Close(c);
            continue;
          }
          if (evs[i].events & EPOLLIN) OnReadable(c);
          if (conns_.count(c->fd) && (evs[i].events & EPOLLOUT)) Flush(c);
        }
      }
      if (unlimited_ && Drained()) Tick();
      Reap();
    }
  }

  void set_unlimited(bool u) { unlimited_ = u; }
  uint64_t sent() const { return updates_; }
  uint64_t slow_drops() const { return slow_drops_; }
  uint64_t bytes() const { return bytes_; }

 private:
  void Add(int fd, uint32_t ev, void* p) {
    epoll_event e{};
    e.events = ev;
    e.data.ptr = p;
    epoll_ctl(ep_, EPOLL_CTL_ADD, fd, &e);
  }

  bool Drained() const {
    for (const auto& [fd, c] : conns_) {
      if (c->ws && c->pending() > (1u << 20)) return false;
    }
    return true;
  }

  void Accept() {
    while (true) {
      int fd = accept4(lfd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) return;
      int one = 1;
      setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      auto c = std::make_unique<Conn>();
      c->fd = fd;
      Add(fd, EPOLLIN, c.get());
      conns_[fd] = std::move(c);
    }
  }

  // Produces the updates due since the last tick (paced on the monotonic clock from the last
  // rate change); a backlog of more than 20 ms is not made up (the achieved rate then shows it).
  void Tick() {
    const int64_t now = MonoNs();
    uint64_t n;
    if (unlimited_) {
      n = 2048;
    } else {
      if (rate_ <= 0) return;
      const double due = rate_ * static_cast<double>(now - epoch_ns_) / 1e9;
      const double behind = due - static_cast<double>(since_epoch_);
      if (behind < 1) return;
      n = static_cast<uint64_t>(behind);
      const uint64_t cap = static_cast<uint64_t>(rate_ * 0.02) + 1;
      if (n > cap) {
        since_epoch_ += n - cap;  // skipped, never sent
        n = cap;
      }
    }
    const int64_t rn = RealNs();
    char us[kUsW], ns[kNsW];
    PutDigits(us, static_cast<uint64_t>(rn / 1000), kUsW);
    PutDigits(ns, static_cast<uint64_t>(rn), kNsW);
    const size_t nsym = syms_.size();
    for (uint64_t k = 0; k < n; ++k) {
      Symbol& s = syms_[rr_];
      if (++rr_ == nsym) rr_ = 0;
      const FrameRef& r = s.refs[s.pos];
      if (++s.pos == s.refs.size()) s.pos = 0;
      ++s.seq;
      char* f = s.frames.data() + r.off;
      std::memcpy(f + r.o_e, us, kUsW);
      std::memcpy(f + r.o_t, us, kUsW);
      std::memcpy(f + r.o_ns, ns, kNsW);
      PutDigits(f + r.o_u0, s.seq, kSeqW);
      std::memcpy(f + r.o_u1, f + r.o_u0, kSeqW);
      for (uint32_t i = r.ch_begin; i < r.ch_end; ++i) {
        const Change& c = s.changes[i];
        (c.side ? s.ask : s.bid)[c.idx] = c.size;
      }
      for (Conn* c : s.subs) c->out.append(f, r.len);
    }
    since_epoch_ += n;
    updates_ += n;
    for (auto& [fd, c] : conns_) {
      if (c->ws && c->pending()) Flush(c.get());
    }
  }

  void Flush(Conn* c) {
    while (c->pending()) {
      const ssize_t w = send(c->fd, c->out.data() + c->out_off, c->pending(), MSG_NOSIGNAL);
      if (w > 0) {
        c->out_off += static_cast<size_t>(w);
        bytes_ += static_cast<size_t>(w);
        continue;
      }
      if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
      c->closing = true;  // reset / closed by the peer
      return;
    }
    if (!c->pending()) {
      c->out.clear();
      c->out_off = 0;
      if (c->want_out) SetOut(c, false);
      return;
    }
    if (c->pending() > a_.max_pending) {
      // A slow consumer: dropped like the venue/sim drop one.
      ++slow_drops_;
      std::fprintf(stderr, "bench_feeder: slow consumer dropped (%zu bytes unsent)\n", c->pending());
      c->closing = true;
      return;
    }
    if (c->out_off > (1u << 20) && c->out_off > c->out.size() / 2) {
      c->out.erase(0, c->out_off);
      c->out_off = 0;
    }
    if (!c->want_out) SetOut(c, true);
  }

  void SetOut(Conn* c, bool on) {
    c->want_out = on;
    epoll_event e{};
    e.events = static_cast<uint32_t>(EPOLLIN) | (on ? static_cast<uint32_t>(EPOLLOUT) : 0u);
    e.data.ptr = c;
    epoll_ctl(ep_, EPOLL_CTL_MOD, c->fd, &e);
  }

  void Close(Conn* c) { c->closing = true; }

  void Reap() {
    for (auto it = conns_.begin(); it != conns_.end();) {
      Conn* c = it->second.get();
      if (c->closing) {
        for (int si : c->depth_subs) {
          auto& v = syms_[si].subs;
          v.erase(std::remove(v.begin(), v.end(), c), v.end());
        }
        epoll_ctl(ep_, EPOLL_CTL_DEL, c->fd, nullptr);
        close(c->fd);
        it = conns_.erase(it);
      } else {
        ++it;
      }
    }
  }

  void OnReadable(Conn* c) {
    char buf[65536];
    while (true) {
      const ssize_t r = read(c->fd, buf, sizeof buf);
      if (r > 0) {
        c->in.append(buf, static_cast<size_t>(r));
        continue;
      }
      if (r == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) {
        c->closing = true;
        return;
      }
      break;
    }
    if (c->ws) {
      ParseWs(c);
    } else {
      ParseHttp(c);
    }
  }

  // ------------------------------------------------------------ HTTP/1.1 (keep-alive)

  static std::string Lower(std::string s) {
    for (auto& ch : s) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    return s;
  }

  void ParseHttp(Conn* c) {
    while (!c->ws && !c->closing) {
      const size_t end = c->in.find("\r\n\r\n");
      if (end == std::string::npos) return;
      const std::string head = c->in.substr(0, end);
      std::string method, target;
      std::unordered_map<std::string, std::string> hdr;
      size_t p = head.find("\r\n");
      const std::string line = head.substr(0, p);
      const size_t s1 = line.find(' '), s2 = line.find(' ', s1 + 1);
      method = line.substr(0, s1);
      target = line.substr(s1 + 1, s2 - s1 - 1);
      while (p != std::string::npos && p < head.size()) {
        const size_t q = head.find("\r\n", p + 2);
        const std::string h = head.substr(p + 2, (q == std::string::npos ? head.size() : q) - p - 2);
        const size_t colon = h.find(':');
        if (colon != std::string::npos) {
          size_t v = colon + 1;
          while (v < h.size() && h[v] == ' ') ++v;
          hdr[Lower(h.substr(0, colon))] = h.substr(v);
        }
        p = q;
      }
      size_t body_len = 0;
      if (hdr.count("content-length")) body_len = std::strtoul(hdr["content-length"].c_str(), nullptr, 10);
      if (c->in.size() < end + 4 + body_len) return;
      const std::string body = c->in.substr(end + 4, body_len);
      c->in.erase(0, end + 4 + body_len);
      if (Lower(hdr["upgrade"]) == "websocket") {
        Upgrade(c, hdr["sec-websocket-key"]);
        return;
      }
      int status = 200;
      const std::string resp = Route(method, target, body, &status);
      std::string out = "HTTP/1.1 " + std::to_string(status) + (status == 200 ? " OK" : " Error") +
                        "\r\nContent-Type: application/json\r\nContent-Length: " +
                        std::to_string(resp.size()) + "\r\nConnection: keep-alive\r\n\r\n" + resp;
      c->out += out;
      Flush(c);
    }
  }

  void Upgrade(Conn* c, const std::string& key) {
    const std::string k = key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
    unsigned char md[SHA_DIGEST_LENGTH];
    SHA1(reinterpret_cast<const unsigned char*>(k.data()), k.size(), md);
    unsigned char b64[64];
    const int n = EVP_EncodeBlock(b64, md, SHA_DIGEST_LENGTH);
    c->out += "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
              "Sec-WebSocket-Accept: " +
              std::string(reinterpret_cast<char*>(b64), n) + "\r\n\r\n";
    c->ws = true;
    Flush(c);
    if (!c->in.empty()) ParseWs(c);
  }

  static std::string Query(const std::string& target, const std::string& name) {
    const size_t q = target.find('?');
    if (q == std::string::npos) return "";
    size_t p = q + 1;
    while (p < target.size()) {
      size_t amp = target.find('&', p);
      if (amp == std::string::npos) amp = target.size();
      const std::string kv = target.substr(p, amp - p);
      const size_t eq = kv.find('=');
      if (kv.substr(0, eq) == name) return eq == std::string::npos ? "" : kv.substr(eq + 1);
      p = amp + 1;
    }
    return "";
  }

  Symbol* Find(const std::string& name) {
    auto it = index_.find(name);
    return it == index_.end() ? nullptr : &syms_[it->second];
  }

  std::string Route(const std::string& method, const std::string& target, const std::string& body,
                    int* status) {
    const std::string path = target.substr(0, target.find('?'));
    const int64_t now_us = RealNs() / 1000;
    const int64_t next_funding_ms = (now_us / 3600000000 + 1) * 3600000;
    auto each = [&](auto&& fn) {
      std::string o = "[";
      for (size_t i = 0; i < syms_.size(); ++i) {
        if (i) o += ",";
        o += fn(syms_[i]);
      }
      return o + "]";
    };
    auto mid = [](const Symbol& s) { return Fixed(s.center_ticks, s.price_dec); };
    auto ticker = [&](const Symbol& s) {
      return "{\"firstPrice\":\"" + mid(s) + "\",\"high\":\"" + mid(s) + "\",\"lastPrice\":\"" +
             mid(s) + "\",\"low\":\"" + mid(s) +
             "\",\"priceChange\":\"0\",\"priceChangePercent\":\"0\",\"quoteVolume\":\"0\","
             "\"symbol\":\"" + s.name + "\",\"trades\":\"0\",\"volume\":\"0\"}";
    };
    if (method == "GET" && path == "/api/v1/markets") {
      return each([&](const Symbol& s) {
        const std::string tick = Fixed(1, s.price_dec), step = Fixed(1, s.size_dec);
        return "{\"symbol\":\"" + s.name + "\",\"baseSymbol\":\"" + s.base +
               "\",\"quoteSymbol\":\"USDC\",\"marketType\":\"PERP\",\"filters\":{\"price\":{"
               "\"minPrice\":\"" + tick + "\",\"maxPrice\":null,\"tickSize\":\"" + tick +
               "\",\"maxMultiplier\":\"1.25\",\"minMultiplier\":\"0.75\",\"maxImpactMultiplier\":"
               "\"1.03\",\"minImpactMultiplier\":\"0.97\",\"meanMarkPriceBand\":{\"maxMultiplier\":"
               "\"1.1\",\"minMultiplier\":\"0.9\"},\"meanPremiumBand\":{\"tolerancePct\":\"0.05\"},"
               "\"borrowEntryFeeMaxMultiplier\":null,\"borrowEntryFeeMinMultiplier\":null},"
               "\"quantity\":{\"minQuantity\":\"" + step + "\",\"maxQuantity\":null,\"stepSize\":\"" +
               step + "\"}},\"imfFunction\":{\"base\":\"0.01333\",\"factor\":\"0.00006\",\"type\":"
               "\"sqrt\"},\"mmfFunction\":{\"base\":\"0.0066\",\"factor\":\"0.000036\",\"type\":"
               "\"sqrt\"},\"fundingInterval\":3600000,\"fundingRateUpperBound\":\"100\","
               "\"fundingRateLowerBound\":\"-100\",\"openInterestLimit\":\"500\",\"orderBookState\":"
               "\"Open\",\"createdAt\":\"2025-01-21T06:34:54.691858\",\"visible\":true,"
               "\"positionLimitWeight\":\"1\"}";
      });
    }
    if (method == "GET" && path == "/api/v1/assets") {
      std::vector<std::string> names = {"USDC"};
      for (const auto& s : syms_) names.push_back(s.base);
      std::string o = "[";
      for (size_t i = 0; i < names.size(); ++i) {
        o += (i ? "," : "");
        o += "{\"coingeckoId\":null,\"displayName\":\"" + names[i] + "\",\"symbol\":\"" + names[i] +
             "\",\"tokens\":[{\"blockchain\":\"Solana\",\"contractAddress\":null,\"depositEnabled\":"
             "false,\"displayName\":\"" + names[i] + "\",\"maximumWithdrawal\":null,"
             "\"minimumDeposit\":\"0\",\"minimumWithdrawal\":\"0\",\"withdrawEnabled\":false,"
             "\"withdrawalFee\":\"0\"}]}";
      }
      return o + "]";
    }
    if (method == "GET" && path == "/api/v1/markPrices") {
      return each([&](const Symbol& s) {
        return "{\"fundingRate\":\"0.0001\",\"indexPrice\":\"" + mid(s) + "\",\"markPrice\":\"" +
               mid(s) + "\",\"nextFundingTimestamp\":" + std::to_string(next_funding_ms) +
               ",\"symbol\":\"" + s.name + "\"}";
      });
    }
    if (method == "GET" && path == "/api/v1/tickers") return each(ticker);
    if (method == "GET" && path == "/api/v1/openInterest") {
      return each([&](const Symbol& s) {
        return "{\"openInterest\":\"0\",\"symbol\":\"" + s.name + "\",\"timestamp\":" +
               std::to_string(now_us / 1000) + "}";
      });
    }
    if (method == "GET" && path == "/api/v1/fundingRates") return "[]";
    if (method == "GET" && (path == "/api/v1/ticker" || path == "/api/v1/depth")) {
      Symbol* s = Find(Query(target, "symbol"));
      if (!s) {
        *status = 400;
        return "{\"code\":\"INVALID_CLIENT_REQUEST\",\"message\":\"Invalid symbol\"}";
      }
      if (path == "/api/v1/ticker") return ticker(*s);
      const std::string lim = Query(target, "limit");
      const int limit = lim.empty() ? 1000 : std::atoi(lim.c_str());
      // The venue's order: both sides ascending by price.
      std::vector<int> b, a;
      for (int i = s->width - 1; i >= 0 && static_cast<int>(b.size()) < limit; --i) {
        if (s->bid[i]) b.push_back(i);
      }
      for (int i = 0; i < s->width && static_cast<int>(a.size()) < limit; ++i) {
        if (s->ask[i]) a.push_back(i);
      }
      std::reverse(b.begin(), b.end());
      auto lv = [&](const std::vector<int>& v, const std::vector<int64_t>& side) {
        std::string o = "[";
        for (size_t i = 0; i < v.size(); ++i) {
          o += (i ? ",[\"" : "[\"") + s->PriceAt(v[i]) + "\",\"" + Fixed(side[v[i]], s->size_dec) +
               "\"]";
        }
        return o + "]";
      };
      return "{\"asks\":" + lv(a, s->ask) + ",\"bids\":" + lv(b, s->bid) + ",\"lastUpdateId\":\"" +
             std::to_string(s->seq) + "\",\"timestamp\":" + std::to_string(now_us) + "}";
    }
    // Control API (the sim's shapes).
    if (method == "GET" && path == "/book") {
      Symbol* s = Find(Query(target, "symbol"));
      if (!s) {
        *status = 404;
        return "{\"error\":\"unknown symbol\"}";
      }
      const std::string dq = Query(target, "depth");
      const int depth = dq.empty() ? 10 : std::atoi(dq.c_str());
      std::string o = "{\"venue\":\"backpack\",\"symbol\":\"" + s->name +
                      "\",\"update_id\":" + std::to_string(s->seq) + ",\"bids\":[";
      int k = 0;
      for (int i = s->width - 1; i >= 0 && k < depth; --i) {
        if (!s->bid[i]) continue;
        o += (k++ ? ",[\"" : "[\"") + s->PriceAt(i) + "\",\"" + Fixed(s->bid[i], s->size_dec) + "\"]";
      }
      o += "],\"asks\":[";
      k = 0;
      for (int i = 0; i < s->width && k < depth; ++i) {
        if (!s->ask[i]) continue;
        o += (k++ ? ",[\"" : "[\"") + s->PriceAt(i) + "\",\"" + Fixed(s->ask[i], s->size_dec) + "\"]";
      }
      return o + "]}";
    }
    if (method == "GET" && (path == "/venues" || path == "/stats")) {
      size_t nws = 0;
      for (const auto& [fd, c] : conns_) nws += c->ws;
      char r[64];
      std::snprintf(r, sizeof r, "%.3f", rate_);
      return "{\"venues\":[{\"name\":\"backpack\",\"ws_connections\":" + std::to_string(nws) +
             ",\"rate\":" + r + ",\"updates_published\":" + std::to_string(updates_) +
             ",\"bytes_sent\":" + std::to_string(bytes_) + ",\"slow_consumers_dropped\":" +
             std::to_string(slow_drops_) + ",\"symbols\":" + std::to_string(syms_.size()) + "}]}";
    }
    if (method == "POST" && path == "/rate") {
      // {"venue":"backpack","rate":"R"} (R a string or a number, as the sim takes it).
      const size_t k = body.find("\"rate\"");
      if (k == std::string::npos) {
        *status = 400;
        return "{\"error\":\"rate missing\"}";
      }
      size_t v = body.find(':', k) + 1;
      while (v < body.size() && (body[v] == ' ' || body[v] == '"')) ++v;
      rate_ = std::strtod(body.c_str() + v, nullptr);
      epoch_ns_ = MonoNs();
      since_epoch_ = 0;
      return "{\"ok\":true}";
    }
    *status = 404;
    std::fprintf(stderr, "bench_feeder: 404 %s %s\n", method.c_str(), target.c_str());
    return "{\"code\":\"RESOURCE_NOT_FOUND\",\"message\":\"Not found\"}";
  }

  // ------------------------------------------------------------ WebSocket (client frames)

  void ParseWs(Conn* c) {
    while (!c->closing) {
      const std::string& b = c->in;
      if (b.size() < 2) return;
      const auto b0 = static_cast<unsigned char>(b[0]), b1 = static_cast<unsigned char>(b[1]);
      const int op = b0 & 0x0f;
      const bool masked = b1 & 0x80;
      uint64_t len = b1 & 0x7f;
      size_t p = 2;
      if (len == 126) {
        if (b.size() < 4) return;
        len = (static_cast<unsigned char>(b[2]) << 8) | static_cast<unsigned char>(b[3]);
        p = 4;
      } else if (len == 127) {
        if (b.size() < 10) return;
        len = 0;
        for (int i = 0; i < 8; ++i) len = (len << 8) | static_cast<unsigned char>(b[2 + i]);
        p = 10;
      }
      unsigned char mask[4] = {0, 0, 0, 0};
      if (masked) {
        if (b.size() < p + 4) return;
        std::memcpy(mask, b.data() + p, 4);
        p += 4;
      }
      if (b.size() < p + len) return;
      std::string payload = b.substr(p, len);
      for (size_t i = 0; i < payload.size(); ++i) payload[i] ^= static_cast<char>(mask[i & 3]);
      c->in.erase(0, p + len);
      // Fragmented messages are not used by these clients (their control messages are small);
      // every frame is taken as whole.
      if (op == 1 || op == 0) {
        OnWsText(c, payload);
      } else if (op == 9) {
        SendControl(c, 0x8a, payload);  // pong with the ping's payload
      } else if (op == 8) {
        SendControl(c, 0x88, payload.substr(0, 2));
        Flush(c);
        c->closing = true;
      }
    }
  }

  void SendControl(Conn* c, unsigned char b0, const std::string& payload) {
    c->out += static_cast<char>(b0);
    c->out += static_cast<char>(std::min<size_t>(payload.size(), 125));
    c->out += payload.substr(0, 125);
    Flush(c);
  }

  // {"method":"SUBSCRIBE","params":["depth.BTC_USDC_PERP",...]}: read with a scan (the only
  // two shapes these clients send); streams other than depth.<known symbol> are accepted and
  // stay quiet (the adapter also subscribes bookTicker/trade/markPrice).
  void OnWsText(Conn* c, const std::string& t) {
    const bool unsub = t.find("UNSUBSCRIBE") != std::string::npos;
    if (!unsub && t.find("SUBSCRIBE") == std::string::npos) return;
    const size_t pp = t.find("\"params\"");
    if (pp == std::string::npos) return;
    size_t p = t.find('[', pp);
    const size_t end = t.find(']', p);
    while (p != std::string::npos && p < end) {
      const size_t q0 = t.find('"', p);
      if (q0 == std::string::npos || q0 > end) break;
      const size_t q1 = t.find('"', q0 + 1);
      const std::string name = t.substr(q0 + 1, q1 - q0 - 1);
      p = q1 + 1;
      if (name.rfind("depth.", 0) != 0) continue;
      auto it = index_.find(name.substr(6));
      if (it == index_.end()) continue;
      const int si = it->second;
      auto& subs = syms_[si].subs;
      const bool has = std::find(subs.begin(), subs.end(), c) != subs.end();
      if (unsub && has) {
        subs.erase(std::remove(subs.begin(), subs.end(), c), subs.end());
        c->depth_subs.erase(std::remove(c->depth_subs.begin(), c->depth_subs.end(), si),
                            c->depth_subs.end());
      } else if (!unsub && !has) {
        subs.push_back(c);
        c->depth_subs.push_back(si);
      }
    }
  }

  Args a_;
  std::vector<Symbol> syms_;
  std::unordered_map<std::string, int> index_;
  std::unordered_map<int, std::unique_ptr<Conn>> conns_;
  int lfd_ = -1, ep_ = -1, tfd_ = -1, port_ = 0;
  double rate_ = 0;
  bool unlimited_ = false;
  int64_t epoch_ns_ = 0;
  uint64_t since_epoch_ = 0, updates_ = 0, slow_drops_ = 0, bytes_ = 0;
  size_t rr_ = 0;
};

// The selftest's consumer: a raw WS client that subscribes every symbol's depth and discards.
void DiscardingReader(int port, const std::vector<std::string>& names, std::atomic<bool>* stop,
                      std::atomic<uint64_t>* bytes) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(static_cast<uint16_t>(port));
  inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
  if (connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa)) {
    std::perror("selftest connect");
    return;
  }
  const std::string req =
      "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
  (void)!write(fd, req.data(), req.size());
  std::string sub = "{\"method\":\"SUBSCRIBE\",\"params\":[";
  for (size_t i = 0; i < names.size(); ++i) sub += (i ? ",\"depth." : "\"depth.") + names[i] + "\"";
  sub += "]}";
  // Client frames are masked; a zero mask leaves the payload as is.
  std::string f;
  f += static_cast<char>(0x81);
  if (sub.size() < 126) {
    f += static_cast<char>(0x80 | sub.size());
  } else {
    f += static_cast<char>(0x80 | 126);
    f += static_cast<char>((sub.size() >> 8) & 0xff);
    f += static_cast<char>(sub.size() & 0xff);
  }
  f.append(4, '\0');
  f += sub;
  (void)!write(fd, f.data(), f.size());
  timeval tv{0, 100000};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  std::vector<char> buf(1 << 20);
  while (!stop->load(std::memory_order_relaxed)) {
    const ssize_t r = read(fd, buf.data(), buf.size());
    if (r > 0) bytes->fetch_add(static_cast<uint64_t>(r), std::memory_order_relaxed);
    if (r == 0) break;
  }
  close(fd);
}

int SelfTest(const Args& a) {
  Feeder f(a);
  if (!f.Listen()) return 1;
  f.set_unlimited(a.rate <= 0);
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> bytes{0};
  std::vector<std::string> names;
  for (const auto& s : f.symbols()) names.push_back(s.name);
  std::thread reader(DiscardingReader, f.port(), names, &stop, &bytes);
  // Let the reader connect and subscribe, then measure a window.
  std::atomic<bool> warm{false};
  std::thread timer([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    warm = true;
  });
  f.set_unlimited(false);
  f.Run(&warm);  // connect + subscribe (paced at a.rate, or idle)
  timer.join();
  f.set_unlimited(a.rate <= 0);
  std::atomic<bool> done{false};
  std::thread timer2([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(static_cast<int64_t>(a.seconds * 1000)));
    done = true;
  });
  const uint64_t u0 = f.sent(), b0 = bytes.load();
  const int64_t c0 = ThreadCpuNs(), t0 = MonoNs();
  f.Run(&done);
  const int64_t c1 = ThreadCpuNs(), t1 = MonoNs();
  const uint64_t u1 = f.sent(), b1 = bytes.load();
  timer2.join();
  stop = true;
  reader.join();
  const double secs = (t1 - t0) / 1e9, n = static_cast<double>(u1 - u0);
  std::printf(
      "{\"selftest\":\"rate\",\"symbols\":%d,\"rate_asked\":%.0f,\"seconds\":%.2f,"
      "\"updates_per_s\":%.0f,\"feeder_cpu_us_per_update\":%.3f,\"feeder_cpu_pct\":%.1f,"
      "\"bytes_per_update\":%.1f,\"reader_bytes_per_s\":%.0f,\"slow_consumers_dropped\":%llu}\n",
      a.symbols, a.rate, secs, n / secs, n ? (c1 - c0) / 1e3 / n : 0.0,
      100.0 * (c1 - c0) / (t1 - t0), n ? static_cast<double>(f.bytes()) / static_cast<double>(u1) : 0.0,
      (b1 - b0) / secs, static_cast<unsigned long long>(f.slow_drops()));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  signal(SIGPIPE, SIG_IGN);
  Args a;
  for (int i = 1; i < argc; ++i) {
    const std::string k = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "bench_feeder: %s needs a value\n", k.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (k == "--symbols") a.symbols = std::atoi(next().c_str());
    else if (k == "--rate") a.rate = std::strtod(next().c_str(), nullptr);
    else if (k == "--levels") a.levels = std::atoi(next().c_str());
    else if (k == "--port") a.port = std::atoi(next().c_str());
    else if (k == "--host") a.host = next();
    else if (k == "--ring") a.ring = std::strtoull(next().c_str(), nullptr, 10);
    else if (k == "--seed") a.seed = std::strtoull(next().c_str(), nullptr, 10);
    else if (k == "--max-pending-mb") a.max_pending = std::strtoull(next().c_str(), nullptr, 10) << 20;
    else if (k == "--endpoints-out") a.endpoints_out = next();
    else if (k == "--selftest-rate") a.selftest = true;
    else if (k == "--seconds") a.seconds = std::strtod(next().c_str(), nullptr);
    else if (k == "--tick-us") a.tick_us = std::atoi(next().c_str());
    else {
      std::fprintf(stderr,
                   "usage: bench_feeder [--symbols 1..200] [--rate R] [--levels L] [--port P] "
                   "[--host H] [--ring FRAMES] [--seed S] [--max-pending-mb M] "
                   "[--endpoints-out FILE] [--tick-us US] | --selftest-rate [--seconds S] "
                   "[--rate R|0]\n");
      return 2;
    }
  }
  if (a.symbols < 1 || a.symbols > 200 || a.levels < 1 || a.levels > 1000 || a.tick_us < 10 ||
      a.tick_us > 999999) {
    std::fprintf(stderr, "bench_feeder: --symbols 1..200, --levels 1..1000, --tick-us 10..999999\n");
    return 2;
  }
  if (a.selftest) return SelfTest(a);
  Feeder f(a);
  if (!f.Listen()) return 1;
  const std::string line = f.EndpointsLine();
  if (!a.endpoints_out.empty()) {
    const std::string tmp = a.endpoints_out + ".tmp";
    FILE* fp = std::fopen(tmp.c_str(), "w");
    if (fp) {
      std::fputs(line.c_str(), fp);
      std::fclose(fp);
      std::rename(tmp.c_str(), a.endpoints_out.c_str());
    }
  }
  std::printf("%s\n", line.c_str());
  std::fflush(stdout);
  f.Run();
  return 0;
}
