// Metric families and their refresh from gateway state.
#include "gateway/metrics.h"

#include <prometheus/counter.h>
#include <prometheus/exposer.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include "gateway/gateway.h"

namespace perpgw::gateway {
namespace {

const char* CounterName(VenueCounter c) {
  switch (c) {
    case VenueCounter::kMessagesIn: return "perpgw_venue_messages_in_total";
    case VenueCounter::kBytesIn: return "perpgw_venue_bytes_in_total";
    case VenueCounter::kParseErrors: return "perpgw_venue_parse_errors_total";
    case VenueCounter::kReconnects: return "perpgw_venue_reconnects_total";
    case VenueCounter::kResyncGap:
    case VenueCounter::kResyncCrossed:
    case VenueCounter::kResyncReconnect:
    case VenueCounter::kResyncStale:
    case VenueCounter::kResyncBadInput: return "perpgw_book_resyncs_total";
    case VenueCounter::kRateLimitWaits: return "perpgw_rest_rate_limit_waits_total";
    case VenueCounter::kRestErrors: return "perpgw_rest_errors_total";
    case VenueCounter::kBboCrossed: return "perpgw_bbo_crossed_total";
    case VenueCounter::kCount_: break;
  }
  return "perpgw_unknown_total";
}

const char* ResyncCause(VenueCounter c) {
  switch (c) {
    case VenueCounter::kResyncGap: return "gap";
    case VenueCounter::kResyncCrossed: return "crossed";
    case VenueCounter::kResyncReconnect: return "reconnect";
    case VenueCounter::kResyncStale: return "stale";
    case VenueCounter::kResyncBadInput: return "bad_input";
    default: return nullptr;
  }
}

prometheus::Histogram::BucketBoundaries LatencyBuckets() {
  return {1e-6, 5e-6, 1e-5, 2.5e-5, 5e-5, 1e-4, 2.5e-4, 5e-4, 1e-3, 2.5e-3, 5e-3, 1e-2,
          2.5e-2, 5e-2, 0.1, 0.25, 0.5, 1, 2.5, 5};
}

}  // namespace

Metrics::Metrics(const std::vector<std::string>& venues)
    : registry_(std::make_shared<prometheus::Registry>()) {
  using namespace prometheus;
  std::map<std::string, Family<Counter>*> counter_families;
  for (int i = 0; i < static_cast<int>(VenueCounter::kCount_); ++i) {
    const char* name = CounterName(static_cast<VenueCounter>(i));
    if (!counter_families.count(name)) {
      counter_families[name] = &BuildCounter().Name(name).Help("per-venue counter").Register(*registry_);
    }
  }
  auto& signing = BuildHistogram()
                      .Name("perpgw_signing_seconds")
                      .Help("time to sign one request or transaction")
                      .Register(*registry_);
  auto& rest = BuildHistogram()
                   .Name("perpgw_rest_round_trip_seconds")
                   .Help("venue REST request round trip")
                   .Register(*registry_);
  auto& connected = BuildGauge()
                        .Name("perpgw_venue_connected")
                        .Help("1 when the venue's market-data connection is up")
                        .Register(*registry_);
  auto& age = BuildGauge()
                  .Name("perpgw_venue_last_message_age_seconds")
                  .Help("seconds since the venue's last message (-1 = none yet)")
                  .Register(*registry_);
  for (const auto& v : venues) {
    VenueSlots& s = venues_[v];
    for (int i = 0; i < static_cast<int>(VenueCounter::kCount_); ++i) {
      auto c = static_cast<VenueCounter>(i);
      std::map<std::string, std::string> labels = {{"venue", v}};
      if (const char* cause = ResyncCause(c)) labels["cause"] = cause;
      s.counters[i] = &counter_families[CounterName(c)]->Add(labels);
    }
    s.latencies[static_cast<int>(VenueLatency::kSigning)] =
        &signing.Add({{"venue", v}}, LatencyBuckets());
    s.latencies[static_cast<int>(VenueLatency::kRestRoundTrip)] =
        &rest.Add({{"venue", v}}, LatencyBuckets());
    s.connected = &connected.Add({{"venue", v}});
    s.last_message_age = &age.Add({{"venue", v}});
  }
  orders_ = &BuildCounter()
                 .Name("perpgw_orders_total")
                 .Help("PlaceOrder results by outcome")
                 .Register(*registry_);
  ack_latency_ = &BuildHistogram()
                      .Name("perpgw_order_ack_seconds")
                      .Help("PlaceOrder latency from request to venue acknowledgement")
                      .Register(*registry_);
  risk_rejections_ = &BuildCounter()
                         .Name("perpgw_risk_rejections_total")
                         .Help("orders refused by the pre-trade risk checks, by limit")
                         .Register(*registry_);
  kill_switch_ = &BuildGauge()
                      .Name("perpgw_kill_switch_engaged")
                      .Help("1 while the kill switch is engaged (account \"*\" = all accounts)")
                      .Register(*registry_);
  dead_man_ = &BuildCounter()
                   .Name("perpgw_dead_man_fired_total")
                   .Help("times the dead man's switch cancelled an account's open orders")
                   .Register(*registry_);
  book_status_ = &BuildGauge()
                      .Name("perpgw_book_status")
                      .Help("1 live, 2 resyncing, 3 stale")
                      .Register(*registry_);
  book_age_ = &BuildGauge()
                   .Name("perpgw_book_last_update_age_seconds")
                   .Help("seconds since the book's last update")
                   .Register(*registry_);
  auto& subs = BuildGauge()
                   .Name("perpgw_subscribers")
                   .Help("open gRPC streams by kind")
                   .Register(*registry_);
  for (int k = 0; k < 7; ++k) {
    subscribers_[k] = &subs.Add({{"stream", ToString(static_cast<StreamKind>(k))}});
  }
  auto& out = BuildCounter().Name("perpgw_messages_out_total").Help("stream messages written").Register(*registry_);
  messages_out_ = &out.Add({});
  auto& slow = BuildCounter()
                   .Name("perpgw_slow_consumer_total")
                   .Help("slow-consumer actions by policy")
                   .Register(*registry_);
  slow_resyncs_ = &slow.Add({{"action", "book_resync"}});
  slow_disconnects_ = &slow.Add({{"action", "disconnect"}});
  conflated_ = &slow.Add({{"action", "conflated"}});
  merged_ = &slow.Add({{"action", "book_delta_merged"}});
  auto& ev = BuildCounter().Name("perpgw_events_in_total").Help("adapter events fanned out").Register(*registry_);
  events_in_ = &ev.Add({});
  fanout_lag_ = &BuildGauge()
                     .Name("perpgw_fanout_lag_seconds")
                     .Help("queue wait of the oldest event in the fan-out's last batch")
                     .Register(*registry_)
                     .Add({});
}

Metrics::~Metrics() = default;

absl::StatusOr<int> Metrics::Serve(const std::string& listen) {
  try {
    exposer_ = std::make_unique<prometheus::Exposer>(listen, 2);
  } catch (const std::exception& e) {
    return absl::UnavailableError("metrics: cannot listen on " + listen + ": " + e.what());
  }
  exposer_->RegisterCollectable(registry_);
  auto ports = exposer_->GetListeningPorts();
  return ports.empty() ? 0 : ports.front();
}

void Metrics::Count(const std::string& venue, VenueCounter c, uint64_t n) {
  auto it = venues_.find(venue);
  if (it == venues_.end() || c >= VenueCounter::kCount_) return;
  it->second.counters[static_cast<int>(c)]->Increment(static_cast<double>(n));
}

void Metrics::Observe(const std::string& venue, VenueLatency l, int64_t nanos) {
  auto it = venues_.find(venue);
  if (it == venues_.end() || l >= VenueLatency::kCount_) return;
  it->second.latencies[static_cast<int>(l)]->Observe(static_cast<double>(nanos) * 1e-9);
}

void Metrics::OrderResult(const std::string& venue, const std::string& account, OrderOutcome o,
                          double ack_seconds) {
  const char* outcome = o == OrderOutcome::kAccepted   ? "accepted"
                        : o == OrderOutcome::kRejected ? "rejected"
                        : o == OrderOutcome::kUnknown  ? "outcome_unknown"
                                                       : "invalid";
  orders_->Add({{"venue", venue}, {"account", account}, {"outcome", outcome}}).Increment();
  if (o != OrderOutcome::kInvalid) {
    ack_latency_->Add({{"venue", venue}}, LatencyBuckets()).Observe(ack_seconds);
  }
}

void Metrics::RiskRejection(const std::string& account, const std::string& limit) {
  risk_rejections_->Add({{"account", account}, {"limit", limit}}).Increment();
}

void Metrics::DeadManFired(const std::string& account) {
  dead_man_->Add({{"account", account}}).Increment();
}

void Metrics::Refresh(Gateway& gw) {
  BusStats& st = gw.bus().stats();
  auto bump = [this](prometheus::Counter* c, uint64_t now, int slot) {
    if (now > last_[slot]) c->Increment(static_cast<double>(now - last_[slot]));
    last_[slot] = now;
  };
  bump(messages_out_, st.messages_out.load(), 0);
  bump(slow_resyncs_, st.slow_consumer_resyncs.load(), 1);
  bump(slow_disconnects_, st.slow_consumer_disconnects.load(), 2);
  bump(conflated_, st.conflated_drops.load(), 3);
  bump(events_in_, st.events_in.load(), 4);
  bump(merged_, st.book_deltas_merged.load(), 5);
  for (int k = 0; k < 7; ++k) subscribers_[k]->Set(static_cast<double>(st.subscribers[k].load()));
  fanout_lag_->Set(static_cast<double>(st.fanout_lag_ns.load()) * 1e-9);
  const UnixNanos now = gw.clock().Now();
  for (auto& [name, slots] : venues_) {
    VenueAdapter* a = gw.adapter(name);
    if (!a) continue;
    VenueHealth h = a->Health();
    slots.connected->Set(h.state == ConnState::kConnected ? 1 : 0);
    slots.last_message_age->Set(h.last_message_time ? (now - h.last_message_time) * 1e-9 : -1);
  }
  kill_switch_->Add({{"account", "*"}}).Set(gw.risk().Kill("").engaged ? 1 : 0);
  for (const auto& [n, v] : gw.config().venues) {
    for (const auto& a : v.accounts)
      kill_switch_->Add({{"account", a.id}}).Set(gw.risk().Kill(a.id).engaged ? 1 : 0);
  }
  for (const auto& b : gw.bus().BookStatuses()) {
    book_status_->Add({{"venue", b.venue}, {"symbol", b.symbol}})
        .Set(static_cast<double>(static_cast<int>(b.status)));
    book_age_->Add({{"venue", b.venue}, {"symbol", b.symbol}})
        .Set(b.last_update ? (now - b.last_update) * 1e-9 : -1);
  }
}

}  // namespace perpgw::gateway
