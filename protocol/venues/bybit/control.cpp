#include "protocol/venues/bybit/control.h"

#include "core/str_cat.h"
#include "protocol/hmac.h"
#include "protocol/json_writer.h"
#include "protocol/venues/control_json.h"

namespace segmentd::control {

std::string bybit_auth_signature(std::string_view secret, std::int64_t expires_ms) {
  return hmac_sha256_hex(secret, str_cat("GET/realtime", expires_ms));
}

std::string bybit_auth_request(std::string_view api_key, std::string_view secret, std::int64_t expires_ms) {
  std::string out = R"({"op":"auth","args":[)";
  json::append_string(out, api_key);
  out.push_back(',');
  json::append_int(out, expires_ms);
  out.push_back(',');
  json::append_string(out, bybit_auth_signature(secret, expires_ms));
  out += "]}";
  return out;
}

std::string bybit_subscribe_request(const std::vector<std::string>& topics) {
  std::string out = R"({"op":"subscribe","args":[)";
  for (std::size_t i = 0; i < topics.size(); ++i) {
    if (i > 0) out.push_back(',');
    json::append_string(out, topics[i]);
  }
  out += "]}";
  return out;
}

std::string bybit_ping_request(std::int64_t req_id) {
  std::string out = R"({"req_id":")";
  json::append_int(out, req_id);
  out += R"(","op":"ping"})";
  return out;
}

bool parse_bybit_request(std::string_view message, BybitRequest& out, ParseError& err) {
  out = BybitRequest{};
  control_json::Document doc;
  if (!doc.parse(message, err)) return false;
  const auto root = doc.root();
  if (!control_json::get_string(root, "op", true, out.op, err)) return false;
  if (!control_json::get_string(root, "req_id", false, out.req_id, err)) return false;
  simdjson::dom::array args;
  bool present = false;
  if (!control_json::get_array(root, "args", out.op == "auth" || out.op == "subscribe", args, present, err))
    return false;
  if (!present) return true;
  if (out.op == "auth") {
    if (args.size() != 3) {
      err = {ParseErrorReason::kBadValue, "auth 'args' must be [api_key, expires, signature]"};
      return false;
    }
    std::string_view key, signature;
    // expires: a number in the docs; some clients send it as text.
    const auto expires = args.at(1);
    std::int64_t ms = 0;
    std::string_view ms_text;
    bool ok = !args.at(0).get_string().get(key) && !args.at(2).get_string().get(signature);
    if (ok && expires.get_int64().get(ms)) ok = !expires.get_string().get(ms_text) && !ms_text.empty();
    if (!ok) {
      err = {ParseErrorReason::kWrongType, "auth 'args' must be [string, integer, string]"};
      return false;
    }
    if (!ms_text.empty()) {
      ms = 0;
      for (char c : ms_text) {
        if (c < '0' || c > '9' || ms > 1'000'000'000'000'000) {
          err = {ParseErrorReason::kBadValue, "auth expires is not an integer"};
          return false;
        }
        ms = ms * 10 + (c - '0');
      }
    }
    out.api_key.assign(key.data(), key.size());
    out.expires_ms = ms;
    out.signature.assign(signature.data(), signature.size());
    return true;
  }
  if (out.op == "subscribe" || out.op == "unsubscribe") {
    for (simdjson::dom::element el : args) {
      std::string_view topic;
      if (el.get_string().get(topic)) {
        err = {ParseErrorReason::kWrongType, "subscribe 'args' must hold strings"};
        return false;
      }
      out.topics.emplace_back(topic);
    }
  }
  return true;
}

bool verify_bybit_auth(const BybitRequest& r, std::string_view api_key, std::string_view secret) {
  if (r.op != "auth") return false;
  const bool key_ok = constant_time_equal(r.api_key, api_key);
  const bool sign_ok = constant_time_equal(r.signature, bybit_auth_signature(secret, r.expires_ms));
  return key_ok && sign_ok;
}

}  // namespace segmentd::control
