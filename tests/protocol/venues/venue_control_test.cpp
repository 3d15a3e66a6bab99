// Control-plane builders and parsers of every venue (protocol/*_control.h) and protocol/hmac.h.

#include <catch2/catch.hpp>

#include "protocol/hmac.h"
#include "protocol/venues/binance/control.h"
#include "protocol/venues/bybit/control.h"
#include "protocol/venues/deribit/control.h"
#include "protocol/venues/hyperliquid/control.h"
#include "protocol/venues/okx/control.h"
#include "tests/protocol/venues/adapter_test_support.h"

namespace segmentd::testing {
namespace {

using namespace segmentd::control;

TEST_CASE("hmac: the Binance docs' signed-request example", "[control]") {
  // Binance USDⓈ-M docs, "SIGNED Endpoint Examples": this key and query string give this signature.
  CHECK(hmac_sha256_hex("NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j",
                        "symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1&recvWindow=5000&"
                        "timestamp=1499827319559") ==
        "c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71");
  CHECK(constant_time_equal("abc", "abc"));
  CHECK_FALSE(constant_time_equal("abc", "abd"));
  CHECK_FALSE(constant_time_equal("abc", "abcd"));
}

TEST_CASE("deribit control: client_signature auth, heartbeat, test, subscribe", "[control][deribit]") {
  // Computed once with: printf '1576074319000\n1iqt2wls\n' | openssl dgst -sha256 -hmac "test-deribit-secret"
  // (timestamp "\n" nonce "\n" data, with data empty).
  const std::string expected = "c537f3b67cc56fefbc2dc3deaaeb1a03cd9d64b85da9510bcfecb35a7ac08365";
  CHECK(deribit_signature("test-deribit-secret", 1576074319000, "1iqt2wls", "") == expected);
  const std::string auth = deribit_auth_request(9929, "client-id-1", "test-deribit-secret", 1576074319000, "1iqt2wls");
  CHECK(auth.find("test-deribit-secret") == std::string::npos);  // the secret never goes on the wire
  DeribitRequest r;
  ParseError err;
  REQUIRE(parse_deribit_request(auth, r, err));
  CHECK(r.method == "public/auth");
  CHECK(r.id == 9929);
  CHECK(r.grant_type == "client_signature");
  CHECK(r.client_id == "client-id-1");
  CHECK(r.signature == expected);
  CHECK(verify_deribit_auth(r, "test-deribit-secret"));
  CHECK_FALSE(verify_deribit_auth(r, "another-secret"));
  r.nonce = "other";
  CHECK_FALSE(verify_deribit_auth(r, "test-deribit-secret"));

  // The docs' request examples parse the same way as ours.
  REQUIRE(parse_deribit_request(fixture("deribit/set_heartbeat_request__docs.json"), r, err));
  CHECK(r.method == "public/set_heartbeat");
  CHECK(r.interval_seconds == 30);
  REQUIRE(parse_deribit_request(deribit_set_heartbeat_request(9098, 30), r, err));
  CHECK(r.interval_seconds == 30);
  CHECK(r.id == 9098);
  REQUIRE(parse_deribit_request(fixture("deribit/public_test_request__docs.json"), r, err));
  CHECK(r.method == "public/test");
  CHECK(r.id == 8212);
  REQUIRE(parse_deribit_request(deribit_test_request(8212), r, err));
  CHECK(r.method == "public/test");
  REQUIRE(parse_deribit_request(fixture("deribit/subscribe_request__docs.json"), r, err));
  CHECK(r.channels == std::vector<std::string>{"user.trades.BTC-PERPETUAL.100ms"});
  REQUIRE(parse_deribit_request(deribit_subscribe_request(3, {"user.trades.any.any.raw"}), r, err));
  CHECK(r.method == "private/subscribe");
  CHECK(r.channels == std::vector<std::string>{"user.trades.any.any.raw"});

  CHECK_FALSE(parse_deribit_request(
      R"({"jsonrpc":"2.0","id":1,"method":"public/auth","params":{"grant_type":"client_signature","client_id":"c","timestamp":"soon","signature":"s"}})",
      r, err));
  CHECK(err.reason == ParseErrorReason::kWrongType);
  CHECK_FALSE(parse_deribit_request(R"({"jsonrpc":"2.0","id":1})", r, err));
  CHECK(err.reason == ParseErrorReason::kMissingField);
  CHECK_FALSE(parse_deribit_request(R"({"jsonrpc":"2.0",)", r, err));
  CHECK(err.reason == ParseErrorReason::kMalformedJson);
}

TEST_CASE("okx control: login signature, login request, subscribe, ping", "[control][okx]") {
  // Computed once with:
  //   echo -n "1538054050GET/users/self/verify" | openssl dgst -sha256 -hmac "test-okx-secret" -binary | base64
  const std::string expected = "hI7jQZFjcCrxHA2qvm/nr300MGFoVs+bYFhzhdyUjog=";
  CHECK(okx_login_signature("test-okx-secret", "1538054050") == expected);
  const std::string login =
      okx_login_request("985d5b66-57ce-40fb-b714-afc0b9787083", "123456", "test-okx-secret", "1538054050");
  CHECK(login.find("test-okx-secret") == std::string::npos);
  OkxRequest r;
  ParseError err;
  REQUIRE(parse_okx_request(login, r, err));
  CHECK(r.op == "login");
  CHECK(r.sign == expected);
  CHECK(verify_okx_login(r, "985d5b66-57ce-40fb-b714-afc0b9787083", "123456", "test-okx-secret"));
  CHECK_FALSE(verify_okx_login(r, "985d5b66-57ce-40fb-b714-afc0b9787083", "wrong", "test-okx-secret"));
  // The docs' login request has the same shape (its secret is not published, so only the fields).
  REQUIRE(parse_okx_request(fixture("okx/login_request__okxdocs.json"), r, err));
  CHECK(r.api_key == "985d5b66-57ce-40fb-b714-afc0b9787083");
  CHECK(r.timestamp == "1538054050");
  CHECK(r.sign == "7L+zFQ+CEgGu5rzCj4+BdV2/uUHGqddA9pI6ztsRRPs=");
  CHECK_FALSE(verify_okx_login(r, "985d5b66-57ce-40fb-b714-afc0b9787083", "123456", "test-okx-secret"));
  REQUIRE(parse_okx_request(okx_subscribe_orders_request(), r, err));
  CHECK(r.op == "subscribe");
  CHECK(r.channels == std::vector<std::string>{"orders"});
  REQUIRE(parse_okx_request(kOkxPing, r, err));
  CHECK(r.op == "ping");
  CHECK_FALSE(parse_okx_request(R"({"op":"login","args":[{"apiKey":"k"}]})", r, err));
  CHECK(err.reason == ParseErrorReason::kMissingField);
  CHECK(err.detail.find("passphrase") != std::string::npos);  // names the missing field...
  CHECK(err.detail.find("\"k\"") == std::string::npos);       // ...but never echoes values
}

TEST_CASE("bybit control: auth signature and request, subscribe, ping", "[control][bybit]") {
  // Computed once with: echo -n "GET/realtime1662350400000" | openssl dgst -sha256 -hmac "test-bybit-secret"
  const std::string expected = "fd59fbfdf261b9c029ffe221bf35dd03e63780cce6dd523c514117bc06d0e55f";
  CHECK(bybit_auth_signature("test-bybit-secret", 1662350400000) == expected);
  const std::string auth = bybit_auth_request("api-key-1", "test-bybit-secret", 1662350400000);
  CHECK(auth == R"({"op":"auth","args":["api-key-1",1662350400000,")" + expected + R"("]})");
  BybitRequest r;
  ParseError err;
  REQUIRE(parse_bybit_request(auth, r, err));
  CHECK(r.op == "auth");
  CHECK(r.expires_ms == 1662350400000);
  CHECK(verify_bybit_auth(r, "api-key-1", "test-bybit-secret"));
  CHECK_FALSE(verify_bybit_auth(r, "api-key-2", "test-bybit-secret"));
  REQUIRE(parse_bybit_request(fixture("bybit/subscribe_request__bybit_docs.json"), r, err));
  CHECK(r.topics == std::vector<std::string>{"execution"});
  CHECK(bybit_subscribe_request({"execution"}) == R"({"op":"subscribe","args":["execution"]})");
  REQUIRE(parse_bybit_request(bybit_ping_request(100001), r, err));
  CHECK(r.op == "ping");
  CHECK(r.req_id == "100001");
  CHECK_FALSE(parse_bybit_request(R"({"op":"auth","args":["k",1]})", r, err));
  CHECK(err.reason == ParseErrorReason::kBadValue);
  CHECK_FALSE(parse_bybit_request(R"({"op":"auth","args":["k",{},"s"]})", r, err));
  CHECK(err.reason == ParseErrorReason::kWrongType);
}

TEST_CASE("binance control: listenKey REST shapes and response", "[control][binance]") {
  const auto create = binance_listen_key_request(BinanceMarket::kUsdM, ListenKeyOp::kCreate, "my-api-key");
  CHECK(create.method == "POST");
  CHECK(create.host == "fapi.binance.com");
  CHECK(create.path == "/fapi/v1/listenKey");
  REQUIRE(create.headers.size() == 1);
  CHECK(create.headers[0].first == "X-MBX-APIKEY");
  CHECK(create.headers[0].second == "my-api-key");
  CHECK(binance_listen_key_request(BinanceMarket::kUsdM, ListenKeyOp::kKeepAlive, "k").method == "PUT");
  CHECK(binance_listen_key_request(BinanceMarket::kOptions, ListenKeyOp::kClose, "k").path == "/eapi/v1/listenKey");
  CHECK(binance_user_stream_url(BinanceMarket::kUsdM, "abc") == "wss://fstream.binance.com/ws/abc");
  std::string key;
  ParseError err;
  REQUIRE(parse_binance_listen_key_response(
      R"({"listenKey":"pqia91ma19a5s61cv6a81va65sdf19v8a65a1a5s61cv6a81va65sdf19v8a65a1"})", key, err));
  CHECK(key == "pqia91ma19a5s61cv6a81va65sdf19v8a65a1a5s61cv6a81va65sdf19v8a65a1");
  CHECK_FALSE(parse_binance_listen_key_response(R"({"code":-1125,"msg":"This listenKey does not exist."})", key, err));
  CHECK(err.reason == ParseErrorReason::kMissingField);
}

TEST_CASE("hyperliquid control: subscriptions and ping", "[control][hyperliquid]") {
  HyperliquidRequest r;
  ParseError err;
  REQUIRE(parse_hyperliquid_request(fixture("hyperliquid/subscribe_request_userFills__gitbook.json"), r, err));
  CHECK(r.method == "subscribe");
  CHECK(r.type == "userFills");
  CHECK(r.user == "<address>");
  REQUIRE(parse_hyperliquid_request(fixture("hyperliquid/subscribe_request_trades__gitbook.json"), r, err));
  CHECK(r.type == "trades");
  CHECK(r.coin == "SOL");
  REQUIRE(parse_hyperliquid_request(hyperliquid_subscribe_user_fills("0xabc"), r, err));
  CHECK(r.type == "userFills");
  CHECK(r.user == "0xabc");
  REQUIRE(parse_hyperliquid_request(hyperliquid_subscribe_trades("BTC"), r, err));
  CHECK(r.coin == "BTC");
  REQUIRE(parse_hyperliquid_request(kHyperliquidPing, r, err));
  CHECK(r.method == "ping");
  CHECK_FALSE(parse_hyperliquid_request(R"({"method":"subscribe"})", r, err));
  CHECK(err.reason == ParseErrorReason::kMissingField);
}

}  // namespace
}  // namespace segmentd::testing
