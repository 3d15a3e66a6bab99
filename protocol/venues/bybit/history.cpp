#include "protocol/venues/bybit/history.h"

#include "core/str_cat.h"
#include "protocol/hmac.h"
#include "protocol/json_writer.h"

namespace segmentd::control {

std::string bybit_rest_signature(std::string_view secret, std::int64_t ts_ms, std::string_view api_key,
                                 std::int64_t recv_window_ms, std::string_view payload) {
  return hmac_sha256_hex(secret, str_cat(ts_ms, api_key, recv_window_ms, payload));
}

RestCall bybit_execution_list_request(std::string_view api_key, std::string_view secret, std::string_view category,
                                      std::int64_t start_ms, std::int64_t end_ms, std::string_view cursor, int limit,
                                      std::int64_t ts_ms) {
  std::string query =
      str_cat("category=", url_encode(category), "&startTime=", start_ms, "&endTime=", end_ms, "&limit=", limit);
  // nextPageCursor comes percent-encoded already ("132766%3A2%2C132766%3A2"): passed as it is.
  if (!cursor.empty()) query += str_cat("&cursor=", cursor);
  RestCall c;
  c.method = "GET";
  c.target = str_cat(kBybitExecutionListPath, "?", query);
  c.headers.emplace_back("X-BAPI-API-KEY", std::string(api_key));
  c.headers.emplace_back("X-BAPI-TIMESTAMP", str_cat(ts_ms));
  c.headers.emplace_back("X-BAPI-RECV-WINDOW", str_cat(kBybitRecvWindowMs));
  c.headers.emplace_back("X-BAPI-SIGN", bybit_rest_signature(secret, ts_ms, api_key, kBybitRecvWindowMs, query));
  return c;
}

RestCall bybit_position_list_request(std::string_view api_key, std::string_view secret, std::string_view category,
                                     std::string_view settle_coin, std::string_view cursor, std::int64_t ts_ms) {
  std::string query = str_cat("category=", url_encode(category), "&limit=", kBybitPositionListMaxLimit);
  if (!settle_coin.empty()) query += str_cat("&settleCoin=", url_encode(settle_coin));
  if (!cursor.empty()) query += str_cat("&cursor=", cursor);
  RestCall c;
  c.method = "GET";
  c.target = str_cat(kBybitPositionListPath, "?", query);
  c.headers.emplace_back("X-BAPI-API-KEY", std::string(api_key));
  c.headers.emplace_back("X-BAPI-TIMESTAMP", str_cat(ts_ms));
  c.headers.emplace_back("X-BAPI-RECV-WINDOW", str_cat(kBybitRecvWindowMs));
  c.headers.emplace_back("X-BAPI-SIGN", bybit_rest_signature(secret, ts_ms, api_key, kBybitRecvWindowMs, query));
  return c;
}

bool parse_bybit_execution_list(std::string_view body, HistoryPage& page, ParseError& err) {
  page = HistoryPage{};
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (auto e = parser.parse(body.data(), body.size()).get(root); e) {
    err = {ParseErrorReason::kMalformedJson, str_cat("execution list: ", simdjson::error_message(e))};
    return false;
  }
  std::int64_t code = -1;
  if (root["retCode"].get(code)) {
    err = {ParseErrorReason::kMissingField, "execution list: no 'retCode'"};
    return false;
  }
  if (code != 0) {
    err = {ParseErrorReason::kUnknownMessage, str_cat("execution list: venue error ", code)};
    return false;
  }
  std::string_view category, cursor;
  simdjson::dom::array list;
  if (root["result"]["list"].get(list) || root["result"]["category"].get(category)) {
    err = {ParseErrorReason::kMissingField, "execution list: no 'result.list' or 'result.category'"};
    return false;
  }
  if (root["result"]["nextPageCursor"].get(cursor)) cursor = {};
  std::string m = R"({"topic":"execution","id":"history","data":[)";
  for (simdjson::dom::element x : list) {
    simdjson::dom::object o;
    std::string_view time_text;
    if (x.get(o) || o["execTime"].get(time_text)) {
      err = {ParseErrorReason::kMissingField, "execution list: a record without 'execTime'"};
      return false;
    }
    std::int64_t t = 0;
    for (char ch : time_text) t = t * 10 + (ch >= '0' && ch <= '9' ? ch - '0' : 0);
    if (page.first_time_ms < 0 || t < page.first_time_ms) page.first_time_ms = t;
    if (t > page.last_time_ms) page.last_time_ms = t;
    if (page.trades++ > 0) m += ',';
    // The record with the result's category first, as the execution topic has it.
    const std::string record = simdjson::to_string(o);
    m += R"({"category":)";
    json::append_string(m, category);
    if (record.size() > 2) m += ',';
    m.append(record, 1, std::string::npos);
  }
  m += "]}";
  if (page.trades > 0) page.stream_messages.push_back(std::move(m));
  page.cursor = std::string(cursor);
  page.more = !cursor.empty() && page.trades > 0;
  return true;
}

}  // namespace segmentd::control
