#include "protocol/venues/deribit/history.h"

#include "core/str_cat.h"
#include "protocol/hmac.h"

namespace segmentd::control {

std::string deribit_http_signature(std::string_view client_secret, std::int64_t ts_ms, std::string_view nonce,
                                   std::string_view method, std::string_view uri, std::string_view body) {
  return hmac_sha256_hex(client_secret, str_cat(ts_ms, "\n", nonce, "\n", method, "\n", uri, "\n", body, "\n"));
}

RestCall deribit_user_trades_request(std::string_view client_id, std::string_view client_secret,
                                     std::string_view currency, std::int64_t start_ms, std::int64_t end_ms, int count,
                                     std::int64_t ts_ms, std::string_view nonce) {
  RestCall c;
  c.method = "GET";
  c.target = str_cat(kDeribitUserTradesPath, "?currency=", url_encode(currency), "&kind=any&start_timestamp=", start_ms,
                     "&end_timestamp=", end_ms, "&count=", count, "&sorting=asc");
  const std::string sig = deribit_http_signature(client_secret, ts_ms, nonce, c.method, c.target, "");
  c.headers.emplace_back("Authorization",
                         str_cat("deri-hmac-sha256 id=", client_id, ",ts=", ts_ms, ",sig=", sig, ",nonce=", nonce));
  return c;
}

bool parse_deribit_user_trades(std::string_view body, HistoryPage& page, ParseError& err) {
  page = HistoryPage{};
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (auto e = parser.parse(body.data(), body.size()).get(root); e) {
    err = {ParseErrorReason::kMalformedJson, str_cat("user trades: ", simdjson::error_message(e))};
    return false;
  }
  simdjson::dom::object error;
  if (!root["error"].get(error)) {
    std::int64_t code = 0;
    if (error["code"].get(code)) code = {};
    err = {ParseErrorReason::kUnknownMessage, str_cat("user trades: venue error ", code)};
    return false;
  }
  simdjson::dom::array trades;
  if (root["result"]["trades"].get(trades)) {
    err = {ParseErrorReason::kMissingField, "user trades: no 'result.trades' array"};
    return false;
  }
  bool more = false;
  if (root["result"]["has_more"].get(more)) more = {};
  page.more = more;
  for (simdjson::dom::element t : trades) {
    std::int64_t ts = 0;
    if (t["timestamp"].get(ts)) {
      err = {ParseErrorReason::kMissingField, "user trades: a trade without 'timestamp'"};
      return false;
    }
    if (page.first_time_ms < 0 || ts < page.first_time_ms) page.first_time_ms = ts;
    if (ts > page.last_time_ms) page.last_time_ms = ts;
    ++page.trades;
  }
  if (page.trades > 0) {
    page.stream_messages.push_back(
        str_cat(R"({"jsonrpc":"2.0","method":"subscription","params":{"channel":"user.trades.any.any.raw","data":)",
                simdjson::to_string(trades), "}}"));
  }
  return true;
}

bool parse_deribit_http_auth(std::string_view header, DeribitHttpAuth& out) {
  constexpr std::string_view kScheme = "deri-hmac-sha256 ";
  if (header.substr(0, kScheme.size()) != kScheme) return false;
  header.remove_prefix(kScheme.size());
  bool has_ts = false;
  while (!header.empty()) {
    const std::size_t comma = header.find(',');
    const std::string_view part = header.substr(0, comma);
    header = comma == std::string_view::npos ? std::string_view() : header.substr(comma + 1);
    const std::size_t eq = part.find('=');
    if (eq == std::string_view::npos) return false;
    const std::string_view k = part.substr(0, eq), v = part.substr(eq + 1);
    if (k == "id") out.client_id = std::string(v);
    if (k == "sig") out.sig = std::string(v);
    if (k == "nonce") out.nonce = std::string(v);
    if (k == "ts") {
      out.ts_ms = 0;
      for (char ch : v) {
        if (ch < '0' || ch > '9') return false;
        out.ts_ms = out.ts_ms * 10 + (ch - '0');
      }
      has_ts = !v.empty();
    }
  }
  return has_ts && !out.client_id.empty() && !out.sig.empty();
}

bool verify_deribit_http_auth(const DeribitHttpAuth& auth, std::string_view client_secret, std::string_view method,
                              std::string_view uri, std::string_view body) {
  return constant_time_equal(auth.sig,
                             deribit_http_signature(client_secret, auth.ts_ms, auth.nonce, method, uri, body));
}

}  // namespace segmentd::control
