#include "protocol/venues/binance/control.h"

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

}  // namespace segmentd::control
