#include "protocol/venues/hyperliquid/control.h"

#include "protocol/json_writer.h"
#include "protocol/venues/control_json.h"

namespace segmentd::control {

std::string hyperliquid_subscribe_user_fills(std::string_view user) {
  std::string out = R"({"method":"subscribe","subscription":{"type":"userFills","user":)";
  json::append_string(out, user);
  out += "}}";
  return out;
}

std::string hyperliquid_subscribe_clearinghouse(std::string_view user) {
  std::string out = R"({"method":"subscribe","subscription":{"type":"clearinghouseState","user":)";
  json::append_string(out, user);
  out += "}}";
  return out;
}

std::string hyperliquid_subscribe_trades(std::string_view coin) {
  std::string out = R"({"method":"subscribe","subscription":{"type":"trades","coin":)";
  json::append_string(out, coin);
  out += "}}";
  return out;
}

std::string hyperliquid_subscribe_asset_ctx(std::string_view coin) {
  std::string out = R"({"method":"subscribe","subscription":{"type":"activeAssetCtx","coin":)";
  json::append_string(out, coin);
  out += "}}";
  return out;
}

bool parse_hyperliquid_market_channel(std::string_view name, HyperliquidMarketChannel& out) {
  const std::size_t colon = name.find(':');
  if (colon == std::string_view::npos || colon + 1 == name.size()) return false;
  out.type = name.substr(0, colon);
  out.coin = name.substr(colon + 1);
  return out.type == "trades" || out.type == "activeAssetCtx";
}

bool parse_hyperliquid_request(std::string_view message, HyperliquidRequest& out, ParseError& err) {
  out = HyperliquidRequest{};
  control_json::Document doc;
  if (!doc.parse(message, err)) return false;
  const auto root = doc.root();
  if (!control_json::get_string(root, "method", true, out.method, err)) return false;
  control_json::Object sub;
  const bool needs_subscription = out.method == "subscribe" || out.method == "unsubscribe";
  if (!control_json::get_object(root, "subscription", needs_subscription, sub, err)) return false;
  if (!sub.valid()) return true;
  if (!control_json::get_string(sub, "type", true, out.type, err)) return false;
  if (!control_json::get_string(sub, "user", false, out.user, err)) return false;
  if (!control_json::get_string(sub, "coin", false, out.coin, err)) return false;
  return true;
}

}  // namespace segmentd::control
