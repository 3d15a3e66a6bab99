#pragma once
// The control plane of one venue connection: what a session says besides reading fills — login,
// subscribe, heartbeats, answers to test requests — and what it makes of the venue's answers.
// One VenueControl per session (account); it lives across reconnects and starts over in on_open().
// Plain logic (no I/O): the session gives it a ControlChannel. Credentials are used to sign and
// are never put in a reason or a log line.
//
// Threading: used from its session's strand only.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "protocol/venues/venue_adapter.h"
#include "service/config/credentials.h"
#include "service/config/source_config.h"

namespace segmentd {

//! What a control may do to its connection.
class ControlChannel {
 public:
  virtual ~ControlChannel() = default;
  virtual void send(std::string text) = 0;
  //! Drop the connection and come back after the backoff. `reason` is logged: no secrets.
  virtual void reconnect(std::string_view reason) = 0;
  //! Authenticated and subscribed: fills will flow.
  virtual void ready() = 0;
  virtual void count_auth_failure() = 0;
  virtual void count_subscribe_failure() = 0;
  virtual void count_test_request_answered() = 0;
  virtual void count_ping() = 0;
};

struct ControlCredentials {
  std::string account;  //!< the account name (Hyperliquid: user address)
  Secret key;
  Secret secret;
  Secret passphrase;
};

class VenueControl {
 public:
  virtual ~VenueControl() = default;
  //! The websocket is open: log in, or subscribe straight away where the venue needs no login.
  virtual void on_open(ControlChannel& ch, std::int64_t now_ns) = 0;
  //! Every well-formed message the adapter decoded (fills included).
  virtual void on_message(const DecodeOutcome& outcome, ControlChannel& ch, std::int64_t now_ns) = 0;
  //! Every tick_interval_ns() while open: application pings, and giving up on a login that the
  //! venue never answered.
  virtual void on_tick(ControlChannel& ch, std::int64_t now_ns) = 0;
  virtual std::int64_t tick_interval_ns() const = 0;
};

//! Settings every control reads from the source config.
struct ControlSettings {
  std::int64_t heartbeat_interval_ns = 20'000'000'000;
  std::int64_t auth_timeout_ns = 10'000'000'000;
  std::vector<std::string> coins;        //!< Hyperliquid public trades
  std::vector<std::string> market_data;  //!< SourceConfig::market_data
  //! A connection to the venue's public websocket (market_data_url of OKX, Bybit, Binance): no
  //! login, the market_data subscriptions only.
  bool public_only = false;
  //! Subscribe the account's position channel and take a snapshot at connect (SourceConfig::positions).
  bool positions = true;
};

std::unique_ptr<VenueControl> make_venue_control(Venue venue, ControlCredentials credentials, ControlSettings settings);

std::unique_ptr<VenueControl> make_deribit_control(ControlCredentials credentials, ControlSettings settings);
std::unique_ptr<VenueControl> make_okx_control(ControlCredentials credentials, ControlSettings settings);
std::unique_ptr<VenueControl> make_bybit_control(ControlCredentials credentials, ControlSettings settings);
std::unique_ptr<VenueControl> make_binance_control(ControlCredentials credentials, ControlSettings settings);
std::unique_ptr<VenueControl> make_hyperliquid_control(ControlCredentials credentials, ControlSettings settings);

}  // namespace segmentd
