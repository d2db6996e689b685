// NATS book consumer: the gRPC client's gap/resync rules on perpgwd's NATS subjects.
#include "bench/nats_book.h"

#include <grpcpp/grpcpp.h>
#include <nats/nats.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <thread>

#include "adapters/api/decimal.h"
#include "gateway/publish/nats_url.h"
#include "perpgw/v1/market_data.grpc.pb.h"

namespace perpgw::natsbook {
namespace {

constexpr size_t kMaxBuffered = 100000;
constexpr size_t kLatencyKept = 100000;

std::string Norm(const std::string& s) {
  auto d = Decimal::Parse(s);
  return d.ok() ? d->ToNormalizedString() : s;
}

void ApplyLevels(Side& side, const google::protobuf::RepeatedPtrField<v1::PriceLevel>& levels) {
  for (const auto& l : levels) {
    std::string p = Norm(l.price()), q = Norm(l.size());
    if (q == "0") {
      side.erase(p);
    } else {
      side[p] = q;
    }
  }
}

// Subject names as gateway/publish/nats_publisher.cpp builds them ('.', '*', '>', whitespace
// in a name become '_').
std::string Token(const std::string& s) {
  std::string out = s;
  for (char& c : out) {
    const unsigned char u = static_cast<unsigned char>(c);
    if (c == '.' || c == '*' || c == '>' || u <= ' ' || u == 0x7f) c = '_';
  }
  return out;
}

// Gateway send time to now, kept for the last kLatencyKept book messages.
struct LatencyRing {
  std::vector<int64_t> ns;
  size_t next = 0;
  void Add(int64_t send_time_ns) {
    if (send_time_ns <= 0) return;
    const int64_t now = std::chrono::duration_cast<std::chrono::nanoseconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count();
    if (ns.size() < kLatencyKept) {
      ns.push_back(now - send_time_ns);
    } else {
      ns[next++ % kLatencyKept] = now - send_time_ns;
    }
  }
  void Fill(NatsBookFollower::View* v) const {
    if (ns.empty()) return;
    std::vector<int64_t> l = ns;
    auto at = [&](double q) {
      auto it = l.begin() + static_cast<std::ptrdiff_t>(q * static_cast<double>(l.size() - 1));
      std::nth_element(l.begin(), it, l.end());
      return *it / 1000;
    };
    v->latency_p50_us = at(0.50);
    v->latency_p99_us = at(0.99);
  }
};

// Options naming every server of `url` (one URL or a comma-separated list, as publish.nats.url):
// libnats 3.4's natsOptions_SetURL refuses a list, natsOptions_SetServers takes it. Null with
// *error set when an entry is not a NATS URL.
natsOptions* ServerOptions(const std::string& url, std::string* error,
                           const NatsSecurity& security) {
  const auto servers = gateway::publish::SplitNatsServers(url);
  std::vector<const char*> ptrs;
  for (size_t i = 0; i < servers.size(); ++i) {
    if (auto why = gateway::publish::NatsServerProblem(servers[i]); !why.empty()) {
      *error = "server " + std::to_string(i + 1) + " of " + std::to_string(servers.size()) + " '" +
               gateway::publish::RedactNatsServer(servers[i]) + "': " + why;
      return nullptr;
    }
    ptrs.push_back(servers[i].c_str());
  }
  natsOptions* opts = nullptr;
  natsStatus s = natsOptions_Create(&opts);
  if (s == NATS_OK) s = natsOptions_SetServers(opts, ptrs.data(), static_cast<int>(ptrs.size()));
  if (s != NATS_OK) {
    *error = std::string("servers '") + url + "': " + natsStatus_GetText(s);
    natsOptions_Destroy(opts);
    return nullptr;
  }
  if (std::string why = gateway::publish::ApplyNatsSecurity(opts, security); !why.empty()) {
    *error = why;
    natsOptions_Destroy(opts);
    return nullptr;
  }
  return opts;
}

// A connection to the server list `url` that reconnects for ever (every 250 ms), named `name`;
// null with `error` set when the list is bad or no server answers.
natsConnection* Connect(const std::string& url, const char* name, std::string* error,
                        const NatsSecurity& security) {
  natsOptions* opts = ServerOptions(url, error, security);
  if (!opts) return nullptr;
  natsOptions_SetName(opts, name);
  natsOptions_SetMaxReconnect(opts, -1);
  natsOptions_SetReconnectWait(opts, 250);
  natsConnection* nc = nullptr;
  natsStatus s = natsConnection_Connect(&nc, opts);
  natsOptions_Destroy(opts);
  if (s != NATS_OK) {
    *error = std::string("cannot connect to ") + url + ": " + gateway::publish::NatsErrorText(s);
    return nullptr;
  }
  return nc;
}

NatsBookFollower::View ViewOf(const BookRebuilder& b) {
  NatsBookFollower::View v;
  v.bids = b.bids();
  v.asks = b.asks();
  v.synced = b.synced();
  v.live = b.live();
  v.sequence = b.sequence();
  v.messages = b.messages;
  v.snapshots = b.snapshots;
  v.periodic_used = b.periodic_used;
  v.resyncs = b.resyncs;
  v.gaps = b.gaps;
  v.waits = b.waits;
  return v;
}

}  // namespace

// ---------------------------------------------------------------- BookRebuilder

void BookRebuilder::Replace(const v1::OrderBookUpdate& u) {
  bids_.clear();
  asks_.clear();
  ApplyLevels(bids_, u.bids());
  ApplyLevels(asks_, u.asks());
  seq_ = u.sequence();
  status_ = u.status();
  synced_ = true;
}

void BookRebuilder::Apply(const v1::OrderBookUpdate& u) {
  ApplyLevels(bids_, u.bids());
  ApplyLevels(asks_, u.asks());
  seq_ = u.sequence();
  status_ = u.status();
}

void BookRebuilder::Drain() {
  while (synced_ && !buffered_.empty()) {
    v1::OrderBookUpdate u = std::move(buffered_.front());
    buffered_.pop_front();
    if (u.sequence() <= seq_) continue;  // held by the snapshot
    if (u.sequence() != seq_ + 1) {
      // The snapshot is older than the first delta this consumer saw (a late start): nothing
      // was lost on the wire, the book waits for the next snapshot.
      ++waits;
      synced_ = false;
      buffered_.push_front(std::move(u));
      return;
    }
    Apply(u);
    provisional_ = false;
  }
}

void BookRebuilder::OnMessage(const v1::OrderBookUpdate& u, bool periodic) {
  ++messages;
  if (u.is_snapshot()) {
    if (periodic) {
      if (synced_ && u.sequence() <= seq_) {
        ++ignored;  // older than (or the same state as) the book
        return;
      }
      ++periodic_used;
    } else {
      ++snapshots;
      if (u.resync()) ++resyncs;
    }
    Replace(u);
    provisional_ = periodic;
    Drain();
    return;
  }
  if (!synced_) {
    buffered_.push_back(u);
    if (buffered_.size() > kMaxBuffered) buffered_.pop_front();
    return;
  }
  if (u.sequence() <= seq_) {
    ++ignored;
    return;
  }
  if (u.sequence() != seq_ + 1) {
    // After a periodic snapshot no delta chained to yet, the snapshot was simply older than the
    // live flow (a late start); otherwise a delta was lost (a NATS drop). Either way: wait for
    // the next snapshot.
    ++(provisional_ ? waits : gaps);
    synced_ = false;
    buffered_.push_back(u);
    return;
  }
  Apply(u);
  provisional_ = false;
}

// ---------------------------------------------------------------- NatsBookFollower

struct NatsBookFollower::Impl {
  std::mutex mu;
  BookRebuilder book;
  uint64_t other = 0;
  LatencyRing latency;
  natsConnection* nc = nullptr;
  natsSubscription* sub = nullptr;
  std::string book_subject, snapshot_subject;

  static void OnMsg(natsConnection*, natsSubscription*, natsMsg* msg, void* closure) {
    auto* self = static_cast<Impl*>(closure);
    const std::string subject = natsMsg_GetSubject(msg);
    const bool is_book = subject == self->book_subject;
    const bool is_snapshot = subject == self->snapshot_subject;
    if (is_book || is_snapshot) {
      v1::OrderBookUpdate u;
      if (u.ParseFromArray(natsMsg_GetData(msg), natsMsg_GetDataLength(msg))) {
        std::lock_guard lock(self->mu);
        self->book.OnMessage(u, is_snapshot);
        if (is_book) self->latency.Add(u.send_time_ns());
      }
    } else {
      std::lock_guard lock(self->mu);
      ++self->other;
    }
    natsMsg_Destroy(msg);
  }
};

NatsBookFollower::NatsBookFollower(const std::string& url, const std::string& venue,
                                   const std::string& symbol, const std::string& stream_prefix,
                                   const NatsSecurity& security)
    : impl_(std::make_unique<Impl>()) {
  Impl& im = *impl_;
  const std::string base = "perpgw." + Token(venue) + "." + Token(symbol);
  im.book_subject = base + ".book";
  im.snapshot_subject = base + ".snapshot";
  im.nc = Connect(url, "perpgw-nats-book", &error_, security);
  if (!im.nc) return;
  // One subscription for every subject of the market: one delivery thread, so the book and
  // snapshot subjects are seen in the order the gateway published them.
  natsStatus s = natsConnection_Subscribe(&im.sub, im.nc, (base + ".*").c_str(), &Impl::OnMsg, &im);
  if (s == NATS_OK) s = natsSubscription_SetPendingLimits(im.sub, -1, -1);
  if (s != NATS_OK) {
    error_ = std::string("cannot subscribe to ") + base + ".*: " + natsStatus_GetText(s);
    return;
  }
  natsConnection_Flush(im.nc);
  // A late start: the last periodic snapshot from JetStream, then the live deltas after it.
  jsCtx* js = nullptr;
  if (natsConnection_JetStream(&js, im.nc, nullptr) == NATS_OK) {
    natsMsg* last = nullptr;
    jsErrCode jerr = static_cast<jsErrCode>(0);
    const std::string stream = stream_prefix + "_BOOKS";
    if (js_GetLastMsg(&last, js, stream.c_str(), im.snapshot_subject.c_str(), nullptr, &jerr) ==
        NATS_OK) {
      v1::OrderBookUpdate u;
      if (u.ParseFromArray(natsMsg_GetData(last), natsMsg_GetDataLength(last))) {
        std::lock_guard lock(im.mu);
        im.book.OnMessage(u, true);
      }
      natsMsg_Destroy(last);
    }
    jsCtx_Destroy(js);
  }
}

NatsBookFollower::~NatsBookFollower() {
  if (impl_->sub) {
    natsSubscription_Unsubscribe(impl_->sub);
    natsSubscription_Destroy(impl_->sub);
  }
  if (impl_->nc) {
    natsConnection_Close(impl_->nc);
    natsConnection_Destroy(impl_->nc);
  }
}

NatsBookFollower::View NatsBookFollower::Get() {
  std::lock_guard lock(impl_->mu);
  View v = ViewOf(impl_->book);
  v.other = impl_->other;
  impl_->latency.Fill(&v);
  return v;
}

// ---------------------------------------------------------------- GrpcBookFollower

struct GrpcBookFollower::Impl {
  std::mutex mu;
  BookRebuilder book;
  LatencyRing latency;
  grpc::ClientContext ctx;
  std::thread thread;
};

GrpcBookFollower::GrpcBookFollower(const std::string& addr, const std::string& venue,
                                   const std::string& symbol)
    : impl_(std::make_unique<Impl>()) {
  Impl* im = impl_.get();
  im->thread = std::thread([im, addr, venue, symbol] {
    auto stub = v1::MarketDataService::NewStub(
        grpc::CreateChannel(addr, grpc::InsecureChannelCredentials()));
    v1::StreamOrderBooksRequest req;
    auto* m = req.add_markets();
    m->set_venue(venue);
    m->set_symbol(symbol);
    auto reader = stub->StreamOrderBooks(&im->ctx, req);
    v1::OrderBookUpdate u;
    while (reader->Read(&u)) {
      std::lock_guard lock(im->mu);
      im->book.OnMessage(u, false);
      im->latency.Add(u.send_time_ns());
    }
  });
}

GrpcBookFollower::~GrpcBookFollower() {
  impl_->ctx.TryCancel();
  impl_->thread.join();
}

NatsBookFollower::View GrpcBookFollower::Get() {
  std::lock_guard lock(impl_->mu);
  NatsBookFollower::View v = ViewOf(impl_->book);
  impl_->latency.Fill(&v);
  return v;
}

// ---------------------------------------------------------------- order events

OrderSequenceCheck::Result OrderSequenceCheck::OnEvent(uint64_t epoch, uint64_t sequence) {
  gap_from_ = gap_count_ = 0;
  if (!started_) {
    started_ = true;
    epoch_ = epoch;
    seq_ = sequence;
    ++events;
    ++epochs;
    return kFirst;
  }
  Result r = kNext;
  if (epoch == epoch_) {
    if (sequence <= seq_) {
      ++duplicates;
      return kDuplicate;
    }
    if (sequence != seq_ + 1) {
      r = kGap;
      gap_from_ = seq_ + 1;
      gap_count_ = sequence - seq_ - 1;
    }
  } else {
    // A new epoch: the gateway restarted. Sequences continue (order-event log on) or restart
    // at 1 (no log); anything else lost the events in between. The reading picked for a jump
    // above the old sequence: it continued and some were missed (not "restarted at 1, missed
    // the first thousands").
    ++epochs;
    r = kNewEpoch;
    if (sequence > seq_ + 1) {
      r = kGap;
      gap_from_ = seq_ + 1;
      gap_count_ = sequence - seq_ - 1;
    } else if (sequence != 1 && sequence != seq_ + 1) {
      r = kGap;
      gap_from_ = 1;
      gap_count_ = sequence - 1;
    }
  }
  if (r == kGap) {
    ++gaps;
    missing += gap_count_;
  }
  epoch_ = epoch;
  seq_ = sequence;
  ++events;
  return r;
}

namespace {

std::string JsonString(const std::string& s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\u%04x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

}  // namespace

std::string OrderEventLine(const v1::OrderEvent& e) {
  const v1::Order& o = e.order();
  std::string line = "{\"order_event\":{\"account\":" + JsonString(e.account()) +
                     ",\"epoch\":" + std::to_string(e.epoch()) +
                     ",\"sequence\":" + std::to_string(e.sequence()) +
                     ",\"venue\":" + JsonString(o.market().venue()) +
                     ",\"symbol\":" + JsonString(o.market().symbol()) +
                     ",\"client_order_id\":" + JsonString(o.client_order_id()) +
                     ",\"order_id\":" + JsonString(o.order_id()) +
                     ",\"side\":" + JsonString(v1::Side_Name(o.side())) +
                     ",\"status\":" + JsonString(v1::OrderStatus_Name(o.status())) +
                     ",\"price\":" + JsonString(o.price()) + ",\"size\":" + JsonString(o.size()) +
                     ",\"filled_size\":" + JsonString(o.filled_size());
  if (!e.reject_reason().empty()) line += ",\"reject_reason\":" + JsonString(e.reject_reason());
  if (e.has_fill()) {
    line += ",\"fill\":{\"trade_id\":" + JsonString(e.fill().trade_id()) +
            ",\"price\":" + JsonString(e.fill().price()) +
            ",\"size\":" + JsonString(e.fill().size()) + "}";
  }
  return line + "}}";
}

struct OrderEventFollower::Impl {
  std::mutex mu;
  OrderSequenceCheck check;
  View view;
  std::vector<std::string> lines;
  std::string account;
  natsConnection* nc = nullptr;
  jsCtx* js = nullptr;
  natsSubscription* sub = nullptr;
  bool durable = false;
  std::atomic<bool> stop{false};
  std::thread thread;

  static constexpr size_t kKept = 100000;

  void OnMsg(natsMsg* m) {
    v1::OrderEvent e;
    const bool ok = e.ParseFromArray(natsMsg_GetData(m), natsMsg_GetDataLength(m));
    {
      std::lock_guard lock(mu);
      if (!ok) {
        ++view.undecodable;
        lines.push_back("{\"order_undecodable\":{\"account\":" + JsonString(account) +
                        ",\"bytes\":" + std::to_string(natsMsg_GetDataLength(m)) + "}}");
      } else {
        const auto r = check.OnEvent(e.epoch(), e.sequence());
        if (r == OrderSequenceCheck::kGap) {
          lines.push_back("{\"order_gap\":{\"account\":" + JsonString(account) +
                          ",\"epoch\":" + std::to_string(e.epoch()) +
                          ",\"from_sequence\":" + std::to_string(check.gap_from()) +
                          ",\"missing\":" + std::to_string(check.gap_count()) +
                          ",\"gaps\":" + std::to_string(check.gaps) + "}}");
        }
        if (r != OrderSequenceCheck::kDuplicate) {
          lines.push_back(OrderEventLine(e));
          if (view.received.size() >= kKept) {
            view.received.erase(view.received.begin(), view.received.begin() + kKept / 2);
          }
          view.received.push_back(std::move(e));
        }
        view.events = check.events;
        view.gaps = check.gaps;
        view.missing = check.missing;
        view.duplicates = check.duplicates;
        view.epoch = check.epoch();
        view.sequence = check.sequence();
      }
      if (lines.size() > kKept) lines.erase(lines.begin(), lines.begin() + kKept / 2);
    }
    // Acknowledged once decoded and checked (also an undecodable one: redelivering it would not
    // make it decodable). A crash before this line redelivers it: a duplicate, dropped above.
    natsMsg_Ack(m, nullptr);
  }

  void Run() {
    while (!stop) {
      natsMsgList list = {};
      jsErrCode jerr = static_cast<jsErrCode>(0);
      const natsStatus s = natsSubscription_Fetch(&list, sub, 256, 500, &jerr);
      if (s == NATS_OK) {
        for (int i = 0; i < list.Count; ++i) OnMsg(list.Msgs[i]);
        natsMsgList_Destroy(&list);
      } else if (s != NATS_TIMEOUT) {
        // Disconnected (the library reconnects) or the consumer is being re-created: wait.
        std::this_thread::sleep_for(std::chrono::milliseconds(250));
      }
    }
  }
};

OrderEventFollower::OrderEventFollower(const std::string& url, const std::string& account,
                                       const std::string& durable, const std::string& stream_prefix,
                                       const NatsSecurity& security)
    : impl_(std::make_unique<Impl>()) {
  Impl& im = *impl_;
  im.account = account;
  im.nc = Connect(url, "perpgw-nats-book orders", &error_, security);
  if (!im.nc) return;
  natsStatus s = natsConnection_JetStream(&im.js, im.nc, nullptr);
  if (s != NATS_OK) {
    error_ = std::string("JetStream: ") + natsStatus_GetText(s);
    return;
  }
  const std::string subject = "perpgw.account." + Token(account) + ".orders";
  const std::string stream = stream_prefix + "_ORDERS";
  jsErrCode jerr = static_cast<jsErrCode>(0);
  jsSubOptions so;
  jsSubOptions_Init(&so);
  so.Stream = stream.c_str();
  // Every event the stream still holds on the first start (a durable one resumes after its
  // acks); explicit acks, one per event.
  so.Config.DeliverPolicy = js_DeliverAll;
  so.Config.AckPolicy = js_AckExplicit;
  if (!durable.empty()) {
    // A durable consumer the subscription only binds to: libnats 3.4 deletes a consumer it
    // created itself when the subscription is drained or unsubscribed, durable or not (nats.h,
    // js_Subscribe), which would lose the position a restart should resume from. An existing
    // one (same config) is kept as it is.
    jsConsumerConfig cc;
    jsConsumerConfig_Init(&cc);
    cc.Durable = durable.c_str();
    cc.FilterSubject = subject.c_str();
    cc.DeliverPolicy = js_DeliverAll;
    cc.AckPolicy = js_AckExplicit;
    jsConsumerInfo* ci = nullptr;
    s = js_AddConsumer(&ci, im.js, stream.c_str(), &cc, nullptr, &jerr);
    if (ci) jsConsumerInfo_Destroy(ci);
    if (s != NATS_OK && jerr != JSConsumerNameExistErr && jerr != JSConsumerExistingActiveErr) {
      error_ = "cannot create durable consumer " + durable + " on stream " + stream + ": " +
               natsStatus_GetText(s) + " (JetStream error " +
               std::to_string(static_cast<int>(jerr)) + ")";
      return;
    }
    so.Consumer = durable.c_str();
    im.durable = true;
  }
  s = js_PullSubscribe(&im.sub, im.js, subject.c_str(), durable.empty() ? nullptr : durable.c_str(),
                       nullptr, &so, &jerr);
  if (s != NATS_OK) {
    error_ = "cannot consume " + subject + " from stream " + stream +
             (durable.empty() ? "" : " (durable " + durable + ")") + ": " + natsStatus_GetText(s) +
             " (JetStream error " + std::to_string(static_cast<int>(jerr)) + ")";
    return;
  }
  im.thread = std::thread([&im] { im.Run(); });
}

OrderEventFollower::~OrderEventFollower() {
  Impl& im = *impl_;
  im.stop = true;
  if (im.thread.joinable()) im.thread.join();
  // The acks sent so far reach the server before the connection closes (a durable restart
  // resumes after them). An ephemeral consumer is deleted; a durable one (bound, not created
  // by the subscription) stays.
  if (im.nc) natsConnection_FlushTimeout(im.nc, 2000);
  if (im.sub) {
    if (!im.durable) natsSubscription_Unsubscribe(im.sub);
    natsSubscription_Destroy(im.sub);
  }
  if (im.js) jsCtx_Destroy(im.js);
  if (im.nc) {
    natsConnection_Close(im.nc);
    natsConnection_Destroy(im.nc);
  }
}

OrderEventFollower::View OrderEventFollower::Get() {
  std::lock_guard lock(impl_->mu);
  return impl_->view;
}

std::vector<std::string> OrderEventFollower::TakeLines() {
  std::lock_guard lock(impl_->mu);
  std::vector<std::string> out;
  out.swap(impl_->lines);
  return out;
}

std::vector<std::string> ReadStream(const std::string& url, const std::string& stream,
                                    const std::string& subject, std::string* error,
                                    const NatsSecurity& security) {
  std::vector<std::string> out;
  natsConnection* nc = nullptr;
  natsOptions* opts = ServerOptions(url, error, security);
  if (!opts) return out;
  natsStatus cs = natsConnection_Connect(&nc, opts);
  natsOptions_Destroy(opts);
  if (cs != NATS_OK) {
    *error = std::string("connect: ") + natsStatus_GetText(cs);
    return out;
  }
  jsCtx* js = nullptr;
  jsStreamInfo* si = nullptr;
  jsErrCode jerr = static_cast<jsErrCode>(0);
  natsStatus s = natsConnection_JetStream(&js, nc, nullptr);
  if (s == NATS_OK) s = js_GetStreamInfo(&si, js, stream.c_str(), nullptr, &jerr);
  if (s != NATS_OK) {
    *error = std::string("stream ") + stream + ": " + natsStatus_GetText(s) + " (" +
             std::to_string(static_cast<int>(jerr)) + ")";
  } else {
    for (uint64_t seq = si->State.FirstSeq; seq > 0 && seq <= si->State.LastSeq; ++seq) {
      natsMsg* m = nullptr;
      if (js_GetMsg(&m, js, stream.c_str(), seq, nullptr, &jerr) != NATS_OK) continue;
      if (subject == natsMsg_GetSubject(m)) {
        out.emplace_back(natsMsg_GetData(m), static_cast<size_t>(natsMsg_GetDataLength(m)));
      }
      natsMsg_Destroy(m);
    }
    jsStreamInfo_Destroy(si);
  }
  if (js) jsCtx_Destroy(js);
  natsConnection_Close(nc);
  natsConnection_Destroy(nc);
  return out;
}

}  // namespace perpgw::natsbook
