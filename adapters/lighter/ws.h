// Lighter WebSocket session: one public connection on /stream carrying every market channel
// ({"type":"subscribe","channel":"order_book/0"}, one channel per frame), re-subscribed on every
// reconnect. The venue closes connections silent for 2 minutes: WS pings every 30 s keep it
// open (pings count, lighter.md §5).
#pragma once

#include <string>

#include "adapters/common/stream_set.h"

namespace perpgw::adapters::lighter {

common::StreamSet::Options PublicStreamOptions(const std::string& ws_url, bool verify_tls);

}  // namespace perpgw::adapters::lighter
