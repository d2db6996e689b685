// Backpack WebSocket sessions: one public connection carrying every market stream, and one
// private connection per account with the signed account.* subscription, both re-subscribed on
// every reconnect (the server sends no snapshot and keeps no state across connections). Each is a
// common::StreamSet; the frames are the codec's EncodeSubscribe / EncodePrivateSubscribe.
#pragma once

#include <string>

#include "adapters/common/stream_set.h"

namespace perpgw::adapters::backpack {

// One connection (no per-connection stream cap), SUBSCRIBE frames of 50 streams sent at once.
// The server pings every 60 s and closes after 120 s without a pong; Beast answers pings.
common::StreamSet::Options StreamOptions(std::string url, bool verify_tls);

}  // namespace perpgw::adapters::backpack
