// The REST channel every venue's REST layer sends through: one pooled HttpClient, a token bucket
// paced by request weight (waiting on a timer, never blocking the venue thread), the venue's
// usage headers and rate-limit answers (429/418 + Retry-After) fed back into the bucket, and the
// round-trip / bytes / error / rate-limit-wait metrics. What an answer MEANS (error taxonomy,
// unknown outcome) stays with the venue: the channel hands back the raw response or transport
// error. Venue thread only.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "adapters/api/venue.h"
#include "adapters/common/http_client.h"
#include "adapters/common/rate_limiter.h"

namespace boost::asio {
class io_context;
}  // namespace boost::asio

namespace perpgw::common {

class RestChannel {
 public:
  struct Options {
    std::string venue;        // metric label
    std::string base_url;     // https://host[:port][/prefix]
    bool verify_tls = true;
    size_t connections = 4;
    std::chrono::milliseconds timeout{8000};  // whole request, queueing included
    TokenBucket::Options bucket;               // the venue's documented limit, with headroom
    // A usage header whose value is the weight the venue counted in the bucket's window (Aster
    // X-MBX-USED-WEIGHT-1M): the venue's count wins over ours. Empty = none.
    std::string used_weight_header;
    // Answers that mean "rate limited": the bucket grants nothing for Retry-After seconds
    // (at least 1), or `default_block` when the header is absent or unparseable.
    std::vector<int> rate_limit_statuses = {429};
    std::chrono::seconds default_block{5};
  };
  using Done = std::function<void(absl::StatusOr<HttpResponse>)>;

  RestChannel(boost::asio::io_context& ioc, Options options);
  ~RestChannel();
  absl::Status Init();  // parses the base URL and creates the HTTP client
  void set_sink(EventSink* sink) { sink_ = sink; }
  EventSink* sink() const { return sink_; }
  const std::string& venue() const { return options_.venue; }

  // Sends once `weight` tokens are available. `done` runs on the venue thread with the
  // response (any HTTP status) or the transport error (kDeadlineExceeded on timeout).
  void Send(HttpRequest request, int weight, Done done);
  // Records a signing duration (the venue's REST layer signs before Send).
  void ObserveSigning(std::chrono::nanoseconds d);

 private:
  struct Call;
  void Pace(std::shared_ptr<Call> call);
  void Finish(const std::shared_ptr<Call>& call, absl::StatusOr<HttpResponse> r);

  boost::asio::io_context& ioc_;
  const Options options_;
  EventSink* sink_ = nullptr;
  std::unique_ptr<HttpClient> http_;
  TokenBucket bucket_;
};

}  // namespace perpgw::common
