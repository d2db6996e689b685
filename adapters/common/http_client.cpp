// HTTP/1.1 keep-alive client with Boost.Beast: a queue, N connections, per-request deadlines.
#include "adapters/common/http_client.h"
#include "adapters/wire/json_reader.h"

#include <algorithm>
#include <cctype>
#include <deque>
#include <optional>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include "adapters/common/tls_internal.h"

namespace perpgw::common {

static_assert(kHttpBodyPadding >= wire::kJsonPadding,
              "HttpClient must pad bodies enough for simdjson to parse in place");

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;

namespace {

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

// Path only: queries can carry signatures and must not end up in logs.
std::string Describe(const HttpRequest& r) {
  std::string_view t = r.target;
  size_t q = t.find('?');
  return r.method + " " + std::string(t.substr(0, q));
}

}  // namespace

const std::string* HttpResponse::Header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (EqualsIgnoreCase(k, name)) return &v;
  }
  return nullptr;
}

class HttpClient::Impl : public std::enable_shared_from_this<Impl> {
 public:
  Impl(net::io_context& ioc, Url origin, HttpClientOptions options)
      : ioc_(ioc),
        origin_(std::move(origin)),
        options_(std::move(options)),
        tls_ctx_(net::ssl::context::tls_client) {
    if (options_.connections == 0) options_.connections = 1;
    conns_.resize(options_.connections);
    if (origin_.tls) {
      tls_status_ = internal::InitClientTlsContext(
          tls_ctx_, internal::TlsSettings{options_.verify_tls, options_.ca_pem});
    }
  }

  bool Send(HttpRequest request, Callback callback) {
    if (closed_) return false;
    ++stats_.requests;
    auto p = std::make_shared<Pending>(ioc_);
    p->verb = http::string_to_verb(request.method);
    p->req = std::move(request);
    p->cb = std::move(callback);
    p->timeout = p->req.timeout.count() > 0 ? p->req.timeout : options_.default_timeout;
    if (p->verb == http::verb::unknown) {
      PostComplete(p, absl::InvalidArgumentError("http: unknown method '" + p->req.method + "'"));
      return true;
    }
    if (!tls_status_.ok()) {
      PostComplete(p, absl::UnavailableError("http " + Describe(p->req) +
                                             ": tls setup: " + std::string(tls_status_.message())));
      return true;
    }
    p->timer.expires_after(p->timeout);
    p->timer.async_wait([self = shared_from_this(), p](beast::error_code ec) {
      if (!ec) self->OnDeadline(p);
    });
    queue_.push_back(p);
    // Dispatch from the executor so the callback can never run inside Send().
    if (!dispatch_posted_) {
      dispatch_posted_ = true;
      net::post(ioc_, [self = shared_from_this()] {
        self->dispatch_posted_ = false;
        self->Dispatch();
      });
    }
    return true;
  }

  void Close() {
    if (closed_) return;
    closed_ = true;
    for (auto& p : queue_) p->timer.cancel();
    queue_.clear();
    for (Conn& c : conns_) {
      if (c.current) {
        c.current->done = true;
        c.current->timer.cancel();
        c.current.reset();
      }
      DropLink(c);
    }
  }

  size_t pending() const {
    size_t n = queue_.size();
    for (const Conn& c : conns_) n += c.current ? 1 : 0;
    return n;
  }
  Stats stats() const { return stats_; }
  const Url& origin() const { return origin_; }

 private:
  struct Pending {
    explicit Pending(net::io_context& ioc) : timer(ioc) {}
    HttpRequest req;
    http::verb verb = http::verb::unknown;
    Callback cb;
    std::chrono::milliseconds timeout{0};
    net::steady_timer timer;
    bool done = false;
    bool sent = false;     // handed to a connection
    bool retried = false;  // stale keep-alive retry used
  };

  // One TCP(/TLS) connection. Handlers hold a shared_ptr to it, so a dropped link stays alive
  // until its aborted operations have completed.
  struct Link {
    explicit Link(net::io_context& ioc) : resolver(ioc) {}
    tcp::resolver resolver;
    std::unique_ptr<beast::tcp_stream> plain;
    std::unique_ptr<beast::ssl_stream<beast::tcp_stream>> tls;
    beast::flat_buffer buffer;
    http::request<http::string_body> request;
    std::optional<http::response_parser<http::string_body>> parser;
    bool connected = false;
    uint64_t requests = 0;  // completed on this link
    uint64_t idle_seq = 0;

    tcp::socket& socket() {
      return tls ? beast::get_lowest_layer(*tls).socket() : plain->socket();
    }
    template <typename F>
    void Visit(F&& f) {
      if (tls) {
        f(*tls);
      } else {
        f(*plain);
      }
    }
  };

  struct Conn {
    std::shared_ptr<Link> link;
    std::shared_ptr<Pending> current;
  };

  using LinkPtr = std::shared_ptr<Link>;

  bool Stale(Conn& c, const LinkPtr& link) const { return closed_ || c.link != link; }

  void Dispatch() {
    while (!closed_ && !queue_.empty()) {
      Conn* pick = nullptr;
      for (Conn& c : conns_) {  // prefer a warm connection
        if (!c.current && c.link && c.link->connected) {
          pick = &c;
          break;
        }
      }
      if (!pick) {
        for (Conn& c : conns_) {
          if (!c.current) {
            pick = &c;
            break;
          }
        }
      }
      if (!pick) return;
      auto p = queue_.front();
      queue_.pop_front();
      Start(*pick, std::move(p));
    }
  }

  void Start(Conn& c, std::shared_ptr<Pending> p) {
    p->sent = true;
    c.current = std::move(p);
    if (c.link && c.link->connected) {
      ++c.link->idle_seq;  // invalidates the idle watch
      beast::error_code ignored;
      c.link->socket().cancel(ignored);
      ++stats_.reused;
      Write(c, c.link);
      return;
    }
    OpenLink(c);
  }

  void OpenLink(Conn& c) {
    DropLink(c);
    auto link = std::make_shared<Link>(ioc_);
    if (origin_.tls) {
      link->tls = std::make_unique<beast::ssl_stream<beast::tcp_stream>>(ioc_, tls_ctx_);
    } else {
      link->plain = std::make_unique<beast::tcp_stream>(ioc_);
    }
    c.link = link;
    link->resolver.async_resolve(
        origin_.host, std::to_string(origin_.port),
        [self = shared_from_this(), &c, link](beast::error_code ec,
                                              tcp::resolver::results_type results) {
          if (self->Stale(c, link)) return;
          if (ec) return self->FailCurrent(c, "resolve " + self->origin_.host + ": " + ec.message());
          link->Visit([&](auto& s) {
            beast::get_lowest_layer(s).async_connect(
                results, [self, &c, link](beast::error_code ec, const tcp::endpoint&) {
                  self->OnConnect(c, link, ec);
                });
          });
        });
  }

  void OnConnect(Conn& c, const LinkPtr& link, beast::error_code ec) {
    if (Stale(c, link)) return;
    if (ec) return FailCurrent(c, "connect " + origin_.HostHeader() + ": " + ec.message());
    ++stats_.connects;
    beast::error_code ignored;
    link->socket().set_option(tcp::no_delay(true), ignored);
    if (!link->tls) {
      link->connected = true;
      return Write(c, link);
    }
    absl::Status st =
        internal::ConfigureTlsHost(link->tls->native_handle(), origin_.host, options_.verify_tls);
    if (!st.ok()) return FailCurrent(c, std::string(st.message()));
    link->tls->async_handshake(net::ssl::stream_base::client,
                               [self = shared_from_this(), &c, link](beast::error_code ec) {
                                 if (self->Stale(c, link)) return;
                                 if (ec) return self->FailCurrent(c, "tls handshake: " + ec.message());
                                 link->connected = true;
                                 self->Write(c, link);
                               });
  }

  void Write(Conn& c, const LinkPtr& link) {
    Pending& p = *c.current;
    auto& rq = link->request;
    rq = {};
    rq.version(11);
    rq.method(p.verb);
    rq.target(p.req.target);
    rq.set(http::field::host, origin_.HostHeader());
    if (!options_.user_agent.empty()) rq.set(http::field::user_agent, options_.user_agent);
    for (const auto& [k, v] : options_.default_headers) rq.set(k, v);
    for (const auto& [k, v] : p.req.headers) rq.set(k, v);
    rq.body() = p.req.body;
    rq.keep_alive(true);
    rq.prepare_payload();
    link->parser.emplace();
    link->parser->body_limit(options_.max_body_bytes);
    link->parser->header_limit(64 * 1024);
    if (p.verb == http::verb::head) link->parser->skip(true);  // no body follows a HEAD answer
    link->Visit([&](auto& s) {
      http::async_write(s, rq, [self = shared_from_this(), &c, link](beast::error_code ec, size_t) {
        if (self->Stale(c, link)) return;
        if (ec) return self->OnTransportError(c, link, "write: " + ec.message());
        self->ReadHeader(c, link);
      });
    });
  }

  // Header first: Beast 1.74's eager http::async_read ignores body_limit when Content-Length
  // is present, so the declared length is checked here before reading the body.
  void ReadHeader(Conn& c, const LinkPtr& link) {
    link->Visit([&](auto& s) {
      http::async_read_header(
          s, link->buffer, *link->parser,
          [self = shared_from_this(), &c, link](beast::error_code ec, size_t) {
            if (self->Stale(c, link)) return;
            auto len = ec ? boost::none : link->parser->content_length();
            if (len && *len > self->options_.max_body_bytes) ec = http::error::body_limit;
            if (ec || link->parser->is_done()) return self->OnRead(c, link, ec);
            link->Visit([&](auto& s2) {
              http::async_read(s2, link->buffer, *link->parser,
                               [self, &c, link](beast::error_code ec, size_t) {
                                 self->OnRead(c, link, ec);
                               });
            });
          });
    });
  }

  void OnRead(Conn& c, const LinkPtr& link, beast::error_code ec) {
    if (Stale(c, link)) return;
    if (ec == http::error::body_limit) {
      auto p = c.current;
      c.current.reset();
      DropLink(c);
      Complete(p, absl::InvalidArgumentError("http " + Describe(p->req) +
                                             ": response body exceeds max_body_bytes"));
      return Dispatch();
    }
    if (ec) return OnTransportError(c, link, "read: " + ec.message());
    auto res = link->parser->release();
    HttpResponse out;
    out.status = static_cast<int>(res.result_int());
    for (const auto& f : res) {
      out.headers.emplace_back(std::string(f.name_string()), std::string(f.value()));
    }
    out.body = std::move(res.body());
    out.body.reserve(out.body.size() + kHttpBodyPadding);
    bool keep = res.keep_alive();
    ++link->requests;
    auto p = c.current;
    c.current.reset();
    if (keep) {
      WatchIdle(c, link);
    } else {
      DropLink(c);
    }
    Complete(p, std::move(out));
    Dispatch();
  }

  // A keep-alive link has nothing to read while idle; readability means the server closed it
  // (FIN/close_notify) or misbehaved, so drop it now rather than fail the next request.
  void WatchIdle(Conn& c, const LinkPtr& link) {
    uint64_t seq = ++link->idle_seq;
    link->socket().async_wait(tcp::socket::wait_read,
                              [self = shared_from_this(), &c, link, seq](beast::error_code ec) {
                                if (ec || self->Stale(c, link)) return;
                                if (c.current || link->idle_seq != seq) return;
                                self->DropLink(c);
                              });
  }

  void OnTransportError(Conn& c, const LinkPtr& link, const std::string& what) {
    auto p = c.current;
    bool reused = link->requests > 0;
    bool nothing_received = !link->parser || !link->parser->got_some();
    DropLink(c);
    bool idempotent = p->verb == http::verb::get || p->verb == http::verb::head;
    if (reused && nothing_received && idempotent && options_.retry_idempotent_on_stale &&
        !p->retried) {
      p->retried = true;
      ++stats_.stale_retries;
      OpenLink(c);  // c.current stays p
      return;
    }
    FailCurrent(c, what);
  }

  void FailCurrent(Conn& c, const std::string& what) {
    auto p = c.current;
    c.current.reset();
    DropLink(c);
    ++stats_.transport_errors;
    if (p) Complete(p, absl::UnavailableError("http " + Describe(p->req) + ": " + what));
    Dispatch();
  }

  void OnDeadline(const std::shared_ptr<Pending>& p) {
    if (closed_ || p->done) return;
    ++stats_.timeouts;
    std::string msg = "http " + Describe(p->req) + ": timed out after " +
                      std::to_string(p->timeout.count()) + " ms";
    if (!p->sent) {
      queue_.erase(std::remove(queue_.begin(), queue_.end(), p), queue_.end());
      Complete(p, absl::DeadlineExceededError(msg + " (not sent)"));
      return;
    }
    for (Conn& c : conns_) {
      if (c.current == p) {
        c.current.reset();
        DropLink(c);  // the response may still come; this connection can't be trusted now
        break;
      }
    }
    Complete(p, absl::DeadlineExceededError(msg));
    Dispatch();
  }

  void DropLink(Conn& c) {
    if (!c.link) return;
    LinkPtr link = std::move(c.link);
    c.link.reset();
    link->connected = false;
    beast::error_code ignored;
    link->resolver.cancel();
    link->socket().close(ignored);
  }

  void Complete(const std::shared_ptr<Pending>& p, absl::StatusOr<HttpResponse> result) {
    if (p->done || closed_) return;
    p->done = true;
    p->timer.cancel();
    Callback cb = std::move(p->cb);
    if (cb) cb(std::move(result));
  }

  void PostComplete(const std::shared_ptr<Pending>& p, absl::Status st) {
    net::post(ioc_, [self = shared_from_this(), p, st = std::move(st)]() mutable {
      self->Complete(p, std::move(st));
    });
  }

  net::io_context& ioc_;
  Url origin_;
  HttpClientOptions options_;
  net::ssl::context tls_ctx_;
  absl::Status tls_status_;
  std::vector<Conn> conns_;  // fixed size: handlers keep references to elements
  std::deque<std::shared_ptr<Pending>> queue_;
  bool closed_ = false;
  bool dispatch_posted_ = false;
  Stats stats_;
};

HttpClient::HttpClient(net::io_context& ioc, Url origin, HttpClientOptions options)
    : impl_(std::make_shared<Impl>(ioc, std::move(origin), std::move(options))) {}

absl::StatusOr<std::unique_ptr<HttpClient>> HttpClient::Create(net::io_context& ioc,
                                                               std::string_view base_url,
                                                               HttpClientOptions options) {
  auto parsed = ParseUrl(base_url);
  if (!parsed.ok()) return parsed.status();
  if (parsed->scheme != "http" && parsed->scheme != "https") {
    return absl::InvalidArgumentError("http client url must be http:// or https://: " +
                                      std::string(base_url));
  }
  return std::make_unique<HttpClient>(ioc, *std::move(parsed), std::move(options));
}

HttpClient::~HttpClient() { impl_->Close(); }
bool HttpClient::Send(HttpRequest request, Callback callback) {
  return impl_->Send(std::move(request), std::move(callback));
}
void HttpClient::Close() { impl_->Close(); }
size_t HttpClient::pending() const { return impl_->pending(); }
HttpClient::Stats HttpClient::stats() const { return impl_->stats(); }
const Url& HttpClient::origin() const { return impl_->origin(); }

}  // namespace perpgw::common
