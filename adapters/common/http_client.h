// HTTP/1.1 keep-alive client to one origin (http or https) on the venue's io_context: queued
// requests, a small connection pool, per-request deadlines. Beast stays in the .cpp (pimpl).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "adapters/common/url.h"

namespace boost::asio {
class io_context;
}  // namespace boost::asio

namespace perpgw::common {

// HttpResponse::body always has at least this much spare capacity, so
// wire::JsonParser::Start(response.body, ...) parses in place.
inline constexpr size_t kHttpBodyPadding = 64;

using HttpHeaders = std::vector<std::pair<std::string, std::string>>;

struct HttpRequest {
  std::string method = "GET";  // any standard verb, upper-case
  std::string target = "/";    // path + "?query" (already encoded; see QueryBuilder)
  HttpHeaders headers;         // Host, User-Agent and Content-Length are set by the client
  std::string body;
  // Whole-request deadline from Send() (queueing, connect, write, read); 0 = client default.
  std::chrono::milliseconds timeout{0};
};

struct HttpResponse {
  int status = 0;
  HttpHeaders headers;  // in wire order
  std::string body;

  // Case-insensitive; the first header with that name, or nullptr.
  const std::string* Header(std::string_view name) const;
  bool ok() const { return status >= 200 && status < 300; }
};

struct HttpClientOptions {
  size_t connections = 1;  // pool size; each connection carries one request at a time
  std::chrono::milliseconds default_timeout{10000};
  bool verify_tls = true;  // chain (system store + ca_pem) and host name; off only for tests
  std::string ca_pem;      // extra trusted CA certificates, PEM
  HttpHeaders default_headers;  // added to every request (before the request's own headers)
  std::string user_agent = "perpgw/0.1";
  size_t max_body_bytes = 64u << 20;
  // A GET/HEAD that fails on a reused keep-alive connection before any response byte arrived
  // (the server closed it just as we sent) is retried once on a fresh connection. Other
  // methods are never retried: the caller must treat the error as an unknown outcome.
  bool retry_idempotent_on_stale = true;
};

class HttpClient {
 public:
  // Errors: absl::DeadlineExceededError = the request's deadline passed (if it was already
  // written, the connection is dropped); absl::UnavailableError = resolve/connect/TLS/write/read
  // failure; absl::InvalidArgumentError = bad request (unknown method) or oversized response.
  // For order entry, both DeadlineExceeded and Unavailable mean OUTCOME_UNKNOWN.
  // HTTP error statuses (4xx/5xx) are successful transports: they arrive as an HttpResponse.
  using Callback = std::function<void(absl::StatusOr<HttpResponse>)>;

  struct Stats {
    uint64_t requests = 0;      // accepted by Send
    uint64_t connects = 0;      // TCP connections opened
    uint64_t reused = 0;        // requests sent on an already-used connection
    uint64_t timeouts = 0;
    uint64_t stale_retries = 0;
    uint64_t transport_errors = 0;
  };

  // All calls and callbacks on `ioc`'s thread. `origin`: scheme/host/port are used, its
  // target is ignored.
  HttpClient(boost::asio::io_context& ioc, Url origin, HttpClientOptions options = {});
  static absl::StatusOr<std::unique_ptr<HttpClient>> Create(boost::asio::io_context& ioc,
                                                            std::string_view base_url,
                                                            HttpClientOptions options = {});
  // Calls Close().
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Queues the request; the callback runs exactly once, later, on the executor (never inside
  // Send) — unless Close() happens first. Returns false (callback dropped) after Close().
  bool Send(HttpRequest request, Callback callback);
  // Drops every connection and every queued/in-flight request; no callback fires afterwards.
  void Close();

  size_t pending() const;  // queued + in flight
  Stats stats() const;
  const Url& origin() const;

 private:
  class Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace perpgw::common
