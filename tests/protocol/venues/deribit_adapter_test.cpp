#include "protocol/venues/deribit/adapter.h"
#include "protocol/venues/registry.h"

#include "core/instrument.h"
#include "core/str_cat.h"
#include "tests/protocol/venues/adapter_test_support.h"
#include "tests/protocol/venues/expected_fixture.h"

namespace segmentd::testing {
namespace {

constexpr std::int64_t kMs = 1'000'000;

//! The docs give user.trades payloads without the JSON-RPC envelope; this is how they arrive.
std::string in_envelope(const std::string& payload_data_object) {
  // payload is {"data":[...]}: splice its body into params after the channel.
  const auto open = payload_data_object.find('{');
  return R"({"jsonrpc":"2.0","method":"subscription","params":{"channel":"user.trades.any.any.raw",)" +
         payload_data_object.substr(open + 1) + "}";
}

// ---- The repository's own fixtures (tests/fixtures/exchanges/deribit), checked against their
// hand-computed .expected.json.

TEST_CASE("fixture deribit/user_trades_perpetual_taker_buy: inverse perpetual, USD amount, taker buy", "[deribit]") {
  check_own_fixture(Venue::kDeribit, "deribit/user_trades_perpetual_taker_buy");
}

TEST_CASE("fixture deribit/user_trades_perpetual_batch_100ms: three trades in one frame, a zero maker fee",
          "[deribit]") {
  check_own_fixture(Venue::kDeribit, "deribit/user_trades_perpetual_batch_100ms");
}

TEST_CASE("fixture deribit/user_trades_future_usd_amount: inverse dated future sized in USD", "[deribit]") {
  check_own_fixture(Venue::kDeribit, "deribit/user_trades_future_usd_amount");
}

TEST_CASE("fixture deribit/user_trades_option_maker_iv: option in BTC, iv in percent, maker sell", "[deribit]") {
  check_own_fixture(Venue::kDeribit, "deribit/user_trades_option_maker_iv");
}

TEST_CASE("fixture deribit/user_trades_option_and_future: a put and its future hedge in one frame", "[deribit]") {
  check_own_fixture(Venue::kDeribit, "deribit/user_trades_option_and_future");
}

TEST_CASE("fixture deribit/user_trades_precision_edgecase: 1e8 magnitudes, exponents, keys out of order", "[deribit]") {
  check_own_fixture(Venue::kDeribit, "deribit/user_trades_precision_edgecase");
}

TEST_CASE("fixture deribit/user_orders_nofill: an order state is no fill", "[deribit]") {
  check_own_fixture(Venue::kDeribit, "deribit/user_orders_nofill");
}

TEST_CASE("fixture deribit/heartbeat_test_request: a test_request asks for public/test", "[deribit]") {
  check_own_fixture(Venue::kDeribit, "deribit/heartbeat_test_request");
}

TEST_CASE("fixture deribit/heartbeat: a heartbeat needs no answer", "[deribit]") {
  check_own_fixture(Venue::kDeribit, "deribit/heartbeat");
}

TEST_CASE("fixture deribit/auth_response: public/auth accepted", "[deribit]") {
  check_own_fixture(Venue::kDeribit, "deribit/auth_response");
}

TEST_CASE("fixture deribit/error_response: public/auth refused with 13004", "[deribit]") {
  check_own_fixture(Venue::kDeribit, "deribit/error_response");
}

TEST_CASE("fixture deribit/public_test_response: the answer to public/test is a pong", "[deribit]") {
  check_own_fixture(Venue::kDeribit, "deribit/public_test_response");
}

TEST_CASE("fixture deribit/set_heartbeat_response: \"ok\" to public/set_heartbeat", "[deribit]") {
  check_own_fixture(Venue::kDeribit, "deribit/set_heartbeat_response");
}

TEST_CASE("fixture deribit/get_positions_answer: a complete snapshot as of usOut", "[deribit][positions]") {
  auto h = check_own_fixture(Venue::kDeribit, "deribit/get_positions_answer");
  const std::vector<Fill>& r = h->adapter->positions();
  REQUIRE(r.size() == 3);
  const std::int64_t t = 1764936000120915LL * 1000;  // usOut, µs
  CHECK(r[0].kind == InstrumentKind::kPerpetual);
  CHECK(r[0].qty == 0.49261084);  // size_currency, not the USD size
  CHECK(r[0].price == 101250.5);
  CHECK(r[0].mark_price == 101500.0);
  CHECK(r[0].underlying_price == 101480.2);
  CHECK(r[0].venue_ns == t);
  CHECK(r[1].kind == InstrumentKind::kOption);
  CHECK(r[1].qty == -1.5);
  CHECK(r[2].record == RecordKind::kPositionsEnd);
  CHECK(r[2].venue_ns == t);
  CHECK(h->account_name(r[2].account) == "sub-deribit");
  // Σ initial_margin: the perpetual's 0.00049 BTC and the option's 0, at the index price.
  CHECK(r[2].venue_margin_usd() == Approx(0.00049 * 101480.2));
}

TEST_CASE("deribit: user.changes positions are as of their trades and get_positions is known by its id",
          "[deribit][positions]") {
  AdapterHarness h(Venue::kDeribit, "sub-deribit");
  // A change with a trade: the position as of the trade; its fill comes on user.trades.
  const DecodeOutcome o =
      h.ok(R"({"jsonrpc":"2.0","method":"subscription","params":{"channel":"user.changes.future.any.raw","data":{)"
           R"("instrument_name":"BTC-PERPETUAL","trades":[{"trade_id":"1","instrument_name":"BTC-PERPETUAL",)"
           R"("direction":"sell","amount":10,"price":101000,"timestamp":1764936000100}],"orders":[],)"
           R"("positions":[{"instrument_name":"BTC-PERPETUAL","kind":"future","direction":"sell","size":-20000,)"
           R"("average_price":101000,"mark_price":100000,"index_price":100010}]}}})");
  CHECK(o.kind == MessageKind::kPositions);
  CHECK(h.fills.empty());
  REQUIRE(h.adapter->positions().size() == 1);
  CHECK(h.adapter->positions()[0].qty == Approx(-0.2));  // USD at the mark: no size_currency here
  CHECK(h.adapter->positions()[0].venue_ns == 1764936000100 * kMs);
  // Flat: direction zero.
  h.ok(R"({"jsonrpc":"2.0","method":"subscription","params":{"channel":"user.changes.option.any.raw","data":{)"
       R"("instrument_name":"BTC-27DEC26-110000-C","trades":[],"orders":[],"positions":[{"instrument_name":)"
       R"("BTC-27DEC26-110000-C","kind":"option","direction":"zero","size":0,"mark_price":0.04}]}}})");
  REQUIRE(h.adapter->positions().size() == 1);
  CHECK(h.adapter->positions()[0].qty == 0.0);
  CHECK(h.adapter->positions()[0].venue_ns == 0);  // no trade: the receive time
  // An empty answer to get_positions: nothing held, the end alone; the id may follow the result.
  CHECK(h.ok(R"({"jsonrpc":"2.0","result":[],"id":4,"usOut":1764936000120915})").kind == MessageKind::kPositions);
  REQUIRE(h.adapter->positions().size() == 1);
  CHECK(h.adapter->positions()[0].record == RecordKind::kPositionsEnd);
  // An empty list answering another request is a subscribe acknowledgement.
  CHECK(h.ok(R"({"jsonrpc":"2.0","id":3,"result":[]})").kind == MessageKind::kSubscriptionAck);
  CHECK(h.adapter->positions().empty());
  // Altered positions are rejected by reason, and state nothing.
  h.rejects(R"({"jsonrpc":"2.0","id":4,"result":[{"instrument_name":"BTC-PERPETUAL","size":"5"}]})",
            ParseErrorReason::kWrongType);
  CHECK(h.adapter->positions().empty());
  h.rejects(R"({"jsonrpc":"2.0","id":4,"result":[{"instrument_name":"BTC-PERPETUAL"}]})",
            ParseErrorReason::kMissingField);
  h.rejects(R"({"jsonrpc":"2.0","id":4,"result":[{"instrument_name":"BTC-PERPETUAL","size":10,"direction":"up"}]})",
            ParseErrorReason::kBadValue);
  h.rejects(R"({"jsonrpc":"2.0","id":4,"result":[{"instrument_name":"BTC-PERPETUAL","size":10}]})",
            ParseErrorReason::kMissingField);  // inverse, USD size, no mark: cannot be read in coins
  h.rejects(R"({"jsonrpc":"2.0","id":9,"result":[{"instrument_name":"BTC-PERPETUAL","size":10,"size_currency":1}]})",
            ParseErrorReason::kUnknownMessage);
}

TEST_CASE("fixture deribit/subscribe_response: private/subscribe acknowledged", "[deribit]") {
  check_own_fixture(Venue::kDeribit, "deribit/subscribe_response");
}

TEST_CASE("fixture deribit/user_trades_perpetual_taker_buy: with a dedup set a replay yields no fill twice",
          "[deribit]") {
  AccountInterner accounts;
  InstrumentRegistry instruments{segmentd::parse_symbol};
  TradeDedup dedup(16);
  AdapterContext ctx{&accounts, &instruments, "deribit-main", &dedup, nullptr, {}};
  auto adapter = make_venue_adapter(Venue::kDeribit, ctx);
  std::vector<Fill> fills;
  DecodeOutcome out;
  ParseError err;
  const std::string msg = own_fixture("deribit/user_trades_perpetual_taker_buy.json");
  REQUIRE(adapter->decode_unpadded(msg, 1, fills, out, err));
  CHECK(out.fills == 1);
  REQUIRE(adapter->decode_unpadded(msg, 2, fills, out, err));
  CHECK(out.fills == 0);
  CHECK(out.duplicates == 1);
  CHECK(out.kind == MessageKind::kFills);
  REQUIRE(fills.size() == 1);
  CHECK(fills[0].trade_id == trade_hash("deribit:312450017"));  // the expectation's dedup_key
}

// ---- Third-party samples (../shared/fixtures/exchanges/deribit): an extra layer, reported as
// skipped when that folder is absent.

TEST_CASE("deribit: inverse perpetual trade from a raw user.trades notification", "[deribit]") {
  const auto msg = shared_fixture_or_skip("deribit/user_trades_any_raw__ccxt_comment.json");
  if (!msg) return;
  AdapterHarness h(Venue::kDeribit, "deribit-main");
  const auto out = h.ok(*msg);
  CHECK(out.kind == MessageKind::kFills);
  CHECK(out.fills == 1);
  REQUIRE(h.fills.size() == 1);
  ExpectedFill e;
  e.account = "deribit-main";
  e.symbol = "BTC-PERPETUAL";
  e.kind = InstrumentKind::kPerpetual;
  e.side = Side::kBuy;
  e.liquidity = Liquidity::kTaker;  // "liquidity": "T"
  // amount 10 is USD for an inverse perpetual: 10 / 20236.5 = 0.000494156... BTC.
  e.qty = 10.0 / 20236.5;
  e.price = 20236.5;
  // underlying = index_price 20253.31; notional = 0.000494156 × 20253.31 = 10.0083 USD.
  e.underlying_price = 20253.31;
  e.notional_usd = 10.0 / 20236.5 * 20253.31;
  // fee 2.5e-7 BTC at the index: 2.5e-7 × 20253.31 = 0.00506333 USD.
  e.fee_usd = 2.5e-7 * 20253.31;
  e.mark_price = 20233.96;
  e.venue_ns = 1655421193564 * kMs;
  e.trade_id = trade_hash("deribit:219381310");
  check_fill(h, h.fills[0], e);
}

TEST_CASE("deribit: batched data array of the docs' user.trades.{instrument} example", "[deribit]") {
  const auto payload = shared_fixture_or_skip("deribit/user_trades_instrument_100ms__docs_payload.json");
  if (!payload) return;
  AdapterHarness h(Venue::kDeribit);
  const auto out = h.ok(in_envelope(*payload));
  CHECK(out.kind == MessageKind::kFills);
  REQUIRE(h.fills.size() == 2);
  for (int i = 0; i < 2; ++i) {
    ExpectedFill e;
    e.account = "acct-1";
    e.symbol = "BTC-PERPETUAL";
    e.kind = InstrumentKind::kPerpetual;
    e.side = Side::kSell;
    e.liquidity = Liquidity::kTaker;
    e.qty = 20.0 / 8954.0;  // 20 USD at 8954 = 0.00223364 BTC
    e.price = 8954.0;
    e.underlying_price = 8956.73;
    e.notional_usd = 20.0 / 8954.0 * 8956.73;  // = 20.0061 USD
    e.fee_usd = 0.00000168 * 8956.73;          // = 0.0150473 USD
    e.mark_price = 8952.86;
    e.venue_ns = 1590484156350 * kMs;
    e.trade_id = trade_hash(i == 0 ? "deribit:48079254" : "deribit:48079255");
    check_fill(h, h.fills[i], e);
  }
}

TEST_CASE("deribit: inverse dated future sized in USD", "[deribit]") {
  const auto payload = shared_fixture_or_skip("deribit/user_trades_kind_currency_100ms__docs_payload.json");
  if (!payload) return;
  AdapterHarness h(Venue::kDeribit);
  h.ok(in_envelope(*payload));
  REQUIRE(h.fills.size() == 1);
  ExpectedFill e;
  e.account = "acct-1";
  e.symbol = "BTC-25SEP20";
  e.kind = InstrumentKind::kFuture;
  e.side = Side::kSell;
  e.liquidity = Liquidity::kTaker;
  e.qty = 8940.0 / 8947.0;  // 8940 USD at 8947 = 0.999218 BTC
  e.price = 8947.0;
  e.underlying_price = 8953.53;
  e.notional_usd = 8940.0 / 8947.0 * 8953.53;  // = 8946.52 USD
  e.fee_usd = 0.00049961 * 8953.53;            // = 4.47327 USD
  e.mark_price = 8970.03;
  e.venue_ns = 1590484255886 * kMs;
  e.trade_id = trade_hash("deribit:48079262");
  check_fill(h, h.fills[0], e);
  CHECK(h.fills[0].expiry_ns == expiry_at_0800_utc(2020, 9, 25));
}

TEST_CASE("deribit: option trade, amount in BTC, premium in BTC, iv in percent", "[deribit]") {
  const auto object = shared_fixture_or_skip("deribit/user_trade_option_object__docs_get_user_trades_by_currency.json");
  if (!object) return;
  AdapterHarness h(Venue::kDeribit);
  // The docs show this user-trade object in a REST response; user.trades pushes the same object.
  h.ok(R"({"jsonrpc":"2.0","method":"subscription","params":{"channel":"user.trades.option.BTC.raw","data":[)" +
       *object + "]}}");
  REQUIRE(h.fills.size() == 1);
  const Fill& f = h.fills[0];
  ExpectedFill e;
  e.account = "acct-1";
  e.symbol = "BTC-27MAY20-8750-C";
  e.kind = InstrumentKind::kOption;
  e.side = Side::kSell;
  e.liquidity = Liquidity::kMaker;  // "M"
  e.qty = 1.0;                      // options: amount is in BTC
  e.price = 0.028;                  // premium in BTC
  e.underlying_price = 8994.95;     // options use underlying_price (not index_price)
  e.notional_usd = 1.0 * 8994.95;
  e.iv = 0.3851;                 // 38.51 % → 0.3851
  e.fee_usd = 0.0004 * 8993.47;  // fee in BTC at index_price = 3.597388 USD
  e.mark_price = 0.03135383;
  e.venue_ns = 1590480620145 * kMs;
  e.trade_id = trade_hash("deribit:48078936");
  check_fill(h, f, e);
  CHECK(f.option_type == OptionType::kCall);
  CHECK(f.strike == 8750.0);
  CHECK(f.expiry_ns == expiry_at_0800_utc(2020, 5, 27));
}

TEST_CASE("deribit: precision edge case (synthetic 1e8 values) keeps qty = amount / price", "[deribit]") {
  const auto msg = shared_fixture_or_skip("deribit/user_trades_any_raw_precision_edgecase__nautilus.json");
  if (!msg) return;
  AdapterHarness h(Venue::kDeribit);
  h.ok(*msg);
  REQUIRE(h.fills.size() == 3);
  // Each trade has amount == price (both ~1e8), so 1e8 USD at 1e8 USD/BTC is 1 BTC.
  for (const Fill& f : h.fills) check_close(f.qty, 1.0, "qty");
  check_close(h.fills[0].notional_usd, 100000000.123456789, "notional");  // 1 BTC × index
  CHECK(h.fills[1].liquidity == Liquidity::kMaker);
  CHECK(h.fills[2].side == Side::kSell);
  CHECK(h.fills[2].trade_id == trade_hash("deribit:BTC-3"));
}

TEST_CASE("deribit: control messages are recognised", "[deribit]") {
  AdapterHarness h(Venue::kDeribit);
  auto out = h.ok(own_fixture("deribit/heartbeat_test_request.json"));
  CHECK(out.kind == MessageKind::kTestRequest);
  out = h.ok(R"({"jsonrpc":"2.0","method":"heartbeat","params":{"type":"heartbeat"}})");
  CHECK(out.kind == MessageKind::kHeartbeat);
  out = h.ok(own_fixture("deribit/set_heartbeat_response.json"));
  CHECK(out.kind == MessageKind::kIgnored);
  CHECK(out.request_id == 5102);
  out = h.ok(R"({"jsonrpc":"2.0","id":42,"result":["user.trades.any.any.raw"]})");
  CHECK(out.kind == MessageKind::kSubscriptionAck);
  CHECK(out.request_id == 42);
  out = h.ok(
      R"({"jsonrpc":"2.0","id":7,"result":{"access_token":"x","expires_in":900,"refresh_token":"y","scope":"session:s","token_type":"bearer"}})");
  CHECK(out.kind == MessageKind::kAuthResult);
  CHECK(out.success);
  out = h.ok(R"({"jsonrpc":"2.0","id":8,"result":{"version":"1.2.26"}})");
  CHECK(out.kind == MessageKind::kPong);
  out = h.ok(R"({"jsonrpc":"2.0","id":9,"error":{"message":"invalid_credentials","code":13004}})");
  CHECK(out.kind == MessageKind::kVenueError);
  CHECK(out.venue_code == 13004);
  CHECK_FALSE(out.success);
  out = h.ok(
      R"({"jsonrpc":"2.0","method":"subscription","params":{"channel":"user.orders.any.any.raw","data":[{"order_id":"1"}]}})");
  CHECK(out.kind == MessageKind::kIgnored);
  CHECK(h.fills.empty());
}

TEST_CASE("deribit: control messages of the third-party samples are recognised", "[deribit]") {
  const auto test_request = shared_fixture_or_skip("deribit/heartbeat_test_request__nautilus.json");
  if (!test_request) return;
  AdapterHarness h(Venue::kDeribit);
  auto out = h.ok(*test_request);
  CHECK(out.kind == MessageKind::kTestRequest);
  out = h.ok(shared_fixture("deribit/set_heartbeat_response__docs.json"));
  CHECK(out.kind == MessageKind::kIgnored);
  CHECK(out.request_id == 1569);
  CHECK(h.fills.empty());
}

TEST_CASE("deribit: params before method and data before channel still decode", "[deribit]") {
  AdapterHarness h(Venue::kDeribit);
  const std::string trade =
      R"({"trade_id":"1","instrument_name":"BTC-PERPETUAL","direction":"buy","price":50000,"amount":10,"timestamp":1700000000000,"index_price":50000})";
  h.ok(R"({"params":{"data":[)" + trade +
       R"(],"channel":"user.trades.any.any.raw"},"method":"subscription","jsonrpc":"2.0"})");
  REQUIRE(h.fills.size() == 1);
  // 10 USD at 50000 USD/BTC = 0.0002 BTC; notional 0.0002 × 50000 = 10 USD.
  check_close(h.fills[0].qty, 0.0002, "qty");
  check_close(h.fills[0].notional_usd, 10.0, "notional");
}

TEST_CASE("deribit: bad messages are rejected by reason and append no fill", "[deribit]") {
  AdapterHarness h(Venue::kDeribit);
  const std::string good = own_fixture("deribit/user_trades_perpetual_batch_100ms.json");
  // Truncated anywhere inside: malformed JSON, never a partial batch.
  for (std::size_t cut : {good.size() / 4, good.size() / 2, good.size() - 30, good.size() - 3}) {
    h.rejects(good.substr(0, cut), ParseErrorReason::kMalformedJson);
  }
  h.rejects("not json", ParseErrorReason::kMalformedJson);
  h.rejects("[1,2,3]", ParseErrorReason::kUnknownMessage);
  h.rejects(R"({"jsonrpc":"2.0"})", ParseErrorReason::kUnknownMessage);
  const std::string head =
      R"({"jsonrpc":"2.0","method":"subscription","params":{"channel":"user.trades.any.any.raw","data":[)";
  const std::string ok_trade =
      R"({"trade_id":"1","instrument_name":"BTC-PERPETUAL","direction":"buy","price":50000,"amount":10,"timestamp":1700000000000,"index_price":50000})";
  // A bad trade after a good one rejects the whole batch.
  h.rejects(
      head + ok_trade +
          R"(,{"trade_id":"2","instrument_name":"BTC-PERPETUAL","direction":"buy","price":"50000","amount":10,"timestamp":1700000000000}]}})",
      ParseErrorReason::kWrongType);
  h.rejects(
      head +
          R"({"trade_id":"2","instrument_name":"BTC-PERPETUAL","direction":"buy","amount":10,"timestamp":1700000000000}]}})",
      ParseErrorReason::kMissingField);
  h.rejects(
      head +
          R"({"trade_id":"2","instrument_name":"BTC-PERPETUAL","direction":"up","price":1,"amount":10,"timestamp":1700000000000}]}})",
      ParseErrorReason::kBadValue);
  h.rejects(
      head +
          R"({"trade_id":"2","instrument_name":"NOT A SYMBOL","direction":"buy","price":1,"amount":10,"timestamp":1700000000000}]}})",
      ParseErrorReason::kBadSymbol);
  h.rejects(
      head +
          R"({"trade_id":"2","instrument_name":"BTC-PERPETUAL","direction":"buy","price":-5,"amount":10,"timestamp":1700000000000}]}})",
      ParseErrorReason::kBadValue);
  h.rejects(
      head +
          R"({"trade_id":2,"instrument_name":"BTC-PERPETUAL","direction":"buy","price":5,"amount":10,"timestamp":1700000000000}]}})",
      ParseErrorReason::kWrongType);
  h.rejects(head + R"("a trade"]}})", ParseErrorReason::kWrongType);
  h.rejects(head + ok_trade + "]}} trailing", ParseErrorReason::kMalformedJson);
  CHECK(h.fills.empty());
}

TEST_CASE("deribit: the third-party sample truncated is rejected and appends no fill", "[deribit]") {
  const auto good = shared_fixture_or_skip("deribit/user_trades_any_raw__ccxt_comment.json");
  if (!good) return;
  AdapterHarness h(Venue::kDeribit);
  for (std::size_t cut : {good->size() / 4, good->size() / 2, good->size() - 30, good->size() - 3}) {
    h.rejects(good->substr(0, cut), ParseErrorReason::kMalformedJson);
  }
  CHECK(h.fills.empty());
}

TEST_CASE("deribit: symbols alike but for their middle bytes are told apart (instrument cache)", "[deribit]") {
  // The cache compares a symbol's length and its first and last 8 bytes, then the middle of a
  // longer one: these two differ only in bytes 8-10 ("C24" / "C30").
  AdapterHarness h(Venue::kDeribit);
  const char* symbols[] = {"BTC-27DEC24-60000-C", "BTC-27DEC30-60000-C", "BTC-27DEC30-60000-C",
                           "BTC-27DEC24-60000-C", "BTC-PERPETUAL",       "BTC-27DEC24-60000-C"};
  std::string message =
      R"({"jsonrpc":"2.0","method":"subscription","params":{"channel":"user.trades.any.any.raw","data":[)";
  int id = 0;
  for (const char* symbol : symbols) {
    if (id > 0) message += ",";
    message += str_cat(R"({"trade_id":")", ++id, R"(","instrument_name":")", symbol,
                       R"(","direction":"buy","price":0.05,"amount":1,"timestamp":1700000000000,"index_price":60000})");
  }
  message += "]}}";
  h.ok(message);
  REQUIRE(h.fills.size() == std::size(symbols));
  for (std::size_t i = 0; i < std::size(symbols); ++i) CHECK(h.instrument(h.fills[i]).symbol == symbols[i]);
}

TEST_CASE("deribit: with a dedup set a replayed notification yields no fill twice", "[deribit]") {
  AccountInterner accounts;
  InstrumentRegistry instruments{segmentd::parse_symbol};
  TradeDedup dedup(16);
  AdapterContext ctx{&accounts, &instruments, "a", &dedup, nullptr, {}};
  auto adapter = make_venue_adapter(Venue::kDeribit, ctx);
  const auto sample = shared_fixture_or_skip("deribit/user_trades_any_raw__ccxt_comment.json");
  if (!sample) return;
  std::vector<Fill> fills;
  DecodeOutcome out;
  ParseError err;
  const std::string& msg = *sample;
  REQUIRE(adapter->decode_unpadded(msg, 1, fills, out, err));
  CHECK(out.fills == 1);
  REQUIRE(adapter->decode_unpadded(msg, 2, fills, out, err));
  CHECK(out.fills == 0);
  CHECK(out.duplicates == 1);
  CHECK(out.kind == MessageKind::kFills);
  CHECK(fills.size() == 1);
}

TEST_CASE("deribit: a trade in any key order, or with escapes, gives the same fill as in Deribit's order",
          "[deribit]") {
  // Deribit's order (reverse alphabetical), read by the ordered fast path...
  const std::string ordered =
      R"({"underlying_price":8994.95,"trade_seq":1,"trade_id":"48078936","timestamp":1590480620145,)"
      R"("tick_direction":1,"state":"filled","reduce_only":false,"price":0.028,"post_only":false,)"
      R"("order_type":"limit","order_id":"4008699030","matching_id":null,"mark_price":0.03135383,)"
      R"("liquidity":"M","iv":38.51,"instrument_name":"BTC-27MAY20-8750-C","index_price":8993.47,)"
      R"("fee_currency":"BTC","fee":0.0004,"direction":"sell","amount":1})";
  // ...the same trade shuffled, with iv and underlying_price in unusual places and an unknown
  // field last (the order-free walk)...
  const std::string shuffled =
      R"({"iv":38.51,"amount":1,"direction":"sell","trade_id":"48078936","fee":0.0004,"price":0.028,)"
      R"("instrument_name":"BTC-27MAY20-8750-C","timestamp":1590480620145,"fee_currency":"BTC",)"
      R"("liquidity":"M","mark_price":0.03135383,"index_price":8993.47,"underlying_price":8994.95,"x":1})";
  // ...and in Deribit's order with escaped strings ("\u0034" is "4", "\u0042" is "B").
  const std::string escaped =
      R"({"underlying_price":8994.95,"trade_id":"\u00348078936","timestamp":1590480620145,"price":0.028,)"
      R"("mark_price":0.03135383,"liquidity":"M","iv":38.51,"instrument_name":"\u0042TC-27MAY20-8750-C",)"
      R"("index_price":8993.47,"fee_currency":"BTC","fee":0.0004,"direction":"sell","amount":1})";
  const std::string head =
      R"({"jsonrpc":"2.0","method":"subscription","params":{"channel":"user.trades.any.any.raw","data":[)";
  AdapterHarness h(Venue::kDeribit);
  h.ok(head + ordered + "," + shuffled + "," + escaped + "]}}");
  REQUIRE(h.fills.size() == 3);
  ExpectedFill e;
  e.account = "acct-1";
  e.symbol = "BTC-27MAY20-8750-C";
  e.kind = InstrumentKind::kOption;
  e.side = Side::kSell;
  e.liquidity = Liquidity::kMaker;
  e.qty = 1.0;                     // options: amount in BTC
  e.price = 0.028;                 // premium in BTC
  e.underlying_price = 8994.95;    // the forward the iv is quoted on
  e.notional_usd = 1.0 * 8994.95;  // qty × underlying
  e.fee_usd = 0.0004 * 8993.47;    // BTC fee at the index
  e.iv = 0.3851;                   // percent → fraction
  e.mark_price = 0.03135383;
  e.venue_ns = 1590480620145 * kMs;
  e.trade_id = trade_hash("deribit:48078936");
  for (const Fill& f : h.fills) check_fill(h, f, e);
  // A wrong type is the same rejection whichever path reads it.
  h.rejects(head + R"({"underlying_price":"8994.95","trade_id":"1","timestamp":1590480620145,"price":0.028,)"
                   R"("instrument_name":"BTC-27MAY20-8750-C","direction":"sell","amount":1}]}})",
            ParseErrorReason::kWrongType);
}

}  // namespace
}  // namespace segmentd::testing

// ---- Public market data (issue 20, item 4): trades, mark prices and the index, for the price
// tape. Shapes of docs.deribit.com's subscription pages; no fill comes out of them.

namespace segmentd::testing {
namespace {

TEST_CASE("deribit: the price index notification is an index price for the tape", "[deribit][market_data]") {
  AdapterHarness h(Venue::kDeribit);
  // The docs' example notification, verbatim in its fields.
  const auto out = h.ok(R"({"jsonrpc":"2.0","method":"subscription","params":{"channel":"deribit_price_index.btc_usd",)"
                        R"("data":{"timestamp":1535098298227,"price":6521.17,"index_name":"btc_usd"}}})");
  CHECK(out.kind == MessageKind::kMarketData);
  CHECK(h.fills.empty());
  const auto& md = h.adapter->market_data();
  REQUIRE(md.size() == 1);
  CHECK(md[0].underlying == h.instruments.underlying_id("BTC"));
  CHECK(md[0].underlying_price == 6521.17);
  CHECK(std::isnan(md[0].price));
  CHECK(std::isnan(md[0].mark_price));
  CHECK(md[0].venue_ns == 1535098298227 * kMs);
  CHECK(md[0].recv_ns == kRecvNs);
}

TEST_CASE("deribit: public trades carry the print, the mark and the index of each instrument",
          "[deribit][market_data]") {
  AdapterHarness h(Venue::kDeribit);
  const auto out = h.ok(
      R"({"jsonrpc":"2.0","method":"subscription","params":{"channel":"trades.future.BTC.100ms","data":[)"
      R"({"trade_seq":30289432,"trade_id":"48079254","timestamp":1590484156350,"tick_direction":0,"price":8954,)"
      R"("mark_price":8952.86,"instrument_name":"BTC-PERPETUAL","index_price":8956.73,"direction":"sell","amount":20},)"
      R"({"trade_seq":74405,"trade_id":"48079262","timestamp":1590484255886,"tick_direction":2,"price":8947,)"
      R"("mark_price":8970.03,"instrument_name":"BTC-25SEP20","index_price":8953.53,"direction":"sell","amount":8940}]}})");
  CHECK(out.kind == MessageKind::kMarketData);
  CHECK(out.fills == 0);
  CHECK(h.fills.empty());
  const auto& md = h.adapter->market_data();
  REQUIRE(md.size() == 2);
  CHECK(md[0].instrument == *h.instruments.resolve(Venue::kDeribit, "BTC-PERPETUAL"));
  CHECK(md[0].price == 8954.0);
  CHECK(md[0].mark_price == 8952.86);
  CHECK(md[0].underlying_price == 8956.73);
  CHECK(md[0].venue_ns == 1590484156350 * kMs);
  CHECK(md[1].instrument == *h.instruments.resolve(Venue::kDeribit, "BTC-25SEP20"));
  CHECK(md[1].mark_price == 8970.03);
  CHECK(md[1].underlying == md[0].underlying);

  // markprice.options: marks of option instruments (premium in BTC), no trade print.
  const auto marks =
      h.ok(R"({"jsonrpc":"2.0","method":"subscription","params":{"channel":"markprice.options.btc_usd","data":[)"
           R"({"timestamp":1622470378005,"mark_price":0.0333,"iv":0.9,"instrument_name":"BTC-2JUN21-37000-P"},)"
           R"({"timestamp":1622470378005,"mark_price":0.117,"iv":0.9,"instrument_name":"BTC-4JUN21-40500-P"}]}})");
  CHECK(marks.kind == MessageKind::kMarketData);
  REQUIRE(h.adapter->market_data().size() == 2);  // the last message's only
  CHECK(h.adapter->market_data()[1].mark_price == 0.117);
  CHECK(std::isnan(h.adapter->market_data()[1].price));

  // A user.trades message after it leaves no market data behind.
  h.ok(R"({"jsonrpc":"2.0","method":"subscription","params":{"channel":"user.trades.any.any.raw","data":[]}})");
  CHECK(h.adapter->market_data().empty());
}

TEST_CASE("deribit: bad market data is refused by name and leaves nothing", "[deribit][market_data]") {
  AdapterHarness h(Venue::kDeribit);
  h.rejects(R"({"jsonrpc":"2.0","method":"subscription","params":{"channel":"deribit_price_index.btc_usd",)"
            R"("data":{"timestamp":1,"index_name":"btc_usd"}}})",
            ParseErrorReason::kBadValue);
  h.rejects(R"({"jsonrpc":"2.0","method":"subscription","params":{"channel":"deribit_price_index.btc_usd",)"
            R"("data":{"timestamp":1,"price":5,"index_name":"btcusd"}}})",
            ParseErrorReason::kBadValue);
  h.rejects(R"({"jsonrpc":"2.0","method":"subscription","params":{"channel":"trades.any.any.raw",)"
            R"("data":[{"timestamp":1,"price":5,"instrument_name":"NOT-A-SYMBOL-X"}]}})",
            ParseErrorReason::kBadSymbol);
  h.rejects(R"({"jsonrpc":"2.0","method":"subscription","params":{"channel":"trades.any.any.raw",)"
            R"("data":[{"timestamp":1,"price":5}]}})",
            ParseErrorReason::kMissingField);
  h.rejects(R"({"jsonrpc":"2.0","method":"subscription","params":{"channel":"trades.any.any.raw",)"
            R"("data":[{"timestamp":1,"instrument_name":"BTC-PERPETUAL","amount":1}]}})",
            ParseErrorReason::kMissingField);
  h.rejects(R"({"jsonrpc":"2.0","method":"subscription","params":{"channel":"trades.any.any.raw","data":{}}})",
            ParseErrorReason::kWrongType);
  // A good trade before a bad one: the message is refused whole.
  h.rejects(
      R"({"jsonrpc":"2.0","method":"subscription","params":{"channel":"trades.any.any.raw","data":[)"
      R"({"timestamp":1,"price":5,"instrument_name":"BTC-PERPETUAL"},{"timestamp":1,"price":"x","instrument_name":"BTC-PERPETUAL"}]}})",
      ParseErrorReason::kWrongType);
  CHECK(h.adapter->market_data().empty());
}

}  // namespace
}  // namespace segmentd::testing
