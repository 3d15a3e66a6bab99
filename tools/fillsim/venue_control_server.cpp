#include "tools/fillsim/venue_control_server.h"

#include <cstdlib>

#include "core/str_cat.h"
#include "protocol/json_writer.h"
#include "service/credentials.h"
#include "service/venue_signing.h"
#include "simdjson.h"

namespace fillsim {

using segmentd::str_cat;
using segmentd::Venue;
namespace dom = simdjson::dom;

namespace {

constexpr std::int64_t kAllowedSkewMs = 30'000;

int find_key(const std::vector<ServerAccount>& accounts, std::string_view key) {
  for (std::size_t i = 0; i < accounts.size(); ++i)
    if (accounts[i].key == key) return static_cast<int>(i);
  return -1;
}

std::string rpc_id(dom::element doc) {
  std::int64_t id = 0;
  if (doc["id"].get(id)) return "null";
  return str_cat(id);
}

ControlResult deribit(dom::element doc, const std::vector<ServerAccount>& accounts, std::int64_t now_ms, ControlState& s) {
  ControlResult r;
  std::string_view method;
  const std::string id = rpc_id(doc);
  if (doc["method"].get(method)) return r;
  auto error = [&](int code, std::string_view message) {
    r.replies.push_back(str_cat(R"({"jsonrpc":"2.0","id":)", id, R"(,"error":{"message":")", message, R"(","code":)", code, "}}"));
  };
  dom::element params;
  if (doc["params"].get(params)) params = doc;
  if (method == "public/auth") {
    std::string_view client_id, signature, nonce, data;
    std::int64_t ts = 0;
    (void)params["client_id"].get(client_id);
    (void)params["signature"].get(signature);
    (void)params["nonce"].get(nonce);
    (void)params["data"].get(data);
    (void)params["timestamp"].get(ts);
    const int a = find_key(accounts, client_id);
    const bool ok = a >= 0 && std::llabs(now_ms - ts) < kAllowedSkewMs &&
                    segmentd::constant_time_equal(signature, segmentd::deribit_signature(accounts[a].secret, ts, nonce, data));
    if (!ok) {
      r.auth_rejected = true;
      error(13004, "invalid_credentials");
      return r;
    }
    s.account = a;
    r.auth_ok = true;
    r.replies.push_back(str_cat(R"({"jsonrpc":"2.0","id":)", id,
                                R"(,"result":{"access_token":"sim-token","expires_in":31536000,"refresh_token":"sim-refresh","scope":"session:sim","token_type":"bearer"}})"));
  } else if (method == "public/set_heartbeat") {
    std::int64_t interval = 0;
    if (params["interval"].get(interval) || interval < 1) return error(11029, "invalid_arguments"), r;
    s.heartbeat_interval_ms = interval * 1000;
    s.test_answered = true;
    r.replies.push_back(str_cat(R"({"jsonrpc":"2.0","id":)", id, R"(,"result":"ok"})"));
  } else if (method == "private/subscribe") {
    if (s.account < 0) return error(13009, "unauthorized"), r;
    r.newly_subscribed = !s.subscribed;
    s.subscribed = true;
    r.replies.push_back(str_cat(R"({"jsonrpc":"2.0","id":)", id, R"(,"result":["user.trades.any.any.raw"]})"));
  } else if (method == "public/test") {
    s.test_answered = true;
    r.ping = true;
    r.replies.push_back(str_cat(R"({"jsonrpc":"2.0","id":)", id, R"(,"result":{"version":"1.2.26"}})"));
  } else {
    error(-32601, "Method not found");
  }
  return r;
}

ControlResult okx(std::string_view text, dom::element doc, const std::vector<ServerAccount>& accounts, std::int64_t now_ms,
                  ControlState& s) {
  ControlResult r;
  if (text == "ping") {
    r.ping = true;
    r.replies.push_back("pong");
    return r;
  }
  std::string_view op;
  if (doc["op"].get(op)) return r;
  const std::string conn = str_cat("sim", s.conn);
  if (op == "login") {
    dom::element arg;
    std::string_view key, passphrase, ts, sign;
    if (!doc["args"].at(0).get(arg)) {
      (void)arg["apiKey"].get(key);
      (void)arg["passphrase"].get(passphrase);
      (void)arg["timestamp"].get(ts);
      (void)arg["sign"].get(sign);
    }
    const int a = find_key(accounts, key);
    const std::int64_t ts_s = std::atoll(std::string(ts).c_str());
    const bool ok = a >= 0 && std::llabs(now_ms / 1000 - ts_s) < kAllowedSkewMs / 1000 &&
                    segmentd::constant_time_equal(passphrase, accounts[a].passphrase) &&
                    segmentd::constant_time_equal(sign, segmentd::okx_signature(accounts[a].secret, ts));
    if (!ok) {
      r.auth_rejected = true;
      r.replies.push_back(str_cat(R"({"event":"error","code":"60009","msg":"Login failed.","connId":")", conn, "\"}"));
      return r;
    }
    s.account = a;
    r.auth_ok = true;
    r.replies.push_back(str_cat(R"({"event":"login","code":"0","msg":"","connId":")", conn, "\"}"));
  } else if (op == "subscribe") {
    if (s.account < 0) {
      r.replies.push_back(str_cat(R"({"event":"error","code":"60011","msg":"Please log in","connId":")", conn, "\"}"));
      return r;
    }
    r.newly_subscribed = !s.subscribed;
    s.subscribed = true;
    r.replies.push_back(str_cat(R"({"event":"subscribe","arg":{"channel":"orders","instType":"ANY"},"connId":")", conn, "\"}"));
  }
  return r;
}

ControlResult bybit(dom::element doc, const std::vector<ServerAccount>& accounts, std::int64_t now_ms, ControlState& s) {
  ControlResult r;
  std::string_view op, req_id;
  if (doc["op"].get(op)) return r;
  (void)doc["req_id"].get(req_id);
  const std::string conn = str_cat("sim-", s.conn);
  std::string req = req_id.empty() ? std::string() : str_cat(R"("req_id":")", req_id, "\",");
  if (op == "auth") {
    std::string_view key, sign;
    std::int64_t expires = 0;
    dom::array args;
    if (!doc["args"].get(args)) {
      (void)args.at(0).get(key);
      (void)args.at(1).get(expires);
      (void)args.at(2).get(sign);
    }
    const int a = find_key(accounts, key);
    const bool ok = a >= 0 && expires > now_ms &&
                    segmentd::constant_time_equal(sign, segmentd::bybit_signature(accounts[a].secret, expires));
    if (!ok) {
      r.auth_rejected = true;
      r.replies.push_back(str_cat("{", req, R"("success":false,"ret_msg":"Invalid apikey or sign","op":"auth","conn_id":")", conn, "\"}"));
      return r;
    }
    s.account = a;
    r.auth_ok = true;
    r.replies.push_back(str_cat("{", req, R"("success":true,"ret_msg":"","op":"auth","conn_id":")", conn, "\"}"));
  } else if (op == "subscribe") {
    const bool ok = s.account >= 0;
    r.newly_subscribed = ok && !s.subscribed;
    s.subscribed = s.subscribed || ok;
    r.replies.push_back(str_cat("{", req, R"("success":)", ok ? "true" : "false", R"(,"ret_msg":")",
                                ok ? "" : "Request not authorized", R"(","op":"subscribe","conn_id":")", conn, "\"}"));
  } else if (op == "ping") {
    r.ping = true;
    r.replies.push_back(str_cat("{", req, R"("op":"pong","args":[")", now_ms, R"("],"conn_id":")", conn, "\"}"));
  }
  return r;
}

ControlResult hyperliquid(dom::element doc, const std::vector<ServerAccount>& accounts, ControlState& s) {
  ControlResult r;
  std::string_view method;
  if (doc["method"].get(method)) return r;
  if (method == "ping") {
    r.ping = true;
    r.replies.push_back(R"({"channel":"pong"})");
    return r;
  }
  if (method != "subscribe") return r;
  std::string_view type, user, coin;
  dom::element sub;
  if (doc["subscription"].get(sub) || sub["type"].get(type)) {
    r.replies.push_back(R"({"channel":"error","data":"Invalid subscription"})");
    return r;
  }
  std::string echo = R"({"type":)";
  segmentd::json::append_string(echo, type);
  if (!sub["user"].get(user)) {
    echo += R"(,"user":)";
    segmentd::json::append_string(echo, user);
  }
  if (!sub["coin"].get(coin)) {
    echo += R"(,"coin":)";
    segmentd::json::append_string(echo, coin);
  }
  echo += "}";
  r.replies.push_back(str_cat(R"({"channel":"subscriptionResponse","data":{"method":"subscribe","subscription":)", echo, "}}"));
  if (type == "userFills") {
    for (std::size_t i = 0; i < accounts.size(); ++i)
      if (accounts[i].name == user) s.account = static_cast<int>(i);
    r.newly_subscribed = s.account >= 0 && !s.subscribed;
    s.subscribed = s.subscribed || s.account >= 0;
  }
  return r;
}

}  // namespace

ControlResult handle_client_message(Venue venue, std::string_view text, const std::vector<ServerAccount>& accounts,
                                    std::int64_t now_ms, ControlState& state) {
  dom::parser parser;
  dom::element doc;
  const bool json_ok = !parser.parse(text.data(), text.size()).get(doc);
  if (venue == Venue::kOkx && text == "ping") return okx(text, doc, accounts, now_ms, state);
  if (!json_ok) return {};
  switch (venue) {
    case Venue::kDeribit: return deribit(doc, accounts, now_ms, state);
    case Venue::kOkx: return okx(text, doc, accounts, now_ms, state);
    case Venue::kBybit: return bybit(doc, accounts, now_ms, state);
    case Venue::kHyperliquid: return hyperliquid(doc, accounts, state);
    default: return {};
  }
}

std::string deribit_test_request() {
  return R"({"jsonrpc":"2.0","method":"heartbeat","params":{"type":"test_request"}})";
}

}  // namespace fillsim
