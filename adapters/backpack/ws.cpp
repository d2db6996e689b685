// Backpack's stream options (see ws.h).
#include "adapters/backpack/ws.h"

namespace perpgw::adapters::backpack {

common::StreamSet::Options StreamOptions(std::string url, bool verify_tls) {
  common::StreamSet::Options o;
  o.url = std::move(url);
  o.verify_tls = verify_tls;
  o.topics_per_frame = 50;
  o.ping_interval = std::chrono::seconds(30);
  o.idle_timeout = std::chrono::seconds(150);
  o.lazy = false;  // Start() connects: the private stream's subscription goes out on connect
  return o;
}

}  // namespace perpgw::adapters::backpack
