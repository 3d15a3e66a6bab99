#include "protocol/venues/okx/history.h"

#include <cstdio>

#include "core/str_cat.h"
#include "protocol/hmac.h"
#include "protocol/json_writer.h"

namespace segmentd::control {

std::string okx_iso_timestamp(std::int64_t ms) {
  // Days from the civil calendar (H. Hinnant's algorithm), as the venue writes UTC.
  const std::int64_t days = ms / 86'400'000, rem = ms % 86'400'000;
  const std::int64_t z = days + 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const std::int64_t doe = z - era * 146097;
  const std::int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const std::int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const std::int64_t mp = (5 * doy + 2) / 153;
  const int d = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  const int m = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  const int y = static_cast<int>(yoe + era * 400 + (m <= 2));
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", y, m, d, static_cast<int>(rem / 3'600'000),
                static_cast<int>(rem / 60'000 % 60), static_cast<int>(rem / 1000 % 60), static_cast<int>(rem % 1000));
  return buf;
}

std::string okx_rest_signature(std::string_view secret, std::string_view timestamp, std::string_view method,
                               std::string_view request_path, std::string_view body) {
  return hmac_sha256_base64(secret, str_cat(timestamp, method, request_path, body));
}

RestCall okx_fills_request(std::string_view api_key, std::string_view secret, std::string_view passphrase,
                           std::int64_t begin_ms, std::string_view after_bill_id, int limit, std::int64_t now_ms) {
  RestCall c;
  c.method = "GET";
  c.target = str_cat(kOkxFillsPath, "?begin=", begin_ms, "&limit=", limit);
  if (!after_bill_id.empty()) c.target += str_cat("&after=", url_encode(after_bill_id));
  const std::string ts = okx_iso_timestamp(now_ms);
  c.headers.emplace_back("OK-ACCESS-KEY", std::string(api_key));
  c.headers.emplace_back("OK-ACCESS-SIGN", okx_rest_signature(secret, ts, c.method, c.target, ""));
  c.headers.emplace_back("OK-ACCESS-TIMESTAMP", ts);
  c.headers.emplace_back("OK-ACCESS-PASSPHRASE", std::string(passphrase));
  return c;
}

bool parse_okx_fills(std::string_view body, int limit, HistoryPage& page, ParseError& err) {
  page = HistoryPage{};
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (auto e = parser.parse(body.data(), body.size()).get(root); e) {
    err = {ParseErrorReason::kMalformedJson, str_cat("fills: ", simdjson::error_message(e))};
    return false;
  }
  std::string_view code;
  if (root["code"].get(code)) {
    err = {ParseErrorReason::kMissingField, "fills: no 'code'"};
    return false;
  }
  if (code != "0") {
    err = {ParseErrorReason::kUnknownMessage, str_cat("fills: venue error ", code)};
    return false;
  }
  simdjson::dom::array data;
  if (root["data"].get(data)) {
    err = {ParseErrorReason::kMissingField, "fills: no 'data' array"};
    return false;
  }
  std::string m = R"({"arg":{"channel":"orders","instType":"ANY"},"data":[)";
  for (simdjson::dom::element x : data) {
    simdjson::dom::object o;
    std::string_view bill, time_text;
    // fillTime is the fill's time; older answers carry only ts (the record's creation).
    const bool has_fill_time = !x["fillTime"].get(time_text);
    if (x.get(o) || o["billId"].get(bill) || (!has_fill_time && o["ts"].get(time_text))) {
      err = {ParseErrorReason::kMissingField, "fills: a record without 'billId' or a time"};
      return false;
    }
    std::int64_t t = 0;
    for (char ch : time_text) t = t * 10 + (ch >= '0' && ch <= '9' ? ch - '0' : 0);
    if (page.first_time_ms < 0 || t < page.first_time_ms) page.first_time_ms = t;
    if (t > page.last_time_ms) page.last_time_ms = t;
    page.cursor = std::string(bill);  // newest first: the last record is the oldest
    if (page.trades++ > 0) m += ',';
    m += '{';
    bool first = true;
    for (auto [key, value] : o) {
      std::string_view k = key;
      if (k == "fee") k = "fillFee";
      if (k == "feeCcy") k = "fillFeeCcy";
      if (!first) m += ',';
      first = false;
      json::append_string(m, k);
      m += ':';
      m += simdjson::to_string(value);
    }
    if (!has_fill_time) {
      m += R"(,"fillTime":)";
      json::append_string(m, time_text);
    }
    m += '}';
  }
  m += "]}";
  if (page.trades > 0) page.stream_messages.push_back(std::move(m));
  page.more = page.trades >= static_cast<std::size_t>(limit);
  return true;
}

}  // namespace segmentd::control
