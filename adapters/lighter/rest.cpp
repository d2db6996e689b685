// Lighter REST transport: rate limiter and answer classification.
#include "adapters/lighter/rest.h"

#include <boost/asio/io_context.hpp>

#include "adapters/common/http_client.h"
#include "adapters/common/rest_channel.h"

namespace perpgw::adapters::lighter {

namespace asio = boost::asio;
using common::HttpRequest;
using common::HttpResponse;

absl::Status ValidateConfig(const VenueConfig& cfg) {
  if (auto st = CheckOptionKeys(cfg.options, {"funding_rate_hours"}, cfg.name + ".options");
      !st.ok()) {
    return st;
  }
  if (auto it = cfg.options.find("funding_rate_hours");
      it != cfg.options.end() && it->second != "1" && it->second != "8") {
    return absl::InvalidArgumentError(cfg.name +
                                      ".options.funding_rate_hours: 1 (hourly) or 8, got '" +
                                      it->second.substr(0, 16) + "'");
  }
  if (!cfg.accounts.empty()) {
    return absl::UnimplementedError(
        "lighter: trading is not implemented yet (market data only); remove the lighter "
        "accounts (" +
        cfg.accounts.front().id + ")");
  }
  return absl::OkStatus();
}

namespace {

std::string WithPath(const std::string& url, const char* path) {
  size_t scheme = url.find("://");
  size_t p = url.find('/', scheme == std::string::npos ? 0 : scheme + 3);
  if (p == std::string::npos) return url + path;
  if (p + 1 == url.size()) return url.substr(0, p) + path;
  return url;
}

}  // namespace

std::string WithApiPath(const std::string& url) {
  return WithPath(url, "/api/v1");
}
std::string WithStreamPath(const std::string& url) {
  return WithPath(url, "/stream");
}

struct LighterRest::Impl {
  Impl(asio::io_context& ioc, const VenueConfig& cfg, const Clock& clock)
      : clock_(clock), channel_(ioc, ChannelOptions(cfg)) {
    std::string base = WithApiPath(cfg.rest_url);
    size_t scheme = base.find("://");
    size_t path = base.find('/', scheme == std::string::npos ? 0 : scheme + 3);
    prefix_ = path == std::string::npos ? "" : base.substr(path);
  }

  static common::RestChannel::Options ChannelOptions(const VenueConfig& cfg) {
    common::RestChannel::Options o;
    o.venue = cfg.name;
    std::string base = WithApiPath(cfg.rest_url);
    size_t scheme = base.find("://");
    size_t path = base.find('/', scheme == std::string::npos ? 0 : scheme + 3);
    o.base_url = path == std::string::npos ? base : base.substr(0, path);
    o.verify_tls = cfg.tls_verify;
    // Standard accounts: 60 requests per rolling minute per IP (lighter.md §10); the market
    // data the adapter polls stays far below it. 405 is the firewall's block (~60 s).
    o.bucket = {50, 50, std::chrono::minutes(1)};
    o.rate_limit_statuses = {429, 405};
    o.default_block = std::chrono::seconds(60);
    return o;
  }

  void Get(const std::string& target, RestCallback cb) {
    HttpRequest req;
    req.method = "GET";
    req.target = prefix_ + target;
    channel_.Send(std::move(req), 1, [cb = std::move(cb)](absl::StatusOr<HttpResponse> r) {
      RestResult out;
      if (!r.ok()) {
        out.error = ClassifyTransportError(std::string(r.status().message()), RequestKind::kQuery);
        return cb(std::move(out));
      }
      out.http_status = r->status;
      out.error = ClassifyApiAnswer(r->status, r->body, RequestKind::kQuery);
      out.body = std::move(r->body);
      cb(std::move(out));
    });
  }

  const Clock& clock_;
  common::RestChannel channel_;
  std::string prefix_;  // "/api/v1"
};

LighterRest::LighterRest(asio::io_context& ioc, const VenueConfig& config, const Clock& clock)
    : impl_(std::make_unique<Impl>(ioc, config, clock)) {}
LighterRest::~LighterRest() = default;
absl::Status LighterRest::Init() {
  return impl_->channel_.Init();
}
void LighterRest::set_sink(EventSink* sink) {
  impl_->channel_.set_sink(sink);
}

void LighterRest::OrderBookDetails(RestCallback cb) {
  impl_->Get("/orderBookDetails", std::move(cb));
}
void LighterRest::FundingRates(RestCallback cb) {
  impl_->Get("/funding-rates", std::move(cb));
}
void LighterRest::OrderBookOrders(int64_t market_index, int limit, RestCallback cb) {
  impl_->Get("/orderBookOrders?market_id=" + std::to_string(market_index) +
                 "&limit=" + std::to_string(limit),
             std::move(cb));
}

}  // namespace perpgw::adapters::lighter
