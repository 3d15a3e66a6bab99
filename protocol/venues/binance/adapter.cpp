#include "protocol/venues/binance/adapter.h"

#include "core/str_cat.h"
#include "protocol/fill_checks.h"
#include "protocol/venues/adapter_support.h"
#include "simdjson.h"

namespace segmentd {
namespace {

using namespace adapter;

class BinanceAdapter final : public JsonAdapter {
 public:
  explicit BinanceAdapter(AdapterContext ctx) : JsonAdapter(Venue::kBinance, std::move(ctx), true) {}

  //! The REST snapshot (control::binance_positions_path): an array of rows, {"symbol",
  //! "positionAmt", "entryPrice", "markPrice", "positionSide", ...} for futures (USDⓈ-M in the
  //! coin, COIN-M in contracts; hedge mode's LONG and SHORT rows of a symbol add up to its
  //! position), {"symbol", "quantity", "entryPrice", "markPrice", ...} for options. Symbols we
  //! cannot read are skipped (no fill of ours is on them).
  bool decode_rest_positions(std::string_view body, bool last, std::int64_t snapshot_ns, std::int64_t call_ns,
                             std::int64_t recv_ns, ParseError& err) override {
    positions_.clear();
    simdjson::dom::parser parser;
    simdjson::dom::element root;
    if (auto e = parser.parse(body.data(), body.size()).get(root); e)
      return fail(err, ParseErrorReason::kMalformedJson, "positions: not JSON");
    simdjson::dom::array rows;
    if (root.get(rows)) {
      std::int64_t code = 0;
      if (root["code"].get(code)) code = 0;
      return fail(err, ParseErrorReason::kUnknownMessage, str_cat("positions: venue error ", code));
    }
    for (simdjson::dom::element row : rows) {
      std::string_view symbol, amount_text, entry_text, mark_text;
      if (row["symbol"].get(symbol) || (row["positionAmt"].get(amount_text) && row["quantity"].get(amount_text))) {
        positions_.clear();
        return fail(err, ParseErrorReason::kMissingField, "positions: a row without symbol or positionAmt/quantity");
      }
      double amount = kNaN, entry = kNaN, mark = kNaN;
      if (!parse_decimal(amount_text, amount)) {
        positions_.clear();
        return fail(err, ParseErrorReason::kBadValue, "positions: positionAmt/quantity is not a decimal");
      }
      if (!row["entryPrice"].get(entry_text)) parse_decimal(entry_text, entry);
      // The row's last update ("updateTime" futures, "time" options; ms): the venue answers after
      // the call was sent, and a fill in between is in the row. The row is as of the later of the
      // two, so that such a fill does not move the book again when it arrives.
      std::int64_t updated_ms = 0;
      if (row["updateTime"].get(updated_ms) && row["time"].get(updated_ms)) updated_ms = 0;
      const std::int64_t as_of_ns =
          updated_ms > 0 && updated_ms < kMaxMs ? std::max(call_ns, updated_ms * 1'000'000) : call_ns;
      if (!row["markPrice"].get(mark_text)) parse_decimal(mark_text, mark);
      ParseError ignored;
      const InstrumentInfo* ins = instruments_.find(symbol, ignored);
      if (ins == nullptr) continue;
      double qty = amount;
      if (!coins(*ins, amount, mark > 0 ? mark : entry, qty, err)) {
        positions_.clear();
        return false;
      }
      Fill* same = nullptr;
      for (Fill& r : positions_)
        if (r.instrument == ins->id) same = &r;
      if (same != nullptr) {  // hedge mode: the other side of the same symbol
        same->qty += qty;
        same->venue_ns = std::max(same->venue_ns, as_of_ns);
        same->notional_usd = std::isfinite(same->underlying_price) ? std::abs(same->qty) * same->underlying_price : 0.0;
        continue;
      }
      VenuePosition p;
      p.account = account_;
      p.instrument = ins;
      p.qty = qty;
      p.entry_price = entry > 0 ? entry : kNaN;
      p.mark_price = mark > 0 ? mark : kNaN;
      p.venue_ns = as_of_ns;
      add_position(p, recv_ns);
    }
    if (last) end_positions(account_, snapshot_ns, recv_ns);
    return true;
  }

 protected:
  bool decode_document(od::document& doc, std::string_view, std::int64_t recv_ns, std::vector<Fill>& out,
                       DecodeOutcome& outcome, ParseError& err) override {
    od::object root;
    if (auto e = doc.get_object().get(root); e) return fail_root(doc, e, err);
    od::value v;
    bool found = false;
    if (!find_field(root, "e", v, found, err)) return false;
    if (found) {
      if (!decode_event(root, v, recv_ns, out, outcome, err)) return false;
      return finish_object(root, err);
    }
    // Combined-stream envelope {"stream": ..., "data": {event}}.
    if (!find_field(root, "data", v, found, err)) return false;
    if (found) {
      od::object event;
      if (auto e = v.get_object().get(event); e) return fail_json(err, e, "'data' (object)");
      od::value ev;
      if (!find_field(event, "e", ev, found, err)) return false;
      if (!found) return fail(err, ParseErrorReason::kMissingField, "stream envelope 'data' without event type 'e'");
      if (!decode_event(event, ev, recv_ns, out, outcome, err)) return false;
      if (!finish_object(event, err)) return false;
      return finish_object(root, err);
    }
    if (!find_field(root, "id", v, found, err)) return false;
    if (found) {
      if (!get_int(v, "id", outcome.request_id, err)) return false;
    }
    if (!find_field(root, "result", v, found, err)) return false;
    if (found) {
      outcome.kind = MessageKind::kSubscriptionAck;
      outcome.reason = "response to a SUBSCRIBE request";
      return finish_object(root, err);
    }
    bool has_error = false;
    if (!find_field(root, "error", v, found, err)) return false;
    if (found) {
      has_error = true;
      od::object error;
      if (auto e = v.get_object().get(error); e) return fail_json(err, e, "'error' (object)");
      if (!find_field(error, "code", v, found, err)) return false;
      if (found && !get_int(v, "error.code", outcome.venue_code, err)) return false;
      if (!finish_object(error, err)) return false;
    } else {
      if (!find_field(root, "code", v, found, err)) return false;
      if (found) {
        has_error = true;
        if (!get_int(v, "code", outcome.venue_code, err)) return false;
      }
    }
    if (has_error) {
      outcome.kind = MessageKind::kVenueError;
      outcome.success = false;
      outcome.reason = "error response (see venue_code)";
      return finish_object(root, err);
    }
    return fail(err, ParseErrorReason::kUnknownMessage, "neither an event ('e') nor a response ('result', 'error')");
  }

 private:
  //! aggTrade {s, p, T, ...}: p → price at T (ms). markPriceUpdate {s, p, i, E, ...}: p → mark,
  //! i → the underlying's index, at the event time E.
  bool decode_market_data(od::object& event, bool mark, std::int64_t recv_ns, ParseError& err) {
    std::string_view symbol;
    double p = kNaN, index = kNaN;
    bool has_p = false, has_index = false;
    std::int64_t time_ms = kNoTime;
    // "e" was read already: walk the event from its start.
    if (auto e = event.reset().error(); e) return fail_json(err, e, "market-data event");
    for (auto field_result : event) {
      od::field field;
      if (auto e = std::move(field_result).get(field); e) return fail_json(err, e, "market-data event");
      const std::string_view key = raw_key(field);
      if (key == "s") {
        if (!get_string(field, "s", symbol, err)) return false;
      } else if (key == "p") {
        if (!get_decimal_string(field.value(), "p", p, has_p, err)) return false;
      } else if (mark && key == "i") {
        if (!get_decimal_string(field.value(), "i", index, has_index, err)) return false;
      } else if (key == (mark ? "E" : "T")) {
        if (!get_int(field, key, time_ms, err)) return false;
      }
    }
    if (symbol.empty()) return fail(err, ParseErrorReason::kMissingField, "market-data event without 's'");
    if (!has_p) return fail(err, ParseErrorReason::kMissingField, "market-data event without 'p'");
    if (!(p > 0) || (has_index && !(index > 0)))
      return fail(err, ParseErrorReason::kBadValue, "market-data prices must be positive");
    const InstrumentInfo* ins = instruments_.find(symbol, err);
    if (ins == nullptr) return false;
    PriceRecord r;
    r.recv_ns = recv_ns;
    r.venue_ns = time_ms > 0 ? time_ms * 1'000'000 : 0;
    r.venue = Venue::kBinance;
    r.instrument = ins->id;
    r.underlying = ins->underlying;
    (mark ? r.mark_price : r.price) = p;
    if (has_index) r.underlying_price = index;
    market_.push_back(r);
    return true;
  }

  bool decode_event(od::object& event, od::value& type_value, std::int64_t recv_ns, std::vector<Fill>& out,
                    DecodeOutcome& outcome, ParseError& err) {
    std::string_view type;
    if (!get_string(type_value, "e", type, err)) return false;
    if (type == "ORDER_TRADE_UPDATE") {
      const std::size_t before = out.size();
      futures_reason_ = {};
      od::value o;
      bool found = false;
      if (!find_field(event, "o", o, found, err)) return false;
      if (!found) return fail(err, ParseErrorReason::kMissingField, "ORDER_TRADE_UPDATE without 'o'");
      od::json_type t;
      if (auto e = o.type().get(t); e) return fail_json(err, e, "'o'");
      if (t == od::json_type::object) {
        od::object order;
        if (auto e = o.get_object().get(order); e) return fail_json(err, e, "'o'");
        if (!decode_futures_order(order, recv_ns, out, outcome, err)) return false;
      } else if (t == od::json_type::array) {
        od::array orders;
        if (auto e = o.get_array().get(orders); e) return fail_json(err, e, "'o'");
        for (auto order_result : orders) {
          od::object order;
          if (auto e = order_result.get_object().get(order); e) return fail_json(err, e, "options order (object)");
          if (!decode_options_order(order, recv_ns, out, outcome, err)) return false;
        }
      } else {
        return fail(err, ParseErrorReason::kWrongType, "'o' must be an object (futures) or an array (options)");
      }
      const bool any = out.size() > before;
      outcome.kind = any ? MessageKind::kFills : MessageKind::kOrderUpdate;
      if (!futures_reason_.empty()) {
        outcome.reason = futures_reason_;  // the futures order's execution type says what it was
      } else {
        outcome.reason =
            any ? "ORDER_TRADE_UPDATE with executions" : "ORDER_TRADE_UPDATE without an execution (no fills)";
      }
      return true;
    }
    if (type == "aggTrade" || type == "markPriceUpdate") {
      if (!decode_market_data(event, type == "markPriceUpdate", recv_ns, err)) return false;
      outcome.kind = MessageKind::kMarketData;
      outcome.reason = "public market data (aggregate trades, mark and index prices) for the price tape";
      return true;
    }
    if (type == "TRADE_LITE") {
      outcome.kind = MessageKind::kIgnored;
      outcome.reason = "TRADE_LITE: duplicate of ORDER_TRADE_UPDATE x=TRADE, which also carries the fee";
      return true;
    }
    if (type == "listenKeyExpired") {
      outcome.kind = MessageKind::kVenueError;
      outcome.success = false;
      outcome.reason = "listenKeyExpired: create a new listenKey and reconnect";
      return true;
    }
    if (type == "ACCOUNT_UPDATE" || type == "BALANCE_POSITION_UPDATE") {
      const bool options_event = type == "BALANCE_POSITION_UPDATE";
      if (!decode_position_event(event, options_event, recv_ns, err)) return false;
      outcome.kind = positions_.empty() ? MessageKind::kIgnored : MessageKind::kPositions;
      outcome.reason = positions_.empty() ? "account update of balances only (funding, transfer, equity)"
                       : options_event    ? "BALANCE_POSITION_UPDATE: the options positions that changed"
                                          : "ACCOUNT_UPDATE: the positions that changed";
      return true;
    }
    if (type == "MARGIN_CALL" || type == "ACCOUNT_CONFIG_UPDATE" || type == "RISK_LEVEL_CHANGE" ||
        type == "STRATEGY_UPDATE" || type == "GRID_UPDATE" || type == "CONDITIONAL_ORDER_TRIGGER_REJECT" ||
        type == "ALGO_UPDATE" || type == "GREEK_UPDATE") {
      outcome.kind = MessageKind::kIgnored;
      outcome.reason = "account, position or algo event (not an execution)";
      return true;
    }
    outcome.kind = MessageKind::kUnknown;
    outcome.reason = "user data event type we do not know";
    return true;
  }

  //! The position events of the user-data streams: only the positions that changed, as of the
  //! transaction time T (else E). No snapshot (the REST snapshot is taken at connect).
  //!  - Futures ACCOUNT_UPDATE: {"e", "E", "T", "a": {"m": reason, "B": [balances], "P": [{"s",
  //!    "pa", "ep", "bep", "cr", "up", "mt", "iw", "ps"}]}}, `pa` signed: the coin on USDⓈ-M,
  //!    contracts on COIN-M. Binance sends it before the ORDER_TRADE_UPDATE of the same trade (the
  //!    reconciler knows the trade is inside it).
  //!  - Options BALANCE_POSITION_UPDATE: {"e", "E", "T", "m", "B": [balances], "P": [{"s", "c"
  //!    (signed quantity), "p" (value), "a" (average entry price)}]}.
  //!  - Options ACCOUNT_UPDATE (account data: equity, margin; no "a"): older versions carried the
  //!    positions in a top-level "P" of the options shape, read when present.
  bool decode_position_event(od::object& event, bool options_event, std::int64_t recv_ns, ParseError& err) {
    od::value v;
    bool found = false;
    std::int64_t t_ms = kNoTime;
    if (!find_field(event, "T", v, found, err)) return false;
    if (found && !get_int(v, "T", t_ms, err)) return false;
    if (!found) {
      if (!find_field(event, "E", v, found, err)) return false;
      if (found && !get_int(v, "E", t_ms, err)) return false;
    }
    std::int64_t venue_ns = 0;
    if (t_ms != kNoTime && !ms_to_ns(t_ms, "T", venue_ns, err)) return false;
    if (!options_event) {
      if (!find_field(event, "a", v, found, err)) return false;
      if (found) {  // futures
        od::object a;
        if (auto e = v.get_object().get(a); e) return fail_json(err, e, "'a' (object)");
        od::value pv;
        if (!find_field(a, "P", pv, found, err)) return false;
        if (found && !decode_position_list(pv, false, venue_ns, recv_ns, err)) return false;
        return finish_object(a, err);
      }
    }
    if (!find_field(event, "P", v, found, err)) return false;
    if (!found) {
      if (options_event) return fail(err, ParseErrorReason::kMissingField, "BALANCE_POSITION_UPDATE without 'P'");
      return true;  // options account data: equity and margin only
    }
    return decode_position_list(v, true, venue_ns, recv_ns, err);
  }

  //! A "P" list: futures items {"s", "pa", "ep", "ps", ...}, options items {"s", "c", "a", ...}.
  bool decode_position_list(od::value& list_value, bool options_shape, std::int64_t venue_ns, std::int64_t recv_ns,
                            ParseError& err) {
    od::array list;
    if (auto e = list_value.get_array().get(list); e) return fail_json(err, e, "'P' (array)");
    const std::string_view qty_key = options_shape ? "c" : "pa";
    const std::string_view entry_key = options_shape ? "a" : "ep";
    for (auto item_result : list) {
      od::object pos;
      if (auto e = item_result.get_object().get(pos); e) return fail_json(err, e, "position (object)");
      std::string_view symbol, side;
      double amount = kNaN, entry = kNaN;
      for (auto field_result : pos) {
        od::field field;
        if (auto e = std::move(field_result).get(field); e) return fail_json(err, e, "position");
        const std::string_view key = raw_key(field);
        od::value fv = field.value();
        bool present = false;
        if (key == "s") {
          if (!get_string(fv, "P.s", symbol, err)) return false;
        } else if (key == qty_key) {
          if (!get_decimal_string(fv, options_shape ? "P.c" : "P.pa", amount, present, err)) return false;
        } else if (key == entry_key) {
          if (!get_decimal_string(fv, options_shape ? "P.a" : "P.ep", entry, present, err)) return false;
        } else if (key == "ps" && !options_shape) {
          if (!get_string(fv, "P.ps", side, err)) return false;
        }
      }
      constexpr std::string_view kWhat = "position";
      if (!require_text(symbol, kWhat, "s", err) || !require_number(amount, kWhat, qty_key, err)) return false;
      if (!side.empty() && side != "BOTH" && side != "LONG" && side != "SHORT")
        return fail(err, ParseErrorReason::kBadValue, "position 'ps' must be BOTH, LONG or SHORT");
      const InstrumentInfo* ins = instruments_.find(symbol, err);
      if (ins == nullptr) return false;
      double qty = amount;
      // COIN-M's event has no mark price: its contracts become coins at the entry price, so that
      // the record's USD size (coins × its price) is exactly contracts × contract value.
      if (!coins(*ins, amount, entry, qty, err)) return false;
      VenuePosition p;
      p.account = account_;
      p.instrument = ins;
      p.qty = qty;
      p.entry_price = entry;
      p.venue_ns = venue_ns;
      add_position(p, recv_ns);
    }
    return true;
  }

  //! A venue amount in the instrument's base coin: an inverse instrument's contracts (USD) at
  //! `px`, which must be positive unless the amount is 0; otherwise contracts × contract value.
  static bool coins(const InstrumentInfo& ins, double amount, double px, double& out, ParseError& err) {
    if (!ins.inverse) {
      out = amount * ins.contract_value;
      return true;
    }
    if (amount == 0.0) {
      out = 0.0;
      return true;
    }
    if (!(px > 0)) return fail(err, ParseErrorReason::kMissingField, "inverse position without a price");
    out = amount * ins.contract_value / px;
    return true;
  }

  bool decode_futures_order(od::object& order, std::int64_t recv_ns, std::vector<Fill>& out, DecodeOutcome& outcome,
                            ParseError& err) {
    std::string_view symbol, side, exec_type, fee_asset;
    double last_qty = kNaN, last_price = kNaN, fee = kNaN;
    bool present = false, has_fee = false;
    bool maker = false, has_maker = false;
    std::int64_t trade_time = kNoTime, trade_id = -1, order_id = -1;
    for (auto field_result : order) {
      od::field field;
      if (auto e = std::move(field_result).get(field); e) return fail_json(err, e, "'o'");
      const std::string_view key = raw_key(field);
      od::value v = field.value();
      bool ok = true;
      if (key.size() != 1) continue;
      switch (key[0]) {
        case 's': ok = get_string(v, "o.s", symbol, err); break;
        case 'S': ok = get_string(v, "o.S", side, err); break;
        case 'x': ok = get_string(v, "o.x", exec_type, err); break;
        case 'l': ok = get_decimal_string(v, "o.l", last_qty, present, err); break;
        case 'L': ok = get_decimal_string(v, "o.L", last_price, present, err); break;
        case 'n':
          ok = get_decimal_string(v, "o.n", fee, present, err);
          has_fee = true;
          break;
        case 'N': ok = get_string(v, "o.N", fee_asset, err); break;
        case 'T': ok = get_int(v, "o.T", trade_time, err); break;
        case 't': ok = get_int(v, "o.t", trade_id, err); break;
        case 'i': ok = get_int(v, "o.i", order_id, err); break;
        case 'm':
          ok = get_bool(v, "o.m", maker, err);
          has_maker = ok;
          break;
        default: break;
      }
      if (!ok) return false;
    }
    if (exec_type.empty()) return fail(err, ParseErrorReason::kMissingField, "order without execution type 'o.x'");
    // "TRADE" is an execution of the account's order; "CALCULATED" is a liquidation execution:
    // the venue closed (part of) the account's position with a market order of its own, which is
    // a real fill of the account. Every other execution type changes an order without a trade.
    const bool liquidation = exec_type == "CALCULATED";
    if (exec_type != "TRADE" && !liquidation) {
      ++outcome.skipped;
      futures_reason_ = non_fill_reason(exec_type);
      return true;
    }
    futures_reason_ = liquidation ? "ORDER_TRADE_UPDATE x=CALCULATED: liquidation execution (a taker fill)"
                                  : "ORDER_TRADE_UPDATE x=TRADE: execution";
    // A liquidation execution without a trade id (0 or absent) is keyed by its order id, which the
    // venue gives every liquidation order.
    const bool keyed_by_order = liquidation && trade_id <= 0 && order_id > 0;
    // Presence first, then values (fill_checks.h), as every adapter does.
    constexpr std::string_view kWhat = "trade";
    Fill f;
    if (!require_text(symbol, kWhat, "o.s", err) || !require_number(last_qty, kWhat, "o.l", err) ||
        !require_number(last_price, kWhat, "o.L", err) ||
        !require_present(trade_id >= 0 || keyed_by_order, kWhat, "o.t", err) ||
        !require_present(trade_time != kNoTime, kWhat, "o.T", err) || !require_positive(last_qty, kWhat, "o.l", err) ||
        !require_positive(last_price, kWhat, "o.L", err) ||
        !require_time_ms(trade_time, kWhat, "o.T", f.venue_ns, err) ||
        !adapter::side(side, "o.S", "BUY", "SELL", f.side, err))
      return false;
    f.recv_ns = recv_ns;
    f.venue = Venue::kBinance;
    f.account = account_;
    if (liquidation) {
      f.liquidity = Liquidity::kTaker;  // the liquidation engine's market order takes liquidity
    } else if (has_maker) {
      f.liquidity = maker ? Liquidity::kMaker : Liquidity::kTaker;
    }
    const InstrumentInfo* ins = instruments_.find(symbol, err);
    if (ins == nullptr) return false;
    set_instrument(f, *ins);
    f.price = last_price;
    // USDⓈ-M quantities are in the base asset (contract value 1); COIN-M in USD contracts.
    f.qty = ins->inverse ? last_qty * ins->contract_value / last_price : last_qty * ins->contract_value;
    if (!set_notional(f, *ins)) return fail(err, ParseErrorReason::kBadSymbol, "instrument price is not in USD");
    // N and n "will not push if no commission" (Binance docs): without n the trade paid none.
    if (!has_fee) {
      f.fee_usd = 0.0;
    } else if (!std::isnan(fee)) {
      f.fee_usd = fee_to_usd(fee, fee_asset, *ins, base_usd_price(f, *ins, kNaN));
    }
    char digits[24];
    if (keyed_by_order) {
      f.trade_id = TradeIdHasher("binance").add(symbol).add("liquidation").add(int_text(order_id, digits)).value();
    } else {
      f.trade_id = TradeIdHasher("binance").add(symbol).add(int_text(trade_id, digits)).value();
    }
    out.push_back(f);
    return true;
  }

  bool decode_options_order(od::object& order, std::int64_t recv_ns, std::vector<Fill>& out, DecodeOutcome& outcome,
                            ParseError& err) {
    std::string_view symbol;
    double order_qty = kNaN;
    bool present = false;
    bool fills_pending = false;
    const std::size_t first = out.size();
    for (auto field_result : order) {
      od::field field;
      if (auto e = std::move(field_result).get(field); e) return fail_json(err, e, "options order");
      const std::string_view key = raw_key(field);
      od::value v = field.value();
      bool ok = true;
      if (key == "s") {
        ok = get_string(v, "o[].s", symbol, err);
      } else if (key == "q") {
        ok = get_decimal_string(v, "o[].q", order_qty, present, err);
      } else if (key == "fi") {
        if (symbol.empty() || std::isnan(order_qty)) {
          fills_pending = true;
        } else {
          ok = decode_options_fills(v, symbol, order_qty, recv_ns, out, outcome, err);
        }
      }
      if (!ok) return false;
    }
    if (fills_pending) {
      if (symbol.empty()) return fail(err, ParseErrorReason::kMissingField, "options order without symbol 's'");
      if (std::isnan(order_qty))
        return fail(err, ParseErrorReason::kMissingField, "options order without quantity 'q'");
      if (auto e = order.reset().error(); e) return fail_json(err, e, "options order");
      od::value v;
      if (auto e = order.find_field_unordered("fi").get(v); e) return fail_json(err, e, "'fi'");
      if (!decode_options_fills(v, symbol, order_qty, recv_ns, out, outcome, err)) return false;
      if (!finish_object(order, err)) return false;
    }
    if (out.size() == first) ++outcome.skipped;
    return true;
  }

  bool decode_options_fills(od::value& v, std::string_view symbol, double order_qty, std::int64_t recv_ns,
                            std::vector<Fill>& out, DecodeOutcome& outcome, ParseError& err) {
    if (!(order_qty != 0)) return fail(err, ParseErrorReason::kBadValue, "options order quantity 'q' is 0 (no side)");
    const InstrumentInfo* ins = instruments_.find(symbol, err);
    if (ins == nullptr) return false;
    od::array fills;
    if (auto e = v.get_array().get(fills); e) return fail_json(err, e, "'fi' (array)");
    for (auto fill_result : fills) {
      od::object obj;
      if (auto e = fill_result.get_object().get(obj); e) return fail_json(err, e, "'fi' element (object)");
      std::string_view trade_id, liquidity;
      double price = kNaN, qty = kNaN, fee = kNaN;
      bool present = false;
      std::int64_t time = kNoTime;
      for (auto field_result : obj) {
        od::field field;
        if (auto e = std::move(field_result).get(field); e) return fail_json(err, e, "'fi' element");
        const std::string_view key = raw_key(field);
        od::value fv = field.value();
        bool ok = true;
        if (key == "t")
          ok = get_string(fv, "fi[].t", trade_id, err);
        else if (key == "p")
          ok = get_decimal_string(fv, "fi[].p", price, present, err);
        else if (key == "q")
          ok = get_decimal_string(fv, "fi[].q", qty, present, err);
        else if (key == "T")
          ok = get_int(fv, "fi[].T", time, err);
        else if (key == "m")
          ok = get_string(fv, "fi[].m", liquidity, err);
        else if (key == "f")
          ok = get_decimal_string(fv, "fi[].f", fee, present, err);
        if (!ok) return false;
      }
      // Presence first, then values (fill_checks.h), as every adapter does.
      constexpr std::string_view kWhat = "options fill";
      Fill f;
      if (!require_text(trade_id, kWhat, "fi[].t", err) || !require_number(price, kWhat, "fi[].p", err) ||
          !require_number(qty, kWhat, "fi[].q", err) || !require_present(time != kNoTime, kWhat, "fi[].T", err) ||
          !require_positive(price, kWhat, "fi[].p", err) || !require_positive(qty, kWhat, "fi[].q", err) ||
          !require_time_ms(time, kWhat, "fi[].T", f.venue_ns, err))
        return false;
      f.recv_ns = recv_ns;
      f.venue = Venue::kBinance;
      f.account = account_;
      f.side = order_qty > 0 ? Side::kBuy : Side::kSell;
      if (liquidity == "MAKER") {
        f.liquidity = Liquidity::kMaker;
      } else if (liquidity == "TAKER") {
        f.liquidity = Liquidity::kTaker;
      } else if (!liquidity.empty()) {
        return fail(err, ParseErrorReason::kBadValue, "'fi[].m' must be MAKER or TAKER");
      }
      set_instrument(f, *ins);
      f.price = price;
      f.qty = qty * ins->contract_value;
      const double tape = prices_ != nullptr ? prices_->usd_price(ins->underlying) : kNaN;
      if (tape > 0) {
        f.underlying_price = tape;
        f.notional_usd = f.qty * tape;
      } else {
        f.notional_usd = f.qty * ins->strike;  // see the header: the strike stands in for the underlying
      }
      if (!std::isnan(fee)) f.fee_usd = fee;  // quote asset (USDT)
      f.trade_id = TradeIdHasher("binance").add(symbol).add(trade_id).value();
      out.push_back(f);
    }
    return true;
  }

  //! Why a USD-M order update with execution type `x` carries no fill.
  static std::string_view non_fill_reason(std::string_view x) {
    if (x == "NEW") return "ORDER_TRADE_UPDATE x=NEW: order accepted, no execution";
    if (x == "CANCELED") return "ORDER_TRADE_UPDATE x=CANCELED: order cancelled, no execution";
    if (x == "EXPIRED")
      return "ORDER_TRADE_UPDATE x=EXPIRED: order expired (time in force, post-only or self-trade prevention), no "
             "execution";
    if (x == "AMENDMENT") return "ORDER_TRADE_UPDATE x=AMENDMENT: order price or quantity modified, no execution";
    return "ORDER_TRADE_UPDATE with an execution type we do not know: treated as an order update, no fill";
  }

  static std::string_view int_text(std::int64_t v, char (&buf)[24]) {
    auto [p, ec] = std::to_chars(buf, buf + sizeof buf, v);
    return {buf, static_cast<std::size_t>(p - buf)};
  }

  std::string_view futures_reason_;  //!< static text: what the last USD-M order update was
};

}  // namespace

std::unique_ptr<VenueAdapter> make_binance_adapter(AdapterContext context) {
  return std::make_unique<BinanceAdapter>(std::move(context));
}

}  // namespace segmentd
