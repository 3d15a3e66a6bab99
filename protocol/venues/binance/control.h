#pragma once
// Binance user data streams are opened over REST: POST creates a listenKey (valid 60 minutes),
// PUT keeps it alive (send every 30 minutes), DELETE closes it; the websocket then connects to
// <ws base>/ws/<listenKey> and needs no auth message. These are the request shapes only: the
// HTTP call itself is the service's. The API key travels in the X-MBX-APIKEY header (these
// USER_STREAM endpoints need no signature).

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "protocol/parse_error.h"

namespace segmentd::control {

enum class BinanceMarket { kUsdM, kCoinM, kOptions };
enum class ListenKeyOp { kCreate, kKeepAlive, kClose };

inline constexpr int kBinanceListenKeyKeepAliveSeconds = 30 * 60;
inline constexpr std::string_view kBinanceApiKeyHeader = "X-MBX-APIKEY";

struct HttpRequestSpec {
  std::string method;  //!< POST, PUT, DELETE
  std::string host;    //!< fapi.binance.com, dapi.binance.com, eapi.binance.com
  std::string path;    //!< /fapi/v1/listenKey, ...
  std::vector<std::pair<std::string, std::string>> headers;
};

HttpRequestSpec binance_listen_key_request(BinanceMarket market, ListenKeyOp op, std::string_view api_key);
//! The websocket URL of a user data stream.
std::string binance_user_stream_url(BinanceMarket market, std::string_view listen_key);
//! Reads {"listenKey":"..."} from a create/keep-alive response body.
bool parse_binance_listen_key_response(std::string_view body, std::string& listen_key, ParseError& err);

//! A public USDⓈ-M market stream a source may name: "<symbol>@aggTrade", "<symbol>@markPrice" or
//! "<symbol>@markPrice@1s" (symbol in lower case, as Binance's stream names are).
bool binance_market_stream_ok(std::string_view stream);
//! {"method":"SUBSCRIBE","params":[streams...],"id":id}, answered {"result":null,"id":id}.
std::string binance_subscribe_request(const std::vector<std::string>& streams, std::int64_t id);
//! The venue side's reading of a SUBSCRIBE (tools/fillsim): its streams and id; false when it is
//! not one.
bool parse_binance_subscribe(std::string_view message, std::vector<std::string>& streams, std::int64_t& id,
                             ParseError& err);

}  // namespace segmentd::control
