#include "protocol/publisher/publisher_messages.h"

#include <catch2/catch.hpp>

#include "protocol/publisher/admin_messages.h"
#include "simdjson.h"

using namespace segmentd;
using namespace segmentd::pubmsg;

namespace {

simdjson::dom::element parse(simdjson::dom::parser& p, const std::string& s) {
  simdjson::dom::element e;
  auto err = p.parse(s).get(e);
  INFO(s);
  REQUIRE(err == simdjson::SUCCESS);
  return e;
}

Model two_segment_model() {
  Model m;
  m.version = 7;
  m.ts_ns = 123;
  m.scaler_version = 2;
  for (SegmentId id : {3u, 5u}) {
    Segment s;
    s.id = id;
    s.label = id == 3 ? "market-maker" : "retail \"small\"";
    s.centroid_raw.fill(0.5);
    s.centroid_raw[index(Feature::kMakerRatio)] = 0.9;
    s.size = 10 * id;
    s.weight = 1.5;
    s.policy = SegmentPolicy{1.25, 2.0, 1e6};
    s.stressed_policy = SegmentPolicy{1.5, 4.0, 5e5};
    s.extreme_policy = SegmentPolicy{2.0, 8.0, 2.5e5};
    m.segments.push_back(s);
  }
  m.events.push_back({ModelEvent::Kind::kBorn, 5, 3, "retail", "", "split of highest-SSE segment"});
  m.events.push_back({ModelEvent::Kind::kRetired, 4, kNoSegment, "", "", "weight below reseed_ratio"});
  m.events.push_back({ModelEvent::Kind::kRelabelled, 3, kNoSegment, "market-maker", "hedger", "rule"});
  return m;
}

std::variant<ClientRequest, RequestError> req(std::string_view text, std::size_t max_filter = 10) {
  RequestLimits limits;
  limits.max_filter_size = max_filter;
  return parse_request(text, limits);
}

RequestError error_of(std::string_view text, std::size_t max_filter = 10) {
  auto r = req(text, max_filter);
  INFO(text);
  REQUIRE(std::holds_alternative<RequestError>(r));
  return std::get<RequestError>(r);
}

}  // namespace

TEST_CASE("publisher messages: segment_change carries everything a consumer acts on", "[publisher_messages]") {
  SegmentChange c;
  c.ts_ns = 1700000000000000001;
  c.account = 4;
  c.from = 3;
  c.to = 5;
  c.confidence = 0.25;
  c.model_version = 7;
  c.cause = SegmentChange::Cause::kMoved;
  c.reasons[0] = {static_cast<std::int8_t>(index(Feature::kMakerRatio)), 0.8, 0.9, 0.1};
  std::string out;
  append_segment_change(out, 42, c, "acct \"x\"",
                        SegmentInfo{true, "retail", SegmentPolicy{1.5, 3.0, 0.0}, Regime::kStressed});
  CHECK(out ==
        R"({"type":"segment_change","seq":42,"ts":1700000000000000001,"account":"acct \"x\"","from":3,"to":5,)"
        R"("label":"retail","confidence":0.25,"reason":[{"feature":"maker_ratio","value":0.8,"centroid_from":0.9,)"
        R"("centroid_to":0.1}],"policy":{"margin_multiplier":1.5,"quote_width_bps":3,"max_order_notional_usd":0},)"
        R"("regime":"stressed","model_version":7,"cause":"moved"})");

  // First assignment to a segment no model has named yet: from, label and policy are null.
  c.from = kNoSegment;
  c.cause = SegmentChange::Cause::kFirstAssignment;
  c.reasons = {};
  out.clear();
  append_segment_change(out, 1, c, "a", SegmentInfo{});
  simdjson::dom::parser p;
  auto e = parse(p, out);
  CHECK(e["from"].is_null());
  CHECK(e["label"].is_null());
  CHECK(e["policy"].is_null());
  CHECK(e["reason"].get_array().value().size() == 0);
  CHECK(std::string_view(e["cause"]) == "first_assignment");
}

TEST_CASE("publisher messages: model has centroids by feature name and every event", "[publisher_messages]") {
  Model m = two_segment_model();
  std::string out;
  append_model(out, 9, m);
  simdjson::dom::parser p;
  auto e = parse(p, out);
  CHECK(std::string_view(e["type"]) == "model");
  CHECK(uint64_t(e["seq"]) == 9);
  CHECK(uint64_t(e["version"]) == 7);
  auto segs = e["segments"].get_array().value();
  REQUIRE(segs.size() == 2);
  auto s0 = segs.at(0);
  CHECK(uint64_t(s0["id"]) == 3);
  CHECK(double(s0["centroid"]["maker_ratio"]) == 0.9);
  CHECK(s0["centroid"].get_object().value().size() == kFeatureCount);
  CHECK(double(s0["policy"]["margin_multiplier"]) == 1.25);
  CHECK(double(s0["stressed_policy"]["margin_multiplier"]) == 1.5);
  CHECK(double(s0["extreme_policy"]["quote_width_bps"]) == 8);
  CHECK(uint64_t(s0["size"]) == 30);
  CHECK(std::string_view(segs.at(1)["label"]) == "retail \"small\"");
  CHECK(uint64_t(e["born"].at(0)["parent"]) == 3);
  CHECK(uint64_t(e["retired"].at(0)["segment"]) == 4);
  CHECK(std::string_view(e["relabelled"].at(0)["previous_label"]) == "hedger");
}

TEST_CASE("publisher messages: model carries the latest exposure scan, in short", "[publisher_messages]") {
  Model m = two_segment_model();
  std::string out;
  append_model(out, 9, m);
  simdjson::dom::parser p;
  CHECK(parse(p, out)["exposure"].is_null());  // no scan yet

  ExposureView x;
  x.as_of_ns = 1700000000000000000;
  x.scanned_at_ns = 1700000000500000000;
  SegmentExposureView s;
  s.segment = 3;
  s.accounts = 2;
  s.positions = 3;
  s.gross_delta_usd = 300.0;
  s.net_delta_usd = 100.0;
  s.net_vega_usd = -3.0;
  s.top5_share = 1.0;
  s.open_interest_share = 0.125;
  for (int i = 0; i < 7; ++i) {  // the 5 largest are listed
    UnderlyingExposureView u;
    u.underlying = "U" + std::to_string(i);
    u.net_delta_usd = 10.0 - i;
    u.long_delta_usd = 20.0;
    u.short_delta_usd = -5.0;
    u.open_interest_share = i == 0 ? 0.25 : kNaN;
    s.underlyings.push_back(u);
  }
  x.segments.push_back(s);
  auto sv = std::make_shared<ScenarioView>();
  ScenarioView::Row row;
  row.segment = 3;
  row.sums.net_gamma_usd = 42.0;
  row.sums.open_notional_usd = 9000.0;
  sv->segments.push_back(row);
  x.scenarios = sv;
  out.clear();
  append_model(out, 10, m, &x);
  auto e = parse(p, out)["exposure"];
  CHECK(int64_t(e["as_of"]) == 1700000000000000000);
  CHECK(int64_t(e["scanned_at"]) == 1700000000500000000);
  auto seg = e["segments"].at(0);
  CHECK(uint64_t(seg["segment"]) == 3);
  CHECK(uint64_t(seg["accounts"]) == 2);
  CHECK(double(seg["gross_delta_usd"]) == 300.0);
  CHECK(double(seg["net_vega_usd"]) == -3.0);
  CHECK(double(seg["net_gamma_usd"]) == 42.0);
  CHECK(double(seg["open_notional_usd"]) == 9000.0);
  CHECK(double(seg["open_interest_share"]) == 0.125);
  auto us = seg["underlyings"].get_array().value();
  REQUIRE(us.size() == 5);
  CHECK(std::string_view(us.at(0)["underlying"]) == "U0");
  CHECK(double(us.at(0)["gross_delta_usd"]) == 25.0);
  CHECK(double(us.at(0)["open_interest_share"]) == 0.25);
  CHECK(us.at(1)["open_interest_share"].is_null());  // no venue gave that underlying's
  // Without a scenario scan, gamma and open notional are null.
  x.scenarios = nullptr;
  out.clear();
  append_model(out, 11, m, &x);
  CHECK(parse(p, out)["exposure"]["segments"].at(0)["net_gamma_usd"].is_null());
}

TEST_CASE("publisher messages: a regime change lists every segment's policy in the new market regime",
          "[publisher_messages]") {
  Model m = two_segment_model();
  RegimeChangeInfo c;
  c.ts_ns = 1700000000000000002;
  c.underlying = "BTC";
  c.from = Regime::kStressed;
  c.to = Regime::kExtreme;
  c.reason = "drawdown 10.2 % >= 10 %";
  c.market_from = Regime::kStressed;
  c.market = Regime::kExtreme;
  c.model = &m;
  std::string out;
  append_regime_change(out, 77, c);
  CHECK(
      out ==
      R"({"type":"regime_change","seq":77,"ts":1700000000000000002,"underlying":"BTC","from":"stressed",)"
      R"("to":"extreme","reason":"drawdown 10.2 % >= 10 %","market_from":"stressed","market":"extreme",)"
      R"("model_version":7,"policies":[)"
      R"({"segment":3,"label":"market-maker","policy":{"margin_multiplier":2,"quote_width_bps":8,"max_order_notional_usd":250000}},)"
      R"({"segment":5,"label":"retail \"small\"","policy":{"margin_multiplier":2,"quote_width_bps":8,"max_order_notional_usd":250000}}]})");

  // The market as a whole (after a restart), before any model: underlying null, no policies.
  c.underlying = "";
  c.model = nullptr;
  c.market = Regime::kCalm;
  out.clear();
  append_regime_change(out, 1, c);
  simdjson::dom::parser p;
  auto e = parse(p, out);
  CHECK(e["underlying"].is_null());
  CHECK(std::string_view(e["market"]) == "calm");
  CHECK(uint64_t(e["model_version"]) == 0);
  CHECK(e["policies"].get_array().value().size() == 0);
}

TEST_CASE("publisher messages: snapshot chunks carry seq, the model only in chunk 0", "[publisher_messages]") {
  Model m = two_segment_model();
  std::vector<AccountAssignment> rows = {{"a", 3, "market-maker", 0.5, 10, 4}, {"b", 5, "retail", 0.25, 11, 6}};
  simdjson::dom::parser p;
  std::string first, second, empty;
  append_snapshot_chunk(first, 100, 0, 2, &m, rows, Regime::kExtreme);
  append_snapshot_chunk(second, 100, 1, 2, &m, std::span(rows).subspan(1));
  append_snapshot_chunk(empty, 0, 0, 1, nullptr, {});
  auto e = parse(p, first);
  CHECK(uint64_t(e["seq"]) == 100);
  CHECK(uint64_t(e["chunks"]) == 2);
  CHECK(uint64_t(e["model"]["version"]) == 7);
  CHECK(std::string_view(e["regime"]) == "extreme");
  CHECK(e["accounts"].get_array().value().size() == 2);
  CHECK(std::string_view(e["accounts"].at(1)["label"]) == "retail");
  auto e2 = parse(p, second);
  CHECK(e2["model"].error() == simdjson::NO_SUCH_FIELD);
  CHECK(e2["regime"].error() == simdjson::NO_SUCH_FIELD);
  auto e3 = parse(p, empty);
  CHECK(e3["model"].is_null());
}

TEST_CASE("publisher messages: control messages", "[publisher_messages]") {
  std::string out;
  append_heartbeat(out, 5, 99);
  CHECK(out == R"({"type":"heartbeat","seq":5,"ts":99})");
  out.clear();
  append_subscribed(out, StartMode::kSnapshot, SnapshotWhy::kNotInRing, 3, 50, 40);
  CHECK(
      out ==
      R"({"type":"subscribed","mode":"snapshot","why":"since_seq_not_in_ring","since_seq":3,"seq":50,"ring_first_seq":40})");
  out.clear();
  append_subscribed(out, StartMode::kReplay, SnapshotWhy::kRequested, 45, 50, 40);
  CHECK(out == R"({"type":"subscribed","mode":"replay","since_seq":45,"seq":50,"ring_first_seq":40})");
  out.clear();
  append_error(out, ErrorCode::kFilterTooLarge, "filter.accounts: 11 entries");
  CHECK(out == R"({"type":"error","code":"filter_too_large","message":"filter.accounts: 11 entries"})");
  out.clear();
  append_pong(out, 7, std::nullopt);
  CHECK(out == R"({"type":"pong","ts":7,"id":null})");
}

TEST_CASE("publisher messages: subscribe requests parse", "[publisher_messages]") {
  auto r = req(R"({"op":"subscribe","filter":{"segments":[5,3,5]},"since_seq":17,"batch":true})");
  REQUIRE(std::holds_alternative<ClientRequest>(r));
  auto& sub = std::get<SubscribeRequest>(std::get<ClientRequest>(r));
  CHECK(sub.filter.kind == Filter::Kind::kSegments);
  CHECK(sub.filter.segments == std::vector<SegmentId>{3, 5});
  CHECK(sub.since_seq == 17u);
  CHECK(sub.batch);

  r = req(R"({"op":"subscribe","filter":{"accounts":["b","a"]}})");
  auto& sub2 = std::get<SubscribeRequest>(std::get<ClientRequest>(r));
  CHECK(sub2.filter.kind == Filter::Kind::kAccounts);
  CHECK(sub2.filter.accounts == std::vector<std::string>{"a", "b"});
  CHECK_FALSE(sub2.since_seq.has_value());

  r = req(R"({"op":"subscribe"})");
  CHECK(std::get<SubscribeRequest>(std::get<ClientRequest>(r)).filter.kind == Filter::Kind::kAll);
  r = req(R"({"op":"subscribe","filter":{},"since_seq":0})");
  CHECK(std::get<SubscribeRequest>(std::get<ClientRequest>(r)).since_seq == 0u);
  r = req(R"({"op":"ping","id":"x"})");
  CHECK(std::get<PingRequest>(std::get<ClientRequest>(r)).id == "x");
  r = req(R"({"op":"unsubscribe"})");
  CHECK(std::holds_alternative<UnsubscribeRequest>(std::get<ClientRequest>(r)));
}

TEST_CASE("publisher messages: bad requests name the problem", "[publisher_messages]") {
  struct Case {
    const char* text;
    ErrorCode code;
    const char* words;
  };
  const Case cases[] = {
      {"", ErrorCode::kMalformedJson, "not valid JSON"},
      {"{\"op\":", ErrorCode::kMalformedJson, "not valid JSON"},
      {"42", ErrorCode::kMalformedJson, "must be a JSON object, got an integer"},
      {"{}", ErrorCode::kBadRequest, "op: missing"},
      {R"({"op":1})", ErrorCode::kBadRequest, "op: must be a string"},
      {R"({"op":"publish"})", ErrorCode::kUnknownOp, "op: unknown \"publish\""},
      {R"({"op":"subscribe","x":1})", ErrorCode::kBadRequest, "x: unknown field"},
      {R"({"op":"subscribe","since_seq":1,"since_seq":2})", ErrorCode::kBadRequest, "since_seq: given twice"},
      {R"({"op":"subscribe","since_seq":-1})", ErrorCode::kBadRequest, "since_seq: must be a non-negative integer"},
      {R"({"op":"subscribe","since_seq":1.5})", ErrorCode::kBadRequest, "since_seq"},
      {R"({"op":"subscribe","batch":"yes"})", ErrorCode::kBadRequest, "batch: must be a boolean, got a string"},
      {R"({"op":"subscribe","filter":[]})", ErrorCode::kBadRequest, "filter: must be an object, got an array"},
      {R"({"op":"subscribe","filter":{"segments":[]}})", ErrorCode::kBadRequest, "filter.segments: must not be empty"},
      {R"({"op":"subscribe","filter":{"segments":[0]}})", ErrorCode::kBadRequest, "filter.segments[0]"},
      {R"({"op":"subscribe","filter":{"segments":[4294967296]}})", ErrorCode::kBadRequest, "filter.segments[0]"},
      {R"({"op":"subscribe","filter":{"accounts":[""]}})", ErrorCode::kBadRequest,
       "filter.accounts[0]: must be 1..128"},
      {R"({"op":"subscribe","filter":{"accounts":["a",2]}})", ErrorCode::kBadRequest,
       "filter.accounts[1]: must be a string, got an integer"},
      {R"({"op":"subscribe","filter":{"segments":[1],"accounts":["a"]}})", ErrorCode::kBadRequest, "exactly one"},
      {R"({"op":"subscribe","filter":{"regions":["eu"]}})", ErrorCode::kBadRequest, "filter.regions: unknown field"},
      {R"({"op":"subscribe","filter":{"segments":[1,2,3,4,5,6,7,8,9,10,11]}})", ErrorCode::kFilterTooLarge,
       "11 entries, the limit is 10"},
      {R"({"op":"unsubscribe","since_seq":1})", ErrorCode::kBadRequest, "since_seq: not a field of unsubscribe"},
      {R"({"op":"ping","id":5})", ErrorCode::kBadRequest, "id: must be a string"},
  };
  for (const Case& c : cases) {
    RequestError e = error_of(c.text);
    INFO(c.text << " → " << e.message);
    CHECK(e.code == c.code);
    CHECK_THAT(e.message, Catch::Contains(c.words));
  }
  // Client input is echoed only as a short, printable excerpt.
  RequestError e = error_of(R"({"op":"subscribe","a\u0001bcdefghijklmnopqrstuvwxyz0123456789":1})");
  CHECK(e.message.size() < 64);
  CHECK(e.message.find('\x01') == std::string::npos);
}

TEST_CASE("admin messages: account view and segments", "[publisher_messages]") {
  Model m = two_segment_model();
  AccountView v;
  v.account = "acct-1";
  v.segment = 3;
  v.confidence = 0.5;
  v.distances = {{3, 0.5}, {5, 2.0}};
  SegmentChange c;
  c.from = kNoSegment;
  c.to = 3;
  v.recent_changes.push_back(c);
  std::string out;
  adminmsg::append_account(out, v, &m);
  simdjson::dom::parser p;
  auto e = parse(p, out);
  CHECK(std::string_view(e["label"]) == "market-maker");
  CHECK(e["features"]["raw"].get_object().value().size() == kFeatureCount);
  CHECK(std::string_view(e["distances"].at(1)["label"]) == "retail \"small\"");
  CHECK(e["recent_changes"].at(0)["from"].is_null());
  out.clear();
  adminmsg::append_segments(out, nullptr);
  CHECK(out == R"({"ready":false,"model":null,"exposure":null})");
  out.clear();
  ExposureView ev;
  ev.as_of_ns = 5;
  ev.scanned_at_ns = 6;
  SegmentExposureView sv;
  sv.segment = 3;
  sv.accounts = 2;
  sv.positions = 4;
  sv.gross_delta_usd = 1500.5;
  sv.net_delta_usd = -250.0;
  sv.net_vega_usd = 12.0;
  sv.top5_share = 1.0;
  ev.segments.push_back(sv);
  sv.segment = kNoSegment;
  ev.segments.push_back(sv);
  adminmsg::append_segments(out, &m, &ev);
  {
    simdjson::dom::parser p2;
    auto doc = parse(p2, out);
    auto x = doc["exposure"];
    CHECK(std::int64_t(x["as_of"]) == 5);
    CHECK(double(x["segments"].at(0)["gross_delta_usd"]) == 1500.5);
    CHECK(std::uint64_t(x["segments"].at(0)["segment"]) == 3);
    CHECK(x["segments"].at(1)["segment"].is_null());  // not assigned yet
    CHECK(double(x["segments"].at(1)["net_delta_usd"]) == -250.0);
  }
  out.clear();
  // The full report: labels from the model, largest accounts and underlyings.
  ev.segments[0].largest.push_back(AccountExposureView{"acct \"1\"", 1000.0, -200.0});
  ev.segments[0].underlyings.push_back(UnderlyingExposureView{"BTC", -250.0, 600.0, -850.0, 12.0, 4});
  adminmsg::append_exposure(out, ev, &m);
  {
    simdjson::dom::parser p2;
    auto doc = parse(p2, out);
    CHECK(std::string_view(doc["segments"].at(0)["label"]) == "market-maker");  // segment 3 of the model
    CHECK(std::string_view(doc["segments"].at(0)["largest_accounts"].at(0)["account"]) == "acct \"1\"");
    CHECK(double(doc["segments"].at(0)["underlyings"].at(0)["short_delta_usd"]) == -850.0);
    CHECK(doc["segments"].at(1)["label"].is_null());
  }
  out.clear();
  adminmsg::append_readiness(out, {{"sources", true, "2/2"}, {"model", false, "warming up"}});
  CHECK(out.starts_with(R"({"ready":false,)"));
}
