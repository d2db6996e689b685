// publish.nats: bus subscribers whose "stream" is one NATS publisher thread (see the header).
#include "gateway/publish/nats_publisher.h"

#include <nats/nats.h>
#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <set>

#include "gateway/convert.h"
#include "gateway/gateway.h"
#include "gateway/publish/nats_security.h"
#include "gateway/publish/nats_url.h"
#include "perpgw/v1/gateway.pb.h"
#include "perpgw/v1/market_data.pb.h"
#include "perpgw/v1/trading.pb.h"

namespace perpgw::gateway::publish {

std::string SubjectToken(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    const unsigned char u = static_cast<unsigned char>(c);
    if (c == '.' || c == '*' || c == '>' || u <= ' ' || u == 0x7f) c = '_';
  }
  if (out.empty()) out = "_";
  return out;
}

std::string MarketSubject(std::string_view venue, std::string_view symbol, std::string_view kind) {
  return "perpgw." + SubjectToken(venue) + "." + SubjectToken(symbol) + "." + std::string(kind);
}
std::string StatusSubject(std::string_view venue) {
  return "perpgw." + SubjectToken(venue) + ".status";
}
std::string OrdersSubject(std::string_view account) {
  return "perpgw.account." + SubjectToken(account) + ".orders";
}
std::string OrdersStream(std::string_view prefix) {
  return std::string(prefix) + "_ORDERS";
}
std::string BooksStream(std::string_view prefix) {
  return std::string(prefix) + "_BOOKS";
}

std::vector<StreamSpec> StreamsFor(const NatsPublishConfig& cfg) {
  std::vector<StreamSpec> out;
  out.push_back({OrdersStream(cfg.stream_prefix), "perpgw.account.*.orders", -1});
  if (cfg.market_data && cfg.book_snapshot_interval_ms > 0) {
    out.push_back({BooksStream(cfg.stream_prefix), "perpgw.*.*.snapshot", 1});
  }
  return out;
}

namespace {

using Clock = std::chrono::steady_clock;
constexpr auto kTick = std::chrono::milliseconds(100);
constexpr auto kStatusEvery = std::chrono::seconds(1);
constexpr auto kRetryAfter = std::chrono::milliseconds(250);
// An order event whose ack never came (the library's MaxWait normally answers first): resent,
// the server drops the duplicate by its Nats-Msg-Id.
constexpr auto kAckWatchdog = std::chrono::seconds(6);
constexpr int64_t kAckWaitMs = 3000;
constexpr size_t kMaxQueuedSnapshots = 4096;

// OrderBookUpdate's resync flag (field 3), read from the wire without parsing the levels: the
// serializer writes fields in number order, so it follows market (1) and is_snapshot (2).
bool IsResyncSnapshot(const std::string& b) {
  size_t i = 0;
  auto varint = [&](uint64_t* v) {
    *v = 0;
    for (int shift = 0; i < b.size() && shift < 64; shift += 7) {
      const uint8_t c = static_cast<uint8_t>(b[i++]);
      *v |= static_cast<uint64_t>(c & 0x7f) << shift;
      if (!(c & 0x80)) return true;
    }
    return false;
  };
  while (i < b.size()) {
    uint64_t tag = 0, v = 0;
    if (!varint(&tag)) return false;
    const uint64_t field = tag >> 3, wire = tag & 7;
    if (field > 3) return false;
    if (wire == 2) {
      if (!varint(&v)) return false;
      i += v;
    } else if (wire == 0) {
      if (!varint(&v)) return false;
      if (field == 3) return v != 0;
    } else {
      return false;
    }
  }
  return false;
}

// The server a connection is on (one of publish.nats.url's, or a node the cluster told of).
std::string ConnectedUrl(natsConnection* nc) {
  char buf[256] = {};
  if (!nc || natsConnection_GetConnectedUrl(nc, buf, sizeof(buf)) != NATS_OK) return "?";
  return buf;
}

std::string Flatten(const grpc::ByteBuffer& bb) {
  grpc::Slice slice;
  if (!bb.DumpToSingleSlice(&slice).ok()) return {};
  return std::string(reinterpret_cast<const char*>(slice.begin()), slice.size());
}

}  // namespace

struct NatsPublisher::Impl : std::enable_shared_from_this<Impl> {
  Impl(Gateway& g, NatsPublishConfig c) : gw(g), cfg(std::move(c)) {}

  // One bus subscription published to one subject.
  struct Sink {
    std::string subject;
    StreamKind kind;
    SubscriberPtr sub;
  };
  // One account's order events: taken from the bus in sequence order, acknowledged by
  // JetStream one at a time (the stream's order is the sequence order).
  struct Account {
    std::string id, subject;
    SubscriberPtr sub;     // current subscription (null: (re)subscribe on the next tick)
    bool resumed = false;  // resumed once from what JetStream holds
    int fallback = 0;      // 1: from sequence 1, 2: live only (after OUT_OF_RANGE)
    uint64_t taken_seq = 0, taken_epoch = 0;
    struct Pending {
      uint64_t seq, epoch;
      std::string bytes;
    };
    std::deque<Pending> pending;
    bool held = false;  // a write not yet completed: pending is full
    bool inflight = false;
    std::string inflight_id;
    Clock::time_point inflight_at, retry_at;
  };
  struct Item {
    enum Type { kWrite, kFinish, kSnapshot, kAck } type;
    Sink* sink = nullptr;
    Account* account = nullptr;
    SubscriberPtr sub;        // the subscription the write or finish came from
    grpc::ByteBuffer buffer;  // kWrite: the message as the bus serialized it (shared slices)
    std::string bytes, subject, msg_id;
    grpc::Status status;
    bool ok = false;
  };

  Gateway& gw;
  const NatsPublishConfig cfg;
  NatsStats stats;
  BusStats sink_stats;  // the sinks' own counters (not the gRPC subscriber gauges)

  std::mutex mu;
  std::condition_variable cv;
  std::deque<Item> queue;
  size_t queued_snapshots = 0;
  bool stopping = false;
  std::thread thread;

  // Publisher thread only.
  natsOptions* opts = nullptr;
  natsConnection* nc = nullptr;
  jsCtx* js = nullptr;
  std::atomic<bool> streams_ok{false};
  std::vector<std::unique_ptr<Sink>> sinks;
  std::vector<std::unique_ptr<Account>> accounts;
  std::set<std::string> venues_done;
  std::vector<MarketKey> markets;
  Clock::time_point next_connect{}, next_status{}, next_snapshot{}, next_streams{};
  // When LogWhyNotConnected last reported (epoch: connected, or not yet noticed).
  Clock::time_point why_logged_at{};

  // Metrics: copied from the atomics on every tick.
  prometheus::Counter *m_published = nullptr, *m_dropped = nullptr, *m_resyncs = nullptr,
                      *m_disconnects = nullptr, *m_reconnects = nullptr, *m_acked = nullptr,
                      *m_retried = nullptr, *m_lost = nullptr;
  prometheus::Gauge *m_connected = nullptr, *m_pending = nullptr;
  uint64_t last[8] = {};

  void Push(Item it) {
    {
      std::lock_guard lock(mu);
      if (it.type == Item::kSnapshot) {
        if (queued_snapshots >= kMaxQueuedSnapshots) {
          stats.dropped.fetch_add(1, std::memory_order_relaxed);
          return;
        }
        ++queued_snapshots;
      }
      queue.push_back(std::move(it));
    }
    cv.notify_one();
  }

  void RegisterMetrics() {
    using namespace prometheus;
    auto& reg = gw.metrics().registry();
    auto counter = [&](const char* name, const char* help) {
      return &BuildCounter().Name(name).Help(help).Register(reg).Add({});
    };
    m_published = counter("perpgw_nats_published_total", "messages handed to the NATS client");
    m_dropped = counter("perpgw_nats_dropped_total",
                        "messages not published to NATS (publish errors, conflated, resync)");
    m_resyncs = counter("perpgw_nats_book_resyncs_total",
                        "book resync snapshots because the NATS publisher fell behind");
    m_disconnects = counter("perpgw_nats_disconnects_total", "NATS connection losses");
    m_reconnects = counter("perpgw_nats_reconnects_total", "NATS reconnections");
    m_acked =
        counter("perpgw_nats_order_events_acked_total", "order events acknowledged by JetStream");
    m_retried = counter("perpgw_nats_order_events_retried_total",
                        "order event publishes retried (no or negative ack)");
    m_lost = counter("perpgw_nats_order_events_lost_total",
                     "order-event resumptions that found the replay buffer had moved on");
    m_connected = &BuildGauge()
                       .Name("perpgw_nats_connected")
                       .Help("1 while connected to a NATS server")
                       .Register(reg)
                       .Add({});
    m_pending = &BuildGauge()
                     .Name("perpgw_nats_order_events_pending")
                     .Help("order events taken from the bus and not yet acknowledged")
                     .Register(reg)
                     .Add({});
  }

  void CopyMetrics() {
    const uint64_t now[8] = {
        stats.published.load(),      stats.dropped.load() + sink_stats.conflated_drops.load(),
        stats.resyncs.load(),        stats.disconnects.load(),
        stats.reconnects.load(),     stats.orders_acked.load(),
        stats.orders_retried.load(), stats.orders_lost.load()};
    prometheus::Counter* c[8] = {m_published,  m_dropped, m_resyncs, m_disconnects,
                                 m_reconnects, m_acked,   m_retried, m_lost};
    for (int i = 0; i < 8; ++i) {
      if (now[i] > last[i]) c[i]->Increment(static_cast<double>(now[i] - last[i]));
      last[i] = now[i];
    }
    m_connected->Set(stats.connected.load() ? 1 : 0);
    size_t pending = 0;
    for (const auto& a : accounts) pending += a->pending.size();
    m_pending->Set(static_cast<double>(pending));
  }

  // ------------------------------------------------------------ connection (publisher thread)

  static void OnConnected(natsConnection* c, void* closure) {
    auto* self = static_cast<Impl*>(closure);
    self->stats.connected = true;
    spdlog::info("nats: connected to {}", ConnectedUrl(c));
  }
  static void OnDisconnected(natsConnection*, void* closure) {
    auto* self = static_cast<Impl*>(closure);
    // The library also calls this when the initial connect fails; only a lost connection counts.
    if (self->stats.connected.exchange(false)) {
      self->stats.disconnects.fetch_add(1);
      spdlog::warn(
          "nats: disconnected from {}; reconnecting (publishing continues into the "
          "client's reconnect buffer, order events wait)",
          self->cfg.url);
    }
  }
  static void OnReconnected(natsConnection* c, void* closure) {
    auto* self = static_cast<Impl*>(closure);
    self->stats.reconnects.fetch_add(1);
    self->stats.connected = true;
    self->streams_ok = false;  // a server that lost its store needs the streams again
    spdlog::info("nats: reconnected to {}", ConnectedUrl(c));
  }
  static void OnAck(jsCtx*, natsMsg* msg, jsPubAck* pa, jsPubAckErr* pae, void* closure) {
    auto* self = static_cast<Impl*>(closure);
    Item it{Item::kAck};
    const char* id = nullptr;
    if (natsMsgHeader_Get(msg, "Nats-Msg-Id", &id) == NATS_OK && id) it.msg_id = id;
    it.ok = pae == nullptr && pa != nullptr;
    if (pae) {
      it.subject = pae->ErrText ? pae->ErrText : natsStatus_GetText(pae->Err);
    }
    self->Push(std::move(it));
  }

  // publish.nats' TLS and login as the shared NatsSecurity (secrets copied for the call only).
  NatsSecurity SecurityOf() const {
    NatsSecurity sec;
    sec.tls = cfg.tls.enabled;
    sec.ca_file = cfg.tls.ca_file;
    sec.server_name = cfg.tls.server_name;
    sec.cert_file = cfg.tls.cert_file;
    sec.key_file = cfg.tls.key_file;
    sec.creds_file = cfg.creds_file;
    sec.token = cfg.token.Reveal();
    sec.user = cfg.user;
    sec.password = cfg.password.Reveal();
    return sec;
  }

  // Servers, TLS, credentials and the name: what the connection and the probe share. Null
  // (logged) when libnats refuses one.
  natsOptions* BaseOptions() {
    natsOptions* o = nullptr;
    if (natsOptions_Create(&o) != NATS_OK) return nullptr;
    // publish.nats.url may list several servers: libnats 3.4's SetURL takes one URL only
    // (a comma list gives "No server available"), SetServers a list (tried in random order,
    // the library's default, so gateways spread over a cluster's seeds).
    const auto servers = SplitNatsServers(cfg.url);
    std::vector<const char*> ptrs;
    for (const auto& one : servers) ptrs.push_back(one.c_str());
    if (natsStatus s = natsOptions_SetServers(o, ptrs.data(), static_cast<int>(ptrs.size()));
        s != NATS_OK) {
      spdlog::error("nats: servers '{}': {}", cfg.url, natsStatus_GetText(s));
      natsOptions_Destroy(o);
      return nullptr;
    }
    if (std::string why = ApplyNatsSecurity(o, SecurityOf()); !why.empty()) {
      spdlog::error("nats: {}", why);
      natsOptions_Destroy(o);
      return nullptr;
    }
    natsOptions_SetName(o, "perpgwd");
    natsOptions_SetTimeout(o, 2000);
    return o;
  }

  // Why the servers refuse us. The connection retries in the background and libnats keeps no
  // reason from those attempts ("No server available", or none for a TLS failure), so one
  // attempt of our own without retries tells it: "Authorization Violation", the TLS error.
  std::string ProbeWhy() {
    natsOptions* o = BaseOptions();
    if (!o) return "options refused (logged)";
    natsOptions_SetAllowReconnect(o, false);
    natsConnection* probe = nullptr;
    const natsStatus s = natsConnection_Connect(&probe, o);
    const std::string why =
        s == NATS_OK ? "the servers accept a new connection; the client retries" : NatsErrorText(s);
    if (probe) {
      natsConnection_Close(probe);
      natsConnection_Destroy(probe);
    }
    natsOptions_Destroy(o);
    return why;
  }

  bool Connect() {
    if (nc) return true;
    if (!opts) {
      opts = BaseOptions();
      if (!opts) return false;
      natsOptions_SetAllowReconnect(opts, true);
      natsOptions_SetMaxReconnect(opts, -1);  // forever
      natsOptions_SetReconnectWait(opts, 250);
      natsOptions_SetReconnectBufSize(opts, 32 * 1024 * 1024);
      natsOptions_SetPingInterval(opts, 2000);
      natsOptions_SetMaxPingsOut(opts, 3);
      // Each publish goes to the socket at once: the client's flusher otherwise holds messages
      // ~1 ms to batch them (measured: book p50 1.3 ms gateway→consumer on one machine).
      natsOptions_SetSendAsap(opts, true);
      natsOptions_SetDisconnectedCB(opts, &Impl::OnDisconnected, this);
      natsOptions_SetReconnectedCB(opts, &Impl::OnReconnected, this);
      natsOptions_SetRetryOnFailedConnect(opts, true, &Impl::OnConnected, this);
    }
    natsStatus s = natsConnection_Connect(&nc, opts);
    if (s == NATS_OK) {
      stats.connected = true;
      spdlog::info("nats: connected to {} (of {}; {})", ConnectedUrl(nc), cfg.url,
                   DescribeNatsSecurity(SecurityOf()));
    } else if (s == NATS_NOT_YET_CONNECTED) {
      spdlog::warn("nats: {} not reachable yet; retrying in the background", cfg.url);
    } else {
      spdlog::error("nats: cannot connect to {}: {}", cfg.url, natsStatus_GetText(s));
      nc = nullptr;
      return false;
    }
    jsOptions jo;
    jsOptions_Init(&jo);
    jo.Wait = 2000;
    jo.PublishAsync.AckHandler = &Impl::OnAck;
    jo.PublishAsync.AckHandlerClosure = this;
    if (natsConnection_JetStream(&js, nc, &jo) != NATS_OK) {
      spdlog::error("nats: no JetStream context");
      natsConnection_Destroy(nc);
      nc = nullptr;
      return false;
    }
    return true;
  }

  bool EnsureStream(const std::string& name, const std::string& subject, int64_t per_subject) {
    jsStreamConfig sc;
    jsStreamConfig_Init(&sc);
    sc.Name = name.c_str();
    const char* subjects[] = {subject.c_str()};
    sc.Subjects = subjects;
    sc.SubjectsLen = 1;
    sc.Storage = js_FileStorage;
    sc.MaxAge = cfg.max_age_s * 1000000000LL;  // nanoseconds on the wire
    sc.MaxBytes = cfg.max_bytes;
    sc.MaxMsgsPerSubject = per_subject;
    // publish.nats.replicas. An existing stream with another count goes through
    // js_UpdateStream below; whether the server can change it is the server's call (not tried
    // here). A refusal (e.g. 10074 "replicas > 1 not supported in non-clustered mode", or more
    // replicas than nodes) is logged and retried every second; order events wait meanwhile.
    sc.Replicas = cfg.replicas;
    sc.Duplicates = 120LL * 1000000000;  // order events: resends within 2 min are dropped
    jsStreamInfo* si = nullptr;
    jsErrCode jerr = static_cast<jsErrCode>(0);
    natsStatus s = js_AddStream(&si, js, &sc, nullptr, &jerr);
    if (s != NATS_OK && jerr == JSStreamNameExistErr) {
      s = js_UpdateStream(&si, js, &sc, nullptr, &jerr);  // limits changed in the config
    }
    if (si) jsStreamInfo_Destroy(si);
    if (s != NATS_OK) {
      spdlog::warn("nats: stream {} ({}): {} (error {}); retrying", name, subject,
                   natsStatus_GetText(s), static_cast<int>(jerr));
      return false;
    }
    return true;
  }

  void EnsureStreams() {
    if (streams_ok || !stats.connected) return;
    const auto now = Clock::now();
    if (now < next_streams) return;
    next_streams = now + std::chrono::seconds(1);
    std::string names;
    for (const auto& st : StreamsFor(cfg)) {
      if (!EnsureStream(st.name, st.subjects, st.max_msgs_per_subject)) return;
      names += (names.empty() ? "" : ", ") + st.name;
    }
    streams_ok = true;
    spdlog::info("nats: JetStream stream(s) {} ready", names);
  }

  // ------------------------------------------------------------ sinks

  // A subscription's writes and finish become items for the publisher thread, tagged with the
  // market sink or the account they belong to (exactly one of the two is set).
  void BindToQueue(const SubscriberPtr& sub, Sink* sink, Account* account) {
    auto weak = std::weak_ptr<Subscriber>(sub);
    sub->Bind(
        [this, sink, account, weak](const grpc::ByteBuffer* msg, bool) {
          Item it{Item::kWrite};
          it.sink = sink;
          it.account = account;
          it.sub = weak.lock();
          it.buffer = *msg;  // a reference: flattened on the publisher thread
          Push(std::move(it));
        },
        [this, sink, account, weak](const grpc::Status& st) {
          Item it{Item::kFinish};
          it.sink = sink;
          it.account = account;
          it.sub = weak.lock();
          it.status = st;
          Push(std::move(it));
        });
  }

  void SubscribeMarkets() {
    const auto& limits = gw.config().limits;
    for (const std::string& venue : gw.enabled_venues()) {
      if (venues_done.count(venue)) continue;
      VenueAdapter* a = gw.adapter(venue);
      const VenueConfig* vc = gw.venue_config(venue);
      if (!a || !vc || !a->InstrumentsReady()) continue;
      venues_done.insert(venue);
      std::vector<std::string> tickers;
      const bool all = std::find(vc->symbols.begin(), vc->symbols.end(), "*") != vc->symbols.end();
      if (all) {
        for (const auto& in : gw.ListInstruments(venue)) tickers.push_back(in.symbol);
      } else {
        for (const auto& s : vc->symbols) {
          auto in = gw.FindInstrument(venue, s);
          if (in.ok()) {
            tickers.push_back(in->symbol);
          } else {
            spdlog::warn("nats: {} {} not published: {}", venue, s,
                         std::string(in.status().message()));
          }
        }
      }
      for (const auto& t : tickers) {
        MarketKey mk{venue, t};
        markets.push_back(mk);
        auto make = [&](StreamKind kind, const char* suffix, size_t bound) {
          auto s = std::make_unique<Sink>();
          s->subject = MarketSubject(venue, t, suffix);
          s->kind = kind;
          s->sub = std::make_shared<Subscriber>(kind, bound, &sink_stats);
          BindToQueue(s->sub, s.get(), nullptr);
          sinks.push_back(std::move(s));
          return sinks.back()->sub;
        };
        auto book = make(StreamKind::kBook, "book", limits.book_mailbox);
        book->set_max_lag(limits.book_max_lag_ms * 1'000'000);
        gw.bus().SubscribeBooks(book, {mk}, 0);
        gw.bus().SubscribeBbo(make(StreamKind::kBbo, "bbo", limits.conflated_mailbox), {mk});
        gw.bus().SubscribeTrades(make(StreamKind::kTrades, "trades", limits.book_mailbox), {mk});
        gw.bus().SubscribeFunding(make(StreamKind::kFunding, "funding", limits.conflated_mailbox),
                                  {mk});
      }
      spdlog::info("nats: publishing {} market(s) of {} on perpgw.{}.<symbol>.*", tickers.size(),
                   venue, SubjectToken(venue));
    }
  }

  // ------------------------------------------------------------ order events

  void SubscribeAccount(Account& a, uint64_t from, uint64_t epoch) {
    if (a.sub) a.sub->OnDone();  // the old one is finished; the bus drops it
    a.sub = std::make_shared<Subscriber>(StreamKind::kOrders, gw.config().limits.order_mailbox,
                                         &sink_stats);
    BindToQueue(a.sub, nullptr, &a);
    a.held = false;
    spdlog::info("nats: order events of {} from sequence {} (epoch {})", a.id, from, epoch);
    gw.bus().SubscribeOrders(a.sub, a.id, from, epoch);
  }

  // First subscription: resume after the last event JetStream holds for the account.
  void ResumeAccount(Account& a) {
    if (!stats.connected || !streams_ok) return;
    natsMsg* last = nullptr;
    jsErrCode jerr = static_cast<jsErrCode>(0);
    natsStatus s = js_GetLastMsg(&last, js, OrdersStream(cfg.stream_prefix).c_str(),
                                 a.subject.c_str(), nullptr, &jerr);
    uint64_t from = 1, epoch = 0;
    if (s == NATS_OK) {
      v1::OrderEvent e;
      if (e.ParseFromArray(natsMsg_GetData(last), natsMsg_GetDataLength(last))) {
        from = e.sequence() + 1;
        epoch = e.epoch();
        a.taken_seq = e.sequence();
        a.taken_epoch = e.epoch();
      }
      natsMsg_Destroy(last);
    } else if (s != NATS_NOT_FOUND) {
      return;  // the server did not answer: next tick
    }
    a.resumed = true;
    SubscribeAccount(a, from, epoch);
  }

  void OnOrderFinish(Account& a, const grpc::Status& st) {
    const auto code = st.error_code();
    if (code == grpc::StatusCode::UNAVAILABLE) return;  // the gateway is stopping
    if (code == grpc::StatusCode::OUT_OF_RANGE || code == grpc::StatusCode::FAILED_PRECONDITION) {
      // OUT_OF_RANGE: the replay buffer moved past what was taken (lost for NATS consumers;
      // they reconcile like a gRPC client would); FAILED_PRECONDITION: a new epoch without an
      // order-event log, sequences restarted. Either way: what the buffer holds, then live.
      if (code == grpc::StatusCode::OUT_OF_RANGE && a.fallback == 0) {
        stats.orders_lost.fetch_add(1);
      }
      spdlog::error("nats: order events of {}: {} (resuming from what the gateway still holds)",
                    a.id, st.error_message());
      a.fallback = std::min(a.fallback + 1, 2);
      a.taken_seq = 0;
      a.taken_epoch = 0;
    } else {
      spdlog::warn("nats: order events of {}: {} (resuming from sequence {})", a.id,
                   st.error_message(), a.taken_seq + 1);
    }
    a.sub->OnDone();
    a.sub = nullptr;  // resubscribed on a tick once pending drained
  }

  void MaybeResubscribe(Account& a) {
    if (a.sub || !a.resumed) return;
    if (a.pending.size() > gw.config().limits.order_mailbox / 2) return;
    if (a.fallback == 1) {
      SubscribeAccount(a, 1, 0);
    } else if (a.fallback == 2) {
      SubscribeAccount(a, 0, 0);
    } else {
      SubscribeAccount(a, a.taken_seq + 1, a.taken_epoch);
    }
  }

  void OnOrderWrite(Account& a, Item& it) {
    v1::OrderEvent e;
    if (!e.ParseFromString(it.bytes)) {
      stats.dropped.fetch_add(1);
    } else if (e.epoch() == a.taken_epoch && e.sequence() <= a.taken_seq) {
      // Already taken (a resumption overlaps): not published twice.
    } else {
      a.taken_seq = e.sequence();
      a.taken_epoch = e.epoch();
      a.fallback = 0;
      a.pending.push_back({e.sequence(), e.epoch(), std::move(it.bytes)});
    }
    if (a.pending.size() >= gw.config().limits.order_mailbox) {
      a.held = true;  // the bus's mailbox takes the rest; past its bound it finishes (resumed)
    } else {
      it.sub->OnWriteDone(true);
    }
  }

  void SendOrders(Account& a, Clock::time_point now) {
    if (a.inflight && now - a.inflight_at > kAckWatchdog) {
      a.inflight = false;
      stats.orders_retried.fetch_add(1);
    }
    if (a.inflight || a.pending.empty() || now < a.retry_at || !stats.connected || !streams_ok) {
      return;
    }
    const auto& p = a.pending.front();
    natsMsg* m = nullptr;
    if (natsMsg_Create(&m, a.subject.c_str(), nullptr, p.bytes.data(),
                       static_cast<int>(p.bytes.size())) != NATS_OK) {
      return;
    }
    const std::string id = a.id + ":" + std::to_string(p.epoch) + ":" + std::to_string(p.seq);
    natsMsgHeader_Set(m, "Nats-Msg-Id", id.c_str());
    jsPubOptions po;
    jsPubOptions_Init(&po);
    po.MaxWait = kAckWaitMs;
    po.MsgId = id.c_str();
    if (js_PublishMsgAsync(js, &m, &po) != NATS_OK) {
      if (m) natsMsg_Destroy(m);
      a.retry_at = now + kRetryAfter;
      stats.orders_retried.fetch_add(1);
      return;
    }
    a.inflight = true;
    a.inflight_id = id;
    a.inflight_at = now;
  }

  void OnAckItem(const Item& it) {
    for (auto& ap : accounts) {
      Account& a = *ap;
      if (!a.inflight || a.inflight_id != it.msg_id) continue;
      a.inflight = false;
      if (it.ok) {
        stats.orders_acked.fetch_add(1);
        stats.published.fetch_add(1);
        a.pending.pop_front();
        if (a.held && a.sub && a.pending.size() < gw.config().limits.order_mailbox) {
          a.held = false;
          a.sub->OnWriteDone(true);
        }
      } else {
        stats.orders_retried.fetch_add(1);
        a.retry_at = Clock::now() + kRetryAfter;
        spdlog::debug("nats: order event {} not acknowledged: {}; retrying", it.msg_id, it.subject);
      }
      return;
    }
  }

  // ------------------------------------------------------------ the thread

  void Publish(const std::string& subject, const std::string& bytes) {
    if (!nc) {
      stats.dropped.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    natsStatus s =
        natsConnection_Publish(nc, subject.c_str(), bytes.data(), static_cast<int>(bytes.size()));
    if (s == NATS_OK) {
      stats.published.fetch_add(1, std::memory_order_relaxed);
    } else {
      stats.dropped.fetch_add(1, std::memory_order_relaxed);
    }
  }

  void Handle(Item& it) {
    switch (it.type) {
      case Item::kWrite:
        it.bytes = Flatten(it.buffer);
        if (it.account) {
          if (it.sub && it.sub == it.account->sub) OnOrderWrite(*it.account, it);
          return;
        }
        if (it.sink->kind == StreamKind::kBook && IsResyncSnapshot(it.bytes)) {
          stats.resyncs.fetch_add(1);
          stats.dropped.fetch_add(1);  // at least the delta the resync replaced
        }
        Publish(it.sink->subject, it.bytes);
        if (it.sub) it.sub->OnWriteDone(true);
        return;
      case Item::kFinish:
        if (it.account && it.sub && it.sub == it.account->sub) {
          OnOrderFinish(*it.account, it.status);
        }
        return;
      case Item::kSnapshot: Publish(it.subject, it.bytes); return;
      case Item::kAck: OnAckItem(it); return;
    }
  }

  void RequestSnapshots() {
    std::weak_ptr<Impl> weak = weak_from_this();
    for (const auto& mk : markets) {
      const std::string subject = MarketSubject(mk.venue, mk.symbol, "snapshot");
      gw.bus().GetBook(mk, 0, [weak, subject](std::optional<v1::OrderBook> ob) {
        auto self = weak.lock();
        if (!self || !ob) return;
        // The book as the bus holds it after `sequence` (every pending delta was flushed
        // before this ran): a consumer applies the deltas numbered after it.
        v1::OrderBookUpdate u;
        *u.mutable_market() = ob->market();
        u.set_is_snapshot(true);
        u.set_status(ob->status());
        u.set_status_reason(ob->status_reason());
        u.set_sequence(ob->sequence());
        u.set_venue_sequence(ob->venue_sequence());
        u.set_exchange_time_ns(ob->exchange_time_ns());
        u.set_receive_time_ns(ob->receive_time_ns());
        u.set_send_time_ns(self->gw.clock().Now());
        *u.mutable_bids() = std::move(*ob->mutable_bids());
        *u.mutable_asks() = std::move(*ob->mutable_asks());
        Item it{Item::kSnapshot};
        it.subject = subject;
        it.bytes = u.SerializeAsString();
        self->Push(std::move(it));
      });
    }
  }

  void PublishStatus() {
    const UnixNanos now = gw.clock().Now();
    for (const auto& [name, vc] : gw.config().venues) {
      v1::VenueInfo v;
      v.set_venue(name);
      for (const auto& acc : vc.accounts) v.add_accounts(acc.id);
      VenueAdapter* a = gw.adapter(name);
      v.set_enabled(a != nullptr);
      if (!a) continue;  // a disabled venue has no status to follow
      const VenueHealth h = a->Health();
      v.set_state(ToProto(h.state));
      v.set_last_message_age_ms(h.last_message_time ? (now - h.last_message_time) / 1000000 : -1);
      v.set_reconnects(h.reconnects);
      v.set_last_error(h.last_error);
      Fill(a->capabilities(), v.mutable_capabilities());
      v.set_instruments(static_cast<int>(a->Instruments().size()));
      Publish(StatusSubject(name), v.SerializeAsString());
    }
  }

  // While the library retries in the background (a refused password or certificate, a server
  // down), why is logged once a second has passed unconnected and then every 30 s: the only
  // place an operator sees why nothing is published. libnats' texts carry no secrets. The
  // probe blocks this thread up to the connect timeout (2 s per listed server) per 30 s, only
  // while unconnected (when order events wait anyway).
  void LogWhyNotConnected(Clock::time_point now) {
    if (stats.connected) {
      why_logged_at = {};
      return;
    }
    if (why_logged_at == Clock::time_point{}) {
      why_logged_at = now - std::chrono::seconds(29);  // the first report in ~1 s
      return;
    }
    if (now - why_logged_at < std::chrono::seconds(30)) return;
    why_logged_at = now;
    const std::string why = ProbeWhy();
    if (stats.connected) return;  // connected meanwhile
    spdlog::warn("nats: not connected to {} ({}); retrying", cfg.url, why);
  }

  void Run() {
    std::deque<Item> batch;
    for (;;) {
      {
        std::unique_lock lock(mu);
        cv.wait_for(lock, kTick, [&] { return stopping || !queue.empty(); });
        if (stopping) break;
        batch.swap(queue);
        queued_snapshots = 0;
      }
      for (auto& it : batch) Handle(it);
      batch.clear();
      const auto now = Clock::now();
      if (!nc && now >= next_connect) {
        if (!Connect()) next_connect = now + std::chrono::seconds(2);
      }
      if (!nc) continue;
      EnsureStreams();
      if (cfg.market_data) SubscribeMarkets();  // else an orders-only shard (header)
      for (auto& a : accounts) {
        if (!a->resumed) ResumeAccount(*a);
        MaybeResubscribe(*a);
        SendOrders(*a, now);
      }
      if (now >= next_status) {
        next_status = now + kStatusEvery;
        LogWhyNotConnected(now);
        if (cfg.market_data) PublishStatus();
        CopyMetrics();
      }
      if (cfg.market_data && cfg.book_snapshot_interval_ms > 0 && now >= next_snapshot) {
        next_snapshot = now + std::chrono::milliseconds(cfg.book_snapshot_interval_ms);
        if (stats.connected) RequestSnapshots();
      }
    }
    // Stopping: detach from the bus first (no callback runs after OnDone returns), then give
    // the library a moment to send what it holds.
    for (auto& s : sinks) s->sub->OnDone();
    for (auto& a : accounts) {
      if (a->sub) a->sub->OnDone();
    }
    if (nc) {
      if (stats.connected) {
        natsConnection_FlushTimeout(nc, 1000);
        jsPubOptions po;
        jsPubOptions_Init(&po);
        po.MaxWait = 1000;
        js_PublishAsyncComplete(js, &po);
      }
      // The ack callback may still run until the connection is closed.
      natsConnection_Close(nc);
    }
    if (js) jsCtx_Destroy(js);
    if (nc) natsConnection_Destroy(nc);
    if (opts) natsOptions_Destroy(opts);
    js = nullptr;
    nc = nullptr;
    opts = nullptr;
    CopyMetrics();
  }
};

NatsPublisher::NatsPublisher(Gateway& gw, NatsPublishConfig cfg)
    : impl_(std::make_shared<Impl>(gw, std::move(cfg))) {}

NatsPublisher::~NatsPublisher() {
  Stop();
}

const NatsStats& NatsPublisher::stats() const {
  return impl_->stats;
}

absl::Status NatsPublisher::Start() {
  Impl& im = *impl_;
  std::set<std::string> ids;
  for (const auto& id : im.cfg.accounts) {
    if (id == "*") {
      for (const auto& [n, v] : im.gw.config().venues) {
        if (!im.gw.adapter(n)) continue;
        for (const auto& a : v.accounts) ids.insert(a.id);
      }
    } else {
      ids.insert(id);
    }
  }
  for (const auto& id : ids) {
    auto a = std::make_unique<Impl::Account>();
    a->id = id;
    a->subject = OrdersSubject(id);
    im.accounts.push_back(std::move(a));
  }
  im.RegisterMetrics();
  std::string streams;
  for (const auto& st : StreamsFor(im.cfg)) streams += (streams.empty() ? "" : ", ") + st.name;
  spdlog::info(
      "nats: publishing to {} (streams {} with {} replica(s); order events of {} account(s){})",
      im.cfg.url, streams, im.cfg.replicas, im.accounts.size(),
      im.cfg.market_data ? "" : "; market_data: false, no market data or status");
  im.thread = std::thread([&im] { im.Run(); });
  return absl::OkStatus();
}

void NatsPublisher::Stop() {
  Impl& im = *impl_;
  if (!im.thread.joinable()) return;
  {
    std::lock_guard lock(im.mu);
    im.stopping = true;
  }
  im.cv.notify_one();
  im.thread.join();
}

}  // namespace perpgw::gateway::publish
