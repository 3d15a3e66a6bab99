#include "protocol/venues/deribit/control.h"

#include "core/str_cat.h"
#include "protocol/hmac.h"
#include "protocol/json_writer.h"
#include "protocol/venues/control_json.h"

namespace segmentd::control {

std::string deribit_signature(std::string_view client_secret, std::int64_t timestamp_ms, std::string_view nonce,
                              std::string_view data) {
  return hmac_sha256_hex(client_secret, str_cat(timestamp_ms, "\n", nonce, "\n", data));
}

std::string deribit_auth_request(std::int64_t id, std::string_view client_id, std::string_view client_secret,
                                 std::int64_t timestamp_ms, std::string_view nonce, std::string_view data) {
  std::string out = R"({"jsonrpc":"2.0","id":)";
  json::append_int(out, id);
  out += R"(,"method":"public/auth","params":{"grant_type":"client_signature","client_id":)";
  json::append_string(out, client_id);
  out += R"(,"timestamp":)";
  json::append_int(out, timestamp_ms);
  out += R"(,"signature":)";
  json::append_string(out, deribit_signature(client_secret, timestamp_ms, nonce, data));
  out += R"(,"nonce":)";
  json::append_string(out, nonce);
  out += R"(,"data":)";
  json::append_string(out, data);
  out += "}}";
  return out;
}

std::string deribit_set_heartbeat_request(std::int64_t id, int interval_seconds) {
  std::string out = R"({"jsonrpc":"2.0","id":)";
  json::append_int(out, id);
  out += R"(,"method":"public/set_heartbeat","params":{"interval":)";
  json::append_int(out, interval_seconds);
  out += "}}";
  return out;
}

std::string deribit_test_request(std::int64_t id) {
  std::string out = R"({"jsonrpc":"2.0","id":)";
  json::append_int(out, id);
  out += R"(,"method":"public/test","params":{}})";
  return out;
}

std::string deribit_subscribe_request(std::int64_t id, const std::vector<std::string>& channels) {
  std::string out = R"({"jsonrpc":"2.0","id":)";
  json::append_int(out, id);
  out += R"(,"method":"private/subscribe","params":{"channels":[)";
  for (std::size_t i = 0; i < channels.size(); ++i) {
    if (i > 0) out.push_back(',');
    json::append_string(out, channels[i]);
  }
  out += "]}}";
  return out;
}

std::string deribit_get_positions_request(std::int64_t id) {
  std::string out = R"({"jsonrpc":"2.0","id":)";
  json::append_int(out, id);
  out += R"(,"method":"private/get_positions","params":{"currency":"any"}})";
  return out;
}

bool parse_deribit_request(std::string_view message, DeribitRequest& out, ParseError& err) {
  out = DeribitRequest{};
  control_json::Document doc;
  if (!doc.parse(message, err)) return false;
  auto root = doc.root();
  if (!control_json::get_string(root, "method", true, out.method, err)) return false;
  if (!control_json::get_int(root, "id", false, out.id, err)) return false;
  control_json::Object params;
  if (!control_json::get_object(root, "params", false, params, err)) return false;
  if (!params.valid()) return true;
  if (out.method == "public/auth") {
    if (!control_json::get_string(params, "grant_type", true, out.grant_type, err)) return false;
    if (out.grant_type == "client_signature") {
      if (!control_json::get_string(params, "client_id", true, out.client_id, err)) return false;
      if (!control_json::get_int(params, "timestamp", true, out.timestamp_ms, err)) return false;
      if (!control_json::get_string(params, "signature", true, out.signature, err)) return false;
      if (!control_json::get_string(params, "nonce", false, out.nonce, err)) return false;
      if (!control_json::get_string(params, "data", false, out.data, err)) return false;
    }
  } else if (out.method == "public/set_heartbeat") {
    std::int64_t interval = 0;
    if (!control_json::get_int(params, "interval", true, interval, err)) return false;
    if (interval < 10 || interval > 3600) {
      err = {ParseErrorReason::kBadValue, "'params.interval' must be 10..3600 seconds"};
      return false;
    }
    out.interval_seconds = static_cast<int>(interval);
  } else if (out.method == "public/subscribe" || out.method == "private/subscribe") {
    if (!control_json::get_string_array(params, "channels", true, out.channels, err)) return false;
  }
  return true;
}

bool verify_deribit_auth(const DeribitRequest& r, std::string_view client_secret) {
  if (r.method != "public/auth" || r.grant_type != "client_signature") return false;
  return constant_time_equal(r.signature, deribit_signature(client_secret, r.timestamp_ms, r.nonce, r.data));
}

}  // namespace segmentd::control
