#pragma once
// kind = "venue": one VenueSession per configured account, all on one EventLoop thread, which is
// this source's producer thread. The first subscribes the source's public channels too; OKX's,
// Bybit's and Binance's are on a websocket of their own (market_data_url), read by one more
// session, kPublicOnly.
//
// Resume position (Source::save_position): per account, the newest venue time of a fill pushed
// and the trade ids pushed within the gap-fill's look-back before it (VenuePosition). A source
// restored from it gap-fills from there at its first connect, and drops what it had pushed.

#include <memory>
#include <vector>

#include "service/config/source_config.h"
#include "service/ingest/fill_sink.h"
#include "service/ingest/source.h"
#include "service/ingest/venue_session.h"
#include "service/net/event_loop.h"

namespace segmentd {

class VenueSource final : public Source {
 public:
  VenueSource(SourceConfig config, AdapterContext adapter_base, FillSink& sink);
  ~VenueSource() override;

  std::string_view name() const override { return config_.name; }
  absl::Status start() override;
  void stop() override;
  const SourceStats& stats() const override { return stats_; }
  void save_position(std::string& out) const override;
  absl::Status check_position(std::string_view bytes) const override;
  absl::Status restore_position(std::string_view bytes) override;
  //! The REST gap-fills of all sessions (calls, pages, errors by kind, retries).
  const GapFillStats& gap_fill_stats() const { return gap_stats_; }

  //! Sessions that are (or were, since the last reconnect) authenticated and subscribed.
  std::size_t ready_sessions() const;
  std::size_t sessions() const { return sessions_.size(); }

 private:
  SourceConfig config_;
  AdapterContext adapter_base_;
  FillSink& sink_;
  SourceStats stats_;
  GapFillStats gap_stats_;
  //! One per configured account, in config order; outlives the sessions (a checkpoint after
  //! stop() still reads it). Sessions write it inside sink units only.
  std::vector<VenuePosition> positions_;
  SourceConfig public_config_;     //!< the public session's (OKX, Bybit, Binance): url = market_data_url
  VenuePosition public_position_;  //!< the public session's (no fills: never saved)
  EventLoop loop_;                 //!< before sessions_: outlives them
  std::vector<std::unique_ptr<VenueSession>> sessions_;
  bool started_ = false;
  bool stopped_ = false;
};

}  // namespace segmentd
