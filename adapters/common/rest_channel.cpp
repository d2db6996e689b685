#include "adapters/common/rest_channel.h"

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <algorithm>
#include <utility>

namespace perpgw::common {

struct RestChannel::Call {
  HttpRequest req;
  int weight = 1;
  Done done;
  std::chrono::steady_clock::time_point sent;
};

RestChannel::RestChannel(boost::asio::io_context& ioc, Options options)
    : ioc_(ioc),
      options_(std::move(options)),
      bucket_(options_.bucket, std::chrono::steady_clock::now()) {}

RestChannel::~RestChannel() = default;

absl::Status RestChannel::Init() {
  HttpClientOptions opts;
  opts.connections = options_.connections;
  opts.verify_tls = options_.verify_tls;
  opts.default_timeout = options_.timeout;
  auto c = HttpClient::Create(ioc_, options_.base_url, opts);
  if (!c.ok()) return c.status();
  http_ = std::move(*c);
  return absl::OkStatus();
}

void RestChannel::Send(HttpRequest request, int weight, Done done) {
  auto call = std::make_shared<Call>();
  call->req = std::move(request);
  call->weight = weight;
  call->done = std::move(done);
  Pace(std::move(call));
}

void RestChannel::Pace(std::shared_ptr<Call> call) {
  if (!http_) {
    call->done(absl::FailedPreconditionError(options_.venue + " REST channel not initialized"));
    return;
  }
  auto now = std::chrono::steady_clock::now();
  auto wait = bucket_.TryAcquire(call->weight, now);
  if (wait.count() > 0) {
    if (sink_) sink_->Count(options_.venue, VenueCounter::kRateLimitWaits, 1);
    auto t = std::make_shared<boost::asio::steady_timer>(ioc_, wait);
    t->async_wait([this, t, call](const boost::system::error_code& ec) {
      if (ec) {
        call->done(absl::CancelledError(options_.venue + " REST channel stopped"));
        return;
      }
      Pace(call);
    });
    return;
  }
  call->sent = now;
  http_->Send(call->req,
              [this, call](absl::StatusOr<HttpResponse> r) { Finish(call, std::move(r)); });
}

void RestChannel::Finish(const std::shared_ptr<Call>& call, absl::StatusOr<HttpResponse> r) {
  auto now = std::chrono::steady_clock::now();
  if (sink_) {
    sink_->Observe(options_.venue, VenueLatency::kRestRoundTrip,
                   std::chrono::duration_cast<std::chrono::nanoseconds>(now - call->sent).count());
  }
  if (!r.ok()) {
    if (sink_) sink_->Count(options_.venue, VenueCounter::kRestErrors, 1);
    call->done(std::move(r));
    return;
  }
  if (sink_) sink_->Count(options_.venue, VenueCounter::kBytesIn, r->body.size());
  if (!options_.used_weight_header.empty()) {
    if (const std::string* used = r->Header(options_.used_weight_header)) {
      bucket_.UpdateFromUsageHeader(*used, now);
    }
  }
  const auto& limited = options_.rate_limit_statuses;
  if (std::find(limited.begin(), limited.end(), r->status) != limited.end()) {
    auto block = options_.default_block;
    if (const std::string* ra = r->Header("Retry-After")) {
      if (auto v = ParseUsageHeader(*ra)) block = std::chrono::seconds(std::max<int64_t>(1, *v));
    }
    bucket_.BlockFor(block, now);
    if (sink_) sink_->Count(options_.venue, VenueCounter::kRateLimitWaits, 1);
  }
  if (!r->ok() && sink_) sink_->Count(options_.venue, VenueCounter::kRestErrors, 1);
  call->done(std::move(r));
}

void RestChannel::ObserveSigning(std::chrono::nanoseconds d) {
  if (sink_) sink_->Observe(options_.venue, VenueLatency::kSigning, d.count());
}

}  // namespace perpgw::common
