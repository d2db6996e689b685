// Test-only loopback HTTP/WebSocket server built on Asio coroutines, and a self-signed cert.
#include <utility>  // Boost 1.74's awaitable.hpp uses std::exchange without including it

#include "tests/unit/common/test_server.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

namespace perpgw::common::testing {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = net::ip::tcp;
using net::use_awaitable;

TestCert MakeSelfSignedCert(const std::string& subject_alt_names) {
  TestCert out;
  EVP_PKEY* pkey = EVP_EC_gen("P-256");
  X509* x = X509_new();
  X509_set_version(x, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
  X509_gmtime_adj(X509_getm_notBefore(x), -3600);
  X509_gmtime_adj(X509_getm_notAfter(x), 24 * 3600);
  X509_set_pubkey(x, pkey);
  X509_NAME* name = X509_get_subject_name(x);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("perpgw-test"), -1, -1, 0);
  X509_set_issuer_name(x, name);
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, x, x, nullptr, nullptr, 0);
  for (auto [nid, value] : {std::pair<int, std::string>{NID_subject_alt_name, subject_alt_names},
                            {NID_basic_constraints, "critical,CA:TRUE"}}) {
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
    X509_add_ext(x, ext, -1);
    X509_EXTENSION_free(ext);
  }
  X509_sign(x, pkey, EVP_sha256());
  auto to_string = [](BIO* bio) {
    char* data = nullptr;
    long n = BIO_get_mem_data(bio, &data);
    std::string s(data, static_cast<size_t>(n));
    BIO_free(bio);
    return s;
  };
  BIO* cb = BIO_new(BIO_s_mem());
  PEM_write_bio_X509(cb, x);
  out.cert_pem = to_string(cb);
  BIO* kb = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(kb, pkey, nullptr, nullptr, 0, nullptr, nullptr);
  out.key_pem = to_string(kb);
  X509_free(x);
  EVP_PKEY_free(pkey);
  return out;
}

struct TestServer::State {
  explicit State(net::io_context& io) : ioc(io), acceptor(io) {}

  net::io_context& ioc;
  tcp::acceptor acceptor;
  std::unique_ptr<net::ssl::context> tls;
  WsMode ws_mode = WsMode::kEcho;
  std::chrono::milliseconds slow_delay{1000};
  int accepted = 0;
  int http_requests = 0;
  int ws_sessions = 0;
  std::vector<std::string> ws_received;
  std::vector<std::pair<std::string, std::string>> last_headers;
  // Closers for live connections (socket close + timer cancel).
  std::vector<std::function<void()>> closers;
  bool stopped = false;

  template <typename Fields>
  void Remember(const Fields& fields) {
    last_headers.clear();
    for (const auto& f : fields) {
      last_headers.emplace_back(std::string(f.name_string()), std::string(f.value()));
    }
  }

  // Every coroutine takes `keep` by value so the state outlives it even if the TestServer is
  // destroyed before the coroutine first runs.
  net::awaitable<void> Accept(std::shared_ptr<State> keep) {
    for (;;) {
      beast::error_code ec;
      tcp::socket sock = co_await acceptor.async_accept(net::redirect_error(use_awaitable, ec));
      if (ec || stopped) co_return;
      ++accepted;
      int conn_id = accepted;
      // Answers go out at once (no Nagle wait for the peer's delayed ACK): tests time them.
      sock.set_option(tcp::no_delay(true), ec);
      if (tls) {
        auto s = std::make_shared<beast::ssl_stream<beast::tcp_stream>>(std::move(sock), *tls);
        net::co_spawn(ioc, ServeTls(keep, s, conn_id), net::detached);
      } else {
        auto s = std::make_shared<beast::tcp_stream>(std::move(sock));
        net::co_spawn(ioc, Serve(keep, s, conn_id), net::detached);
      }
    }
  }

  net::awaitable<void> ServeTls(std::shared_ptr<State> keep,
                                std::shared_ptr<beast::ssl_stream<beast::tcp_stream>> s,
                                int conn_id) {
    closers.push_back([s] {
      beast::error_code ignored;
      beast::get_lowest_layer(*s).socket().close(ignored);
    });
    beast::error_code ec;
    co_await s->async_handshake(net::ssl::stream_base::server,
                                net::redirect_error(use_awaitable, ec));
    if (ec) co_return;
    co_await Serve(keep, s, conn_id);
  }

  template <typename Stream>
  net::awaitable<void> Serve(std::shared_ptr<State> keep, std::shared_ptr<Stream> s,
                             int conn_id) {
    closers.push_back([s] {
      beast::error_code ignored;
      beast::get_lowest_layer(*s).socket().close(ignored);
    });
    beast::flat_buffer buffer;
    for (;;) {
      http::request<http::string_body> req;
      beast::error_code ec;
      co_await http::async_read(*s, buffer, req, net::redirect_error(use_awaitable, ec));
      if (ec || stopped) co_return;
      Remember(req);
      if (websocket::is_upgrade(req)) {
        co_await ServeWs(s, std::move(req));
        co_return;
      }
      ++http_requests;
      std::string target(req.target());
      if (target == "/drop") {
        beast::get_lowest_layer(*s).socket().close(ec);
        co_return;
      }
      if (target.rfind("/slow", 0) == 0) {
        auto timer = std::make_shared<net::steady_timer>(ioc);
        timer->expires_after(slow_delay);
        closers.push_back([w = std::weak_ptr<net::steady_timer>(timer)] {
          if (auto t = w.lock()) t->cancel();
        });
        co_await timer->async_wait(net::redirect_error(use_awaitable, ec));
        if (stopped) co_return;
      }
      http::status status = http::status::ok;
      if (target == "/status500") status = http::status::internal_server_error;
      if (target.rfind("/status429", 0) == 0) status = http::status::too_many_requests;
      http::response<http::string_body> res{status, req.version()};
      res.set("X-Conn", std::to_string(conn_id));
      if (target == "/status429-retry1") res.set("Retry-After", "1");
      res.set("X-MBX-USED-WEIGHT-1M", "42");
      res.body() = std::string(req.method_string()) + " " + target + " " + req.body();
      res.keep_alive(req.keep_alive());
      res.prepare_payload();
      co_await http::async_write(*s, res, net::redirect_error(use_awaitable, ec));
      if (ec || stopped) co_return;
      if (target == "/close-after" || !req.keep_alive()) {
        beast::get_lowest_layer(*s).socket().close(ec);
        co_return;
      }
    }
  }

  template <typename Stream>
  net::awaitable<void> ServeWs(std::shared_ptr<Stream> s, http::request<http::string_body> req) {
    websocket::stream<Stream&> ws(*s);
    beast::error_code ec;
    co_await ws.async_accept(req, net::redirect_error(use_awaitable, ec));
    if (ec) co_return;
    ++ws_sessions;
    if (ws_mode == WsMode::kSilent) {
      auto timer = std::make_shared<net::steady_timer>(ioc);
      timer->expires_after(std::chrono::hours(1));
      closers.push_back([w = std::weak_ptr<net::steady_timer>(timer)] {
        if (auto t = w.lock()) t->cancel();
      });
      co_await timer->async_wait(net::redirect_error(use_awaitable, ec));
      co_return;
    }
    beast::flat_buffer buffer;
    for (;;) {
      co_await ws.async_read(buffer, net::redirect_error(use_awaitable, ec));
      if (ec || stopped) co_return;
      ws_received.push_back(beast::buffers_to_string(buffer.data()));
      if (ws_mode == WsMode::kCloseAfterFirst) {
        co_await ws.async_close(websocket::close_reason(websocket::close_code::normal, "bye"),
                                net::redirect_error(use_awaitable, ec));
        co_return;
      }
      ws.text(ws.got_text());
      co_await ws.async_write(buffer.data(), net::redirect_error(use_awaitable, ec));
      if (ec) co_return;
      buffer.consume(buffer.size());
    }
  }
};

TestServer::TestServer(net::io_context& ioc, const TestCert* cert)
    : state_(std::make_shared<State>(ioc)) {
  if (cert) {
    state_->tls = std::make_unique<net::ssl::context>(net::ssl::context::tls_server);
    state_->tls->use_certificate_chain(net::buffer(cert->cert_pem));
    state_->tls->use_private_key(net::buffer(cert->key_pem), net::ssl::context::pem);
  }
  tcp::endpoint ep(net::ip::make_address("127.0.0.1"), 0);
  state_->acceptor.open(ep.protocol());
  state_->acceptor.set_option(tcp::acceptor::reuse_address(true));
  state_->acceptor.bind(ep);
  state_->acceptor.listen();
  net::co_spawn(ioc, state_->Accept(state_), net::detached);
}

TestServer::~TestServer() {
  state_->stopped = true;
  beast::error_code ignored;
  state_->acceptor.close(ignored);
  CloseAllConnections();
}

uint16_t TestServer::port() const { return state_->acceptor.local_endpoint().port(); }
void TestServer::set_ws_mode(WsMode mode) { state_->ws_mode = mode; }
void TestServer::set_slow_delay(std::chrono::milliseconds d) { state_->slow_delay = d; }

void TestServer::CloseAllConnections() {
  auto closers = std::move(state_->closers);
  state_->closers.clear();
  for (auto& c : closers) c();
}

int TestServer::connections_accepted() const { return state_->accepted; }
int TestServer::http_requests() const { return state_->http_requests; }
int TestServer::ws_sessions() const { return state_->ws_sessions; }
const std::vector<std::string>& TestServer::ws_received() const { return state_->ws_received; }

std::string TestServer::last_header(const std::string& name) const {
  for (const auto& [k, v] : state_->last_headers) {
    if (beast::iequals(k, name)) return v;
  }
  return "";
}

bool RunUntil(net::io_context& ioc, const std::function<bool()>& pred,
              std::chrono::milliseconds deadline) {
  auto end = std::chrono::steady_clock::now() + deadline;
  while (!pred()) {
    if (std::chrono::steady_clock::now() >= end) return false;
    if (ioc.stopped()) ioc.restart();
    ioc.run_one_for(std::chrono::milliseconds(10));
  }
  return true;
}

void RunFor(net::io_context& ioc, std::chrono::milliseconds d) {
  auto end = std::chrono::steady_clock::now() + d;
  while (std::chrono::steady_clock::now() < end) {
    if (ioc.stopped()) ioc.restart();
    ioc.run_one_for(std::chrono::milliseconds(5));
  }
}

}  // namespace perpgw::common::testing
