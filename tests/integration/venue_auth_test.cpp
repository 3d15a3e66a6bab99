// The simulated venues check logins and REST signatures with their own code (tools/fillsim/
// venue_auth.h), and read expected trade ids from the frames they send (frame_trade_ids.h), so
// that the end-to-end venue tests hold the client against something other than itself (issue 23,
// item 4). The requests here are written out by hand, and their signatures were computed with
// the OpenSSL command line over the strings the venues' docs define (the same vectors as
// tests/protocol/venues/venue_signature_test.cpp, where each command is quoted).
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "core/fill.h"
#include "tools/fillsim/frame_trade_ids.h"
#include "tools/fillsim/venue_auth.h"
#include "tools/fillsim/venue_control_server.h"

using segmentd::Venue;
namespace auth = fillsim::venue_auth;

namespace {

fillsim::ServerAccount account(std::string key, std::string secret, std::string passphrase = {}) {
  fillsim::ServerAccount a;
  a.name = "acct";
  a.key = std::move(key);
  a.secret = std::move(secret);
  a.passphrase = std::move(passphrase);
  return a;
}

//! Whether the simulated venue accepts `message` as a login at `now_ms`.
bool login_accepted(Venue venue, const std::string& message, const fillsim::ServerAccount& a, std::int64_t now_ms) {
  fillsim::ControlState state;
  const auto r = fillsim::handle_client_message(venue, message, {a}, now_ms, state);
  CHECK(r.auth_ok != r.auth_rejected);
  return r.auth_ok && state.account == 0;
}

}  // namespace

TEST_CASE("venue auth: the simulator's HMAC is the documented one", "[fillsim][venue_auth]") {
  // Binance API docs, "SIGNED Endpoint Examples": the venue's own worked example.
  const std::string query =
      "symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1&recvWindow=5000&timestamp=1499827319559";
  const std::string secret = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j";
  CHECK(auth::hmac_hex(secret, query) == "c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71");
  CHECK(auth::binance_query_ok(secret,
                               query + "&signature=c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71"));
  CHECK_FALSE(auth::binance_query_ok(
      secret, query + "&signature=c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b72"));
  CHECK_FALSE(auth::binance_query_ok(secret, query));  // unsigned
  CHECK(auth::hmac_base64("22582BD0CFF14C41EDBF1AB98506286D", "1538054050GET/users/self/verify") ==
        "+LdIr8lkkvhr5hoA3g9TMC0+uQJ849ftAcocA/ouu4M=");
}

TEST_CASE("venue auth: deribit public/auth client_signature, written by hand", "[fillsim][venue_auth]") {
  const auto a = account("AMANDA", "AMANDASECRECT");
  const std::string good =
      R"({"jsonrpc":"2.0","id":9929,"method":"public/auth","params":{"grant_type":"client_signature",)"
      R"("client_id":"AMANDA","timestamp":1576074319000,)"
      R"("signature":"56590594f97921b09b18f166befe0d1319b198bbcdad7ca73382de2f88fe9aa1","nonce":"1iqt2wls","data":""}})";
  CHECK(login_accepted(Venue::kDeribit, good, a, 1576074320000));
  // The same signature does not cover another nonce, timestamp or data, nor another secret.
  CHECK_FALSE(login_accepted(Venue::kDeribit, std::string(good).replace(good.find("1iqt2wls"), 8, "1iqt2wlt"), a,
                             1576074320000));
  CHECK_FALSE(login_accepted(
      Venue::kDeribit, std::string(good).replace(good.find("\"data\":\"\""), 9, "\"data\":\"x\""), a, 1576074320000));
  CHECK_FALSE(login_accepted(Venue::kDeribit, good, account("AMANDA", "AMANDASECRECT2"), 1576074320000));
  CHECK_FALSE(login_accepted(Venue::kDeribit, good, a, 1576074319000 + 60'000));  // stale timestamp
  const std::string with_data =
      R"({"jsonrpc":"2.0","id":1,"method":"public/auth","params":{"grant_type":"client_signature",)"
      R"("client_id":"AMANDA","timestamp":1576074319000,)"
      R"("signature":"1aaad98e495429a93f535f0531543231bcc52c993995cd81720590c172316bc7","nonce":"1iqt2wls",)"
      R"("data":"some-data"}})";
  CHECK(login_accepted(Venue::kDeribit, with_data, a, 1576074320000));
}

TEST_CASE("venue auth: okx login, written by hand", "[fillsim][venue_auth]") {
  const auto a = account("985d5b66-57ce-40fb-b714-afc0b9787083", "22582BD0CFF14C41EDBF1AB98506286D", "123456");
  const std::string good =
      R"({"op":"login","args":[{"apiKey":"985d5b66-57ce-40fb-b714-afc0b9787083","passphrase":"123456",)"
      R"("timestamp":"1538054050","sign":"+LdIr8lkkvhr5hoA3g9TMC0+uQJ849ftAcocA/ouu4M="}]})";
  CHECK(login_accepted(Venue::kOkx, good, a, 1538054051000));
  CHECK_FALSE(login_accepted(Venue::kOkx, std::string(good).replace(good.find("123456"), 6, "654321"), a,
                             1538054051000));  // wrong passphrase
  CHECK_FALSE(login_accepted(Venue::kOkx, std::string(good).replace(good.find("\"1538054050\""), 12, "\"1538054051\""),
                             a, 1538054051000));  // the sign is over another timestamp
  // The docs' own login request: signed with a secret the docs do not publish, so not ours.
  CHECK_FALSE(
      login_accepted(Venue::kOkx,
                     R"({"op":"login","args":[{"apiKey":"985d5b66-57ce-40fb-b714-afc0b9787083","passphrase":"123456",)"
                     R"("timestamp":"1538054050","sign":"7L+zFQ+CEgGu5rzCj4+BdV2/uUHGqddA9pI6ztsRRPs="}]})",
                     a, 1538054051000));
}

TEST_CASE("venue auth: bybit auth, written by hand", "[fillsim][venue_auth]") {
  const auto a = account("api-key-1", "test-bybit-secret");
  const std::string good =
      R"({"op":"auth","args":["api-key-1",1662350400000,"fd59fbfdf261b9c029ffe221bf35dd03e63780cce6dd523c514117bc06d0e55f"]})";
  CHECK(login_accepted(Venue::kBybit, good, a, 1662350390000));
  CHECK_FALSE(login_accepted(Venue::kBybit, good, a, 1662350400001));  // expired
  CHECK_FALSE(login_accepted(Venue::kBybit, std::string(good).replace(good.find("1662350400000"), 13, "1662350400001"),
                             a, 1662350390000));
  CHECK_FALSE(login_accepted(Venue::kBybit, good, account("api-key-2", "test-bybit-secret"), 1662350390000));
}

TEST_CASE("venue auth: the REST signatures of deribit, okx and bybit, written by hand", "[fillsim][venue_auth]") {
  auth::DeribitHttpAuthHeader h;
  REQUIRE(auth::parse_deribit_authorization(
      "deri-hmac-sha256 id=AMANDA,ts=1576074319000,"
      "sig=9bfbc51a2bc372d72cc396cf1a213dc78d42eb74cb7dc272351833ad0de276ab,nonce=1iqt2wls",
      h));
  CHECK(h.id == "AMANDA");
  CHECK(h.ts == "1576074319000");
  CHECK(h.nonce == "1iqt2wls");
  const std::string uri = "/api/v2/private/get_account_summary?currency=BTC";
  CHECK(auth::deribit_http_ok("AMANDASECRECT", h, "GET", uri, ""));
  CHECK_FALSE(auth::deribit_http_ok("AMANDASECRECT", h, "POST", uri, ""));
  CHECK_FALSE(auth::deribit_http_ok("AMANDASECRECT", h, "GET", uri + "&x=1", ""));
  CHECK_FALSE(auth::deribit_http_ok("AMANDASECRECT", h, "GET", uri, "{}"));
  CHECK_FALSE(auth::parse_deribit_authorization("Bearer abc", h));

  const std::string okx_secret = "22582BD0CFF14C41EDBF1AB98506286D";
  CHECK(auth::okx_rest_ok(okx_secret, "2020-12-08T09:08:57.715Z", "GET", "/api/v5/account/balance?ccy=BTC", "",
                          "HiZhvSfMtWJA3uUIVXV3a/bSXNPCWvYFXoGCVS8V4zY="));
  CHECK_FALSE(auth::okx_rest_ok(okx_secret, "2020-12-08T09:08:57.716Z", "GET", "/api/v5/account/balance?ccy=BTC", "",
                                "HiZhvSfMtWJA3uUIVXV3a/bSXNPCWvYFXoGCVS8V4zY="));
  CHECK(auth::okx_rest_ok(okx_secret, "2020-12-08T09:08:57.715Z", "GET",
                          "/api/v5/trade/fills?begin=1597026383000&limit=100", "",
                          "Zs4PoK+p/8nYr+RZEKV7y1qHDmbuSk8l8Qnb8MvIxaY="));

  const std::string query = "category=linear&startTime=1000&endTime=2000&limit=100&cursor=page%3A2";
  CHECK(auth::bybit_rest_ok("test-bybit-secret", "1672211918471", "KEY", "5000", query,
                            "9c30dfe70ce6315874b816bef356c01b5a2bc47a4c38705a3828b99b0c6718e2"));
  CHECK_FALSE(auth::bybit_rest_ok("test-bybit-secret", "1672211918471", "KEY", "10000", query,
                                  "9c30dfe70ce6315874b816bef356c01b5a2bc47a4c38705a3828b99b0c6718e2"));
  CHECK(
      auth::binance_query_ok("NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j",
                             "symbol=BTCUSDT&startTime=1569514978000&limit=1000&recvWindow=5000&timestamp=1569514979000"
                             "&signature=1593fb375dcd33f4ad0011594bd1e58b65bf1b49df4912da7c4daaf12f875c83"));
}

TEST_CASE("frame trade ids: each venue's raw trade id fields, keyed and hashed", "[fillsim][trade_ids]") {
  std::vector<std::string> keys;
  REQUIRE(fillsim::frame_dedup_keys(
      Venue::kDeribit,
      R"({"jsonrpc":"2.0","method":"subscription","params":{"channel":"user.trades.any.any.raw",)"
      R"("data":[{"trade_id":"48079254","instrument_name":"BTC-PERPETUAL"},{"trade_id":"48079255"}]}})",
      keys));
  CHECK(keys == std::vector<std::string>{"deribit:48079254", "deribit:48079255"});
  REQUIRE(fillsim::frame_dedup_keys(
      Venue::kOkx,
      R"({"arg":{"channel":"orders","instType":"ANY"},"data":[{"instId":"BTC-USDT-SWAP","tradeId":"744876980"}]})",
      keys));
  CHECK(keys == std::vector<std::string>{"okx:BTC-USDT-SWAP:744876980"});
  REQUIRE(fillsim::frame_dedup_keys(
      Venue::kBinance,
      R"({"e":"ORDER_TRADE_UPDATE","E":1,"T":1,"o":{"s":"BTCUSDT","x":"TRADE","t":698759,"i":25851813}})", keys));
  CHECK(keys == std::vector<std::string>{"binance:BTCUSDT:698759"});
  REQUIRE(fillsim::frame_dedup_keys(
      Venue::kBybit,
      R"({"topic":"execution","data":[{"symbol":"ETHUSDT","execId":"e0cbe81d-0f18-5866-9415-cf319b5dab3b"}]})", keys));
  CHECK(keys == std::vector<std::string>{"bybit:e0cbe81d-0f18-5866-9415-cf319b5dab3b"});
  REQUIRE(fillsim::frame_dedup_keys(
      Venue::kHyperliquid,
      R"({"channel":"userFills","data":{"isSnapshot":true,"user":"0xabc","fills":[{"coin":"BTC","tid":567547935839686}]}})",
      keys));
  CHECK(keys == std::vector<std::string>{"hyperliquid:567547935839686:0xabc"});
  CHECK_FALSE(fillsim::frame_dedup_keys(Venue::kOkx, R"({"event":"login","code":"0"})", keys));
  CHECK_FALSE(fillsim::frame_dedup_keys(Venue::kBybit, R"({"topic":"execution","data":[{"execId":5.5}]})", keys));
  // FNV-1a 64 of "deribit:48079254", recomputed here from the published offset basis and prime.
  std::uint64_t h = 14695981039346656037ULL;
  for (unsigned char c : std::string("deribit:48079254")) h = (h ^ c) * 1099511628211ULL;
  CHECK(fillsim::dedup_key_hash("deribit:48079254") == h);
}
