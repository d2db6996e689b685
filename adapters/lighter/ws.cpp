// Lighter's stream options (see ws.h).
#include "adapters/lighter/ws.h"

#include "adapters/lighter/rest.h"

namespace perpgw::adapters::lighter {

common::StreamSet::Options PublicStreamOptions(const std::string& ws_url, bool verify_tls) {
  common::StreamSet::Options o;
  o.url = WithStreamPath(ws_url);
  o.verify_tls = verify_tls;
  o.topics_per_frame = 1;  // one channel per subscribe frame
  o.ping_interval = std::chrono::seconds(30);
  o.idle_timeout = std::chrono::seconds(120);
  o.lazy = false;
  return o;
}

}  // namespace perpgw::adapters::lighter
