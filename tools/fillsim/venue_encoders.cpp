#include "tools/fillsim/venue_encoders.h"

#include <cmath>
#include <cstdio>

#include "core/str_cat.h"
#include "protocol/json_writer.h"
#include "protocol/venues/binance/control.h"
#include "protocol/venues/hyperliquid/control.h"
#include "protocol/venues/okx/control.h"
#include "simdjson.h"

namespace fillsim {

using segmentd::InstrumentKind;
using segmentd::Liquidity;
using segmentd::OptionType;
using segmentd::Side;
using segmentd::str_cat;
using segmentd::Venue;

namespace {

struct Ymd {
  int y, m, d;
};

Ymd civil_from_ns(std::int64_t ns) {
  std::int64_t z = ns / 86'400'000'000'000 + 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const std::int64_t doe = z - era * 146097;
  const std::int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const std::int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const std::int64_t mp = (5 * doy + 2) / 153;
  const int d = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  const int m = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  return {static_cast<int>(yoe + era * 400 + (m <= 2)), m, d};
}

std::string yymmdd(std::int64_t ns) {
  const Ymd t = civil_from_ns(ns);
  char buf[16];
  std::snprintf(buf, sizeof buf, "%02d%02d%02d", t.y % 100, t.m, t.d);
  return buf;
}

std::string dmmmyy(std::int64_t ns) {
  static constexpr const char* kMonths[] = {"JAN", "FEB", "MAR", "APR", "MAY", "JUN",
                                            "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"};
  const Ymd t = civil_from_ns(ns);
  return str_cat(t.d, kMonths[t.m - 1], t.y % 100 < 10 ? "0" : "", t.y % 100);
}

std::string base_of(const VenueFill& f) { return f.symbol.substr(0, f.symbol.find('-')); }

std::string strike_text(double k) { return str_cat(static_cast<std::int64_t>(std::llround(k))); }

//! A decimal in a JSON string, shortest round-trip form ("2500.5").
void dec(std::string& out, double v) {
  out.push_back('"');
  segmentd::json::append_double(out, v);
  out.push_back('"');
}

double round_to(double v, double step) { return std::round(v / step) * step; }

std::int64_t ms(const segmentd::Fill& f) { return f.venue_ns / 1'000'000; }

// --- Deribit ---------------------------------------------------------------------------------

void deribit_trade(std::string& m, const VenueFill& vf) {
  const segmentd::Fill& f = vf.fill;
  const bool option = f.kind == InstrumentKind::kOption;
  const std::string base = base_of(vf);
  const double index = f.underlying_price;
  // Inverse futures: amount in USD (BTC 10 USD contracts, others 1 USD); options: the coin.
  const double amount =
      option ? f.qty
             : std::max(1.0, std::round(f.notional_usd / (base == "BTC" ? 10.0 : 1.0))) * (base == "BTC" ? 10.0 : 1.0);
  const double fee_coin = std::isnan(f.fee_usd) || index <= 0 ? 0.0 : f.fee_usd / index;
  m += R"({"trade_seq":)";
  segmentd::json::append_uint(m, vf.seq);
  m += R"(,"trade_id":)";
  segmentd::json::append_string(m, vf.trade_id);
  m += str_cat(R"(,"timestamp":)", ms(f), R"(,"tick_direction":1,"state":"filled","reduce_only":false,"price":)");
  segmentd::json::append_double(m, f.price);
  m += R"(,"post_only":false,"order_type":"limit","order_id":)";
  segmentd::json::append_string(m, str_cat(vf.seq + 9'000'000'000ULL));
  m += R"(,"matching_id":null,"mark_price":)";
  segmentd::json::append_double(m, std::isnan(f.mark_price) ? f.price : f.mark_price);
  m += str_cat(R"(,"liquidity":")", f.liquidity == Liquidity::kMaker ? "M" : "T", R"(","instrument_name":)");
  segmentd::json::append_string(m, vf.symbol);
  m += R"(,"index_price":)";
  segmentd::json::append_double(m, index);
  if (option) {
    m += R"(,"iv":)";
    segmentd::json::append_double(m, round_to(f.iv * 100.0, 0.01));  // percent on the wire
    m += R"(,"underlying_price":)";
    segmentd::json::append_double(m, index);
  }
  m += str_cat(R"(,"fee_currency":")", base, R"(","fee":)");
  segmentd::json::append_double(m, round_to(fee_coin, 1e-8));
  m += str_cat(R"(,"direction":")", f.side == Side::kBuy ? "buy" : "sell", R"(","amount":)");
  segmentd::json::append_double(m, option ? round_to(amount, 0.1) : amount);
  m += "}";
}

//! A trade of the public trades channel: what every client sees, without the private fields.
void deribit_public_trade(std::string& m, const VenueFill& vf) {
  const segmentd::Fill& f = vf.fill;
  const bool option = f.kind == InstrumentKind::kOption;
  const std::string base = base_of(vf);
  const double amount =
      option ? f.qty
             : std::max(1.0, std::round(f.notional_usd / (base == "BTC" ? 10.0 : 1.0))) * (base == "BTC" ? 10.0 : 1.0);
  m += R"({"trade_seq":)";
  segmentd::json::append_uint(m, vf.seq);
  m += R"(,"trade_id":)";
  segmentd::json::append_string(m, vf.trade_id);
  m += str_cat(R"(,"timestamp":)", ms(f), R"(,"tick_direction":1,"price":)");
  segmentd::json::append_double(m, f.price);
  m += R"(,"mark_price":)";
  segmentd::json::append_double(m, std::isnan(f.mark_price) ? f.price : f.mark_price);
  if (option) {
    m += R"(,"iv":)";
    segmentd::json::append_double(m, round_to(f.iv * 100.0, 0.01));
  }
  m += R"(,"instrument_name":)";
  segmentd::json::append_string(m, vf.symbol);
  m += R"(,"index_price":)";
  segmentd::json::append_double(m, f.underlying_price);
  m += str_cat(R"(,"direction":")", f.side == Side::kBuy ? "buy" : "sell", R"(","amount":)");
  segmentd::json::append_double(m, option ? round_to(amount, 0.1) : amount);
  m += "}";
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

bool deribit_channel_covers(std::string_view channel, const VenueFill& f) {
  std::vector<std::string_view> parts;
  for (std::size_t at = 0;;) {
    const std::size_t dot = channel.find('.', at);
    parts.push_back(channel.substr(at, dot == std::string_view::npos ? std::string_view::npos : dot - at));
    if (dot == std::string_view::npos) break;
    at = dot + 1;
  }
  const std::string base = base_of(f);
  const std::string index = lower(base) + "_usd";
  if (parts.size() == 2 && parts[0] == "deribit_price_index") return parts[1] == index;
  if (parts.size() == 3 && parts[0] == "markprice" && parts[1] == "options")
    return parts[2] == index && f.fill.kind == InstrumentKind::kOption;
  if (parts.empty() || parts[0] != "trades") return false;
  if (parts.size() == 3) return parts[1] == f.symbol;  // trades.{instrument}.{interval}
  if (parts.size() != 4) return false;                 // trades.{kind}.{currency}.{interval}
  const bool option = f.fill.kind == InstrumentKind::kOption;
  const bool kind_ok = parts[1] == "any" || (parts[1] == "option" && option) ||
                       (parts[1] == "future" && !option && f.fill.kind != InstrumentKind::kSpot) ||
                       (parts[1] == "spot" && f.fill.kind == InstrumentKind::kSpot);
  return kind_ok && (parts[2] == "any" || parts[2] == base);
}

std::string encode_deribit_market_data(std::string_view channel, std::span<const VenueFill* const> fills) {
  std::vector<const VenueFill*> covered;
  for (const VenueFill* f : fills)
    if (deribit_channel_covers(channel, *f)) covered.push_back(f);
  if (covered.empty()) return {};
  std::string m = R"({"jsonrpc":"2.0","method":"subscription","params":{"channel":)";
  segmentd::json::append_string(m, channel);
  m += R"(,"data":)";
  if (channel.starts_with("deribit_price_index.")) {
    const VenueFill& last = *covered.back();
    m += str_cat(R"({"timestamp":)", ms(last.fill), R"(,"price":)");
    segmentd::json::append_double(m, last.fill.underlying_price);
    m += R"(,"index_name":)";
    segmentd::json::append_string(m, channel.substr(std::string_view("deribit_price_index.").size()));
    m += "}}}";
    return m;
  }
  m += "[";
  const bool marks = channel.starts_with("markprice.");
  for (std::size_t i = 0; i < covered.size(); ++i) {
    if (i > 0) m += ',';
    const segmentd::Fill& f = covered[i]->fill;
    if (marks) {
      m += R"({"timestamp":)";
      m += str_cat(ms(f), R"(,"mark_price":)");
      segmentd::json::append_double(m, std::isnan(f.mark_price) ? f.price : f.mark_price);
      m += R"(,"iv":)";
      segmentd::json::append_double(m, round_to(f.iv, 0.0001));
      m += R"(,"instrument_name":)";
      segmentd::json::append_string(m, covered[i]->symbol);
      m += "}";
    } else {
      deribit_public_trade(m, *covered[i]);
    }
  }
  m += "]}}";
  return m;
}

namespace {

// --- OKX -------------------------------------------------------------------------------------

void okx_order(std::string& m, const VenueFill& vf) {
  const segmentd::Fill& f = vf.fill;
  const std::string base = base_of(vf);
  const std::string inst = venue_symbol(Venue::kOkx, vf);
  double contracts = 0;
  const char* type = "SWAP";
  std::string fee_ccy = "USDT";
  double fee = std::isnan(f.fee_usd) ? 0.0 : f.fee_usd;
  if (f.kind == InstrumentKind::kPerpetual) {
    contracts = std::max(1.0, std::round(f.qty / (base == "BTC" ? 0.01 : 0.1)));
  } else if (f.kind == InstrumentKind::kFuture) {
    type = "FUTURES";
    contracts = std::max(1.0, std::round(f.notional_usd / (base == "BTC" ? 100.0 : 10.0)));
    fee_ccy = base;
    fee = f.underlying_price > 0 ? fee / f.underlying_price : 0;
  } else {
    type = "OPTION";
    contracts = std::max(1.0, std::round(f.qty / (base == "BTC" ? 0.01 : 0.1)));
    fee_ccy = base;
    fee = f.underlying_price > 0 ? fee / f.underlying_price : 0;
  }
  const std::string ord_id = str_cat(2'497'956'918'703'120'384ULL + vf.seq);
  m += R"({"accFillSz":)";
  dec(m, contracts);
  m += R"(,"algoClOrdId":"","algoId":"","attachAlgoOrds":[],"avgPx":)";
  dec(m, f.price);
  m += str_cat(R"(,"cTime":")", ms(f) - 1,
               R"(","cancelSource":"","category":"normal","ccy":"","clOrdId":"","execType":")",
               f.liquidity == Liquidity::kMaker ? "M" : "T", R"(","fee":)");
  dec(m, round_to(-fee, 1e-9));
  m += str_cat(R"(,"feeCcy":")", fee_ccy, R"(","fillFee":)");
  dec(m, round_to(-fee, 1e-9));  // negative: charged
  m += str_cat(R"(,"fillFeeCcy":")", fee_ccy, "\"");
  if (f.kind == InstrumentKind::kOption) {
    m += R"(,"fillFwdPx":)";
    dec(m, f.underlying_price);
    m += R"(,"fillMarkPx":)";
    dec(m, std::isnan(f.mark_price) ? f.price : f.mark_price);
    m += R"(,"fillPxVol":)";
    dec(m, f.iv);
  }
  m += R"(,"fillPx":)";
  dec(m, f.price);
  m += R"(,"fillSz":)";
  dec(m, contracts);
  m += str_cat(R"(,"fillTime":")", ms(f), R"(","instId":)");
  segmentd::json::append_string(m, inst);
  m += str_cat(R"(,"instType":")", type, R"(","lever":"","ordId":")", ord_id,
               R"(","ordType":"limit","pnl":"0","posSide":"net","px":)");
  dec(m, f.price);
  m += str_cat(R"(,"reduceOnly":"false","side":")", f.side == Side::kBuy ? "buy" : "sell",
               R"(","source":"","state":"filled","sz":)");
  dec(m, contracts);
  m += R"(,"tag":"","tdMode":"cross","tradeId":)";
  segmentd::json::append_string(m, vf.trade_id);
  m += str_cat(R"(,"uTime":")", ms(f), "\"}");
}

// --- Binance ---------------------------------------------------------------------------------

//! An option's premium in USDT (the simulator's is in the coin) and its quantity in the coin
//! (0.01 steps, Binance's smallest BTC option size).
double binance_option_price(const segmentd::Fill& f) {
  const double p = round_to(f.price * f.underlying_price, 0.1);
  return p > 0 ? p : 0.1;
}
double binance_option_qty(const segmentd::Fill& f) {
  const double q = round_to(f.qty, 0.01);
  return q > 0 ? q : 0.01;
}

//! Binance options' user-data event: "o" is an array of orders; each order's "q" is signed by
//! its side, and its trades are in "fi" (tradeId a string, liquidity MAKER/TAKER).
std::string binance_options_order(const VenueFill& vf) {
  const segmentd::Fill& f = vf.fill;
  const double qty = binance_option_qty(f);
  const double price = binance_option_price(f);
  std::string m =
      str_cat(R"({"e":"ORDER_TRADE_UPDATE","E":)", ms(f) + 1, R"(,"o":[{"T":)", ms(f), R"(,"t":)", ms(f), R"(,"s":)");
  segmentd::json::append_string(m, venue_symbol(Venue::kBinance, vf));
  m += str_cat(R"(,"c":"sim)", vf.seq, R"(","oid":")", 4'611'869'636'869'000'000ULL + vf.seq, R"(","p":)");
  dec(m, price);
  m += R"(,"q":)";
  dec(m, f.side == Side::kBuy ? qty : -qty);
  m += R"(,"stp":0,"r":false,"po":true,"S":"FILLED","e":)";
  dec(m, qty);
  m += R"(,"ec":)";
  dec(m, round_to(price * qty, 1e-8));
  m += R"(,"f":)";
  const double fee = round_to(std::isnan(f.fee_usd) ? 0.0 : f.fee_usd, 1e-8);
  dec(m, fee);
  m += R"(,"tif":"GTC","oty":"LIMIT","fi":[{"t":)";
  segmentd::json::append_string(m, vf.trade_id);
  m += R"(,"p":)";
  dec(m, price);
  m += R"(,"q":)";
  dec(m, qty);
  m += str_cat(R"(,"T":)", ms(f), R"(,"m":")", f.liquidity == Liquidity::kMaker ? "MAKER" : "TAKER", R"(","f":)");
  dec(m, fee);
  m += "}]}]}";
  return m;
}

std::string binance_order(const VenueFill& vf) {
  const segmentd::Fill& f = vf.fill;
  if (f.kind == InstrumentKind::kOption) return binance_options_order(vf);
  std::string m = str_cat(R"({"e":"ORDER_TRADE_UPDATE","E":)", ms(f) + 1, R"(,"T":)", ms(f), R"(,"o":{"s":)");
  segmentd::json::append_string(m, venue_symbol(Venue::kBinance, vf));
  const double qty = round_to(f.qty, 0.001) > 0 ? round_to(f.qty, 0.001) : 0.001;
  m += str_cat(R"(,"c":"sim)", vf.seq, R"(","S":")", f.side == Side::kBuy ? "BUY" : "SELL",
               R"(","o":"LIMIT","f":"GTC","q":)");
  dec(m, qty);
  m += R"(,"p":)";
  dec(m, f.price);
  m += R"(,"ap":)";
  dec(m, f.price);
  m += str_cat(R"(,"sp":"0","x":"TRADE","X":"FILLED","i":)", 8'000'000'000ULL + vf.seq, R"(,"l":)");
  dec(m, qty);
  m += R"(,"z":)";
  dec(m, qty);
  m += R"(,"L":)";
  dec(m, f.price);
  m += R"(,"N":"USDT","n":)";
  dec(m, round_to(std::isnan(f.fee_usd) ? 0.0 : f.fee_usd, 1e-8));
  m += str_cat(
      R"(,"T":)", ms(f), R"(,"t":)", vf.trade_id, R"(,"b":"0","a":"0","m":)",
      f.liquidity == Liquidity::kMaker ? "true" : "false",
      R"(,"R":false,"wt":"CONTRACT_PRICE","ot":"LIMIT","ps":"BOTH","cp":false,"rp":"0","pP":false,"si":0,"ss":0,"V":"NONE","pm":"NONE","gtd":0}})");
  return m;
}

// --- Bybit -----------------------------------------------------------------------------------

void bybit_execution(std::string& m, const VenueFill& vf) {
  const segmentd::Fill& f = vf.fill;
  const bool option = f.kind == InstrumentKind::kOption;
  const double price = option ? round_to(f.price * f.underlying_price, 0.5) : f.price;  // options in USDC
  const double qty = option ? round_to(f.qty, 0.01) : round_to(f.qty, 0.001);
  m += str_cat(R"({"category":")", option ? "option" : "linear", R"(","symbol":)");
  segmentd::json::append_string(m, venue_symbol(Venue::kBybit, vf));
  m += R"(,"closedSize":"0","execFee":)";
  dec(m, round_to(std::isnan(f.fee_usd) ? 0.0 : f.fee_usd, 1e-8));
  m += R"(,"execId":)";
  segmentd::json::append_string(m, vf.trade_id);
  m += R"(,"execPrice":)";
  dec(m, price);
  m += R"(,"execQty":)";
  dec(m, qty > 0 ? qty : 0.001);
  m += R"(,"execType":"Trade","execValue":)";
  dec(m, round_to(price * qty, 1e-8));
  m += R"(,"feeRate":"0.00055","tradeIv":)";
  if (option)
    dec(m, f.iv);
  else
    m += "\"\"";
  m += R"(,"markIv":"","blockTradeId":"","markPrice":)";
  dec(m, option ? round_to((std::isnan(f.mark_price) ? f.price : f.mark_price) * f.underlying_price, 0.01)
                : (std::isnan(f.mark_price) ? f.price : f.mark_price));
  m += R"(,"indexPrice":)";
  dec(m, f.underlying_price);
  m += R"(,"underlyingPrice":)";
  if (option)
    dec(m, f.underlying_price);
  else
    m += "\"\"";
  m += str_cat(R"(,"leavesQty":"0","orderId":"sim-order-)", vf.seq, R"(","orderLinkId":"","orderPrice":)");
  dec(m, price);
  m += R"(,"orderQty":)";
  dec(m, qty > 0 ? qty : 0.001);
  m += str_cat(R"(,"orderType":"Limit","stopOrderType":"UNKNOWN","side":")", f.side == Side::kBuy ? "Buy" : "Sell",
               R"(","execTime":")", ms(f), R"(","isLeverage":"0","isMaker":)",
               f.liquidity == Liquidity::kMaker ? "true" : "false", R"(,"seq":)", vf.seq,
               R"(,"marketUnit":"","execPnl":"0","createType":"CreateByUser","feeCurrency":")",
               option ? "USDC" : "USDT", "\"}");
}

// --- Hyperliquid -----------------------------------------------------------------------------

void hyperliquid_fill(std::string& m, const VenueFill& vf) {
  const segmentd::Fill& f = vf.fill;
  const double sz = round_to(f.qty, 1e-5) > 0 ? round_to(f.qty, 1e-5) : 1e-5;
  m += R"({"coin":)";
  segmentd::json::append_string(m, base_of(vf));
  m += R"(,"px":)";
  dec(m, f.price);
  m += R"(,"sz":)";
  dec(m, sz);
  m += str_cat(R"(,"side":")", f.side == Side::kBuy ? "B" : "A", R"(","time":)", ms(f),
               R"(,"startPosition":"0.0","dir":")", f.side == Side::kBuy ? "Open Long" : "Open Short",
               R"(","closedPnl":"0.0","hash":"0x)", str_cat(1'000'000'000'000ULL + vf.seq), R"(","oid":)",
               7'000'000'000ULL + vf.seq, R"(,"crossed":)", f.liquidity == Liquidity::kMaker ? "false" : "true",
               R"(,"fee":)");
  dec(m, round_to(std::isnan(f.fee_usd) ? 0.0 : f.fee_usd, 1e-6));
  m += str_cat(R"(,"tid":)", vf.trade_id, R"(,"feeToken":"USDC"})");
}

//! Hyperliquid's trades entry: "side" is the aggressor's (B: a buyer took).
void hyperliquid_public_trade(std::string& m, const VenueFill& vf, std::string_view account) {
  const segmentd::Fill& f = vf.fill;
  const bool account_buys = f.side == Side::kBuy;
  const bool account_took = f.liquidity != Liquidity::kMaker;
  const bool buyer_took = account_buys == account_took;
  const double sz = round_to(f.qty, 1e-5) > 0 ? round_to(f.qty, 1e-5) : 1e-5;
  m += R"({"coin":)";
  segmentd::json::append_string(m, base_of(vf));
  m += str_cat(R"(,"side":")", buyer_took ? "B" : "A", R"(","px":)");
  dec(m, f.price);
  m += R"(,"sz":)";
  dec(m, sz);
  m += str_cat(R"(,"time":)", ms(f), R"(,"hash":"0x)", str_cat(1'000'000'000'000ULL + vf.seq), R"(","tid":)",
               vf.trade_id, R"(,"users":[)");
  segmentd::json::append_string(m, account_buys ? account : kSimMarketUser);
  m += ',';
  segmentd::json::append_string(m, account_buys ? kSimMarketUser : account);
  m += "]}";
}

}  // namespace

std::string encode_hyperliquid_market_data(std::string_view subscription, std::span<const VenueFill* const> fills,
                                           std::span<const std::string_view> accounts,
                                           const OpenInterestOf& open_interest) {
  segmentd::control::HyperliquidMarketChannel sub;
  if (!segmentd::control::parse_hyperliquid_market_channel(subscription, sub)) return {};
  std::vector<std::size_t> covered;
  for (std::size_t i = 0; i < fills.size(); ++i)
    if (base_of(*fills[i]) == sub.coin) covered.push_back(i);
  if (covered.empty()) return {};
  std::string m;
  if (sub.type == "trades") {
    m = R"({"channel":"trades","data":[)";
    for (std::size_t k = 0; k < covered.size(); ++k) {
      if (k > 0) m += ',';
      hyperliquid_public_trade(m, *fills[covered[k]], accounts[covered[k]]);
    }
    m += "]}";
    return m;
  }
  // activeAssetCtx at the last fill: its mark and the underlying's index (the oracle price).
  const segmentd::Fill& f = fills[covered.back()]->fill;
  const double mark = std::isnan(f.mark_price) ? f.price : f.mark_price;
  const double oracle = std::isnan(f.underlying_price) ? mark : f.underlying_price;
  m = R"({"channel":"activeAssetCtx","data":{"coin":)";
  segmentd::json::append_string(m, sub.coin);
  m += R"(,"ctx":{"funding":"0.0000125","openInterest":)";
  dec(m, round_to(open_interest(sub.coin), 1e-3));
  m += R"(,"prevDayPx":)";
  dec(m, mark);
  m += R"(,"dayNtlVlm":"1000000.0","premium":"0.0","oraclePx":)";
  dec(m, oracle);
  m += R"(,"markPx":)";
  dec(m, mark);
  m += R"(,"midPx":)";
  dec(m, f.price);
  m += R"(,"impactPxs":[)";
  dec(m, f.price);
  m += ',';
  dec(m, f.price);
  m += R"(],"dayBaseVlm":"10.0"}}})";
  return m;
}

std::string encode_okx_market_data(std::string_view subscription, std::span<const VenueFill* const> fills) {
  segmentd::control::OkxMarketChannel sub;
  if (!segmentd::control::parse_okx_market_channel(subscription, sub)) return {};
  const bool index = sub.channel == "index-tickers";
  std::vector<const VenueFill*> covered;
  for (const VenueFill* f : fills) {
    const bool match = index
                           ? str_cat(base_of(*f), "-USDT") == sub.inst_id || str_cat(base_of(*f), "-USD") == sub.inst_id
                           : venue_symbol(Venue::kOkx, *f) == sub.inst_id;
    if (match) covered.push_back(f);
  }
  if (covered.empty()) return {};
  std::string m = R"({"arg":{"channel":)";
  segmentd::json::append_string(m, sub.channel);
  m += R"(,"instId":)";
  segmentd::json::append_string(m, sub.inst_id);
  m += R"(},"data":[)";
  if (sub.channel == "trades") {
    for (std::size_t i = 0; i < covered.size(); ++i) {
      const segmentd::Fill& f = covered[i]->fill;
      const bool buyer_took = (f.side == Side::kBuy) == (f.liquidity != Liquidity::kMaker);
      if (i > 0) m += ',';
      m += R"({"instId":)";
      segmentd::json::append_string(m, sub.inst_id);
      m += str_cat(R"(,"tradeId":")", covered[i]->trade_id, R"(","px":)");
      dec(m, f.price);
      m += R"(,"sz":"1","side":")";
      m += str_cat(buyer_took ? "buy" : "sell", R"(","ts":")", ms(f), R"(","count":"1","source":"0","seqId":)",
                   covered[i]->seq, "}");
    }
  } else {
    const VenueFill& last = *covered.back();
    const segmentd::Fill& f = last.fill;
    const double px = index ? f.underlying_price : std::isnan(f.mark_price) ? f.price : f.mark_price;
    if (!(px > 0)) return {};
    m += index ? R"({"instId":)"
               : str_cat(R"({"instType":")",
                         f.kind == InstrumentKind::kPerpetual ? "SWAP"
                         : f.kind == InstrumentKind::kFuture  ? "FUTURES"
                                                              : "OPTION",
                         R"(","instId":)");
    segmentd::json::append_string(m, sub.inst_id);
    m += index ? R"(,"idxPx":)" : R"(,"markPx":)";
    dec(m, px);
    if (index) {
      for (const char* k : {"high24h", "low24h", "open24h", "sodUtc0", "sodUtc8"}) {
        m += str_cat(",\"", k, "\":");
        dec(m, px);
      }
    }
    m += str_cat(R"(,"ts":")", ms(f), "\"}");
  }
  m += "]}";
  return m;
}

std::string encode_bybit_market_data(std::string_view topic, std::span<const VenueFill* const> fills,
                                     const OpenInterestOf& open_interest) {
  const bool tickers = topic.starts_with("tickers.");
  if (!tickers && !topic.starts_with("publicTrade.")) return {};
  const std::string_view symbol = topic.substr(topic.find('.') + 1);
  std::vector<const VenueFill*> covered;
  for (const VenueFill* f : fills)
    if (venue_symbol(Venue::kBybit, *f) == symbol) covered.push_back(f);
  if (covered.empty()) return {};
  const segmentd::Fill& last = covered.back()->fill;
  std::string m = R"({"topic":)";
  segmentd::json::append_string(m, topic);
  if (tickers) {
    const double mark = std::isnan(last.mark_price) ? last.price : last.mark_price;
    m += R"(,"type":"snapshot","data":{"symbol":)";
    segmentd::json::append_string(m, symbol);
    m += R"(,"tickDirection":"PlusTick","lastPrice":)";
    dec(m, last.price);
    m += R"(,"markPrice":)";
    dec(m, mark);
    m += R"(,"indexPrice":)";
    dec(m, last.underlying_price > 0 ? last.underlying_price : mark);
    m += R"(,"fundingRate":"0.0001","openInterest":)";
    dec(m, round_to(open_interest(symbol), 1e-3));
    m += str_cat(R"(},"cs":)", covered.back()->seq, R"(,"ts":)", ms(last), "}");
    return m;
  }
  m += str_cat(R"(,"type":"snapshot","ts":)", ms(last), R"(,"data":[)");
  for (std::size_t i = 0; i < covered.size(); ++i) {
    const segmentd::Fill& f = covered[i]->fill;
    const bool buyer_took = (f.side == Side::kBuy) == (f.liquidity != Liquidity::kMaker);
    if (i > 0) m += ',';
    m += str_cat(R"({"T":)", ms(f), R"(,"s":)");
    segmentd::json::append_string(m, symbol);
    m += str_cat(R"(,"S":")", buyer_took ? "Buy" : "Sell", R"(","v":)");
    dec(m, round_to(f.qty, 1e-3) > 0 ? round_to(f.qty, 1e-3) : 1e-3);
    m += R"(,"p":)";
    dec(m, f.price);
    m += R"(,"L":"PlusTick","i":)";
    segmentd::json::append_string(m, covered[i]->trade_id);
    m += R"(,"BT":false})";
  }
  m += "]}";
  return m;
}

std::vector<std::string> encode_binance_market_data(std::string_view stream, std::span<const VenueFill* const> fills) {
  if (!segmentd::control::binance_market_stream_ok(stream)) return {};
  const std::size_t at = stream.find('@');
  std::string symbol(stream.substr(0, at));
  for (char& c : symbol) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  const bool mark = stream.substr(at + 1).starts_with("markPrice");
  std::vector<const VenueFill*> covered;
  for (const VenueFill* f : fills)
    if (venue_supports(Venue::kBinance, f->fill) && venue_symbol(Venue::kBinance, *f) == symbol) covered.push_back(f);
  if (covered.empty()) return {};
  std::vector<std::string> events;
  if (mark) {
    const segmentd::Fill& f = covered.back()->fill;
    const double px = std::isnan(f.mark_price) ? f.price : f.mark_price;
    std::string m = str_cat(R"({"e":"markPriceUpdate","E":)", ms(f), R"(,"s":")", symbol, R"(","p":)");
    dec(m, px);
    m += R"(,"ap":)";
    dec(m, px);
    m += R"(,"i":)";
    dec(m, f.underlying_price > 0 ? f.underlying_price : px);
    m += R"(,"P":)";
    dec(m, px);
    m += str_cat(R"(,"r":"0.00010000","T":)", ms(f) + 3'600'000, "}");
    events.push_back(std::move(m));
    return events;
  }
  for (const VenueFill* vf : covered) {
    const segmentd::Fill& f = vf->fill;
    const bool buyer_maker = (f.side == Side::kBuy) == (f.liquidity == Liquidity::kMaker);
    std::string m = str_cat(R"({"e":"aggTrade","E":)", ms(f) + 1, R"(,"s":")", symbol, R"(","a":)",
                            5'000'000'000ULL + vf->seq, R"(,"p":)");
    dec(m, f.price);
    m += R"(,"q":)";
    dec(m, round_to(f.qty, 1e-3) > 0 ? round_to(f.qty, 1e-3) : 1e-3);
    m += str_cat(R"(,"f":)", vf->seq, R"(,"l":)", vf->seq, R"(,"T":)", ms(f), R"(,"m":)",
                 buyer_maker ? "true" : "false", "}");
    events.push_back(std::move(m));
  }
  return events;
}

std::int64_t binance_options_history_id(std::string_view trade_id) {
  std::int64_t n = 0;
  for (char c : trade_id)
    if (c >= '0' && c <= '9') n = n * 10 + (c - '0');
  return kBinanceOptionsIdBase + n;
}

bool venue_supports(Venue venue, const segmentd::Fill& f, segmentd::control::BinanceMarket binance_market) {
  switch (venue) {
    case Venue::kDeribit: return true;
    case Venue::kOkx: return true;
    case Venue::kBinance:
      if (binance_market == segmentd::control::BinanceMarket::kOptions) return f.kind == InstrumentKind::kOption;
      return f.kind == InstrumentKind::kPerpetual || f.kind == InstrumentKind::kFuture;
    case Venue::kBybit: return f.kind == InstrumentKind::kPerpetual || f.kind == InstrumentKind::kOption;
    case Venue::kHyperliquid: return f.kind == InstrumentKind::kPerpetual;
    case Venue::kNative: return true;
  }
  return false;
}

std::string venue_symbol(Venue venue, const VenueFill& vf) {
  const segmentd::Fill& f = vf.fill;
  const std::string base = base_of(vf);
  const char cp = f.option_type == OptionType::kPut ? 'P' : 'C';
  switch (venue) {
    case Venue::kDeribit:
    case Venue::kNative: return vf.symbol;
    case Venue::kOkx:
      if (f.kind == InstrumentKind::kPerpetual) return base + "-USDT-SWAP";
      if (f.kind == InstrumentKind::kFuture) return str_cat(base, "-USD-", yymmdd(f.expiry_ns));
      return str_cat(base, "-USD-", yymmdd(f.expiry_ns), "-", strike_text(f.strike), "-", cp);
    case Venue::kBinance:
      if (f.kind == InstrumentKind::kOption)
        return str_cat(base, "-", yymmdd(f.expiry_ns), "-", strike_text(f.strike), "-", cp);
      if (f.kind == InstrumentKind::kFuture) return str_cat(base, "USDT_", yymmdd(f.expiry_ns));
      return base + "USDT";
    case Venue::kBybit:
      if (f.kind == InstrumentKind::kOption)
        return str_cat(base, "-", dmmmyy(f.expiry_ns), "-", strike_text(f.strike), "-", cp);
      return base + "USDT";
    case Venue::kHyperliquid: return base;
  }
  return vf.symbol;
}

namespace {

//! OKX contracts of a fill (okx_order): 0.01 BTC / 0.1 ETH for swaps and options, 100 / 10 USD
//! for the inverse futures.
double okx_contracts(const VenueFill& vf) {
  const segmentd::Fill& f = vf.fill;
  const bool btc = base_of(vf) == "BTC";
  if (f.kind == InstrumentKind::kFuture) return std::max(1.0, std::round(f.notional_usd / (btc ? 100.0 : 10.0)));
  return std::max(1.0, std::round(f.qty / (btc ? 0.01 : 0.1)));
}

}  // namespace

double venue_size(Venue venue, const VenueFill& vf) {
  const segmentd::Fill& f = vf.fill;
  const double sign = f.side == Side::kBuy ? 1.0 : -1.0;
  const bool option = f.kind == InstrumentKind::kOption;
  switch (venue) {
    case Venue::kDeribit: {
      if (option) return sign * f.qty;
      const double step = base_of(vf) == "BTC" ? 10.0 : 1.0;
      return sign * std::max(1.0, std::round(f.notional_usd / step)) * step;
    }
    case Venue::kOkx: return sign * okx_contracts(vf);
    case Venue::kBybit: {
      const double q = option ? round_to(f.qty, 0.01) : round_to(f.qty, 0.001);
      return sign * (q > 0 ? q : 0.001);
    }
    case Venue::kBinance: {
      if (option) {
        const double q = round_to(f.qty, 0.01);
        return sign * (q > 0 ? q : 0.01);
      }
      const double q = round_to(f.qty, 0.001);
      return sign * (q > 0 ? q : 0.001);
    }
    default: return sign * f.qty;
  }
}

namespace {

//! A position's mark: the last fill's mark, else its price (quote units).
double mark_of(const SimPosition& p) {
  const segmentd::Fill& f = p.sample->fill;
  return std::isnan(f.mark_price) ? f.price : f.mark_price;
}

//! Hyperliquid clearinghouseState: the whole perpetual state of the user, open positions only.
std::string hyperliquid_positions(std::span<const SimPosition> positions, std::string_view user, std::int64_t now_ms) {
  double notional = 0;
  std::string list;
  for (const SimPosition& p : positions) {
    if (p.venue_qty == 0.0) continue;
    const double mark = mark_of(p);
    const double value = std::abs(p.venue_qty) * mark;
    notional += value;
    if (!list.empty()) list += ',';
    list += R"({"type":"oneWay","position":{"coin":)";
    segmentd::json::append_string(list, base_of(*p.sample));
    list += R"(,"szi":)";
    dec(list, p.venue_qty);
    list += R"(,"leverage":{"type":"cross","value":10},"entryPx":)";
    dec(list, p.sample->fill.price);
    list += R"(,"positionValue":)";
    dec(list, value);
    list += R"(,"unrealizedPnl":"0.0","returnOnEquity":"0.0","liquidationPx":null,"marginUsed":)";
    dec(list, value / 10);
    list += R"(,"maxLeverage":40,"cumFunding":{"allTime":"0.0","sinceOpen":"0.0","sinceChange":"0.0"}}})";
  }
  std::string summary = R"({"accountValue":"1000000.0","totalNtlPos":)";
  dec(summary, notional);
  summary += R"(,"totalRawUsd":"1000000.0","totalMarginUsed":)";
  dec(summary, notional / 10);
  summary += "}";
  std::string m = R"({"channel":"clearinghouseState","data":{"dex":"","user":)";
  segmentd::json::append_string(m, user);
  m += R"(,"clearinghouseState":{"marginSummary":)";
  m += summary;
  m += R"(,"crossMarginSummary":)";
  m += summary;
  m += R"(,"crossMaintenanceMarginUsed":"0.0","withdrawable":"900000.0","assetPositions":[)";
  m += list;
  m += R"(],"time":)";
  m += std::to_string(now_ms);
  m += "}}}";
  return m;
}

//! OKX positions push: a snapshot lists the open positions, two to a page (curPage, lastPage);
//! an update the positions that changed, flat ones with pos "0".
std::vector<std::string> okx_positions(std::span<const SimPosition> positions, std::int64_t now_ms, bool snapshot) {
  std::vector<const SimPosition*> listed;
  for (const SimPosition& p : positions)
    if (!snapshot || p.venue_qty != 0.0) listed.push_back(&p);
  constexpr std::size_t kPage = 2;
  const std::size_t pages = snapshot ? std::max<std::size_t>(1, (listed.size() + kPage - 1) / kPage) : 1;
  std::vector<std::string> out;
  for (std::size_t page = 0; page < pages; ++page) {
    std::string m = R"({"arg":{"channel":"positions","uid":"77982378738415879","instType":"ANY"},"eventType":)";
    m += snapshot
             ? str_cat(R"("snapshot","curPage":)", page + 1, R"(,"lastPage":)", page + 1 == pages ? "true" : "false")
             : R"("event_update")";
    m += R"(,"data":[)";
    const std::size_t from = snapshot ? page * kPage : 0;
    const std::size_t to = snapshot ? std::min(listed.size(), from + kPage) : listed.size();
    for (std::size_t i = from; i < to; ++i) {
      const SimPosition& p = *listed[i];
      const segmentd::Fill& f = p.sample->fill;
      const char* type = f.kind == InstrumentKind::kPerpetual ? "SWAP"
                         : f.kind == InstrumentKind::kFuture  ? "FUTURES"
                                                              : "OPTION";
      const double mark = mark_of(p);
      const double base = position_base(Venue::kOkx, p);
      const double usd = f.kind == InstrumentKind::kOption ? f.underlying_price : mark;
      if (i > from) m += ',';
      m += R"({"adl":"1","availPos":"","avgPx":)";
      dec(m, f.price);
      m += str_cat(R"(,"cTime":")", now_ms - 60'000, R"(","ccy":")",
                   f.kind == InstrumentKind::kPerpetual ? "USDT" : base_of(*p.sample),
                   R"(","deltaBS":"","deltaPA":"","gammaBS":"","gammaPA":"","idxPx":)");
      dec(m, f.underlying_price);
      m += R"(,"imr":"","instId":)";
      segmentd::json::append_string(m, venue_symbol(Venue::kOkx, *p.sample));
      m += str_cat(R"(,"instType":")", type, R"(","interest":"0","last":)");
      dec(m, f.price);
      m += R"(,"lever":"10","liab":"","liabCcy":"","liqPx":"","markPx":)";
      dec(m, mark);
      m += R"(,"margin":"","mgnMode":"cross","mgnRatio":"","mmr":"","notionalUsd":)";
      dec(m, std::abs(base) * usd);
      m += str_cat(R"(,"optVal":"","pTime":")", now_ms, R"(","pos":)");
      dec(m, p.venue_qty);
      m += str_cat(R"(,"posCcy":"","posId":")", 307173036051017730ULL + p.sample->seq,
                   R"(","posSide":"net","thetaBS":"","thetaPA":"","tradeId":"","uTime":")", now_ms,
                   R"(","upl":"0","uplRatio":"0","vegaBS":"","vegaPA":""})");
    }
    m += "]}";
    out.push_back(std::move(m));
  }
  return out;
}

//! A Deribit position object (numbers, not strings): size in USD for the inverse futures and
//! perpetuals (with size_currency in the coin), in the coin for options.
void deribit_position(std::string& m, const SimPosition& p) {
  const segmentd::Fill& f = p.sample->fill;
  const bool option = f.kind == InstrumentKind::kOption;
  const double mark = mark_of(p);
  m += R"({"average_price":)";
  segmentd::json::append_double(m, f.price);
  m += R"(,"delta":)";
  segmentd::json::append_double(m, option ? 0.5 * p.venue_qty : p.venue_qty / mark);
  m += str_cat(R"(,"direction":")",
               p.venue_qty > 0   ? "buy"
               : p.venue_qty < 0 ? "sell"
                                 : "zero",
               R"(","estimated_liquidation_price":null,"floating_profit_loss":0,"index_price":)");
  segmentd::json::append_double(m, f.underlying_price);
  m += R"(,"initial_margin":0,"instrument_name":)";
  segmentd::json::append_string(m, p.sample->symbol);
  m += str_cat(R"(,"interest_value":0,"kind":")", option ? "option" : "future",
               R"(","leverage":50,"maintenance_margin":0,"mark_price":)");
  segmentd::json::append_double(m, mark);
  m += R"(,"open_orders_margin":0,"realized_funding":0,"realized_profit_loss":0,"settlement_price":)";
  segmentd::json::append_double(m, mark);
  m += R"(,"size":)";
  segmentd::json::append_double(m, p.venue_qty);
  if (!option) {
    m += R"(,"size_currency":)";
    segmentd::json::append_double(m, p.venue_qty / mark);
  }
  m += R"(,"total_profit_loss":0})";
}

//! Deribit: the answer to private/get_positions (every open position), or one user.changes
//! notification per instrument that changed, with the message's trades of that instrument.
std::vector<std::string> deribit_positions(std::span<const SimPosition> positions, std::int64_t now_ms, bool snapshot,
                                           std::int64_t request_id, std::span<const VenueFill> fills) {
  std::vector<std::string> out;
  if (snapshot) {
    std::string m = str_cat(R"({"jsonrpc":"2.0","id":)", request_id, R"(,"result":[)");
    bool first = true;
    for (const SimPosition& p : positions) {
      if (p.venue_qty == 0.0) continue;
      if (!first) m += ',';
      first = false;
      deribit_position(m, p);
    }
    const std::int64_t us = now_ms * 1000;
    m += str_cat(R"(],"usIn":)", us - 150, R"(,"usOut":)", us, R"(,"usDiff":150,"testnet":false})");
    out.push_back(std::move(m));
    return out;
  }
  for (const SimPosition& p : positions) {
    const bool option = p.sample->fill.kind == InstrumentKind::kOption;
    std::string m = str_cat(R"({"jsonrpc":"2.0","method":"subscription","params":{"channel":"user.changes.)",
                            option ? "option" : "future", R"(.any.raw","data":{"instrument_name":)");
    segmentd::json::append_string(m, p.sample->symbol);
    m += R"(,"trades":[)";
    bool first = true;
    for (const VenueFill& vf : fills) {
      if (vf.symbol != p.sample->symbol) continue;
      if (!first) m += ',';
      first = false;
      deribit_trade(m, vf);
    }
    m += R"(],"orders":[],"positions":[)";
    deribit_position(m, p);
    m += "]}}}";
    out.push_back(std::move(m));
  }
  return out;
}

//! Binance: the positions that changed, as of the trade's time T. Futures (USDⓈ-M) in an
//! ACCOUNT_UPDATE (reason ORDER), `pa` signed in the coin; options in a BALANCE_POSITION_UPDATE,
//! `c` signed. A server serves one market, so one of the two is empty.
std::vector<std::string> binance_account_update(std::span<const SimPosition> positions, std::int64_t now_ms) {
  std::string futures, options;
  for (const SimPosition& p : positions) {
    const double entry = p.venue_qty == 0.0 ? 0.0 : p.sample->fill.price;
    if (p.sample->fill.kind == InstrumentKind::kOption) {
      if (!options.empty()) options += ',';
      options += R"({"s":)";
      segmentd::json::append_string(options, venue_symbol(Venue::kBinance, *p.sample));
      options += R"(,"c":)";
      dec(options, p.venue_qty);
      options += R"(,"p":)";
      dec(options, p.venue_qty * mark_of(p));
      options += R"(,"a":)";
      dec(options, entry);
      options += '}';
      continue;
    }
    if (!futures.empty()) futures += ',';
    futures += R"({"s":)";
    segmentd::json::append_string(futures, venue_symbol(Venue::kBinance, *p.sample));
    futures += R"(,"pa":)";
    dec(futures, p.venue_qty);
    futures += R"(,"ep":)";
    dec(futures, entry);
    futures += R"(,"bep":)";
    dec(futures, entry);
    futures += R"(,"cr":"0","up":"0","mt":"cross","iw":"0","ps":"BOTH"})";
  }
  std::vector<std::string> out;
  if (!futures.empty())
    out.push_back(str_cat(R"({"e":"ACCOUNT_UPDATE","E":)", now_ms + 1, R"(,"T":)", now_ms,
                          R"(,"a":{"m":"ORDER","B":[{"a":"USDT","wb":"1000000","cw":"1000000","bc":"0"}],"P":[)",
                          futures, "]}}"));
  if (!options.empty())
    out.push_back(str_cat(R"({"e":"BALANCE_POSITION_UPDATE","E":)", now_ms + 1, R"(,"T":)", now_ms,
                          R"(,"m":"ORDER","B":[{"a":"USDT","b":"1000000.00000000","bc":"0"}],"P":[)", options, "]}"));
  return out;
}

//! Binance's REST positions: /fapi/v2/positionRisk (every futures symbol's row, flat ones too,
//! strings but updateTime), or /eapi/v1/position (the open options positions).
std::string binance_position_risk(std::span<const SimPosition> positions) {
  std::string m = "[";
  bool first = true;
  for (const SimPosition& p : positions) {
    const bool option = p.sample->fill.kind == InstrumentKind::kOption;
    if (option && p.venue_qty == 0.0) continue;
    const double mark = mark_of(p);
    const double entry = p.venue_qty == 0.0 ? 0.0 : p.sample->fill.price;
    if (!first) m += ',';
    first = false;
    m += R"({"symbol":)";
    segmentd::json::append_string(m, venue_symbol(Venue::kBinance, *p.sample));
    if (option) {
      const segmentd::Fill& f = p.sample->fill;
      m += R"(,"side":)";
      m += p.venue_qty > 0 ? R"("LONG")" : R"("SHORT")";
      m += R"(,"quantity":)";
      dec(m, p.venue_qty);
      m += R"(,"reducibleQty":"0","markValue":)";
      dec(m, p.venue_qty * mark);
      m += R"(,"ror":"0","unrealizedPNL":"0","markPrice":)";
      dec(m, mark);
      m += R"(,"strikePrice":)";
      dec(m, f.strike);
      m += R"(,"positionCost":)";
      dec(m, p.venue_qty * entry);
      m += str_cat(R"(,"expiryDate":)", f.expiry_ns / 1'000'000, R"(,"priceScale":2,"quantityScale":2,"optionSide":)",
                   f.option_type == segmentd::OptionType::kPut ? R"("PUT")" : R"("CALL")",
                   R"(,"quoteAsset":"USDT","entryPrice":)");
      dec(m, entry);
      m += str_cat(R"(,"time":)", f.venue_ns / 1'000'000, "}");
      continue;
    }
    m += R"(,"positionAmt":)";
    dec(m, p.venue_qty);
    m += R"(,"entryPrice":)";
    dec(m, entry);
    m += R"(,"breakEvenPrice":"0.0","markPrice":)";
    dec(m, mark);
    m +=
        R"(,"unRealizedProfit":"0.00000000","liquidationPrice":"0","leverage":"20","maxNotionalValue":"25000000","marginType":"cross","isolatedMargin":"0.00000000","isAutoAddMargin":"false","positionSide":"BOTH","notional":)";
    dec(m, p.venue_qty * mark);
    m += str_cat(R"(,"isolatedWallet":"0","updateTime":)", p.sample->fill.venue_ns / 1'000'000, "}");
  }
  m += "]";
  return m;
}

//! Bybit: the position topic's push (the positions that changed, flat ones with side "" and size
//! "0"), or, for a snapshot, the /v5/position/list answer of every open position (one page; the
//! categories the server is asked for are filtered by the caller).
std::string bybit_positions(std::span<const SimPosition> positions, std::int64_t now_ms, bool snapshot) {
  std::string rows;
  for (const SimPosition& p : positions) {
    if (snapshot && p.venue_qty == 0.0) continue;
    const segmentd::Fill& f = p.sample->fill;
    const bool option = f.kind == InstrumentKind::kOption;
    const double mark = mark_of(p);
    const double mark_usd = option ? mark * f.underlying_price : mark;
    if (!rows.empty()) rows += ',';
    rows += str_cat(R"({"positionIdx":0,"tradeMode":0,"riskId":1,"riskLimitValue":"2000000","symbol":")",
                    venue_symbol(Venue::kBybit, *p.sample), R"(","side":")",
                    p.venue_qty > 0   ? "Buy"
                    : p.venue_qty < 0 ? "Sell"
                                      : "",
                    R"(","size":)");
    dec(rows, std::abs(p.venue_qty));
    rows += snapshot ? R"(,"avgPrice":)" : R"(,"entryPrice":)";
    dec(rows, option ? f.price * f.underlying_price : f.price);
    rows += R"(,"positionValue":)";
    dec(rows, std::abs(p.venue_qty) * mark_usd);
    rows += R"(,"leverage":"10","markPrice":)";
    dec(rows, mark_usd);
    rows += str_cat(R"(,"liqPrice":"","positionIM":"0","positionMM":"0","unrealisedPnl":"0","curRealisedPnl":"0",)",
                    R"("cumRealisedPnl":"0","positionStatus":"Normal","createdTime":")", now_ms - 60'000,
                    R"(","updatedTime":")", snapshot ? now_ms : f.venue_ns / 1'000'000, R"(","seq":)", p.sample->seq,
                    R"(,"isReduceOnly":false)",
                    snapshot ? std::string() : str_cat(R"(,"category":")", option ? "option" : "linear", "\""), "}");
  }
  if (snapshot)
    return str_cat(R"({"retCode":0,"retMsg":"OK","result":{"list":[)", rows,
                   R"(],"nextPageCursor":"","category":"linear"},"retExtInfo":{},"time":)", now_ms, "}");
  return str_cat(R"({"id":"sim-position-)", now_ms, R"(","topic":"position","creationTime":)", now_ms, R"(,"data":[)",
                 rows, "]}");
}

}  // namespace

double position_base(Venue venue, const SimPosition& p) {
  const segmentd::Fill& f = p.sample->fill;
  const bool option = f.kind == InstrumentKind::kOption;
  const bool btc = base_of(*p.sample) == "BTC";
  switch (venue) {
    case Venue::kDeribit: return option ? p.venue_qty : p.venue_qty / mark_of(p);
    case Venue::kOkx:
      if (f.kind == InstrumentKind::kFuture) return p.venue_qty * (btc ? 100.0 : 10.0) / mark_of(p);
      return p.venue_qty * (btc ? 0.01 : 0.1);
    default: return p.venue_qty;
  }
}

std::vector<std::string> encode_positions(Venue venue, std::span<const SimPosition> positions, std::string_view account,
                                          std::int64_t now_ms, bool snapshot, std::int64_t request_id,
                                          std::span<const VenueFill> fills) {
  switch (venue) {
    case Venue::kDeribit: return deribit_positions(positions, now_ms, snapshot, request_id, fills);
    case Venue::kBinance:
      return snapshot ? std::vector<std::string>{binance_position_risk(positions)}
                      : binance_account_update(positions, now_ms);  // futures or options
    case Venue::kBybit: return {bybit_positions(positions, now_ms, snapshot)};
    case Venue::kHyperliquid: return {hyperliquid_positions(positions, account, now_ms)};
    case Venue::kOkx: return okx_positions(positions, now_ms, snapshot);
    default: return {};
  }
}

std::string encode_fill_message(Venue venue, std::span<const VenueFill> fills, std::string_view account,
                                bool snapshot) {
  std::string m;
  switch (venue) {
    case Venue::kDeribit:
    case Venue::kNative:
      m = R"({"jsonrpc":"2.0","method":"subscription","params":{"channel":"user.trades.any.any.raw","data":[)";
      for (std::size_t i = 0; i < fills.size(); ++i) {
        if (i > 0) m += ',';
        deribit_trade(m, fills[i]);
      }
      m += "]}}";
      return m;
    case Venue::kOkx:
      m = R"({"arg":{"channel":"orders","instType":"ANY","uid":"614488474791936"},"data":[)";
      for (std::size_t i = 0; i < fills.size(); ++i) {
        if (i > 0) m += ',';
        okx_order(m, fills[i]);
      }
      m += "]}";
      return m;
    case Venue::kBinance:
      // One ORDER_TRADE_UPDATE per execution: Binance does not batch user-data events.
      return fills.empty() ? std::string() : binance_order(fills.front());
    case Venue::kBybit: {
      const std::int64_t t = fills.empty() ? 0 : ms(fills.front().fill);
      m = str_cat(R"({"topic":"execution","id":"sim_)", fills.empty() ? 0 : fills.front().seq, R"(","creationTime":)",
                  t, R"(,"data":[)");
      for (std::size_t i = 0; i < fills.size(); ++i) {
        if (i > 0) m += ',';
        bybit_execution(m, fills[i]);
      }
      m += "]}";
      return m;
    }
    case Venue::kHyperliquid:
      m = str_cat(R"({"channel":"userFills","data":{)", snapshot ? R"("isSnapshot":true,)" : "", R"("user":)");
      segmentd::json::append_string(m, account);
      m += R"(,"fills":[)";
      for (std::size_t i = 0; i < fills.size(); ++i) {
        if (i > 0) m += ',';
        hyperliquid_fill(m, fills[i]);
      }
      m += "]}}";
      return m;
  }
  return m;
}

std::string history_group(Venue venue, const VenueFill& f) {
  if (venue == Venue::kDeribit) return base_of(f);
  if (venue == Venue::kBybit) return f.fill.kind == InstrumentKind::kOption ? "option" : "linear";
  return venue_symbol(venue, f);
}

std::string encode_history_record(Venue venue, const VenueFill& vf, std::string_view bill_id) {
  std::string m;
  switch (venue) {
    case Venue::kDeribit:
    case Venue::kNative: deribit_trade(m, vf); return m;
    case Venue::kHyperliquid: hyperliquid_fill(m, vf); return m;
    case Venue::kBybit: {
      // The execution topic's record without its leading category.
      bybit_execution(m, vf);
      const std::size_t at = m.find(",\"symbol\"");
      return "{" + m.substr(at + 1);
    }
    case Venue::kOkx: {
      // The fill fields of the orders push, in the REST fill's shape (alphabetical as OKX lists).
      std::string order;
      okx_order(order, vf);
      simdjson::dom::parser parser;
      simdjson::dom::object o = parser.parse(order).get_object().value();
      auto text = [&](std::string_view key) {
        std::string_view v;
        return o[key].get(v) ? std::string() : std::string(v);
      };
      m = "{";
      bool first = true;
      auto field = [&](std::string_view key, const std::string& value) {
        if (!first) m += ',';
        first = false;
        segmentd::json::append_string(m, key);
        m += ':';
        segmentd::json::append_string(m, value);
      };
      field("billId", std::string(bill_id));
      field("clOrdId", "");
      field("execType", text("execType"));
      field("fee", text("fillFee"));
      field("feeCcy", text("fillFeeCcy"));
      field("fillFwdPx", text("fillFwdPx"));
      field("fillIdxPx", text("fillIdxPx"));
      field("fillMarkPx", text("fillMarkPx"));
      field("fillMarkVol", "");
      field("fillPnl", "0");
      field("fillPx", text("fillPx"));
      field("fillPxUsd", "");
      field("fillPxVol", text("fillPxVol"));
      field("fillSz", text("fillSz"));
      field("fillTime", text("fillTime"));
      field("instId", text("instId"));
      field("instType", text("instType"));
      field("ordId", text("ordId"));
      field("posSide", "net");
      field("side", text("side"));
      field("subType", text("side") == "buy" ? "1" : "2");
      field("tag", "");
      field("tradeId", text("tradeId"));
      field("ts", text("fillTime"));
      m += '}';
      return m;
    }
    case Venue::kBinance: {
      if (vf.fill.kind == InstrumentKind::kOption) {
        // A trade of GET /eapi/v1/userTrades: `id` unique across symbols, `tradeId` the
        // stream's fi[].t (a number here), quantity unsigned.
        const segmentd::Fill& f = vf.fill;
        m = str_cat(R"({"id":)", binance_options_history_id(vf.trade_id), R"(,"tradeId":)", vf.trade_id,
                    R"(,"orderId":)", 4'611'869'636'869'000'000ULL + vf.seq, R"(,"symbol":)");
        segmentd::json::append_string(m, venue_symbol(Venue::kBinance, vf));
        m += R"(,"price":)";
        dec(m, binance_option_price(f));
        m += R"(,"quantity":)";
        dec(m, binance_option_qty(f));
        m += R"(,"fee":)";
        dec(m, round_to(std::isnan(f.fee_usd) ? 0.0 : f.fee_usd, 1e-8));
        m += str_cat(R"(,"realizedProfit":"0.00000000","side":")", f.side == Side::kBuy ? "BUY" : "SELL",
                     R"(","type":"LIMIT","volatility":)");
        dec(m, std::isnan(f.iv) ? 0.0 : f.iv);
        m += str_cat(R"(,"liquidity":")", f.liquidity == Liquidity::kMaker ? "MAKER" : "TAKER",
                     R"(","quoteAsset":"USDT","time":)", ms(f), R"(,"priceScale":1,"quantityScale":2,"optionSide":")",
                     f.option_type == OptionType::kPut ? "PUT" : "CALL", "\"}");
        return m;
      }
      const std::string event = binance_order(vf);
      simdjson::dom::parser parser;
      simdjson::dom::object o = parser.parse(event)["o"].get_object().value();
      auto text = [&](std::string_view key) {
        std::string_view v;
        return o[key].get(v) ? std::string() : std::string(v);
      };
      const std::string side = text("S");
      const bool maker = o["m"].get_bool().value();
      m = R"({"buyer":)";
      m += side == "BUY" ? "true" : "false";
      m += R"(,"commission":)";
      segmentd::json::append_string(m, text("n"));
      m += R"(,"commissionAsset":)";
      segmentd::json::append_string(m, text("N"));
      m += str_cat(R"(,"id":)", vf.trade_id, R"(,"maker":)", maker ? "true" : "false", R"(,"orderId":)",
                   o["i"].get_int64().value(), R"(,"price":)");
      segmentd::json::append_string(m, text("L"));
      m += R"(,"qty":)";
      segmentd::json::append_string(m, text("l"));
      m += R"(,"quoteQty":"0","realizedPnl":"0","side":)";
      segmentd::json::append_string(m, side);
      m += R"(,"positionSide":"BOTH","symbol":)";
      segmentd::json::append_string(m, text("s"));
      m += str_cat(R"(,"time":)", ms(vf.fill), "}");
      return m;
    }
  }
  return m;
}

std::string encode_bad_message(Venue venue, int kind, const VenueFill& sample) {
  const std::string good = encode_fill_message(venue, std::span<const VenueFill>(&sample, 1), "0x0");
  switch (kind % 3) {
    case 0: return good.substr(0, good.size() / 2);  // truncated mid-message
    case 1: {
      // The same message with the trade's price turned into an object: a wrong type.
      std::string bad = good;
      // Binance options: the trade's price, inside "fi" (the order's own "p" comes before it).
      const std::size_t trades = bad.find("\"fi\":[");
      for (std::string_view key : {"\"price\":", "\"fillPx\":", "\"L\":", "\"execPrice\":", "\"px\":", "\"p\":"}) {
        const std::size_t at = bad.find(key, key == "\"p\":" && trades != std::string::npos ? trades : 0);
        if (at == std::string::npos) continue;
        const std::size_t start = at + key.size();
        std::size_t end = start;
        if (bad[end] == '"')
          end = bad.find('"', end + 1) + 1;
        else
          while (end < bad.size() && bad[end] != ',' && bad[end] != '}') ++end;
        bad.replace(start, end - start, "{\"oops\":1}");
        return bad;
      }
      return "[]";
    }
    default: return "this is not json at all";
  }
}

}  // namespace fillsim
