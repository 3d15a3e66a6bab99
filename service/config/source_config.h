#pragma once
// [[sources]]: where fills come from (config/README.md documents every key). One entry per
// source; a venue source holds one authenticated connection per account, as a broker with
// sub-accounts runs them.

#include <cstdint>
#include <string>
#include <vector>

#include "core/event_time_guard.h"
#include "core/types.h"
#include "protocol/venues/binance/control.h"
#include "service/config/credentials.h"
#include "service/net/backoff.h"

namespace segmentd {

class ConfigSection;

enum class SourceKind : std::uint8_t { kVenue = 0, kIngest, kReplay, kSimulator, kNats };
std::string_view to_string(SourceKind k);

//! One authenticated connection of a venue source.
struct SourceAccount {
  std::string name;      //!< the account the fills of this connection belong to (Hyperliquid: user address)
  SecretRef key;         //!< API key (not for Hyperliquid)
  SecretRef secret;      //!< API secret (not for Hyperliquid, nor Binance's stream, which needs only the key)
  SecretRef passphrase;  //!< OKX only
};

//! OKX, Bybit and Binance serve public market data on another websocket than the account's:
//! their sources read `market_data` on `market_data_url`, one more connection.
inline bool market_data_on_own_connection(Venue venue) {
  return venue == Venue::kOkx || venue == Venue::kBybit || venue == Venue::kBinance;
}

struct SourceConfig {
  std::string name;  //!< unique; defaults to "<kind>-<venue>-<index>"
  SourceKind kind = SourceKind::kVenue;
  //! The guard on this source's fill timestamps: the global [event_time] section, copied into
  //! every source when the config is loaded (not a key of [[sources]]).
  EventTimeGuardOptions event_time;

  // kind = "venue"
  Venue venue = Venue::kNative;
  std::string url;       //!< ws:// or wss:// endpoint (Binance: the stream base, ".../ws")
  std::string rest_url;  //!< REST base: Binance's listenKey ("https://fapi.binance.com"), every venue's gap-fill
  //! Binance: which market's user-data stream, listenKey and trade history (USDⓈ-M or options).
  control::BinanceMarket binance_market = control::BinanceMarket::kUsdM;
  std::vector<SourceAccount> accounts;
  std::vector<std::string> coins;  //!< Hyperliquid: public `trades` channels to follow as well
  //! Public market data for the price tape (protocol/README.md, "Market data from the venues"):
  //! Deribit channels (trades.*, markprice.options.*, deribit_price_index.*) and Hyperliquid
  //! subscriptions ("trades:COIN", "activeAssetCtx:COIN") beside the user's trades; OKX public
  //! channels ("trades:INSTID", "mark-price:INSTID", "index-tickers:INDEX"), Bybit topics
  //! ("publicTrade.SYMBOL", "tickers.SYMBOL") and Binance USD-M streams ("<symbol>@aggTrade",
  //! "<symbol>@markPrice") on market_data_url.
  std::vector<std::string> market_data;
  std::string market_data_url;  //!< see market_data_on_own_connection()
  //! Gap-fill (service/ingest/venue_history.h): after a restart and every reconnect, fetch the
  //! fills since the last seen trade from rest_url's trade history. Needs rest_url.
  bool gap_fill = true;
  //! Positions from the venue (core/features.md, "Positions from the venue"): subscribe the
  //! account's position channel and take a snapshot at every connect, to correct the book the
  //! fills build. Off: positions come from fills alone.
  bool positions = true;
  std::int64_t gap_fill_lookback_ns = 5'000'000'000;  //!< re-read this much before the last seen trade
  std::vector<std::string> history_currencies = {"BTC", "ETH", "USDC", "USDT"};  //!< Deribit: per currency
  std::vector<std::string> history_symbols;  //!< Binance USDⓈ-M: userTrades takes one symbol per call
  std::int64_t connect_timeout_ns = 10'000'000'000;
  std::int64_t handshake_timeout_ns = 10'000'000'000;   //!< TLS + websocket handshake
  std::int64_t idle_timeout_ns = 60'000'000'000;        //!< no traffic at all: websocket ping, then drop
  std::int64_t heartbeat_interval_ns = 20'000'000'000;  //!< venue heartbeat (Deribit set_heartbeat, app pings)
  std::int64_t auth_timeout_ns = 10'000'000'000;        //!< login + subscribe must be acked within this
  std::int64_t listen_key_keepalive_ns = 30LL * 60 * 1'000'000'000;  //!< Binance keep-alive PUT period
  BackoffConfig backoff;
  std::size_t max_frame_bytes = 1 << 20;  //!< larger messages are counted (oversized) and skipped
  bool tls_verify = true;                 //!< verify the venue's certificate chain and host name
  std::string ca_file;                    //!< extra trust anchor (tests, private CAs); "" = system store

  // kind = "ingest"
  std::string listen = "127.0.0.1:9101";  //!< host:port to bind
  SecretRef token;                        //!< bearer token clients must present at the upgrade
  int max_connections = 64;
  std::string tls_cert_file;  //!< both set: serve wss
  std::string tls_key_file;

  // kind = "replay"
  std::string path;
  std::size_t max_line_bytes = 1 << 16;

  // kind = "simulator" (built by binaries that link tools/fillsim, see service/source_factory.h)
  std::uint64_t seed = 1;
  std::uint32_t sim_accounts = 10'000;
  std::string market_events;  //!< simulator: sim/market.h parse_market_events ("" = none)
  double rate = 1'000;        //!< fills per wall-clock second (the simulator runs sim_speedup × faster)
  double duration_s = 60;

  // kind = "nats" (service/ingest/nats_source.h): url (nats://), token, max_frame_bytes (key
  // max_message_bytes) above, and:
  std::string stream = "SEGMENTD_FILLS";           //!< the JetStream stream holding the fills
  std::string subject = "segmentd.fills.>";        //!< the consumer's filter (partitions: segmentd.fills.<p>)
  std::string durable = "segmentd";                //!< the durable pull consumer's name
  bool create_stream = true;                       //!< create the stream (limits retention) when absent
  int batch = 256;                                 //!< messages per fetch
  std::int64_t ack_wait_ns = 300'000'000'000;      //!< the consumer's AckWait: above the checkpoint interval
  std::int64_t retry_interval_ns = 1'000'000'000;  //!< between attempts while the server is away
};

//! Reads every [[sources]] entry of `root` into `out`, reporting problems through the section.
void read_sources(ConfigSection& root, std::vector<SourceConfig>* out);

}  // namespace segmentd
