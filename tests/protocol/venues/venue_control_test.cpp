// Control-plane builders and parsers of every venue (protocol/*_control.h) and protocol/hmac.h.

#include <catch2/catch.hpp>
#include <memory>
#include <string>
#include <vector>

#include "protocol/hmac.h"
#include "protocol/venues/binance/control.h"
#include "protocol/venues/bybit/control.h"
#include "protocol/venues/deribit/control.h"
#include "protocol/venues/hyperliquid/control.h"
#include "protocol/venues/okx/control.h"
#include "simdjson.h"
#include "tests/protocol/venues/adapter_test_support.h"

namespace segmentd::testing {
namespace {

using namespace segmentd::control;

//! The "request" object of tests/fixtures/exchanges/<stem>.expected.json: the fields a request
//! we send (or the listenKey response) holds, written by hand, and the made-up secret it was
//! signed with ("signed_with").
class ExpectedRequest {
 public:
  explicit ExpectedRequest(const std::string& stem) : json_(own_fixture(stem + ".expected.json")) {
    simdjson::dom::object root;
    REQUIRE(parser_.parse(json_).get(root) == simdjson::SUCCESS);
    REQUIRE(root["request"].get(request_) == simdjson::SUCCESS);
  }
  std::string text(std::string_view key) const { return std::string(std::string_view(request_[key].get_string())); }
  std::int64_t integer(std::string_view key) const { return request_[key].get_int64(); }
  std::vector<std::string> texts(std::string_view key) const {
    std::vector<std::string> out;
    for (simdjson::dom::element e : request_[key].get_array()) out.emplace_back(std::string_view(e.get_string()));
    return out;
  }
  std::string signed_with(std::string_view key) const {
    return std::string(std::string_view(request_["signed_with"][key].get_string()));
  }

 private:
  std::string json_;
  simdjson::dom::parser parser_;
  simdjson::dom::object request_;
};

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

  REQUIRE(parse_deribit_request(deribit_set_heartbeat_request(9098, 30), r, err));
  CHECK(r.interval_seconds == 30);
  CHECK(r.id == 9098);
  REQUIRE(parse_deribit_request(deribit_test_request(8212), r, err));
  CHECK(r.method == "public/test");
  CHECK(r.id == 8212);
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

TEST_CASE("fixture deribit/auth_request_client_signature: parses, and its signature checks out", "[control][deribit]") {
  const ExpectedRequest x("deribit/auth_request_client_signature");
  DeribitRequest r;
  ParseError err;
  REQUIRE(parse_deribit_request(own_fixture("deribit/auth_request_client_signature.json"), r, err));
  CHECK(r.method == x.text("method"));
  CHECK(r.id == x.integer("id"));
  CHECK(r.grant_type == x.text("grant_type"));
  CHECK(r.client_id == x.text("client_id"));
  CHECK(r.timestamp_ms == x.integer("timestamp_ms"));
  CHECK(r.nonce == x.text("nonce"));
  CHECK(r.data == x.text("data"));
  CHECK(r.signature == x.signed_with("signature"));
  // The signature was computed with openssl from the made-up secret; ours must agree.
  const std::string secret = x.signed_with("client_secret");
  CHECK(deribit_signature(secret, x.integer("timestamp_ms"), x.text("nonce"), x.text("data")) ==
        x.signed_with("signature"));
  CHECK(verify_deribit_auth(r, secret));
  CHECK_FALSE(verify_deribit_auth(r, "another-secret"));
}

TEST_CASE("fixture deribit/set_heartbeat_request: public/set_heartbeat parses", "[control][deribit]") {
  const ExpectedRequest x("deribit/set_heartbeat_request");
  DeribitRequest r;
  ParseError err;
  REQUIRE(parse_deribit_request(own_fixture("deribit/set_heartbeat_request.json"), r, err));
  CHECK(r.method == x.text("method"));
  CHECK(r.id == x.integer("id"));
  CHECK(r.interval_seconds == x.integer("interval_seconds"));
}

TEST_CASE("fixture deribit/public_test_request: public/test parses", "[control][deribit]") {
  const ExpectedRequest x("deribit/public_test_request");
  DeribitRequest r;
  ParseError err;
  REQUIRE(parse_deribit_request(own_fixture("deribit/public_test_request.json"), r, err));
  CHECK(r.method == x.text("method"));
  CHECK(r.id == x.integer("id"));
}

TEST_CASE("fixture deribit/subscribe_request: private/subscribe parses", "[control][deribit]") {
  const ExpectedRequest x("deribit/subscribe_request");
  DeribitRequest r;
  ParseError err;
  REQUIRE(parse_deribit_request(own_fixture("deribit/subscribe_request.json"), r, err));
  CHECK(r.method == x.text("method"));
  CHECK(r.id == x.integer("id"));
  CHECK(r.channels == x.texts("channels"));
}

TEST_CASE("deribit control: the docs' request examples of the third-party samples", "[control][deribit]") {
  const auto heartbeat = shared_fixture_or_skip("deribit/set_heartbeat_request__docs.json");
  if (!heartbeat) return;
  DeribitRequest r;
  ParseError err;
  REQUIRE(parse_deribit_request(*heartbeat, r, err));
  CHECK(r.method == "public/set_heartbeat");
  CHECK(r.interval_seconds == 30);
  REQUIRE(parse_deribit_request(shared_fixture("deribit/public_test_request__docs.json"), r, err));
  CHECK(r.method == "public/test");
  CHECK(r.id == 8212);
  REQUIRE(parse_deribit_request(shared_fixture("deribit/subscribe_request__docs.json"), r, err));
  CHECK(r.channels == std::vector<std::string>{"user.trades.BTC-PERPETUAL.100ms"});
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

TEST_CASE("fixture okx/login_request: parses, and its sign checks out", "[control][okx]") {
  const ExpectedRequest x("okx/login_request");
  OkxRequest r;
  ParseError err;
  REQUIRE(parse_okx_request(own_fixture("okx/login_request.json"), r, err));
  CHECK(r.op == x.text("op"));
  CHECK(r.api_key == x.text("api_key"));
  CHECK(r.passphrase == x.text("passphrase"));
  CHECK(r.timestamp == x.text("timestamp"));
  CHECK(r.sign == x.signed_with("sign"));
  const std::string secret = x.signed_with("secret_key");
  CHECK(okx_login_signature(secret, x.text("timestamp")) == x.signed_with("sign"));
  CHECK(verify_okx_login(r, x.text("api_key"), x.text("passphrase"), secret));
  CHECK_FALSE(verify_okx_login(r, x.text("api_key"), "wrong", secret));
}

TEST_CASE("fixture okx/subscribe_request: subscribe to orders parses", "[control][okx]") {
  // OkxRequest keeps op and channels; the expectation's id and instType are not read by it.
  const ExpectedRequest x("okx/subscribe_request");
  OkxRequest r;
  ParseError err;
  REQUIRE(parse_okx_request(own_fixture("okx/subscribe_request.json"), r, err));
  CHECK(r.op == x.text("op"));
  CHECK(r.channels == x.texts("channels"));
}

TEST_CASE("okx control: the docs' login request of the third-party samples", "[control][okx]") {
  const auto login = shared_fixture_or_skip("okx/login_request__okxdocs.json");
  if (!login) return;
  OkxRequest r;
  ParseError err;
  // The docs' login request has the same shape (its secret is not published, so only the fields).
  REQUIRE(parse_okx_request(*login, r, err));
  CHECK(r.api_key == "985d5b66-57ce-40fb-b714-afc0b9787083");
  CHECK(r.timestamp == "1538054050");
  CHECK(r.sign == "7L+zFQ+CEgGu5rzCj4+BdV2/uUHGqddA9pI6ztsRRPs=");
  CHECK_FALSE(verify_okx_login(r, "985d5b66-57ce-40fb-b714-afc0b9787083", "123456", "test-okx-secret"));
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
  CHECK(bybit_subscribe_request({"execution"}) == R"({"op":"subscribe","args":["execution"]})");
  REQUIRE(parse_bybit_request(bybit_ping_request(100001), r, err));
  CHECK(r.op == "ping");
  CHECK(r.req_id == "100001");
  CHECK_FALSE(parse_bybit_request(R"({"op":"auth","args":["k",1]})", r, err));
  CHECK(err.reason == ParseErrorReason::kBadValue);
  CHECK_FALSE(parse_bybit_request(R"({"op":"auth","args":["k",{},"s"]})", r, err));
  CHECK(err.reason == ParseErrorReason::kWrongType);
}

TEST_CASE("fixture bybit/auth_request: parses, and its signature checks out", "[control][bybit]") {
  const ExpectedRequest x("bybit/auth_request");
  BybitRequest r;
  ParseError err;
  REQUIRE(parse_bybit_request(own_fixture("bybit/auth_request.json"), r, err));
  CHECK(r.op == x.text("op"));
  CHECK(r.req_id == x.text("req_id"));
  CHECK(r.api_key == x.text("api_key"));
  CHECK(r.expires_ms == x.integer("expires_ms"));
  CHECK(r.signature == x.signed_with("signature"));
  const std::string secret = x.signed_with("api_secret");
  CHECK(bybit_auth_signature(secret, x.integer("expires_ms")) == x.signed_with("signature"));
  CHECK(verify_bybit_auth(r, x.text("api_key"), secret));
  CHECK_FALSE(verify_bybit_auth(r, "another-key", secret));
}

TEST_CASE("fixture bybit/subscribe_request: subscribe to execution and execution.fast parses", "[control][bybit]") {
  const ExpectedRequest x("bybit/subscribe_request");
  BybitRequest r;
  ParseError err;
  REQUIRE(parse_bybit_request(own_fixture("bybit/subscribe_request.json"), r, err));
  CHECK(r.op == x.text("op"));
  CHECK(r.req_id == x.text("req_id"));
  CHECK(r.topics == x.texts("topics"));
}

TEST_CASE("bybit control: the docs' subscribe request of the third-party samples", "[control][bybit]") {
  const auto subscribe = shared_fixture_or_skip("bybit/subscribe_request__bybit_docs.json");
  if (!subscribe) return;
  BybitRequest r;
  ParseError err;
  REQUIRE(parse_bybit_request(*subscribe, r, err));
  CHECK(r.topics == std::vector<std::string>{"execution"});
}

TEST_CASE("fixture binance/listen_key_response: the listenKey is read", "[control][binance]") {
  const ExpectedRequest x("binance/listen_key_response");
  std::string key;
  ParseError err;
  REQUIRE(parse_binance_listen_key_response(own_fixture("binance/listen_key_response.json"), key, err));
  CHECK(key == x.text("listen_key"));
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

TEST_CASE("fixture hyperliquid/subscribe_request_userFills: subscribe to a user's fills parses",
          "[control][hyperliquid]") {
  const ExpectedRequest x("hyperliquid/subscribe_request_userFills");
  HyperliquidRequest r;
  ParseError err;
  REQUIRE(parse_hyperliquid_request(own_fixture("hyperliquid/subscribe_request_userFills.json"), r, err));
  CHECK(r.method == x.text("method"));
  CHECK(r.type == x.text("type"));
  CHECK(r.user == x.text("user"));
}

TEST_CASE("fixture hyperliquid/subscribe_request_trades: subscribe to a coin's trades parses",
          "[control][hyperliquid]") {
  const ExpectedRequest x("hyperliquid/subscribe_request_trades");
  HyperliquidRequest r;
  ParseError err;
  REQUIRE(parse_hyperliquid_request(own_fixture("hyperliquid/subscribe_request_trades.json"), r, err));
  CHECK(r.method == x.text("method"));
  CHECK(r.type == x.text("type"));
  CHECK(r.coin == x.text("coin"));
}

TEST_CASE("hyperliquid control: the gitbook's subscriptions of the third-party samples", "[control][hyperliquid]") {
  const auto user_fills = shared_fixture_or_skip("hyperliquid/subscribe_request_userFills__gitbook.json");
  if (!user_fills) return;
  HyperliquidRequest r;
  ParseError err;
  REQUIRE(parse_hyperliquid_request(*user_fills, r, err));
  CHECK(r.method == "subscribe");
  CHECK(r.type == "userFills");
  CHECK(r.user == "<address>");
  REQUIRE(parse_hyperliquid_request(shared_fixture("hyperliquid/subscribe_request_trades__gitbook.json"), r, err));
  CHECK(r.type == "trades");
  CHECK(r.coin == "SOL");
}

}  // namespace
}  // namespace segmentd::testing
