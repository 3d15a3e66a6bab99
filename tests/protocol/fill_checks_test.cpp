// protocol/fill_checks.h through the five venue adapters: the same defect in a trade gives the
// same reason in every venue, the session counts it by reason and skips the message, and the
// next good message of the same connection still decodes.

#include "protocol/fill_checks.h"

#include <string>
#include <utility>
#include <vector>

#include "core/str_cat.h"
#include "tests/protocol/venues/adapter_test_support.h"

namespace segmentd::testing {
namespace {

//! One venue's trade message in its wire shape, and the same message with each defect.
struct VenueCase {
  Venue venue;
  std::string account;
  std::string (*good)(int id);  //!< a valid message with trade id `id` (distinct ids: no dedup hit)
  std::size_t fills_per_message;
  // Each defect: {text in good(), replacement, the field the detail must name}.
  struct Defect {
    std::string from, to, field;
  };
  Defect wrong_type, missing, non_finite, negative_size;
};

std::string bybit(int id) {
  return str_cat(
      R"({"topic":"execution","id":"1","creationTime":1746270400355,"data":[{"category":"linear","symbol":"BTCUSDT",)",
      R"("execFee":"0.5","execId":"exec-)", id,
      R"(","execPrice":"95900.1","execQty":"0.5","execType":"Trade","markPrice":"95901.48","side":"Sell",)",
      R"("execTime":"1746270400353","isMaker":false,"feeCurrency":"USDT"}]})");
}

std::string okx(int id) {
  return str_cat(R"({"arg":{"channel":"orders","instType":"SWAP","uid":"1"},"data":[{"instId":"BTC-USDT-SWAP",)",
                 R"("tradeId":")", 1000 + id,
                 R"(","fillSz":"3","fillPx":"103698.9","side":"buy","execType":"M","fillFee":"-0.02",)",
                 R"("fillFeeCcy":"USDT","fillTime":"1746947317402","uTime":"1746947317402"}]})");
}

std::string hyperliquid(int id) {
  return str_cat(R"({"channel":"trades","data":[{"coin":"BTC","side":"B","px":"84133.0","sz":"0.25",)",
                 R"("time":1790231124037,"hash":"0xab","tid":)", 5000 + id, R"(,"users":["0xbuyer","0xseller"]}]})");
}

std::string deribit(int id) {
  return str_cat(R"({"jsonrpc":"2.0","method":"subscription","params":{"channel":"user.trades.any.any.raw",)",
                 R"("data":[{"trade_id":"BTC-)", id,
                 R"(","timestamp":1655421193564,"price":60000.5,"instrument_name":"BTC-PERPETUAL",)",
                 R"("index_price":60001.0,"direction":"buy","amount":100.0}]}})");
}

std::string binance(int id) {
  return str_cat(R"({"e":"ORDER_TRADE_UPDATE","E":1709654401000,"T":1709654401000,"o":{"s":"ETHUSDT","c":"x-1",)",
                 R"("S":"BUY","o":"LIMIT","f":"GTC","q":"1.000","p":"2500.00","x":"TRADE","X":"FILLED","i":12345678,)",
                 R"("l":"1.000","z":"1.000","L":"2500.00","N":"USDT","n":"0.5","T":1709654401000,"t":)", 98765000 + id,
                 R"(,"m":true}})");
}

std::vector<VenueCase> cases() {
  return {
      {Venue::kBybit,
       "acct-1",
       bybit,
       1,
       {R"("execQty":"0.5")", R"("execQty":0.5)", "execQty"},
       {R"("symbol":"BTCUSDT",)", "", "symbol"},
       {R"("execPrice":"95900.1")", R"("execPrice":"inf")", "execPrice"},
       {R"("execQty":"0.5")", R"("execQty":"-0.5")", "execQty"}},
      {Venue::kOkx,
       "acct-1",
       okx,
       1,
       {R"("fillPx":"103698.9")", R"("fillPx":103698.9)", "fillPx"},
       {R"("instId":"BTC-USDT-SWAP",)", "", "instId"},
       {R"("fillPx":"103698.9")", R"("fillPx":"NaN")", "fillPx"},
       {R"("fillSz":"3")", R"("fillSz":"-3")", "fillSz"}},
      {Venue::kHyperliquid,
       "",
       hyperliquid,
       2,
       {R"("time":1790231124037)", R"("time":"1790231124037")", "time"},
       {R"("coin":"BTC",)", "", "coin"},
       {R"("px":"84133.0")", R"("px":"1e999")", "px"},
       {R"("sz":"0.25")", R"("sz":"-0.25")", "sz"}},
      {Venue::kBinance,
       "acct-1",
       binance,
       1,
       {R"("l":"1.000")", R"("l":1.0)", "o.l"},
       {R"("s":"ETHUSDT",)", "", "o.s"},
       {R"("L":"2500.00")", R"("L":"inf")", "o.L"},
       {R"("l":"1.000")", R"("l":"-1.000")", "o.l"}},
      {Venue::kDeribit,
       "acct-1",
       deribit,
       1,
       {R"("amount":100.0)", R"("amount":"100.0")", "amount"},
       {R"("instrument_name":"BTC-PERPETUAL",)", "", "instrument_name"},
       {R"("price":60000.5)", R"("price":1e999)", "price"},
       {R"("amount":100.0)", R"("amount":-100.0)", "amount"}},
  };
}

std::string with(const std::string& message, const VenueCase::Defect& d) {
  std::string s = message;
  const auto at = s.find(d.from);
  REQUIRE(at != std::string::npos);
  return s.replace(at, d.from.size(), d.to);
}

TEST_CASE("fill checks: every venue gives the same reason for the same defect, counts it and goes on",
          "[fill_checks][bybit][okx][hyperliquid][deribit][binance]") {
  for (const VenueCase& c : cases()) {
    INFO("venue " << to_string(c.venue));
    AdapterHarness h(c.venue, c.account);
    ParseErrorCounts counts;  // as the venue session counts them (service/ingest/venue_session.cpp)
    int id = 0;
    const auto good_decodes = [&] {
      const std::size_t before = h.fills.size();
      const DecodeOutcome out = h.ok(c.good(++id));
      CHECK(out.kind == MessageKind::kFills);
      CHECK(h.fills.size() == before + c.fills_per_message);
    };
    const std::pair<const VenueCase::Defect*, ParseErrorReason> defects[] = {
        {&c.wrong_type, ParseErrorReason::kWrongType},
        {&c.missing, ParseErrorReason::kMissingField},
        {&c.non_finite, ParseErrorReason::kBadValue},
        {&c.negative_size, ParseErrorReason::kBadValue},
    };
    good_decodes();
    for (const auto& [defect, reason] : defects) {
      const std::string bad = with(c.good(++id), *defect);
      INFO(bad);
      const std::size_t before = h.fills.size();
      REQUIRE_FALSE(h.decode(bad));
      counts.add(h.error.reason);
      INFO(h.error.detail);
      CHECK(to_string(h.error.reason) == to_string(reason));
      CHECK(h.error.detail.find(defect->field) != std::string::npos);  // names the field
      CHECK(h.fills.size() == before);
      good_decodes();  // the connection goes on: the next good message decodes
    }
    CHECK(counts.by_reason[static_cast<int>(ParseErrorReason::kWrongType)] == 1);
    CHECK(counts.by_reason[static_cast<int>(ParseErrorReason::kMissingField)] == 1);
    CHECK(counts.by_reason[static_cast<int>(ParseErrorReason::kBadValue)] == 2);
    CHECK(counts.total() == 4);
  }
}

TEST_CASE("fill checks: presence before values, and the detail never echoes the venue's value", "[fill_checks]") {
  using namespace adapter;
  ParseError err;
  CHECK_FALSE(require_text("", "fill", "coin", err));
  CHECK(err.reason == ParseErrorReason::kMissingField);
  CHECK(err.detail == "fill without 'coin'");
  CHECK(require_text("BTC", "fill", "coin", err));

  CHECK_FALSE(require_positive(kNaN, "fill", "sz", err));
  CHECK(err.reason == ParseErrorReason::kMissingField);
  CHECK_FALSE(require_positive(0.0, "fill", "sz", err));
  CHECK(err.reason == ParseErrorReason::kBadValue);
  CHECK(err.detail == "'sz' must be > 0");
  CHECK_FALSE(require_positive(-1.0, "fill", "sz", err));
  CHECK(err.reason == ParseErrorReason::kBadValue);
  CHECK(require_positive(0.25, "fill", "sz", err));

  std::int64_t ns = 0;
  CHECK_FALSE(require_time_ms(kNoTime, "fill", "time", ns, err));
  CHECK(err.reason == ParseErrorReason::kMissingField);
  CHECK_FALSE(require_time_ms(-5, "fill", "time", ns, err));  // negative: a bad value, not "missing"
  CHECK(err.reason == ParseErrorReason::kBadValue);
  CHECK(require_time_ms(1'700'000'000'000, "fill", "time", ns, err));
  CHECK(ns == 1'700'000'000'000'000'000);

  Side s = Side::kBuy;
  CHECK(side("A", "side", "B", "A", s, err));
  CHECK(s == Side::kSell);
  CHECK(side("B", "side", "B", "A", s, err));
  CHECK(s == Side::kBuy);
  CHECK_FALSE(side("", "side", "B", "A", s, err));
  CHECK(err.reason == ParseErrorReason::kMissingField);
  CHECK_FALSE(side("secret-looking-value", "side", "B", "A", s, err));
  CHECK(err.reason == ParseErrorReason::kBadValue);
  CHECK(err.detail == "'side' must be B or A");
}

}  // namespace
}  // namespace segmentd::testing
