// Loopback helpers for the sim module tests (tests/unit/<venue>_sim/): a one-shot HTTP call, a
// WebSocket client with read timeouts (text and binary frames), and a polling wait. Real sockets
// on 127.0.0.1. (The Aster, Backpack and Paradex sim tests still carry their own copies.)
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <chrono>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace perpgw::testing::loopback {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;

struct HttpResult {
  int status = 0;
  std::string body;
};

inline HttpResult Call(int port, http::verb verb, const std::string& target,
                       const std::string& body = "",
                       const std::vector<std::pair<std::string, std::string>>& headers = {}) {
  asio::io_context io;
  beast::tcp_stream stream(io);
  stream.expires_after(5s);
  stream.connect(
      tcp::endpoint(asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)));
  http::request<http::string_body> req(verb, target, 11);
  req.set(http::field::host, "127.0.0.1");
  for (const auto& [k, v] : headers) req.set(k, v);
  if (!body.empty()) {
    req.set(http::field::content_type, "application/json");
    req.body() = body;
  }
  req.prepare_payload();
  http::write(stream, req);
  beast::flat_buffer buf;
  http::response<http::string_body> res;
  http::read(stream, buf, res);
  return {static_cast<int>(res.result_int()), res.body()};
}

struct Frame {
  std::string bytes;
  bool binary = false;
};

class WsClient {
 public:
  WsClient(int port, const std::string& target) : ws_(io_) {
    ws_.next_layer().connect(
        tcp::endpoint(asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)));
    beast::error_code ec;
    ws_.handshake("127.0.0.1", target, ec);
    handshake_error_ = ec;
  }
  bool ok() const { return !handshake_error_; }
  bool closed() const { return closed_; }
  std::optional<Frame> Read(std::chrono::milliseconds timeout = 3000ms) {
    if (closed_) return std::nullopt;
    if (!pending_) {
      pending_ = true;
      done_ = false;
      ws_.async_read(buf_, [this](beast::error_code ec, size_t) {
        done_ = true;
        ec_ = ec;
      });
    }
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!done_ && std::chrono::steady_clock::now() < deadline) {
      io_.restart();
      io_.run_one_until(deadline);
    }
    if (!done_) return std::nullopt;
    pending_ = false;
    if (ec_) {
      closed_ = true;
      return std::nullopt;
    }
    Frame f{beast::buffers_to_string(buf_.data()), ws_.got_binary()};
    buf_.consume(buf_.size());
    return f;
  }
  // First text frame containing `needle` (others skipped).
  std::optional<std::string> ReadText(const std::string& needle,
                                      std::chrono::milliseconds limit = 3s) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline && !closed_) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      auto f = Read(std::max(left, 1ms));
      if (f && !f->binary && f->bytes.find(needle) != std::string::npos) return f->bytes;
    }
    return std::nullopt;
  }
  void Ping() { ws_.ping({}); }  // a WS ping frame (the server's Beast answers it)
  void Send(const std::string& s) {
    ws_.text(true);
    ws_.write(asio::buffer(s));
  }

 private:
  asio::io_context io_;
  websocket::stream<tcp::socket> ws_;
  beast::flat_buffer buf_;
  bool pending_ = false, done_ = false, closed_ = false;
  beast::error_code ec_, handshake_error_;
};

template <class Pred>
inline bool WaitUntil(Pred pred, std::chrono::milliseconds limit = 5000ms) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(5ms);
  }
  return pred();
}

}  // namespace perpgw::testing::loopback
