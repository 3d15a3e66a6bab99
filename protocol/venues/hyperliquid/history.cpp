#include "protocol/venues/hyperliquid/history.h"

#include "core/str_cat.h"
#include "protocol/json_writer.h"

namespace segmentd::control {

RestCall hyperliquid_user_fills_by_time_request(std::string_view user, std::int64_t start_ms) {
  RestCall c;
  c.method = "POST";
  c.target = std::string(kHyperliquidInfoPath);
  c.headers.emplace_back("Content-Type", "application/json");
  c.body = R"({"type":"userFillsByTime","user":)";
  json::append_string(c.body, user);
  c.body += R"(,"startTime":)";
  json::append_int(c.body, start_ms);
  c.body += R"(,"aggregateByTime":false})";
  return c;
}

bool parse_hyperliquid_user_fills(std::string_view body, std::string_view user, HistoryPage& page, ParseError& err) {
  page = HistoryPage{};
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (auto e = parser.parse(body.data(), body.size()).get(root); e) {
    err = {ParseErrorReason::kMalformedJson, str_cat("userFillsByTime: ", simdjson::error_message(e))};
    return false;
  }
  simdjson::dom::array fills;
  if (root.get(fills)) {
    err = {ParseErrorReason::kUnknownMessage, "userFillsByTime: the answer is not an array"};
    return false;
  }
  for (simdjson::dom::element f : fills) {
    std::int64_t t = 0;
    if (f["time"].get(t)) {
      err = {ParseErrorReason::kMissingField, "userFillsByTime: a fill without 'time'"};
      return false;
    }
    if (page.first_time_ms < 0 || t < page.first_time_ms) page.first_time_ms = t;
    if (t > page.last_time_ms) page.last_time_ms = t;
    ++page.trades;
  }
  page.more = page.trades >= static_cast<std::size_t>(kHyperliquidFillsByTimeMax);
  if (page.trades > 0) {
    std::string m = R"({"channel":"userFills","data":{"isSnapshot":true,"user":)";
    json::append_string(m, user);
    m += R"(,"fills":)";
    m += simdjson::to_string(fills);
    m += "}}";
    page.stream_messages.push_back(std::move(m));
  }
  return true;
}

bool parse_hyperliquid_info_request(std::string_view body, HyperliquidInfoRequest& out, ParseError& err) {
  control_json::Document doc;
  if (!doc.parse(body, err)) return false;
  const auto root = doc.root();
  if (!control_json::get_string(root, "type", true, out.type, err)) return false;
  if (!control_json::get_string(root, "user", true, out.user, err)) return false;
  if (!control_json::get_int(root, "startTime", true, out.start_ms, err)) return false;
  return control_json::get_int(root, "endTime", false, out.end_ms, err);
}

}  // namespace segmentd::control
