#pragma once
// The publisher's wire format (protocol/publisher/publisher.md): encoders for every server message and a strict
// parser for client requests. Plain functions over domain types; no I/O. The JSON Schemas in
// protocol/publisher/schemas/ describe exactly what these encoders write, and protocol/README.md the
// conversation (subscribe → subscribed → snapshot chunks or replay → deltas).
//
// Every encoder appends one complete JSON object (no trailing newline, never a raw newline
// inside, so a batch of messages can be framed as a JSON array) and is deterministic: the same
// arguments give the same bytes.

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/model.h"
#include "core/scenario.h"
#include "core/segment_change.h"
#include "core/types.h"

namespace segmentd {
struct ExposureView;  // protocol/publisher/admin_messages.h
}  // namespace segmentd

namespace segmentd::pubmsg {

// ---------------------------------------------------------------- server → client

//! What a snapshot says about one account: the last change the publisher published for it.
struct AccountAssignment {
  std::string_view account;  //!< account name
  SegmentId segment = kNoSegment;
  std::string_view label;  //!< the segment's label (latest known)
  double confidence = 0.0;
  std::int64_t ts_ns = 0;  //!< event time of the change that put it there
  std::uint64_t seq = 0;   //!< seq of that change
};

//! The segment's label and policy as published with a change (from the latest model that knew
//! the segment). `known` false when no model has named the segment yet: label and policy are
//! then written as null.
struct SegmentInfo {
  bool known = false;
  std::string_view label;
  SegmentPolicy policy;           //!< the policy in force in `regime`
  Regime regime = Regime::kCalm;  //!< the market regime when the change was published
};

//! A change of an underlying's market regime (core/market_regime.h), or of the market's after a
//! restart (underlying empty), and what it does to the policies: the market regime is the most
//! stressed of the underlyings', and every segment's policy follows it.
struct RegimeChangeInfo {
  std::int64_t ts_ns = 0;       //!< event time of the sample that decided it
  std::string_view underlying;  //!< "" = the market as a whole (written as null)
  Regime from = Regime::kCalm;
  Regime to = Regime::kCalm;
  std::string_view reason;
  Regime market_from = Regime::kCalm;  //!< the market regime before
  Regime market = Regime::kCalm;       //!< and after: the one the policies follow
  const Model* model = nullptr;        //!< the segments whose policies are listed (null: none yet)
  //! The policies to list, parallel to model->segments (a dynamic margin applied); empty: each
  //! segment's policy_in(market).
  std::span<const SegmentPolicy> policies;
};

//! One segment's line of a `risk` message: its sums under each shock, in the order of the
//! message's shocks, and the margin multiplier its policy sets now.
struct RiskSegment {
  SegmentId segment = kNoSegment;  //!< kNoSegment: accounts not assigned yet (written as null)
  std::string_view label;          //!< "" for kNoSegment (null)
  std::uint64_t accounts = 0;
  double gross_delta_usd = 0.0;
  double margin_usd = 0.0;
  double net_gamma_usd = 0.0;  //!< delta USD gained on a 1 % up-move
  double open_notional_usd = 0.0;
  double margin_multiplier = 0.0;  //!< in force now: the policy's, or its dynamic margin
  bool dynamic_margin = false;
  std::span<const double> pnl_usd;
  std::span<const std::uint64_t> accounts_over_margin;
  std::span<const double> liquidation_usd;
  std::uint64_t venue_margin_accounts = 0;  //!< accounts whose margin a venue stated (last: older initializers)
};
//! A periodic publication of the shock scenarios (core/scenario.h).
struct RiskInfo {
  std::int64_t ts_ns = 0;     //!< wall clock of the publication
  std::int64_t as_of_ns = 0;  //!< event time the scan priced at
  Regime regime = Regime::kCalm;
  std::uint64_t model_version = 0;
  std::span<const Shock> shocks;
  std::span<const RiskSegment> segments;
};

//! The model as a JSON object (version, ts, scaler_version, segments with centroids in original
//! units keyed by feature name, sizes, policies, quality): the body of `model` messages, of a
//! snapshot's `model` and of the admin API's /v1/segments.
void append_model_object(std::string& out, const Model& m);
//! The `reason` array of a change: the features that moved it, in raw units.
void append_reasons(std::string& out, const std::array<ChangeReason, kMaxReasons>& reasons);
std::string_view to_string(SegmentChange::Cause c);

void append_segment_change(std::string& out, std::uint64_t seq, const SegmentChange& c, std::string_view account,
                           const SegmentInfo& to);
//! `model` message: the new model version, its segments (centroids in original units, keyed by
//! feature name), sizes, policies, what changed (born / retired / relabelled) and `exposure`:
//! each segment's exposure from the latest exposure scan (adminmsg::append_exposure_summary;
//! null when none was taken).
void append_model(std::string& out, std::uint64_t seq, const Model& m, const ExposureView* exposure = nullptr);
//! `regime_change` message: an underlying's regime changed; `policies` lists every segment of the
//! model with its policy in the market regime now in force.
void append_regime_change(std::string& out, std::uint64_t seq, const RegimeChangeInfo& c);
//! `risk` message: each segment's P&L, accounts over margin and liquidation notional under every
//! shock, and the margin multiplier in force (dynamic margins included).
void append_risk(std::string& out, std::uint64_t seq, const RiskInfo& r);
//! One chunk of a snapshot. Chunk 0 of `chunks` carries the model (null before warm-up) and the
//! market regime in force; every chunk carries `seq`: the snapshot is the state after message
//! `seq`, deltas follow from seq+1.
void append_snapshot_chunk(std::string& out, std::uint64_t seq, std::uint32_t chunk, std::uint32_t chunks,
                           const Model* model, std::span<const AccountAssignment> accounts,
                           Regime regime = Regime::kCalm);
//! Sent every heartbeat interval: `seq` is the last seq published, so a filtered subscriber
//! knows it has seen everything up to there.
void append_heartbeat(std::string& out, std::uint64_t seq, std::int64_t now_ns);

enum class StartMode : std::uint8_t { kSnapshot, kReplay };
enum class SnapshotWhy : std::uint8_t {
  kRequested,  //!< no since_seq
  kNotInRing,  //!< since_seq older than the replay ring
  kAhead,      //!< since_seq beyond the last seq (e.g. the server restarted)
};
//! The answer to subscribe: how the stream starts. mode snapshot: snapshot chunks at `seq`
//! follow, then deltas from seq+1. mode replay: messages since_seq+1..seq follow from the ring,
//! then live ones.
void append_subscribed(std::string& out, StartMode mode, SnapshotWhy why, std::optional<std::uint64_t> since_seq,
                       std::uint64_t seq, std::uint64_t ring_first_seq);
//! After unsubscribe: nothing more is delivered until the next subscribe.
void append_unsubscribed(std::string& out);
//! The answer to ping (`id` echoed). Carries no seq on purpose: only heartbeats, which travel in
//! order with the data, tell a subscriber how far it is.
void append_pong(std::string& out, std::int64_t now_ns, std::optional<std::string_view> id);

//! Closed set of error codes (stable strings on the wire).
enum class ErrorCode : std::uint8_t {
  kMalformedJson,      //!< "malformed_json": not a JSON object
  kBadRequest,         //!< "bad_request": missing/unknown field, wrong type, bad value
  kUnknownOp,          //!< "unknown_op"
  kFilterTooLarge,     //!< "filter_too_large"
  kFrameTooLarge,      //!< "frame_too_large"
  kAlreadySubscribed,  //!< "already_subscribed"
  kNotSubscribed,      //!< "not_subscribed"
  kBinaryFrame,        //!< "binary_frame": requests are text frames
};
std::string_view to_string(ErrorCode c);
void append_error(std::string& out, ErrorCode code, std::string_view message);

// ---------------------------------------------------------------- client → server

struct Filter {
  enum class Kind : std::uint8_t { kAll, kSegments, kAccounts };
  Kind kind = Kind::kAll;
  std::vector<SegmentId> segments;    //!< kSegments: sorted, unique
  std::vector<std::string> accounts;  //!< kAccounts: sorted, unique
};

struct SubscribeRequest {
  Filter filter;
  std::optional<std::uint64_t> since_seq;  //!< resume: the last seq the client has seen
  bool batch = false;                      //!< the client accepts frames holding a JSON array of messages
};
struct UnsubscribeRequest {};
struct PingRequest {
  std::optional<std::string> id;  //!< echoed in the pong
};
using ClientRequest = std::variant<SubscribeRequest, UnsubscribeRequest, PingRequest>;

struct RequestError {
  ErrorCode code = ErrorCode::kBadRequest;
  std::string message;  //!< names the field and the problem; never echoes more than a short prefix
};

struct RequestLimits {
  std::size_t max_filter_size = 10000;  //!< entries in filter.segments / filter.accounts
  std::size_t max_account_bytes = 128;
  std::size_t max_id_bytes = 64;
};

//! Parses one client frame. Strict: unknown fields, duplicates, wrong types and out-of-range
//! values are errors naming the field.
std::variant<ClientRequest, RequestError> parse_request(std::string_view text, const RequestLimits& limits);

}  // namespace segmentd::pubmsg
