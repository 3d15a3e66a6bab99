#include "protocol/venues/binance/history.h"

#include <algorithm>
#include <utility>

#include "core/str_cat.h"
#include "protocol/hmac.h"
#include "protocol/json_writer.h"
#include "protocol/venues/binance/control.h"

namespace segmentd::control {

std::string binance_query_signature(std::string_view secret, std::string_view query) {
  return hmac_sha256_hex(secret, query);
}

namespace {

//! A SIGNED GET: `query` gets its recvWindow, timestamp and signature, the API key its header.
RestCall signed_get(std::string_view path, std::string_view api_key, std::string_view secret, std::string query,
                    std::int64_t ts_ms) {
  query += str_cat(query.empty() ? "" : "&", "recvWindow=", kBinanceRecvWindowMs, "&timestamp=", ts_ms);
  query += str_cat("&signature=", binance_query_signature(secret, query));
  RestCall c;
  c.method = "GET";
  c.target = str_cat(path, "?", query);
  c.headers.emplace_back(std::string(kBinanceApiKeyHeader), std::string(api_key));
  return c;
}

//! The answer's array of trades, or false with the reason: not JSON, or the venue's error object.
bool trade_array(simdjson::dom::parser& parser, std::string_view body, std::string_view what,
                 simdjson::dom::array& trades, ParseError& err) {
  simdjson::dom::element root;
  if (auto e = parser.parse(body.data(), body.size()).get(root); e) {
    err = {ParseErrorReason::kMalformedJson, str_cat(what, ": ", simdjson::error_message(e))};
    return false;
  }
  if (!root.get(trades)) return true;
  std::int64_t code = 0;
  if (root["code"].get(code)) code = {};
  err = {ParseErrorReason::kUnknownMessage, str_cat(what, ": venue error ", code)};
  return false;
}

}  // namespace

RestCall binance_user_trades_request(std::string_view api_key, std::string_view secret, std::string_view symbol,
                                     std::int64_t start_ms, std::int64_t from_id, int limit, std::int64_t ts_ms) {
  std::string query = str_cat("symbol=", url_encode(symbol));
  if (from_id >= 0)
    query += str_cat("&fromId=", from_id);
  else
    query += str_cat("&startTime=", start_ms);
  query += str_cat("&limit=", limit);
  return signed_get(kBinanceUserTradesPath, api_key, secret, std::move(query), ts_ms);
}

bool parse_binance_user_trades(std::string_view body, int limit, HistoryPage& page, ParseError& err) {
  page = HistoryPage{};
  simdjson::dom::parser parser;
  simdjson::dom::array trades;
  if (!trade_array(parser, body, "userTrades", trades, err)) return false;
  std::int64_t last_id = -1;
  for (simdjson::dom::element t : trades) {
    std::string_view symbol, side, price, qty, commission, asset;
    std::int64_t id = 0, order_id = 0, time = 0;
    bool maker = false;
    if (t["symbol"].get(symbol) || t["id"].get(id) || t["side"].get(side) || t["price"].get(price) ||
        t["qty"].get(qty) || t["time"].get(time) || t["maker"].get(maker)) {
      err = {ParseErrorReason::kMissingField,
             "userTrades: a trade without symbol, id, side, price, qty, time or maker"};
      return false;
    }
    if (t["orderId"].get(order_id)) order_id = {};
    const bool has_fee = !t["commission"].get(commission) && !t["commissionAsset"].get(asset);
    if (page.first_time_ms < 0 || time < page.first_time_ms) page.first_time_ms = time;
    if (time > page.last_time_ms) page.last_time_ms = time;
    last_id = std::max(last_id, id);
    ++page.trades;
    std::string m = str_cat(R"({"e":"ORDER_TRADE_UPDATE","E":)", time, R"(,"T":)", time, R"(,"o":{"s":)");
    json::append_string(m, symbol);
    m += R"(,"S":)";
    json::append_string(m, side);
    m += str_cat(R"(,"x":"TRADE","X":"FILLED","i":)", order_id, R"(,"l":)");
    json::append_string(m, qty);
    m += R"(,"L":)";
    json::append_string(m, price);
    if (has_fee) {
      m += R"(,"N":)";
      json::append_string(m, asset);
      m += R"(,"n":)";
      json::append_string(m, commission);
    }
    m += str_cat(R"(,"T":)", time, R"(,"t":)", id, R"(,"m":)", maker ? "true" : "false", "}}");
    page.stream_messages.push_back(std::move(m));
  }
  page.more = page.trades >= static_cast<std::size_t>(limit);
  if (last_id >= 0) page.cursor = str_cat(last_id + 1);
  return true;
}

RestCall binance_options_user_trades_request(std::string_view api_key, std::string_view secret, std::int64_t start_ms,
                                             std::int64_t from_id, int limit, std::int64_t ts_ms) {
  std::string query = from_id >= 0 ? str_cat("fromId=", from_id) : str_cat("startTime=", start_ms);
  query += str_cat("&limit=", limit);
  return signed_get(kBinanceOptionsUserTradesPath, api_key, secret, std::move(query), ts_ms);
}

bool parse_binance_options_user_trades(std::string_view body, int limit, HistoryPage& page, ParseError& err) {
  page = HistoryPage{};
  simdjson::dom::parser parser;
  simdjson::dom::array trades;
  if (!trade_array(parser, body, "options userTrades", trades, err)) return false;
  std::int64_t last_id = -1;
  for (simdjson::dom::element t : trades) {
    std::string_view symbol, side, price, quantity, liquidity, fee;
    std::int64_t id = 0, time = 0;
    simdjson::dom::element trade_id;
    if (t["symbol"].get(symbol) || t["id"].get(id) || t["tradeId"].get(trade_id) || t["side"].get(side) ||
        t["price"].get(price) || t["quantity"].get(quantity) || t["time"].get(time)) {
      err = {ParseErrorReason::kMissingField,
             "options userTrades: a trade without symbol, id, tradeId, side, price, quantity or time"};
      return false;
    }
    // The stream sends tradeId as a string; the history as a number. Either reads as its text.
    std::string trade_text;
    std::string_view id_text;
    std::uint64_t id_number = 0;
    if (!trade_id.get(id_text)) {
      trade_text = std::string(id_text);
    } else if (!trade_id.get(id_number)) {
      trade_text = str_cat(id_number);
    }
    if (trade_text.empty()) {
      err = {ParseErrorReason::kWrongType, "options userTrades: tradeId is neither a number nor a string"};
      return false;
    }
    if (side != "BUY" && side != "SELL") {
      err = {ParseErrorReason::kBadValue, "options userTrades: side must be BUY or SELL"};
      return false;
    }
    if (t["liquidity"].get(liquidity)) liquidity = {};
    const bool has_fee = !t["fee"].get(fee);
    if (!quantity.empty() && quantity.front() == '-') quantity.remove_prefix(1);
    if (page.first_time_ms < 0 || time < page.first_time_ms) page.first_time_ms = time;
    if (time > page.last_time_ms) page.last_time_ms = time;
    last_id = std::max(last_id, id);
    ++page.trades;
    // The order's quantity carries only the side here (positive buys, negative sells).
    std::string m = str_cat(R"({"e":"ORDER_TRADE_UPDATE","E":)", time, R"(,"o":[{"s":)");
    json::append_string(m, symbol);
    m += R"(,"q":)";
    json::append_string(m, str_cat(side == "SELL" ? "-" : "", quantity));
    m += R"(,"fi":[{"t":)";
    json::append_string(m, trade_text);
    m += R"(,"p":)";
    json::append_string(m, price);
    m += R"(,"q":)";
    json::append_string(m, quantity);
    m += str_cat(R"(,"T":)", time);
    if (!liquidity.empty()) {
      m += R"(,"m":)";
      json::append_string(m, liquidity);
    }
    if (has_fee) {
      m += R"(,"f":)";
      json::append_string(m, fee);
    }
    m += "}]}]}";
    page.stream_messages.push_back(std::move(m));
  }
  page.more = page.trades >= static_cast<std::size_t>(limit);
  if (last_id >= 0) page.cursor = str_cat(last_id + 1);
  return true;
}

bool verify_binance_query_signature(std::string_view query, std::string_view secret) {
  constexpr std::string_view kSig = "&signature=";
  const std::size_t at = query.rfind(kSig);
  if (at == std::string_view::npos) return false;
  return constant_time_equal(query.substr(at + kSig.size()), binance_query_signature(secret, query.substr(0, at)));
}

std::string_view binance_positions_path(BinanceMarket market) {
  switch (market) {
    case BinanceMarket::kUsdM: return kBinancePositionRiskPath;
    case BinanceMarket::kCoinM: return kBinanceCoinMPositionRiskPath;
    case BinanceMarket::kOptions: return kBinanceOptionsPositionPath;
  }
  return kBinancePositionRiskPath;
}

RestCall binance_position_risk_request(std::string_view api_key, std::string_view secret, std::int64_t ts_ms,
                                       BinanceMarket market) {
  return signed_get(binance_positions_path(market), api_key, secret, std::string(), ts_ms);
}

}  // namespace segmentd::control
