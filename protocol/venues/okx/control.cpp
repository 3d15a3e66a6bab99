#include "protocol/venues/okx/control.h"

#include "core/str_cat.h"
#include "protocol/hmac.h"
#include "protocol/json_writer.h"
#include "protocol/venues/control_json.h"

namespace segmentd::control {

std::string okx_login_signature(std::string_view secret, std::string_view timestamp_s) {
  return hmac_sha256_base64(secret, str_cat(timestamp_s, "GET", "/users/self/verify"));
}

std::string okx_login_request(std::string_view api_key, std::string_view passphrase, std::string_view secret,
                              std::string_view timestamp_s) {
  std::string out = R"({"op":"login","args":[{"apiKey":)";
  json::append_string(out, api_key);
  out += R"(,"passphrase":)";
  json::append_string(out, passphrase);
  out += R"(,"timestamp":)";
  json::append_string(out, timestamp_s);
  out += R"(,"sign":)";
  json::append_string(out, okx_login_signature(secret, timestamp_s));
  out += "}]}";
  return out;
}

std::string okx_subscribe_orders_request(std::string_view inst_type) {
  std::string out = R"({"op":"subscribe","args":[{"channel":"orders","instType":)";
  json::append_string(out, inst_type);
  out += "}]}";
  return out;
}

std::string okx_subscribe_positions_request() {
  return R"({"op":"subscribe","args":[{"channel":"positions","instType":"ANY"}]})";
}

bool parse_okx_market_channel(std::string_view name, OkxMarketChannel& out) {
  const std::size_t colon = name.find(':');
  if (colon == std::string_view::npos || colon + 1 == name.size()) return false;
  out.channel = name.substr(0, colon);
  out.inst_id = name.substr(colon + 1);
  return out.channel == "trades" || out.channel == "mark-price" || out.channel == "index-tickers";
}

std::string okx_subscribe_public_request(const std::vector<std::string>& names) {
  std::string out = R"({"op":"subscribe","args":[)";
  bool first = true;
  for (const std::string& name : names) {
    OkxMarketChannel m;
    if (!parse_okx_market_channel(name, m)) continue;
    if (!first) out += ',';
    first = false;
    out += R"({"channel":)";
    json::append_string(out, m.channel);
    out += R"(,"instId":)";
    json::append_string(out, m.inst_id);
    out += '}';
  }
  out += "]}";
  return out;
}

bool parse_okx_request(std::string_view message, OkxRequest& out, ParseError& err) {
  out = OkxRequest{};
  if (message == kOkxPing) {
    out.op = "ping";
    return true;
  }
  control_json::Document doc;
  if (!doc.parse(message, err)) return false;
  const auto root = doc.root();
  if (!control_json::get_string(root, "op", true, out.op, err)) return false;
  simdjson::dom::array args;
  bool present = false;
  if (!control_json::get_array(root, "args", true, args, present, err)) return false;
  for (simdjson::dom::element el : args) {
    control_json::Object arg;
    if (el.get_object().get(arg.obj)) {
      err = {ParseErrorReason::kWrongType, "'args' must hold objects"};
      return false;
    }
    arg.present = true;
    if (out.op == "login") {
      if (!control_json::get_string(arg, "apiKey", true, out.api_key, err)) return false;
      if (!control_json::get_string(arg, "passphrase", true, out.passphrase, err)) return false;
      if (!control_json::get_string(arg, "timestamp", true, out.timestamp, err)) return false;
      if (!control_json::get_string(arg, "sign", true, out.sign, err)) return false;
      break;
    }
    std::string channel, inst_id;
    if (!control_json::get_string(arg, "channel", true, channel, err)) return false;
    if (!control_json::get_string(arg, "instId", false, inst_id, err)) return false;
    out.channels.push_back(std::move(channel));
    out.inst_ids.push_back(std::move(inst_id));
  }
  return true;
}

bool verify_okx_login(const OkxRequest& r, std::string_view api_key, std::string_view passphrase,
                      std::string_view secret) {
  if (r.op != "login") return false;
  const bool key_ok = constant_time_equal(r.api_key, api_key);
  const bool pass_ok = constant_time_equal(r.passphrase, passphrase);
  const bool sign_ok = constant_time_equal(r.sign, okx_login_signature(secret, r.timestamp));
  return key_ok && pass_ok && sign_ok;
}

}  // namespace segmentd::control
