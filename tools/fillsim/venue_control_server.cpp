#include "tools/fillsim/venue_control_server.h"

#include <algorithm>
#include <charconv>
#include <cstdlib>

#include "core/str_cat.h"
#include "protocol/json_writer.h"
#include "protocol/venues/binance/control.h"
#include "protocol/venues/bybit/control.h"
#include "protocol/venues/deribit/control.h"
#include "protocol/venues/hyperliquid/control.h"
#include "protocol/venues/okx/control.h"
#include "tools/fillsim/venue_auth.h"

namespace fillsim {

using segmentd::str_cat;
using segmentd::Venue;
namespace control = segmentd::control;

namespace {

constexpr std::int64_t kAllowedSkewMs = 30'000;

int find_key(const std::vector<ServerAccount>& accounts, std::string_view key) {
  for (std::size_t i = 0; i < accounts.size(); ++i)
    if (accounts[i].key == key) return static_cast<int>(i);
  return -1;
}

std::string rpc_id(std::int64_t id) { return id < 0 ? std::string("null") : str_cat(id); }

ControlResult deribit(std::string_view text, const std::vector<ServerAccount>& accounts, std::int64_t now_ms,
                      ControlState& s) {
  ControlResult r;
  control::DeribitRequest req;
  segmentd::ParseError err;
  const bool parsed = control::parse_deribit_request(text, req, err);
  if (!parsed && req.method.empty()) return r;  // not a request at all
  const std::string id = rpc_id(req.id);
  auto error = [&](int code, std::string_view message) {
    r.replies.push_back(
        str_cat(R"({"jsonrpc":"2.0","id":)", id, R"(,"error":{"message":")", message, R"(","code":)", code, "}}"));
  };
  if (!parsed) {
    if (req.method == "public/auth") r.auth_rejected = true;
    error(11029, "invalid_arguments");
    return r;
  }
  if (req.method == "public/auth") {
    const int a = find_key(accounts, req.client_id);
    const bool ok = a >= 0 && std::llabs(now_ms - req.timestamp_ms) < kAllowedSkewMs &&
                    req.grant_type == "client_signature" &&
                    venue_auth::deribit_ws_ok(accounts[a].secret, req.timestamp_ms, req.nonce, req.data, req.signature);
    if (!ok) {
      r.auth_rejected = true;
      error(13004, "invalid_credentials");
      return r;
    }
    s.account = a;
    r.auth_ok = true;
    r.replies.push_back(str_cat(
        R"({"jsonrpc":"2.0","id":)", id,
        R"(,"result":{"access_token":"sim-token","expires_in":31536000,"refresh_token":"sim-refresh","scope":"session:sim","token_type":"bearer"}})"));
  } else if (req.method == "public/set_heartbeat") {
    s.heartbeat_interval_ms = std::int64_t{req.interval_seconds} * 1000;
    s.test_answered = true;
    r.replies.push_back(str_cat(R"({"jsonrpc":"2.0","id":)", id, R"(,"result":"ok"})"));
  } else if (req.method == "private/subscribe") {
    if (s.account < 0) return error(13009, "unauthorized"), r;
    r.newly_subscribed = !s.subscribed;
    s.subscribed = true;
    std::string channels;
    for (const std::string& c : req.channels) {
      if (!channels.empty()) channels.push_back(',');
      segmentd::json::append_string(channels, c);
      const bool market =
          c.starts_with("trades.") || c.starts_with("markprice.options.") || c.starts_with("deribit_price_index.");
      if (market && std::find(s.market_data.begin(), s.market_data.end(), c) == s.market_data.end())
        s.market_data.push_back(c);
    }
    for (const std::string& c : req.channels)
      if (c.starts_with("user.changes.")) s.positions = true;  // no snapshot: private/get_positions has it
    r.replies.push_back(str_cat(R"({"jsonrpc":"2.0","id":)", id, R"(,"result":[)", channels, "]}"));
  } else if (req.method == "private/get_positions") {
    if (s.account < 0) return error(13009, "unauthorized"), r;
    r.positions_request_id = req.id;  // the server answers with the account's positions
  } else if (req.method == "public/test") {
    s.test_answered = true;
    r.ping = true;
    r.replies.push_back(str_cat(R"({"jsonrpc":"2.0","id":)", id, R"(,"result":{"version":"1.2.26"}})"));
  } else {
    error(-32601, "Method not found");
  }
  return r;
}

ControlResult okx(std::string_view text, const std::vector<ServerAccount>& accounts, std::int64_t now_ms,
                  ControlState& s) {
  ControlResult r;
  control::OkxRequest req;
  segmentd::ParseError err;
  const bool parsed = control::parse_okx_request(text, req, err);
  const std::string conn = str_cat("sim", s.conn);
  if (parsed && req.op == "ping") {
    r.ping = true;
    r.replies.push_back("pong");
    return r;
  }
  if (!parsed && req.op.empty()) return r;
  if (req.op == "login") {
    const int a = parsed ? find_key(accounts, req.api_key) : -1;
    std::int64_t ts_s = 0;
    const bool ts_ok =
        !req.timestamp.empty() &&
        std::from_chars(req.timestamp.data(), req.timestamp.data() + req.timestamp.size(), ts_s).ec == std::errc{};
    const bool ok = a >= 0 && ts_ok && std::llabs(now_ms / 1000 - ts_s) < kAllowedSkewMs / 1000 &&
                    req.passphrase == accounts[a].passphrase &&
                    venue_auth::okx_login_ok(accounts[a].secret, req.timestamp, req.sign);
    if (!ok) {
      r.auth_rejected = true;
      r.replies.push_back(str_cat(R"({"event":"error","code":"60009","msg":"Login failed.","connId":")", conn, "\"}"));
      return r;
    }
    s.account = a;
    r.auth_ok = true;
    r.replies.push_back(str_cat(R"({"event":"login","code":"0","msg":"","connId":")", conn, "\"}"));
  } else if (req.op == "subscribe" && !req.channels.empty() && req.channels[0] == "positions") {
    if (s.account < 0) {
      r.replies.push_back(str_cat(R"({"event":"error","code":"60011","msg":"Please log in","connId":")", conn, "\"}"));
      return r;
    }
    r.positions_subscribed = !s.positions;
    s.positions = true;
    r.replies.push_back(
        str_cat(R"({"event":"subscribe","arg":{"channel":"positions","instType":"ANY"},"connId":")", conn, "\"}"));
  } else if (req.op == "subscribe" && !req.channels.empty() && req.channels[0] != "orders") {
    // Public channels (the public websocket's): no login; an acknowledgement per argument.
    for (std::size_t i = 0; i < req.channels.size(); ++i) {
      std::string sub = str_cat(req.channels[i], ":", req.inst_ids[i]);
      control::OkxMarketChannel m;
      if (!control::parse_okx_market_channel(sub, m)) {
        r.replies.push_back(str_cat(R"({"event":"error","code":"60018","msg":"Wrong URL or channel:)", req.channels[i],
                                    R"( doesn't exist.","connId":")", conn, "\"}"));
        continue;
      }
      std::string ack = str_cat(R"({"event":"subscribe","arg":{"channel":)");
      segmentd::json::append_string(ack, req.channels[i]);
      ack += R"(,"instId":)";
      segmentd::json::append_string(ack, req.inst_ids[i]);
      r.replies.push_back(str_cat(ack, R"(},"connId":")", conn, "\"}"));
      if (std::find(s.market_data.begin(), s.market_data.end(), sub) == s.market_data.end())
        s.market_data.push_back(std::move(sub));
    }
  } else if (req.op == "subscribe") {
    if (s.account < 0) {
      r.replies.push_back(str_cat(R"({"event":"error","code":"60011","msg":"Please log in","connId":")", conn, "\"}"));
      return r;
    }
    r.newly_subscribed = !s.subscribed;
    s.subscribed = true;
    r.replies.push_back(
        str_cat(R"({"event":"subscribe","arg":{"channel":"orders","instType":"ANY"},"connId":")", conn, "\"}"));
  }
  return r;
}

ControlResult bybit(std::string_view text, const std::vector<ServerAccount>& accounts, std::int64_t now_ms,
                    ControlState& s) {
  ControlResult r;
  control::BybitRequest reqm;
  segmentd::ParseError err;
  const bool parsed = control::parse_bybit_request(text, reqm, err);
  if (!parsed && reqm.op.empty()) return r;
  const std::string conn = str_cat("sim-", s.conn);
  std::string req;
  if (!reqm.req_id.empty()) {
    req = R"("req_id":)";
    segmentd::json::append_string(req, reqm.req_id);
    req += ",";
  }
  if (reqm.op == "auth") {
    const int a = parsed ? find_key(accounts, reqm.api_key) : -1;
    const bool ok = a >= 0 && reqm.expires_ms > now_ms &&
                    venue_auth::bybit_ws_ok(accounts[a].secret, reqm.expires_ms, reqm.signature);
    if (!ok) {
      r.auth_rejected = true;
      r.replies.push_back(str_cat(
          "{", req, R"("success":false,"ret_msg":"Invalid apikey or sign","op":"auth","conn_id":")", conn, "\"}"));
      return r;
    }
    s.account = a;
    r.auth_ok = true;
    r.replies.push_back(str_cat("{", req, R"("success":true,"ret_msg":"","op":"auth","conn_id":")", conn, "\"}"));
  } else if (reqm.op == "subscribe" && !reqm.topics.empty() &&
             std::all_of(reqm.topics.begin(), reqm.topics.end(), [](const std::string& t) {
               return t.starts_with("publicTrade.") || t.starts_with("tickers.");
             })) {
    // Public topics (the public websocket's): no auth.
    for (const std::string& t : reqm.topics)
      if (std::find(s.market_data.begin(), s.market_data.end(), t) == s.market_data.end()) s.market_data.push_back(t);
    r.replies.push_back(str_cat("{", req, R"("success":true,"ret_msg":"","op":"subscribe","conn_id":")", conn, "\"}"));
  } else if (reqm.op == "subscribe") {
    const bool ok = parsed && s.account >= 0;
    r.newly_subscribed = ok && !s.subscribed;
    s.subscribed = s.subscribed || ok;
    // The position topic: changes only (no snapshot; /v5/position/list has it).
    if (ok && std::find(reqm.topics.begin(), reqm.topics.end(), "position") != reqm.topics.end()) s.positions = true;
    r.replies.push_back(str_cat("{", req, R"("success":)", ok ? "true" : "false", R"(,"ret_msg":")",
                                ok ? "" : "Request not authorized", R"(","op":"subscribe","conn_id":")", conn, "\"}"));
  } else if (reqm.op == "ping" && s.account < 0 && !s.market_data.empty()) {
    r.ping = true;  // the public websocket's answer
    r.replies.push_back(str_cat("{", req, R"("success":true,"ret_msg":"pong","conn_id":")", conn, R"(","op":"ping"})"));
  } else if (reqm.op == "ping") {
    r.ping = true;
    r.replies.push_back(str_cat("{", req, R"("op":"pong","args":[")", now_ms, R"("],"conn_id":")", conn, "\"}"));
  }
  return r;
}

ControlResult hyperliquid(std::string_view text, const std::vector<ServerAccount>& accounts, ControlState& s) {
  ControlResult r;
  control::HyperliquidRequest req;
  segmentd::ParseError err;
  const bool parsed = control::parse_hyperliquid_request(text, req, err);
  if (parsed && req.method == "ping") {
    r.ping = true;
    r.replies.push_back(R"({"channel":"pong"})");
    return r;
  }
  if (req.method != "subscribe") return r;
  if (!parsed) {
    r.replies.push_back(R"({"channel":"error","data":"Invalid subscription"})");
    return r;
  }
  std::string echo = R"({"type":)";
  segmentd::json::append_string(echo, req.type);
  if (!req.user.empty()) {
    echo += R"(,"user":)";
    segmentd::json::append_string(echo, req.user);
  }
  if (!req.coin.empty()) {
    echo += R"(,"coin":)";
    segmentd::json::append_string(echo, req.coin);
  }
  echo += "}";
  r.replies.push_back(
      str_cat(R"({"channel":"subscriptionResponse","data":{"method":"subscribe","subscription":)", echo, "}}"));
  if (req.type == "trades" || req.type == "activeAssetCtx") {
    std::string sub = str_cat(req.type, ":", req.coin);
    if (!req.coin.empty() && std::find(s.market_data.begin(), s.market_data.end(), sub) == s.market_data.end())
      s.market_data.push_back(std::move(sub));
  }
  if (req.type == "clearinghouseState") {
    int account = -1;
    for (std::size_t i = 0; i < accounts.size(); ++i)
      if (accounts[i].name == req.user) account = static_cast<int>(i);
    if (account >= 0 && (s.account < 0 || s.account == account)) {
      s.account = account;
      r.positions_subscribed = !s.positions;
      s.positions = true;
    }
  }
  if (req.type == "userFills") {
    for (std::size_t i = 0; i < accounts.size(); ++i)
      if (accounts[i].name == req.user) s.account = static_cast<int>(i);
    r.newly_subscribed = s.account >= 0 && !s.subscribed;
    s.subscribed = s.subscribed || s.account >= 0;
  }
  return r;
}

//! The raw market streams' SUBSCRIBE (the user-data stream takes no message).
ControlResult binance(std::string_view text, ControlState& s) {
  ControlResult r;
  std::vector<std::string> streams;
  std::int64_t id = 0;
  segmentd::ParseError err;
  if (!control::parse_binance_subscribe(text, streams, id, err)) {
    r.replies.push_back(str_cat(R"({"error":{"code":2,"msg":"Invalid request"},"id":)", id, "}"));
    return r;
  }
  for (const std::string& stream : streams) {
    if (!control::binance_market_stream_ok(stream)) {
      r.replies.push_back(str_cat(R"({"error":{"code":2,"msg":"Invalid request: unknown stream"},"id":)", id, "}"));
      return r;
    }
  }
  for (std::string& stream : streams)
    if (std::find(s.market_data.begin(), s.market_data.end(), stream) == s.market_data.end())
      s.market_data.push_back(std::move(stream));
  r.replies.push_back(str_cat(R"({"result":null,"id":)", id, "}"));
  return r;
}

}  // namespace

ControlResult handle_client_message(Venue venue, std::string_view text, const std::vector<ServerAccount>& accounts,
                                    std::int64_t now_ms, ControlState& state) {
  switch (venue) {
    case Venue::kDeribit: return deribit(text, accounts, now_ms, state);
    case Venue::kOkx: return okx(text, accounts, now_ms, state);
    case Venue::kBybit: return bybit(text, accounts, now_ms, state);
    case Venue::kHyperliquid: return hyperliquid(text, accounts, state);
    case Venue::kBinance: return binance(text, state);
    default: return {};
  }
}

std::string deribit_test_request() {
  return R"({"jsonrpc":"2.0","method":"heartbeat","params":{"type":"test_request"}})";
}

}  // namespace fillsim
