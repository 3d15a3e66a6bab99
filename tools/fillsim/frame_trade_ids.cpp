#include "tools/fillsim/frame_trade_ids.h"

#include "core/fill.h"
#include "simdjson.h"

namespace fillsim {
namespace {

namespace dom = simdjson::dom;

//! A JSON string as it is, or an integer in decimal; false for anything else.
bool id_text(dom::element e, std::string& out) {
  std::string_view s;
  if (!e.get_string().get(s)) {
    out.assign(s.data(), s.size());
    return true;
  }
  std::uint64_t u = 0;
  if (!e.get_uint64().get(u)) {
    out = std::to_string(u);
    return true;
  }
  return false;
}

//! Appends "<prefix>:<part>[:<part>...]" from the named fields of `o`.
bool key_of(dom::object o, std::string_view prefix, std::initializer_list<std::string_view> fields,
            std::vector<std::string>& keys) {
  std::string key(prefix), part;
  for (std::string_view f : fields) {
    dom::element e;
    if (o[f].get(e) || !id_text(e, part)) return false;
    key += ':';
    key += part;
  }
  keys.push_back(std::move(key));
  return true;
}

}  // namespace

bool frame_dedup_keys(segmentd::Venue venue, std::string_view frame, std::vector<std::string>& keys) {
  keys.clear();
  dom::parser parser;
  dom::element root;
  if (parser.parse(frame.data(), frame.size()).get(root)) return false;
  dom::array data;
  switch (venue) {
    case segmentd::Venue::kDeribit:
      if (root["params"]["data"].get(data)) return false;
      for (dom::element t : data)
        if (!t.is_object() || !key_of(t.get_object(), "deribit", {"trade_id"}, keys)) return false;
      return true;
    case segmentd::Venue::kOkx:
      if (root["data"].get(data)) return false;
      for (dom::element o : data)
        if (!o.is_object() || !key_of(o.get_object(), "okx", {"instId", "tradeId"}, keys)) return false;
      return true;
    case segmentd::Venue::kBinance: {
      dom::object o;
      if (!root["o"].get(o)) return key_of(o, "binance", {"s", "t"}, keys);
      // Options: "o" is an array of orders; each trade of an order in its "fi".
      dom::array orders, trades;
      if (root["o"].get(orders)) return false;
      for (dom::element order : orders) {
        std::string_view symbol;
        if (order["s"].get(symbol) || order["fi"].get(trades)) return false;
        for (dom::element t : trades) {
          std::string id;
          dom::element e;
          if (t["t"].get(e) || !id_text(e, id)) return false;
          keys.push_back(std::string("binance:").append(symbol).append(":").append(id));
        }
      }
      return true;
    }
    case segmentd::Venue::kBybit:
      if (root["data"].get(data)) return false;
      for (dom::element x : data)
        if (!x.is_object() || !key_of(x.get_object(), "bybit", {"execId"}, keys)) return false;
      return true;
    case segmentd::Venue::kHyperliquid: {
      std::string_view user;
      if (root["data"]["user"].get(user) || root["data"]["fills"].get(data)) return false;
      for (dom::element f : data) {
        if (!f.is_object() || !key_of(f.get_object(), "hyperliquid", {"tid"}, keys)) return false;
        keys.back() += ':';
        keys.back() += user;
      }
      return true;
    }
    default: return false;
  }
}

std::uint64_t dedup_key_hash(std::string_view key) {
  const std::uint64_t h = segmentd::stable_hash(key.data(), key.size());
  return h == 0 ? 1 : h;
}

}  // namespace fillsim
