#pragma once
// kind = "venue": one VenueSession per configured account, all on one EventLoop thread, which is
// this source's producer thread.

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

  //! Sessions that are (or were, since the last reconnect) authenticated and subscribed.
  std::size_t ready_sessions() const;
  std::size_t sessions() const { return sessions_.size(); }

 private:
  SourceConfig config_;
  AdapterContext adapter_base_;
  FillSink& sink_;
  SourceStats stats_;
  EventLoop loop_;  //!< before sessions_: outlives them
  std::vector<std::unique_ptr<VenueSession>> sessions_;
  bool started_ = false;
  bool stopped_ = false;
};

}  // namespace segmentd
