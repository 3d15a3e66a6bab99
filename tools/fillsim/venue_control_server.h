#pragma once
// The server side of each venue's control plane, as the simulator plays it: logins checked
// against the configured secrets (a bad signature gets the venue's own error), subscription
// acks, pings answered, Deribit's heartbeat test requests. Plain logic on parsed messages; the
// I/O is venue_server.cpp's.
//
// Threading: one ControlState per connection, used on that connection's strand only.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/types.h"

namespace fillsim {

struct ServerAccount {
  std::string name;  //!< Hyperliquid: the user address
  std::string key;
  std::string secret;
  std::string passphrase;  //!< OKX
};

//! What one connection has established so far.
struct ControlState {
  int account = -1;  //!< authenticated (or, Hyperliquid, subscribed-for) account; -1 none
  bool subscribed = false;
  std::int64_t heartbeat_interval_ms = 0;  //!< Deribit public/set_heartbeat
  bool test_answered = true;               //!< Deribit: the last test_request got its public/test
  std::uint64_t conn = 0;                  //!< connection number, for conn ids
  //! Deribit: the public market-data channels subscribed (trades.*, markprice.options.*,
  //! deribit_price_index.*).
  std::vector<std::string> market_data;
  //! The account's position channel is subscribed (Hyperliquid clearinghouseState, OKX positions,
  //! Bybit position, Deribit user.changes; Binance's user-data stream always carries it).
  bool positions = false;
};

struct ControlResult {
  std::vector<std::string> replies;
  bool auth_ok = false;
  bool auth_rejected = false;
  bool newly_subscribed = false;
  bool ping = false;  //!< an application ping or public/test arrived
  //! The position channel was just subscribed: its snapshot is due (the server sends it).
  bool positions_subscribed = false;
  //! A request for the position snapshot (Deribit private/get_positions): its JSON-RPC id.
  std::int64_t positions_request_id = -1;
};

//! Handles one text message from a client.
ControlResult handle_client_message(segmentd::Venue venue, std::string_view text,
                                    const std::vector<ServerAccount>& accounts, std::int64_t now_ms,
                                    ControlState& state);

//! Deribit's heartbeat test request.
std::string deribit_test_request();

}  // namespace fillsim
