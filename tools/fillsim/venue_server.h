#pragma once
// The venue server mode of the simulator: simulated fills served over websocket (ws:// or wss://)
// in one venue's wire format (venue_encoders.h), behind that venue's control plane
// (venue_control_server.h): logins verified against the configured secrets, subscription acks,
// pings, Deribit heartbeat test requests, connections closed when they miss heartbeats, and
// Binance's listenKey over REST on the same port. Fault injection for tests: drop connections,
// stall, send malformed, wrongly typed and oversized frames, fail REST calls.
//
// Each account's fills are generated up front (a fixed, finite stream) so that a test can compare
// what a client received with expected_trade_ids(). As on a real venue, an account's fills run
// on in time once its first connection subscribed, whether or not a client is connected: fill i
// happens at start + (i / batch) / messages_per_second and is stamped with that wall-clock time.
// A subscribed connection is pushed the fills that happen while it is subscribed, and nothing it
// missed: a client gets those only from the REST history (Hyperliquid alone opens userFills with
// a bounded snapshot of the `snapshot_fills` most recent fills, isSnapshot: true).
//
// The REST trade history of every venue, with its real path, parameters, signature, page limit,
// order and pagination (docs of protocol/venues/<venue>/history.h), serves the fills that have
// happened so far; the server keeps them all:
//   Deribit      GET  /api/v2/private/get_user_trades_by_currency_and_time   (deri-hmac-sha256)
//   OKX          GET  /api/v5/trade/fills                                    (OK-ACCESS-*)
//   Binance      GET  /fapi/v1/userTrades, options GET /eapi/v1/userTrades   (signature + X-MBX-APIKEY)
//   Bybit        GET  /v5/execution/list                                     (X-BAPI-*)
//   Hyperliquid  POST /info {"type":"userFillsByTime"}                       (unsigned)
// Each account may make `history_requests_per_second` calls (a token bucket of as many); more
// get the venue's rate-limit answer.
//
// Threading: one I/O thread; every session on its own strand; shared state on that thread only.
// start(), stop() and the accessors may be called from any thread.

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "core/types.h"
#include "protocol/venues/binance/control.h"
#include "sim/sim_config.h"
#include "tools/fillsim/venue_control_server.h"

namespace fillsim {

struct VenueFaults {
  int drop_after = 0;       //!< close a connection abruptly after this many fill messages (0: never)
  int max_drops = 1;        //!< drops over the server's life
  int bad_every = 0;        //!< every Nth fill message is preceded by a bad frame (truncated, wrong type, not JSON)
  int oversized_every = 0;  //!< every Nth fill message is preceded by a frame of oversized_bytes
  std::size_t oversized_bytes = 2 << 20;
  int stall_after = 0;  //!< after this many fill messages on a connection, go silent...
  int stall_ms = 0;     //!< ...for this long (no fills, no heartbeats), once
  //! After the drop (drop_after), refuse websocket upgrades (HTTP 503) until the dropped
  //! account's fills have run on by this many: a disconnect that surely misses fills.
  std::size_t away_fills = 0;
  //! Every Nth REST history call fails, in turn: HTTP 500, the venue's rate-limit answer (429 or
  //! its code), a truncated JSON body.
  int rest_error_every = 0;
};

struct VenueServerOptions {
  segmentd::Venue venue = segmentd::Venue::kDeribit;
  //! Binance: the market served. USDⓈ-M: perpetuals and futures, /fapi/v1/listenKey and
  //! /fapi/v1/userTrades. Options: options only, /eapi/v1/listenKey and /eapi/v1/userTrades.
  segmentd::control::BinanceMarket binance_market = segmentd::control::BinanceMarket::kUsdM;
  std::string listen = "127.0.0.1:0";
  std::string tls_cert_file;  //!< both set: wss:// and https://
  std::string tls_key_file;
  std::vector<ServerAccount> accounts;
  Config sim;                           //!< the simulation the fills come from
  std::size_t fills_per_account = 100;  //!< the stream of each account is this long
  std::size_t batch = 4;                //!< fills per message (Binance: always 1)
  double messages_per_second = 500;     //!< per connection
  std::size_t snapshot_fills = 10;      //!< Hyperliquid: recent fills in the userFills snapshot
  //! Every account holds this position (signed, base units) on the instrument of its stream's
  //! first fill before its stream starts: what a service that rebuilds positions from fills
  //! alone cannot know, and the venue's position channel tells.
  double start_position = 0.0;
  //! REST history page size; 0: the venue's own maximum (Deribit 1000, OKX 100, Binance 1000,
  //! Bybit 100, Hyperliquid 2000). Smaller in tests, so that a gap spans several pages.
  std::size_t history_page_limit = 0;
  double history_requests_per_second = 10;     //!< per account; beyond it the venue's rate-limit answer
  std::int64_t heartbeat_timeout_ms = 30'000;  //!< OKX/Bybit/Hyperliquid: silent client → closed
  //! Deribit: how many ms one second of public/set_heartbeat's interval lasts (the venue's
  //! minimum is 10 s; tests shrink the clock instead of the interval).
  std::int64_t deribit_heartbeat_second_ms = 1000;
  //! Binance: a listenKey lives this long after its creation or its last keep-alive (PUT); then
  //! its stream gets a listenKeyExpired event and is closed, and the next POST makes a new key.
  std::int64_t listen_key_validity_ms = 60LL * 60 * 1000;
  VenueFaults faults;
};

struct VenueServerStats {
  std::atomic<std::uint64_t> connections{0};
  std::atomic<std::uint64_t> auth_ok{0};
  std::atomic<std::uint64_t> auth_rejected{0};
  std::atomic<std::uint64_t> subscriptions{0};
  std::atomic<std::uint64_t> fill_messages{0};
  std::atomic<std::uint64_t> market_data_connections{0};  //!< connections that subscribed public market data
  std::atomic<std::uint64_t> position_messages{0};        //!< position snapshots and updates pushed
  std::atomic<std::uint64_t> market_data_messages{0};  //!< public market data pushed (Deribit, Hyperliquid, OKX, Bybit)
  std::atomic<std::uint64_t> fills_sent{0};
  std::atomic<std::uint64_t> bad_frames{0};
  std::atomic<std::uint64_t> oversized_frames{0};
  std::atomic<std::uint64_t> drops{0};
  std::atomic<std::uint64_t> stalls{0};
  std::atomic<std::uint64_t> test_requests{0};
  std::atomic<std::uint64_t> pings{0};             //!< application pings / public/test answered
  std::atomic<std::uint64_t> heartbeat_closes{0};  //!< connections closed for a missed heartbeat
  std::atomic<std::uint64_t> listen_keys{0};
  std::atomic<std::uint64_t> listen_key_rejected{0};
  std::atomic<std::uint64_t> keepalives{0};          //!< keep-alive PUTs that extended a live key
  std::atomic<std::uint64_t> keepalive_rejected{0};  //!< keep-alive PUTs without a live key
  std::atomic<std::uint64_t> listen_key_expired{0};  //!< streams closed with listenKeyExpired
  std::atomic<std::uint64_t> history_requests{0};    //!< REST history calls answered with a page
  std::atomic<std::uint64_t> history_records{0};     //!< records in those pages
  std::atomic<std::uint64_t> history_rejected{0};    //!< bad key or signature
  std::atomic<std::uint64_t> history_rate_limited{0};
  std::atomic<std::uint64_t> history_faults{0};    //!< calls failed on purpose (rest_error_every)
  std::atomic<std::uint64_t> missed{0};            //!< fills that happened with no subscribed connection
  std::atomic<std::uint64_t> refused_upgrades{0};  //!< websocket upgrades refused (away_fills)
};

class VenueServer {
 public:
  explicit VenueServer(VenueServerOptions options);
  ~VenueServer();
  VenueServer(const VenueServer&) = delete;
  VenueServer& operator=(const VenueServer&) = delete;

  //! Generates the fills (each must decode with the venue's own adapter), binds, serves.
  absl::Status start();
  void stop();
  std::uint16_t port() const { return port_.load(std::memory_order_acquire); }
  const VenueServerStats& stats() const { return stats_; }
  //! Fill::trade_id of every fill of `account`'s stream: stable_hash of the dedup key read from
  //! the fill's frame (frame_trade_ids.h), not from the venue's adapter.
  const std::vector<std::uint64_t>& expected_trade_ids(std::size_t account) const { return expected_[account]; }
  //! Fills of an account's stream that have happened so far (in time); any thread.
  std::size_t happened(std::size_t account) const;
  //! Fills of an account that happened while none of its connections was subscribed; any thread.
  std::size_t missed(std::size_t account) const;
  //! Every venue symbol of the streams (Binance's userTrades takes one symbol per call).
  std::vector<std::string> symbols() const;
  //! The account's positions as the venue holds them now (the start position and every fill
  //! that happened): venue symbol → signed base units, flat ones included. Any thread.
  std::vector<std::pair<std::string, double>> venue_positions(std::size_t account) const;
  //! A symbol's open interest as the venue's tickers state it now (its size unit): the longs of
  //! all its users, the accounts' and the market's on the other side of their net. Any thread.
  double open_interest(std::string_view symbol) const;

  struct Shared;
  struct Io;

 private:
  VenueServerOptions options_;
  VenueServerStats stats_;
  std::atomic<std::uint16_t> port_{0};
  std::vector<std::vector<std::uint64_t>> expected_;
  std::unique_ptr<Io> io_;  //!< the io_context and its thread; destroyed last
  std::shared_ptr<Shared> shared_;
};

}  // namespace fillsim
