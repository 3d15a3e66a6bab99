#pragma once
// One authenticated connection to a venue, for one account: a WsClient for the bytes, the venue's
// adapter for the fills, its VenueControl for login, subscriptions and heartbeats, and a
// TradeDedup that outlives reconnects, so that fills a venue re-sends after a reconnect
// (Hyperliquid's snapshot, a replayed window) reach the shards once.
//
// After a restart and after every reconnect (each time the session is ready) it gap-fills: its
// VenueHistory fetches the account's fills since the last trade it pushed (VenuePosition) from
// the venue's REST history, and they go through the same adapter, de-duplication and sink as the
// stream's. Every message's pushes and the position update after them are one sink unit
// (UnitGuard), so a checkpoint never splits a message and its saved position matches its fills.
//
// Bad messages (malformed, truncated, wrong types, oversized) are counted by reason in the
// source's stats and skipped; the connection stays up.
//
// Threading: everything runs on the WsClient's strand (an EventLoop thread); start() and stop()
// may be called from any thread. Fills go to the sink from that thread.

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "protocol/venues/trade_dedup.h"
#include "protocol/venues/venue_adapter.h"
#include "service/config/source_config.h"
#include "service/ingest/fill_sink.h"
#include "service/ingest/logins/binance_listen_key.h"
#include "service/ingest/source_stats.h"
#include "service/ingest/venue_control.h"
#include "service/ingest/venue_history.h"
#include "service/ingest/venue_positions_fetch.h"
#include "service/net/ws_client.h"

namespace segmentd {

//! Where an account's fills stand: the newest venue time pushed, and the trade ids pushed within
//! the gap-fill's look-back before it (what the de-duplication needs after a restart, when the
//! gap-fill re-reads that look-back). Written inside sink units only (see Source::save_position).
struct VenuePosition {
  static constexpr std::size_t kMaxRecent = 4096;
  std::string account;
  std::int64_t last_time_ms = -1;                             //!< newest venue time of a fill pushed; -1: none yet
  std::uint64_t last_trade_id = 0;                            //!< Fill::trade_id of that fill
  std::deque<std::pair<std::uint64_t, std::int64_t>> recent;  //!< (trade id, venue ms), oldest first

  //! A fill was pushed; keeps what lies within `lookback_ms` of the newest (at most kMaxRecent).
  void note(std::uint64_t trade_id, std::int64_t time_ms, std::int64_t lookback_ms);
};

//! VenuePosition's bytes for a checkpoint (Source::save_position): a line per account.
void encode_positions(const std::vector<VenuePosition>& positions, std::string& out);
absl::Status decode_positions(std::string_view bytes, std::vector<VenuePosition>& out);

class VenueSession final : public WsClientHandler, private ControlChannel {
 public:
  //! `adapter_base` supplies the interner and registry; its account and dedup are set here.
  //! `position` (the source's, outliving the session) says where a restored source stood.
  //! `feeds`: whether this session subscribes the source's public channels (`coins`,
  //! `market_data`) as well as its account's. One session per source does, or every public
  //! message would come once per account. kPublicOnly: a connection to the venue's public
  //! websocket (`config.url` is then the source's market_data_url), no login.
  enum class Feeds { kAccount, kAccountAndPublic, kPublicOnly };
  VenueSession(boost::asio::io_context& ioc, const SourceConfig& config, ControlCredentials credentials,
               AdapterContext adapter_base, FillSink& sink, SourceStats& stats, VenuePosition& position,
               GapFillStats& gap_stats, Feeds feeds = Feeds::kAccountAndPublic);
  ~VenueSession() override;

  void start() { client_.start(); }
  void stop() {
    if (history_) client_.post([this] { history_->stop(); });
    if (positions_fetch_) client_.post([this] { positions_fetch_->stop(); });
    client_.stop();
  }

  //! Times the session became ready (authenticated and subscribed); readable from any thread.
  std::uint64_t ready_count() const { return ready_count_.load(std::memory_order_relaxed); }

 private:
  // WsClientHandler
  void before_connect(std::function<void(absl::StatusOr<std::string>)> proceed) override;
  void on_open() override;
  void on_message(std::string_view message, std::int64_t recv_ns) override;
  void on_oversized(std::size_t bytes) override;
  void on_close(bool opened, std::string_view reason) override;
  void on_tick(std::int64_t now_ns) override;
  //! Decodes one message (live or a gap-fill page) and pushes its fills as one unit.
  void push_message(std::string_view message, std::int64_t recv_ns);
  void push_fills();
  //! The message's market data (public trades, mark and index prices) to the price tape.
  //! The venue positions of the last message (VenueAdapter::positions), after its fills.
  void push_positions();
  void push_market_data();

  // ControlChannel
  void send(std::string text) override { client_.send(std::move(text)); }
  void reconnect(std::string_view reason) override { client_.close_and_reconnect(reason); }
  void ready() override;
  void count_auth_failure() override { SourceStats::add(stats_.auth_failures); }
  void count_subscribe_failure() override { SourceStats::add(stats_.subscribe_failures); }
  void count_test_request_answered() override { SourceStats::add(stats_.test_requests_answered); }
  void count_ping() override { SourceStats::add(stats_.pings_sent); }

  const SourceConfig& config_;
  std::string account_;
  FillSink& sink_;
  SourceStats& stats_;
  TradeDedup dedup_;  //!< kept across reconnects
  std::unique_ptr<VenueAdapter> adapter_;
  std::unique_ptr<VenueControl> control_;
  std::unique_ptr<BinanceListenKey> listen_key_;  //!< Binance only
  VenuePosition& position_;
  std::int64_t lookback_ms_ = 0;
  std::int64_t started_ms_ = 0;            //!< gap-fill start when no fill was seen yet
  std::unique_ptr<VenueHistory> history_;  //!< null when gap-fill is off or has no REST base
  //! The positions snapshot over REST at every connect (Binance USDⓈ-M, Bybit); null otherwise.
  std::unique_ptr<VenuePositionsFetch> positions_fetch_;
  std::int64_t next_keepalive_ns_ = 0;
  std::vector<Fill> fills_;  //!< reused per message
  DecodeOutcome outcome_;
  ParseError error_;
  std::atomic<std::uint64_t> ready_count_{0};
  WsClient client_;  //!< last: its callbacks use everything above
};

}  // namespace segmentd
