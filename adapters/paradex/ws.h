// Paradex WebSocket sessions: one public connection (SBE negotiated in the URL) carrying every
// market channel, and one private connection per account whose first frame is the JSON-RPC
// `auth` call, then the private subscriptions; both re-subscribed (and re-authenticated) on every
// reconnect (the server keeps no session). Each is a common::StreamSet; one channel per
// JSON-RPC request.
#pragma once

#include <string>

#include "adapters/common/stream_set.h"

namespace perpgw::adapters::paradex {

// The pseudo-topic the private stream puts first: its "subscribe frame" is the auth call.
inline constexpr char kAuthTopic[] = "auth";
// The pseudo-topic right after it when the account asks for the venue's cancel-on-disconnect:
// its frame is order.cancel_on_disconnect {enabled: true}, sent again on every connection.
inline constexpr char kCancelOnDisconnectTopic[] = "cancel_on_disconnect";

// Public: `ws_url` (the /v1 path added when it has none) + the SBE query. One channel per frame.
// The server pings every 55 s and drops a client that does not pong within 5 s (Beast answers
// pings at once); our own pings keep idle NATs open.
common::StreamSet::Options PublicStreamOptions(const std::string& ws_url, bool verify_tls);
// Private: JSON only (no SBE parameters), one account per connection.
common::StreamSet::Options PrivateStreamOptions(const std::string& ws_url, bool verify_tls);

}  // namespace perpgw::adapters::paradex
