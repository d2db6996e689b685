// Paradex's stream options (see ws.h).
#include "adapters/paradex/ws.h"

#include "adapters/paradex/codec.h"
#include "adapters/paradex/rest.h"

namespace perpgw::adapters::paradex {
namespace {

common::StreamSet::Options Base(std::string url, bool verify_tls) {
  common::StreamSet::Options o;
  o.url = std::move(url);
  o.verify_tls = verify_tls;
  o.topics_per_frame = 1;  // JSON-RPC subscribe names one channel
  // 20 new connections/s per IP and no documented per-connection message cap: a light pacing.
  o.frame_spacing = std::chrono::milliseconds(0);
  o.ping_interval = std::chrono::seconds(30);
  o.idle_timeout = std::chrono::seconds(120);
  return o;
}

}  // namespace

common::StreamSet::Options PublicStreamOptions(const std::string& ws_url, bool verify_tls) {
  common::StreamSet::Options o = Base(WithSbeQuery(WithApiPath(ws_url)), verify_tls);
  o.lazy = false;
  return o;
}

common::StreamSet::Options PrivateStreamOptions(const std::string& ws_url, bool verify_tls) {
  common::StreamSet::Options o = Base(WithApiPath(ws_url), verify_tls);
  o.lazy = false;  // Start() connects; the auth frame goes out on connect
  return o;
}

}  // namespace perpgw::adapters::paradex
