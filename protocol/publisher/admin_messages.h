#pragma once
// JSON bodies of the admin HTTP API (/readyz, /v1/segments, /v1/accounts/{id}) and the view of
// one account that the service assembles for /v1/accounts (from its shard, on request).

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/feature_vector.h"
#include "core/fill.h"
#include "core/market_regime.h"
#include "core/model.h"
#include "core/scenario.h"
#include "core/segment_change.h"
#include "core/types.h"

namespace segmentd {

struct SegmentDistance {
  SegmentId segment = kNoSegment;
  double distance = 0.0;  //!< Euclidean, in the model's scaled space
};

//! One account as its shard sees it now (a copy; the admin API never reads live shard state).
struct AccountView {
  std::string account;              //!< name
  FeatureVector features_raw{};     //!< original units: what the model sees
  FeatureVector features_fast{};    //!< the fast clock's, original units
  FeatureVector features_slow{};    //!< the slow clock's, original units
  FeatureVector features_scaled{};  //!< (raw − mean) / stddev × weight of the model's scaler
  SegmentId segment = kNoSegment;
  double confidence = 0.0;                    //!< 1 − d1/d2
  std::int64_t segment_since_ns = 0;          //!< event time it entered `segment` (dwell start)
  std::int64_t last_fill_ns = 0;              //!< event time of its last fill
  std::uint64_t fills = 0;                    //!< fills seen (not decayed)
  std::uint64_t model_version = 0;            //!< the model the distances are computed against
  std::vector<SegmentDistance> distances;     //!< to every live centroid
  std::vector<SegmentChange> recent_changes;  //!< newest last
};

struct ReadinessCheck {
  std::string name;  //!< e.g. "sources", "model"
  bool ok = false;
  std::string detail;  //!< e.g. "3/4 connected; okx: reconnecting"
};

//! Segment sizes at one model version (the console's size history).
struct SizeHistoryEntry {
  std::int64_t ts_ns = 0;  //!< the model's event time
  std::uint64_t version = 0;
  std::vector<std::pair<SegmentId, std::uint64_t>> sizes;
};

//! GET /v1/overview: what the console's dashboard shows, assembled by the service.
struct Overview {
  const Model* model = nullptr;  //!< may be null (no model yet)
  std::vector<ReadinessCheck> checks;
  std::uint64_t fills_total = 0;   //!< fills delivered by every source since start
  double fills_per_second = -1.0;  //!< over the last few seconds; < 0 = not measured yet
  std::uint64_t accounts = 0;      //!< accounts seen (interned names)
  bool publisher_enabled = false;  //!< the websocket server runs
  std::uint16_t publisher_port = 0;
  bool publisher_tls = false;
  std::uint64_t publisher_seq = 0;        //!< the last seq numbered
  std::vector<SizeHistoryEntry> history;  //!< oldest first
};

//! One account (or a centre) on the console's map.
struct MapPoint {
  std::string account;  //!< account name (empty for a centre)
  double x = 0.0;
  double y = 0.0;
  SegmentId segment = kNoSegment;  //!< the nearest centre of the model (a centre: its own)
};

//! GET /v1/map: a sample of accounts projected to 2-D (core/projection.h).
struct MapView {
  std::uint64_t model_version = 0;
  std::uint64_t projection_version = 0;  //!< bumped when the axes are refitted (a rescale)
  std::vector<MapPoint> points;
  std::vector<MapPoint> centroids;
};

//! GET /v1/risk/exposure (core/segment_exposure.h), names resolved by the service.
struct UnderlyingExposureView {
  std::string underlying;  //!< "BTC"
  double net_delta_usd = 0.0;
  double long_delta_usd = 0.0;
  double short_delta_usd = 0.0;  //!< ≤ 0
  double net_vega_usd = 0.0;
  std::uint64_t positions = 0;
  //! The segment's open positions (long and short, base units) over the open contracts' two
  //! sides (2 × the venues' open interest), in the underlying's instruments whose open interest
  //! a venue gave; NaN when none did.
  double open_interest_share = kNaN;
};
//! The venues' open interest of one underlying: the sum over its instruments whose open interest
//! market data gave (core/instrument_board.h).
struct OpenInterestView {
  std::string underlying;
  double open_interest = 0.0;       //!< base units
  double open_interest_usd = kNaN;  //!< at the underlying's index price; NaN without one
  std::uint64_t instruments = 0;
};
struct AccountExposureView {
  std::string account;
  double gross_delta_usd = 0.0;
  double net_delta_usd = 0.0;
};
struct SegmentExposureView {
  SegmentId segment = kNoSegment;  //!< kNoSegment: accounts not assigned yet
  std::uint64_t accounts = 0;      //!< with an open position
  std::uint64_t positions = 0;
  double gross_delta_usd = 0.0;
  double net_delta_usd = 0.0;
  double net_vega_usd = 0.0;
  double top1_share = 0.0;  //!< of gross_delta_usd, held by the largest account
  double top5_share = 0.0;
  double top10_share = 0.0;
  //! Over every underlying with an open interest and an index price, in USD (as the
  //! underlyings' open_interest_share); NaN when there is none.
  double open_interest_share = kNaN;
  std::vector<AccountExposureView> largest;         //!< largest gross first
  std::vector<UnderlyingExposureView> underlyings;  //!< largest gross (long − short) first
};
//! GET /v1/risk/scenarios (core/scenario.h): each segment's sums under every shock.
struct ScenarioView {
  std::int64_t as_of_ns = 0;  //!< event time the options' times to expiry are counted from
  std::vector<Shock> shocks;
  Regime regime = Regime::kCalm;  //!< whose margin multipliers the margin estimates use
  double base_margin_rate = 0.0;
  std::uint64_t instruments_repriced = 0;  //!< instruments with a row (an index price)
  std::uint64_t options_assumed_vol = 0;   //!< of them, options priced at default_vol
  std::uint64_t positions_repriced = 0;
  std::uint64_t positions_approximated = 0;  //!< revalued from their greeks (no index price)
  struct Row {
    SegmentId segment = kNoSegment;  //!< kNoSegment: accounts not assigned yet
    SegmentScenarioSums sums;
  };
  std::vector<Row> segments;  //!< by segment id, unassigned last
};

struct ExposureView {
  std::int64_t as_of_ns = 0;       //!< event time of the scan (the newest shard's)
  std::int64_t scanned_at_ns = 0;  //!< wall clock when it was taken
  double scan_seconds = 0.0;       //!< how long the scan took (exposure and scenarios), all shards
  std::uint64_t accounts_scanned = 0;
  std::vector<SegmentExposureView> segments;      //!< by segment id, unassigned last
  std::vector<OpenInterestView> open_interest;    //!< by underlying name
  std::shared_ptr<const ScenarioView> scenarios;  //!< null when no scan revalued
};

//! GET /v1/risk/regime (core/market_regime.h), names resolved by the service.
struct RegimeReport {
  Regime market = Regime::kCalm;
  std::uint64_t switches = 0;
  std::uint64_t index_prices = 0;  //!< index prices observed
  std::vector<std::pair<std::string, UnderlyingRegime>> underlyings;
  std::vector<std::pair<std::string, RegimeEvent>> events;  //!< oldest first
};

namespace adminmsg {

//! GET /v1/risk/scenarios: the shocks, venue-wide totals and each segment's sums per shock
//! (labels from `model`, may be null).
void append_scenarios(std::string& out, const ScenarioView& v, const Model* model);
//! {"ready":bool,"checks":[{"name","ok","detail"}]}
void append_readiness(std::string& out, const std::vector<ReadinessCheck>& checks);
//! {"ready":bool,"model":{...}|null,"exposure":{...}|null}: the model in original units (same
//! object as the publisher's) and, when given, each segment's exposure in short
//! (append_exposure_summary).
void append_segments(std::string& out, const Model* model, const ExposureView* exposure = nullptr);
//! Each segment's exposure in short, as /v1/segments and the publisher's `model` message carry it:
//! {"as_of","scanned_at","segments":[{"segment","accounts","positions","gross_delta_usd",
//! "net_delta_usd","net_vega_usd","net_gamma_usd","open_notional_usd" (null without a scenario
//! scan),"top5_share","open_interest_share","underlyings":[{"underlying","net_delta_usd",
//! "gross_delta_usd","open_interest_share"}] (the 5 largest by gross)}]}.
void append_exposure_summary(std::string& out, const ExposureView& exposure, const Model* model);
//! The account view; labels of its segment and of every distance come from `model` (may be null).
void append_account(std::string& out, const AccountView& view, const Model* model);
//! The overview (docs/console.md has its fields).
void append_overview(std::string& out, const Overview& o);
//! The map; centre labels from `model` (may be null).
void append_map(std::string& out, const MapView& m, const Model* model);
//! The exposure report (docs/api.md, "GET /v1/risk/exposure"); labels from `model` (may be null).
void append_exposure(std::string& out, const ExposureView& v, const Model* model);
//! The regime report (docs/architecture.md, "GET /v1/risk/regime").
void append_regime(std::string& out, const RegimeReport& r);
//! {"error":"...","message":"..."}
void append_error(std::string& out, std::string_view error, std::string_view message);

}  // namespace adminmsg
}  // namespace segmentd
