#include "protocol/publisher/publisher_messages.h"

#include <algorithm>
#include <limits>

#include "core/str_cat.h"
#include "protocol/json_writer.h"
#include "protocol/publisher/admin_messages.h"
#include "simdjson.h"

namespace segmentd::pubmsg {
namespace {

using json::append_double;
using json::append_int;
using json::append_string;
using json::append_uint;

void append_segment_id(std::string& out, SegmentId id) {
  if (id == kNoSegment) {
    out.append("null");
  } else {
    append_uint(out, id);
  }
}

void append_policy(std::string& out, const SegmentPolicy& p) {
  out.append("{\"margin_multiplier\":");
  append_double(out, p.margin_multiplier);
  out.append(",\"quote_width_bps\":");
  append_double(out, p.quote_width_bps);
  out.append(",\"max_order_notional_usd\":");
  append_double(out, p.max_order_notional_usd);
  out.push_back('}');
}

void append_features(std::string& out, const FeatureVector& v) {
  out.push_back('{');
  for (int i = 0; i < kFeatureCount; ++i) {
    if (i) out.push_back(',');
    append_string(out, kFeatureNames[i]);
    out.push_back(':');
    append_double(out, v[i]);
  }
  out.push_back('}');
}

//! The fields a model message and a snapshot's model share (no braces).
void append_model_fields(std::string& out, const Model& m) {
  out.append("\"version\":");
  append_uint(out, m.version);
  out.append(",\"ts\":");
  append_int(out, m.ts_ns);
  out.append(",\"scaler_version\":");
  append_uint(out, m.scaler_version);
  out.append(",\"segments\":[");
  bool first = true;
  for (const Segment& s : m.segments) {
    if (!first) out.push_back(',');
    first = false;
    out.append("{\"id\":");
    append_uint(out, s.id);
    out.append(",\"label\":");
    append_string(out, s.label);
    out.append(",\"size\":");
    append_uint(out, s.size);
    out.append(",\"weight\":");
    append_double(out, s.weight);
    out.append(",\"centroid\":");
    append_features(out, s.centroid_raw);
    out.append(",\"policy\":");
    append_policy(out, s.policy);
    out.append(",\"stressed_policy\":");
    append_policy(out, s.stressed_policy);
    out.append(",\"extreme_policy\":");
    append_policy(out, s.extreme_policy);
    out.push_back('}');
  }
  out.append("],\"quality\":{\"inertia\":");
  append_double(out, m.quality.inertia);
  out.append(",\"silhouette\":");
  append_double(out, m.quality.silhouette);
  out.append(",\"churn_per_hour\":");
  append_double(out, m.quality.churn_per_hour);
  out.append(",\"centroid_drift\":");
  append_double(out, m.quality.centroid_drift);
  out.append(",\"adjusted_rand\":");
  append_double(out, m.quality.adjusted_rand);
  out.push_back('}');
}

}  // namespace

std::string_view to_string(SegmentChange::Cause c) {
  switch (c) {
    case SegmentChange::Cause::kFirstAssignment: return "first_assignment";
    case SegmentChange::Cause::kMoved: return "moved";
    case SegmentChange::Cause::kSegmentRetired: return "segment_retired";
  }
  return "moved";
}

void append_model_object(std::string& out, const Model& m) {
  out.push_back('{');
  append_model_fields(out, m);
  out.push_back('}');
}

void append_reasons(std::string& out, const std::array<ChangeReason, kMaxReasons>& reasons) {
  out.push_back('[');
  bool first = true;
  for (const ChangeReason& r : reasons) {
    if (r.feature < 0 || r.feature >= kFeatureCount) continue;
    if (!first) out.push_back(',');
    first = false;
    out.append("{\"feature\":");
    append_string(out, kFeatureNames[r.feature]);
    out.append(",\"value\":");
    append_double(out, r.value);
    out.append(",\"centroid_from\":");
    append_double(out, r.centroid_from);
    out.append(",\"centroid_to\":");
    append_double(out, r.centroid_to);
    out.push_back('}');
  }
  out.push_back(']');
}

void append_segment_change(std::string& out, std::uint64_t seq, const SegmentChange& c, std::string_view account,
                           const SegmentInfo& to) {
  out.append("{\"type\":\"segment_change\",\"seq\":");
  append_uint(out, seq);
  out.append(",\"ts\":");
  append_int(out, c.ts_ns);
  out.append(",\"account\":");
  append_string(out, account);
  out.append(",\"from\":");
  append_segment_id(out, c.from);
  out.append(",\"to\":");
  append_segment_id(out, c.to);
  out.append(",\"label\":");
  if (to.known) {
    append_string(out, to.label);
  } else {
    out.append("null");
  }
  out.append(",\"confidence\":");
  append_double(out, c.confidence);
  out.append(",\"reason\":");
  append_reasons(out, c.reasons);
  out.append(",\"policy\":");
  if (to.known) {
    append_policy(out, to.policy);
  } else {
    out.append("null");
  }
  out.append(",\"regime\":");
  append_string(out, to_string(to.regime));
  out.append(",\"model_version\":");
  append_uint(out, c.model_version);
  out.append(",\"cause\":");
  append_string(out, to_string(c.cause));
  out.push_back('}');
}

void append_model(std::string& out, std::uint64_t seq, const Model& m, const ExposureView* exposure) {
  out.append("{\"type\":\"model\",\"seq\":");
  append_uint(out, seq);
  out.push_back(',');
  append_model_fields(out, m);
  auto append_events = [&](ModelEvent::Kind kind) {
    out.push_back('[');
    bool first = true;
    for (const ModelEvent& e : m.events) {
      if (e.kind != kind) continue;
      if (!first) out.push_back(',');
      first = false;
      out.append("{\"segment\":");
      append_uint(out, e.segment);
      if (kind == ModelEvent::Kind::kBorn) {
        out.append(",\"parent\":");
        append_segment_id(out, e.parent);
      }
      if (kind != ModelEvent::Kind::kRetired) {
        out.append(",\"label\":");
        append_string(out, e.label);
      }
      if (kind == ModelEvent::Kind::kRelabelled) {
        out.append(",\"previous_label\":");
        append_string(out, e.previous_label);
      }
      out.append(",\"why\":");
      append_string(out, e.why);
      out.push_back('}');
    }
    out.push_back(']');
  };
  out.append(",\"born\":");
  append_events(ModelEvent::Kind::kBorn);
  out.append(",\"retired\":");
  append_events(ModelEvent::Kind::kRetired);
  out.append(",\"relabelled\":");
  append_events(ModelEvent::Kind::kRelabelled);
  out.append(",\"exposure\":");
  if (exposure != nullptr)
    adminmsg::append_exposure_summary(out, *exposure, &m);
  else
    out.append("null");
  out.push_back('}');
}

void append_regime_change(std::string& out, std::uint64_t seq, const RegimeChangeInfo& c) {
  out.append("{\"type\":\"regime_change\",\"seq\":");
  append_uint(out, seq);
  out.append(",\"ts\":");
  append_int(out, c.ts_ns);
  out.append(",\"underlying\":");
  if (c.underlying.empty()) {
    out.append("null");
  } else {
    append_string(out, c.underlying);
  }
  out.append(",\"from\":");
  append_string(out, to_string(c.from));
  out.append(",\"to\":");
  append_string(out, to_string(c.to));
  out.append(",\"reason\":");
  append_string(out, c.reason);
  out.append(",\"market_from\":");
  append_string(out, to_string(c.market_from));
  out.append(",\"market\":");
  append_string(out, to_string(c.market));
  out.append(",\"model_version\":");
  append_uint(out, c.model != nullptr ? c.model->version : 0);
  out.append(",\"policies\":[");
  if (c.model != nullptr) {
    for (std::size_t i = 0; i < c.model->segments.size(); ++i) {
      const Segment& s = c.model->segments[i];
      if (i > 0) out.push_back(',');
      out.append("{\"segment\":");
      append_uint(out, s.id);
      out.append(",\"label\":");
      append_string(out, s.label);
      out.append(",\"policy\":");
      append_policy(out, i < c.policies.size() ? c.policies[i] : s.policy_in(c.market));
      out.push_back('}');
    }
  }
  out.append("]}");
}

void append_risk(std::string& out, std::uint64_t seq, const RiskInfo& r) {
  out.append("{\"type\":\"risk\",\"seq\":");
  append_uint(out, seq);
  out.append(",\"ts\":");
  append_int(out, r.ts_ns);
  out.append(",\"as_of\":");
  append_int(out, r.as_of_ns);
  out.append(",\"regime\":");
  append_string(out, to_string(r.regime));
  out.append(",\"model_version\":");
  append_uint(out, r.model_version);
  out.append(",\"shocks\":[");
  for (std::size_t i = 0; i < r.shocks.size(); ++i) {
    if (i > 0) out.push_back(',');
    append_string(out, shock_name(r.shocks[i]));
  }
  out.append("],\"segments\":[");
  const auto numbers = [&out](auto values) {
    out.push_back('[');
    for (std::size_t i = 0; i < values.size(); ++i) {
      if (i > 0) out.push_back(',');
      append_double(out, static_cast<double>(values[i]));
    }
    out.push_back(']');
  };
  for (std::size_t k = 0; k < r.segments.size(); ++k) {
    const RiskSegment& s = r.segments[k];
    if (k > 0) out.push_back(',');
    out.append("{\"segment\":");
    append_segment_id(out, s.segment);
    out.append(",\"label\":");
    if (s.segment == kNoSegment) {
      out.append("null");
    } else {
      append_string(out, s.label);
    }
    out.append(",\"accounts\":");
    append_uint(out, s.accounts);
    out.append(",\"gross_delta_usd\":");
    append_double(out, s.gross_delta_usd);
    out.append(",\"margin_usd\":");
    append_double(out, s.margin_usd);
    out.append(",\"venue_margin_accounts\":");
    append_uint(out, s.venue_margin_accounts);
    out.append(",\"net_gamma_usd\":");
    append_double(out, s.net_gamma_usd);
    out.append(",\"open_notional_usd\":");
    append_double(out, s.open_notional_usd);
    out.append(",\"margin_multiplier\":");
    append_double(out, s.margin_multiplier);
    out.append(",\"dynamic_margin\":");
    out.append(s.dynamic_margin ? "true" : "false");
    out.append(",\"pnl_usd\":");
    numbers(s.pnl_usd);
    out.append(",\"accounts_over_margin\":[");
    for (std::size_t i = 0; i < s.accounts_over_margin.size(); ++i) {
      if (i > 0) out.push_back(',');
      append_uint(out, s.accounts_over_margin[i]);
    }
    out.append("],\"liquidation_usd\":");
    numbers(s.liquidation_usd);
    out.push_back('}');
  }
  out.append("]}");
}

void append_snapshot_chunk(std::string& out, std::uint64_t seq, std::uint32_t chunk, std::uint32_t chunks,
                           const Model* model, std::span<const AccountAssignment> accounts, Regime regime) {
  out.append("{\"type\":\"snapshot\",\"seq\":");
  append_uint(out, seq);
  out.append(",\"chunk\":");
  append_uint(out, chunk);
  out.append(",\"chunks\":");
  append_uint(out, chunks);
  if (chunk == 0) {
    out.append(",\"model\":");
    if (model != nullptr && model->version != 0) {
      append_model_object(out, *model);
    } else {
      out.append("null");
    }
    out.append(",\"regime\":");
    append_string(out, to_string(regime));
  }
  out.append(",\"accounts\":[");
  bool first = true;
  for (const AccountAssignment& a : accounts) {
    if (!first) out.push_back(',');
    first = false;
    out.append("{\"account\":");
    append_string(out, a.account);
    out.append(",\"segment\":");
    append_uint(out, a.segment);
    out.append(",\"label\":");
    append_string(out, a.label);
    out.append(",\"confidence\":");
    append_double(out, a.confidence);
    out.append(",\"ts\":");
    append_int(out, a.ts_ns);
    out.append(",\"seq\":");
    append_uint(out, a.seq);
    out.push_back('}');
  }
  out.append("]}");
}

void append_heartbeat(std::string& out, std::uint64_t seq, std::int64_t now_ns) {
  out.append("{\"type\":\"heartbeat\",\"seq\":");
  append_uint(out, seq);
  out.append(",\"ts\":");
  append_int(out, now_ns);
  out.push_back('}');
}

void append_subscribed(std::string& out, StartMode mode, SnapshotWhy why, std::optional<std::uint64_t> since_seq,
                       std::uint64_t seq, std::uint64_t ring_first_seq) {
  out.append("{\"type\":\"subscribed\",\"mode\":");
  if (mode == StartMode::kReplay) {
    out.append("\"replay\"");
  } else {
    out.append("\"snapshot\",\"why\":");
    switch (why) {
      case SnapshotWhy::kRequested: out.append("\"requested\""); break;
      case SnapshotWhy::kNotInRing: out.append("\"since_seq_not_in_ring\""); break;
      case SnapshotWhy::kAhead: out.append("\"since_seq_ahead\""); break;
    }
  }
  out.append(",\"since_seq\":");
  if (since_seq) {
    append_uint(out, *since_seq);
  } else {
    out.append("null");
  }
  out.append(",\"seq\":");
  append_uint(out, seq);
  out.append(",\"ring_first_seq\":");
  append_uint(out, ring_first_seq);
  out.push_back('}');
}

void append_unsubscribed(std::string& out) { out.append("{\"type\":\"unsubscribed\"}"); }

void append_pong(std::string& out, std::int64_t now_ns, std::optional<std::string_view> id) {
  out.append("{\"type\":\"pong\",\"ts\":");
  append_int(out, now_ns);
  out.append(",\"id\":");
  if (id) {
    append_string(out, *id);
  } else {
    out.append("null");
  }
  out.push_back('}');
}

std::string_view to_string(ErrorCode c) {
  switch (c) {
    case ErrorCode::kMalformedJson: return "malformed_json";
    case ErrorCode::kBadRequest: return "bad_request";
    case ErrorCode::kUnknownOp: return "unknown_op";
    case ErrorCode::kFilterTooLarge: return "filter_too_large";
    case ErrorCode::kFrameTooLarge: return "frame_too_large";
    case ErrorCode::kAlreadySubscribed: return "already_subscribed";
    case ErrorCode::kNotSubscribed: return "not_subscribed";
    case ErrorCode::kBinaryFrame: return "binary_frame";
  }
  return "bad_request";
}

void append_error(std::string& out, ErrorCode code, std::string_view message) {
  out.append("{\"type\":\"error\",\"code\":");
  append_string(out, to_string(code));
  out.append(",\"message\":");
  append_string(out, message);
  out.push_back('}');
}

// ---------------------------------------------------------------- request parser

namespace {

using simdjson::dom::element;
using simdjson::dom::element_type;

RequestError bad(std::string message) { return RequestError{ErrorCode::kBadRequest, std::move(message)}; }

//! A short, printable prefix of client input for error messages.
std::string excerpt(std::string_view s) {
  constexpr std::size_t kMax = 32;
  std::string out;
  for (char c : s.substr(0, kMax)) out.push_back(static_cast<unsigned char>(c) < 0x20 ? '?' : c);
  if (s.size() > kMax) out.append("...");
  return out;
}

std::string_view type_name(element_type t) {
  switch (t) {
    case element_type::ARRAY: return "an array";
    case element_type::OBJECT: return "an object";
    case element_type::INT64:
    case element_type::UINT64: return "an integer";
    case element_type::DOUBLE: return "a number";
    case element_type::STRING: return "a string";
    case element_type::BOOL: return "a boolean";
    case element_type::NULL_VALUE: return "null";
  }
  return "a value";
}

//! Reads a non-negative integer (JSON integer, no fraction/exponent) into out.
bool read_uint(element e, std::uint64_t* out) {
  if (e.type() == element_type::UINT64) {
    *out = e.get_uint64().value_unsafe();
    return true;
  }
  if (e.type() == element_type::INT64) {
    std::int64_t v = e.get_int64().value_unsafe();
    if (v < 0) return false;
    *out = static_cast<std::uint64_t>(v);
    return true;
  }
  return false;
}

std::optional<RequestError> parse_filter(element e, const RequestLimits& limits, Filter* out) {
  if (e.type() != element_type::OBJECT) return bad(str_cat("filter: must be an object, got ", type_name(e.type())));
  simdjson::dom::object obj = e.get_object().value_unsafe();
  if (obj.size() == 0) return std::nullopt;  // {} = every account
  if (obj.size() > 1) return bad("filter: give exactly one of \"segments\" or \"accounts\"");
  auto [key, value] = *obj.begin();
  if (value.type() != element_type::ARRAY) {
    return bad(str_cat("filter.", excerpt(key), ": must be an array, got ", type_name(value.type())));
  }
  simdjson::dom::array arr = value.get_array().value_unsafe();
  std::size_t n = arr.size();
  if (key == "segments") {
    if (n > limits.max_filter_size) {
      return RequestError{ErrorCode::kFilterTooLarge,
                          str_cat("filter.segments: ", n, " entries, the limit is ", limits.max_filter_size)};
    }
    out->kind = Filter::Kind::kSegments;
    std::size_t i = 0;
    for (element item : arr) {
      std::uint64_t id = 0;
      if (!read_uint(item, &id) || id == kNoSegment || id > std::numeric_limits<SegmentId>::max()) {
        return bad(str_cat("filter.segments[", i, "]: must be a segment id (integer 1..4294967295)"));
      }
      out->segments.push_back(static_cast<SegmentId>(id));
      ++i;
    }
    std::sort(out->segments.begin(), out->segments.end());
    out->segments.erase(std::unique(out->segments.begin(), out->segments.end()), out->segments.end());
    if (out->segments.empty()) return bad("filter.segments: must not be empty");
    return std::nullopt;
  }
  if (key == "accounts") {
    if (n > limits.max_filter_size) {
      return RequestError{ErrorCode::kFilterTooLarge,
                          str_cat("filter.accounts: ", n, " entries, the limit is ", limits.max_filter_size)};
    }
    out->kind = Filter::Kind::kAccounts;
    std::size_t i = 0;
    for (element item : arr) {
      if (item.type() != element_type::STRING) {
        return bad(str_cat("filter.accounts[", i, "]: must be a string, got ", type_name(item.type())));
      }
      std::string_view name = item.get_string().value_unsafe();
      if (name.empty() || name.size() > limits.max_account_bytes) {
        return bad(str_cat("filter.accounts[", i, "]: must be 1..", limits.max_account_bytes, " bytes"));
      }
      out->accounts.emplace_back(name);
      ++i;
    }
    std::sort(out->accounts.begin(), out->accounts.end());
    out->accounts.erase(std::unique(out->accounts.begin(), out->accounts.end()), out->accounts.end());
    if (out->accounts.empty()) return bad("filter.accounts: must not be empty");
    return std::nullopt;
  }
  return bad(str_cat("filter.", excerpt(key), ": unknown field (expected \"segments\" or \"accounts\")"));
}

}  // namespace

std::variant<ClientRequest, RequestError> parse_request(std::string_view text, const RequestLimits& limits) {
  // Requests are rare and small: the DOM parser (which copies into padded memory) is simplest.
  thread_local simdjson::dom::parser parser;
  element doc;
  if (auto err = parser.parse(text.data(), text.size(), true).get(doc); err) {
    return RequestError{ErrorCode::kMalformedJson, str_cat("not valid JSON: ", simdjson::error_message(err))};
  }
  if (doc.type() != element_type::OBJECT) {
    return RequestError{ErrorCode::kMalformedJson,
                        str_cat("a request must be a JSON object, got ", type_name(doc.type()))};
  }
  simdjson::dom::object obj = doc.get_object().value_unsafe();

  // First pass: every key known and present once; find op.
  enum : unsigned { kOp = 1, kFilter = 2, kSince = 4, kBatch = 8, kId = 16 };
  unsigned seen = 0;
  element op_e, filter_e, since_e, batch_e, id_e;
  for (auto [key, value] : obj) {
    unsigned bit = 0;
    element* slot = nullptr;
    if (key == "op") {
      bit = kOp;
      slot = &op_e;
    } else if (key == "filter") {
      bit = kFilter;
      slot = &filter_e;
    } else if (key == "since_seq") {
      bit = kSince;
      slot = &since_e;
    } else if (key == "batch") {
      bit = kBatch;
      slot = &batch_e;
    } else if (key == "id") {
      bit = kId;
      slot = &id_e;
    } else
      return bad(str_cat(excerpt(key), ": unknown field"));
    if (seen & bit) return bad(str_cat(std::string_view(key), ": given twice"));
    seen |= bit;
    *slot = value;
  }
  if (!(seen & kOp)) return bad("op: missing (expected \"subscribe\", \"unsubscribe\" or \"ping\")");
  if (op_e.type() != element_type::STRING) return bad(str_cat("op: must be a string, got ", type_name(op_e.type())));
  std::string_view op = op_e.get_string().value_unsafe();

  auto only = [&](unsigned allowed, std::string_view op_name) -> std::optional<RequestError> {
    static constexpr std::pair<unsigned, std::string_view> kNames[] = {
        {kFilter, "filter"}, {kSince, "since_seq"}, {kBatch, "batch"}, {kId, "id"}};
    for (auto [bit, name] : kNames) {
      if ((seen & bit) && !(allowed & bit)) return bad(str_cat(name, ": not a field of ", op_name));
    }
    return std::nullopt;
  };

  if (op == "subscribe") {
    if (auto e = only(kFilter | kSince | kBatch, "subscribe")) return *e;
    SubscribeRequest req;
    if (seen & kFilter) {
      if (auto e = parse_filter(filter_e, limits, &req.filter)) return *e;
    }
    if (seen & kSince) {
      std::uint64_t v = 0;
      if (!read_uint(since_e, &v)) return bad("since_seq: must be a non-negative integer");
      req.since_seq = v;
    }
    if (seen & kBatch) {
      if (batch_e.type() != element_type::BOOL)
        return bad(str_cat("batch: must be a boolean, got ", type_name(batch_e.type())));
      req.batch = batch_e.get_bool().value_unsafe();
    }
    return ClientRequest{std::move(req)};
  }
  if (op == "unsubscribe") {
    if (auto e = only(0, "unsubscribe")) return *e;
    return ClientRequest{UnsubscribeRequest{}};
  }
  if (op == "ping") {
    if (auto e = only(kId, "ping")) return *e;
    PingRequest req;
    if (seen & kId) {
      if (id_e.type() != element_type::STRING)
        return bad(str_cat("id: must be a string, got ", type_name(id_e.type())));
      std::string_view id = id_e.get_string().value_unsafe();
      if (id.size() > limits.max_id_bytes) return bad(str_cat("id: at most ", limits.max_id_bytes, " bytes"));
      req.id = std::string(id);
    }
    return ClientRequest{std::move(req)};
  }
  return RequestError{ErrorCode::kUnknownOp, str_cat("op: unknown \"", excerpt(op),
                                                     "\" (expected \"subscribe\", \"unsubscribe\" or \"ping\")")};
}

}  // namespace segmentd::pubmsg
