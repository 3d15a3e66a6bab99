#include "protocol/venues/binance/control.h"

#include "core/str_cat.h"
#include "protocol/json_writer.h"
#include "protocol/venues/control_json.h"

namespace segmentd::control {

HttpRequestSpec binance_listen_key_request(BinanceMarket market, ListenKeyOp op, std::string_view api_key) {
  HttpRequestSpec r;
  switch (op) {
    case ListenKeyOp::kCreate: r.method = "POST"; break;
    case ListenKeyOp::kKeepAlive: r.method = "PUT"; break;
    case ListenKeyOp::kClose: r.method = "DELETE"; break;
  }
  switch (market) {
    case BinanceMarket::kUsdM:
      r.host = "fapi.binance.com";
      r.path = "/fapi/v1/listenKey";
      break;
    case BinanceMarket::kCoinM:
      r.host = "dapi.binance.com";
      r.path = "/dapi/v1/listenKey";
      break;
    case BinanceMarket::kOptions:
      r.host = "eapi.binance.com";
      r.path = "/eapi/v1/listenKey";
      break;
  }
  r.headers.emplace_back(std::string(kBinanceApiKeyHeader), std::string(api_key));
  return r;
}

std::string binance_user_stream_url(BinanceMarket market, std::string_view listen_key) {
  std::string base;
  switch (market) {
    case BinanceMarket::kUsdM: base = "wss://fstream.binance.com/ws/"; break;
    case BinanceMarket::kCoinM: base = "wss://dstream.binance.com/ws/"; break;
    case BinanceMarket::kOptions: base = "wss://nbstream.binance.com/eoptions/ws/"; break;
  }
  return base.append(listen_key.data(), listen_key.size());
}

bool parse_binance_listen_key_response(std::string_view body, std::string& listen_key, ParseError& err) {
  control_json::Document doc;
  if (!doc.parse(body, err)) return false;
  if (!control_json::get_string(doc.root(), "listenKey", true, listen_key, err)) return false;
  if (listen_key.empty()) {
    err = {ParseErrorReason::kBadValue, "'listenKey' is empty"};
    return false;
  }
  return true;
}

bool binance_market_stream_ok(std::string_view stream) {
  const std::size_t at = stream.find('@');
  if (at == 0 || at == std::string_view::npos) return false;
  for (char c : stream.substr(0, at))
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
  const std::string_view kind = stream.substr(at + 1);
  return kind == "aggTrade" || kind == "markPrice" || kind == "markPrice@1s";
}

std::string binance_subscribe_request(const std::vector<std::string>& streams, std::int64_t id) {
  std::string out = R"({"method":"SUBSCRIBE","params":[)";
  for (std::size_t i = 0; i < streams.size(); ++i) {
    if (i > 0) out += ',';
    json::append_string(out, streams[i]);
  }
  out += str_cat(R"(],"id":)", id, "}");
  return out;
}

bool parse_binance_subscribe(std::string_view message, std::vector<std::string>& streams, std::int64_t& id,
                             ParseError& err) {
  streams.clear();
  id = 0;
  control_json::Document doc;
  if (!doc.parse(message, err)) return false;
  const auto root = doc.root();
  std::string method;
  if (!control_json::get_string(root, "method", true, method, err)) return false;
  if (method != "SUBSCRIBE") {
    err = {ParseErrorReason::kBadValue, "'method' is not SUBSCRIBE"};
    return false;
  }
  if (!control_json::get_string_array(root, "params", true, streams, err)) return false;
  if (!control_json::get_int(root, "id", true, id, err)) return false;
  return true;
}

}  // namespace segmentd::control
