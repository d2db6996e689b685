// Test-only loopback HTTP/WebSocket server (plain or TLS) on the test's io_context, plus a
// throwaway self-signed certificate generator.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>

namespace perpgw::common::testing {

struct TestCert {
  std::string cert_pem;
  std::string key_pem;
};
// EC P-256 self-signed certificate (CA:TRUE so it can be its own trust anchor).
TestCert MakeSelfSignedCert(const std::string& subject_alt_names = "DNS:localhost,IP:127.0.0.1");

class TestServer {
 public:
  enum class WsMode {
    kEcho,             // echo every frame (text stays text, binary stays binary)
    kSilent,           // accept the upgrade, then never read or write (no pongs either)
    kCloseAfterFirst,  // close handshake (1000, "bye") after the first message
  };

  // Listens on 127.0.0.1:0; TLS when cert is given.
  explicit TestServer(boost::asio::io_context& ioc, const TestCert* cert = nullptr);
  ~TestServer();

  uint16_t port() const;
  void set_ws_mode(WsMode mode);
  // Delay before answering HTTP targets starting with "/slow".
  void set_slow_delay(std::chrono::milliseconds d);
  // Drops every accepted connection abruptly.
  void CloseAllConnections();

  int connections_accepted() const;
  int http_requests() const;
  int ws_sessions() const;
  const std::vector<std::string>& ws_received() const;
  // Value of `name` in the most recent HTTP request or WebSocket upgrade ("" if absent).
  std::string last_header(const std::string& name) const;

  // HTTP routes: any target → 200 with body "<METHOD> <target> <body>" and headers
  // X-Conn: <connection number>, X-MBX-USED-WEIGHT-1M: 42.
  //   /slow...        answer after the slow delay
  //   /close-after    answer, then close the connection (no Connection: close header)
  //   /drop           close the connection without answering
  //   /status500      answer 500
  //   /status429...   answer 429 (/status429-retry1: with Retry-After: 1)

 private:
  struct State;
  std::shared_ptr<State> state_;
};

// Runs ioc handlers until pred() holds or the deadline passes; returns pred().
bool RunUntil(boost::asio::io_context& ioc, const std::function<bool()>& pred,
              std::chrono::milliseconds deadline = std::chrono::milliseconds(5000));
// Runs ioc handlers for a fixed time (only to let things settle; never the decision).
void RunFor(boost::asio::io_context& ioc, std::chrono::milliseconds d);

}  // namespace perpgw::common::testing
