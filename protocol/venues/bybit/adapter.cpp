#include "protocol/venues/bybit/adapter.h"

#include "core/str_cat.h"
#include "protocol/fill_checks.h"
#include "protocol/ordered_fields.h"
#include "protocol/venues/adapter_support.h"
#include "protocol/venues/bybit/symbols.h"

namespace segmentd {
namespace {

using namespace adapter;

class BybitAdapter final : public JsonAdapter {
 public:
  explicit BybitAdapter(AdapterContext ctx) : JsonAdapter(Venue::kBybit, std::move(ctx), true) {}

  //! /v5/position/list: {"retCode":0,"result":{"category","list":[rows as the position topic's,
  //! avgPrice for entryPrice],"nextPageCursor"}}.
  bool decode_rest_positions(std::string_view body, bool last, std::int64_t snapshot_ns, std::int64_t call_ns,
                             std::int64_t recv_ns, ParseError& err) override {
    positions_.clear();
    if (snapshot_ns != rest_snapshot_ns_) {  // the first call of a snapshot: its margin starts at 0
      rest_snapshot_ns_ = snapshot_ns;
      rest_margin_usd_ = 0.0;
    }
    rest_body_.assign(body.data(), body.size());
    rest_body_.append(kJsonPadding, ' ');
    od::document doc;
    if (auto e = rest_parser_.iterate(rest_body_.data(), body.size(), rest_body_.size()).get(doc); e)
      return fail(err, ParseErrorReason::kMalformedJson, "position list: not JSON");
    od::object root;
    if (auto e = doc.get_object().get(root); e)
      return fail(err, ParseErrorReason::kWrongType, "position list: not an object");
    std::int64_t code = -1;
    bool ok = true;
    for (auto field_result : root) {
      od::field field;
      if (auto e = std::move(field_result).get(field); e) return fail_json(err, e, "position list");
      const std::string_view key = raw_key(field);
      if (key == "retCode") {
        if (!get_int(field, "retCode", code, err)) return false;
      } else if (key == "result") {
        od::object result;
        if (auto e = field.value().get_object().get(result); e) return fail_json(err, e, "'result' (object)");
        for (auto rf_result : result) {
          od::field rf;
          if (auto e = std::move(rf_result).get(rf); e) return fail_json(err, e, "'result'");
          const std::string_view rkey = raw_key(rf);
          if (rkey == "list") {
            od::array rows;
            if (auto e = rf.value().get_array().get(rows); e) return fail_json(err, e, "'result.list' (array)");
            for (auto row_result : rows) {
              od::object row;
              if (auto e = row_result.get_object().get(row); e) return fail_json(err, e, "position (object)");
              ok = ok && decode_position_row(row, true, recv_ns, err);
              if (!ok) break;
              rest_margin_usd_ += row_margin_usd_;  // NaN (a row without one) stays NaN
            }
          }
          if (!ok) break;
        }
      }
      if (!ok) break;
    }
    if (!ok || code != 0) {
      positions_.clear();
      rest_snapshot_ns_ = kNoTime;  // the snapshot is abandoned: the next call starts another
      if (!ok) return false;
      return fail(err, ParseErrorReason::kUnknownMessage, str_cat("position list: venue error ", code));
    }
    // A row is as of the call, or of its own last update when that is later: the venue answers
    // after the call was sent, and a fill in between is in its row (so a fill up to the row's
    // update time is inside it, and must not move the book again).
    for (Fill& r : positions_) r.venue_ns = std::max(call_ns, r.venue_ns);
    if (last) {
      // positionIM summed over the snapshot's rows: the margin Bybit holds against them.
      end_positions(account_, snapshot_ns, recv_ns, rest_margin_usd_);
      rest_snapshot_ns_ = kNoTime;
    }
    return true;
  }

 protected:
  bool decode_document(od::document& doc, std::string_view, std::int64_t recv_ns, std::vector<Fill>& out,
                       DecodeOutcome& outcome, ParseError& err) override {
    od::object root;
    if (auto e = doc.get_object().get(root); e) return fail_root(doc, e, err);
    od::value v;
    bool found = false;
    if (!find_field(root, "topic", v, found, err)) return false;
    if (found) {
      std::string_view topic;
      if (!get_string(v, "topic", topic, err)) return false;
      if (topic.starts_with("publicTrade.") || topic.starts_with("tickers.")) {
        if (!find_field(root, "data", v, found, err)) return false;
        if (!found) return fail(err, ParseErrorReason::kMissingField, "market-data push without 'data'");
        const bool tickers = topic.starts_with("tickers.");
        if (!decode_market_data(v, tickers, recv_ns, err)) return false;
        if (tickers) {  // a ticker's time is the push's "ts"
          if (!find_field(root, "ts", v, found, err)) return false;
          std::int64_t ts_ms = kNoTime;
          if (found && !get_int(v, "ts", ts_ms, err)) return false;
          for (PriceRecord& p : market_) p.venue_ns = ts_ms > 0 ? ts_ms * 1'000'000 : 0;
        }
        outcome.kind = MessageKind::kMarketData;
        outcome.reason = "public market data (trades, mark or index prices) for the price tape";
        return finish_object(root, err);
      }
      if (topic == "position" || topic.starts_with("position.")) {
        if (!find_field(root, "data", v, found, err)) return false;
        if (!found) return fail(err, ParseErrorReason::kMissingField, "position push without 'data'");
        od::array rows;
        if (auto e = v.get_array().get(rows); e) return fail_json(err, e, "'data' (array)");
        for (auto row_result : rows) {
          od::object row;
          if (auto e = row_result.get_object().get(row); e) return fail_json(err, e, "position (object)");
          if (!decode_position_row(row, false, recv_ns, err)) return false;
        }
        outcome.kind = MessageKind::kPositions;
        outcome.reason = "position push (the positions that changed)";
        return finish_object(root, err);
      }
      if (topic != "execution" && topic.substr(0, 10) != "execution.") {
        outcome.kind = MessageKind::kIgnored;
        outcome.reason = "topic other than execution (not a source of fills)";
        return finish_object(root, err);
      }
      const bool fast = topic.substr(0, 14) == "execution.fast";
      if (!find_field(root, "data", v, found, err)) return false;
      if (!found) return fail(err, ParseErrorReason::kMissingField, "execution push without 'data'");
      od::array execs;
      if (auto e = v.get_array().get(execs); e) return fail_json(err, e, "'data' (array)");
      const std::size_t before = out.size();
      for (auto exec_result : execs) {
        od::object exec;
        if (auto e = exec_result.get_object().get(exec); e) return fail_json(err, e, "execution (object)");
        if (!decode_execution(exec, fast, recv_ns, out, outcome, err)) return false;
      }
      if (out.size() > before) {
        outcome.kind = MessageKind::kFills;
        outcome.reason = fast ? "execution.fast push" : "execution push with trades";
      } else {
        outcome.kind = MessageKind::kIgnored;
        outcome.reason = "execution push without a trade (funding, settlement, delivery, ...)";
      }
      return finish_object(root, err);
    }
    if (!find_field(root, "op", v, found, err)) return false;
    if (!found) return fail(err, ParseErrorReason::kUnknownMessage, "neither a topic push nor an op response");
    std::string_view op;
    if (!get_string(v, "op", op, err)) return false;
    if (!find_field(root, "success", v, found, err)) return false;
    if (found && !get_bool(v, "success", outcome.success, err)) return false;
    if (!find_field(root, "req_id", v, found, err)) return false;
    if (found) {
      std::string_view req_id;
      if (!get_string(v, "req_id", req_id, err)) return false;
      std::int64_t id = 0;
      if (parse_int(req_id, id)) outcome.request_id = id;
    }
    std::string_view ret_msg;
    if (!find_field(root, "ret_msg", v, found, err)) return false;
    if (found && !get_string(v, "ret_msg", ret_msg, err)) return false;
    if (op == "auth") {
      outcome.kind = MessageKind::kAuthResult;
      outcome.reason = outcome.success ? "auth succeeded" : "auth failed";
    } else if (op == "subscribe") {
      outcome.kind = MessageKind::kSubscriptionAck;
      outcome.reason = outcome.success ? "subscribed" : "subscribe failed";
    } else if (op == "pong" || (op == "ping" && ret_msg == "pong")) {
      // Private streams answer {"op":"pong"}; public ones {"op":"ping","ret_msg":"pong"}.
      outcome.kind = MessageKind::kPong;
      outcome.reason = "pong (answer to our ping)";
    } else if (op == "unsubscribe") {
      outcome.kind = MessageKind::kIgnored;
      outcome.reason = "unsubscribed";
    } else {
      outcome.kind = MessageKind::kUnknown;
      outcome.reason = "op we do not know";
    }
    if (!outcome.success && outcome.kind != MessageKind::kAuthResult && outcome.kind != MessageKind::kSubscriptionAck) {
      outcome.kind = MessageKind::kVenueError;
      outcome.reason = "op failed (success false)";
    }
    return finish_object(root, err);
  }

 private:
  //! A position row (the topic's or the REST list's): {"symbol", "side": Buy | Sell | "" (flat),
  //! "size" (>= 0: the coin for linear and options, USD for inverse), "entryPrice" | "avgPrice",
  //! "markPrice", "positionValue", "updatedTime", "category", ...}. The topic's rows are as of
  //! updatedTime; the list's (`from_list`) as of the later of the call and updatedTime (the
  //! caller sets it).
  bool decode_position_row(od::object& row, bool from_list, std::int64_t recv_ns, ParseError& err) {
    std::string_view symbol, side;
    double size = kNaN, entry = kNaN, mark = kNaN, initial_margin = kNaN;
    std::int64_t updated_ns = 0;
    bool present = false;
    row_margin_usd_ = kNaN;
    for (auto field_result : row) {
      od::field field;
      if (auto e = std::move(field_result).get(field); e) return fail_json(err, e, "position");
      const std::string_view key = raw_key(field);
      od::value v = field.value();
      if (key == "symbol") {
        if (!get_string(v, "symbol", symbol, err)) return false;
      } else if (key == "side") {
        if (!get_string(v, "side", side, err)) return false;
      } else if (key == "size") {
        if (!get_decimal_string(v, "size", size, present, err)) return false;
      } else if (key == "entryPrice" || key == "avgPrice") {
        if (!get_decimal_string(v, key, entry, present, err)) return false;
      } else if (key == "markPrice") {
        if (!get_decimal_string(v, "markPrice", mark, present, err)) return false;
      } else if (key == "updatedTime") {
        if (!get_ms_string(v, "updatedTime", updated_ns, err)) return false;
      } else if (key == "positionIM") {
        if (!get_decimal_string(v, "positionIM", initial_margin, present, err)) return false;
      }
    }
    constexpr std::string_view kWhat = "position";
    if (!require_text(symbol, kWhat, "symbol", err) || !require_number(size, kWhat, "size", err)) return false;
    if (size < 0) return fail(err, ParseErrorReason::kBadValue, "position 'size' must be >= 0");
    if (side != "Buy" && side != "Sell" && !side.empty() && side != "None")
      return fail(err, ParseErrorReason::kBadValue, "position 'side' must be Buy, Sell or empty");
    if (!std::isnan(initial_margin) && !(initial_margin >= 0))
      return fail(err, ParseErrorReason::kBadValue, "position 'positionIM' must be >= 0");
    const InstrumentInfo* ins = instruments_.find(symbol, err);
    if (ins == nullptr) return false;
    if (ins->kind == InstrumentKind::kSpot) {
      row_margin_usd_ = 0.0;  // a balance: no margin of a derivative position
      return true;
    }
    const double signed_size = side == "Sell" ? -size : side == "Buy" ? size : 0.0;
    // positionIM is in the settle coin: USDT / USDC (linear, options), the coin (inverse).
    row_margin_usd_ = !ins->inverse ? initial_margin : mark > 0 ? initial_margin * mark : kNaN;
    const double px = mark > 0 ? mark : entry;
    if (ins->inverse && signed_size != 0 && !(px > 0))
      return fail(err, ParseErrorReason::kMissingField, "inverse position without 'markPrice'");
    VenuePosition p;
    p.account = account_;
    p.instrument = ins;
    p.qty = ins->inverse ? signed_size * ins->contract_value / px : signed_size * ins->contract_value;
    p.entry_price = entry;
    p.mark_price = mark;
    p.venue_ns = updated_ns;
    add_position(p, recv_ns);
    return true;
  }

  //! publicTrade.{symbol}: an array of {T, s, S, v, p, i, ...}, p → price at T (ms). tickers.
  //! {symbol}: one object; a snapshot has every field, a delta only those that changed, so a
  //! ticker without markPrice, indexPrice or lastPrice gives no record.
  bool decode_market_data(od::value& v, bool tickers, std::int64_t recv_ns, ParseError& err) {
    auto read_row = [&](od::object& row) -> bool {
      std::string_view symbol;
      double price = kNaN, mark = kNaN, index = kNaN, open_interest = kNaN;
      std::int64_t time_ms = kNoTime;
      for (auto field_result : row) {
        od::field field;
        if (auto e = std::move(field_result).get(field); e) return fail_json(err, e, "market-data row");
        const std::string_view key = raw_key(field);
        bool present = false;
        if (key == (tickers ? "symbol" : "s")) {
          if (!get_string(field, key, symbol, err)) return false;
        } else if (key == (tickers ? "lastPrice" : "p")) {
          if (!get_decimal_string(field.value(), key, price, present, err)) return false;
        } else if (tickers && key == "markPrice") {
          if (!get_decimal_string(field.value(), key, mark, present, err)) return false;
        } else if (tickers && key == "indexPrice") {
          if (!get_decimal_string(field.value(), key, index, present, err)) return false;
        } else if (tickers && key == "openInterest") {
          if (!get_decimal_string(field.value(), key, open_interest, present, err)) return false;
        } else if (!tickers && key == "T") {
          if (!get_int(field, key, time_ms, err)) return false;
        }
      }
      if (symbol.empty())
        return fail(err, ParseErrorReason::kMissingField, tickers ? "ticker without 'symbol'" : "trade without 's'");
      if (!tickers && std::isnan(price)) return fail(err, ParseErrorReason::kMissingField, "trade without 'p'");
      for (double x : {price, mark, index})
        if (!std::isnan(x) && !(x > 0)) return fail(err, ParseErrorReason::kBadValue, "a price must be positive");
      if (!std::isnan(open_interest) && !(open_interest >= 0))
        return fail(err, ParseErrorReason::kBadValue, "'openInterest' must be >= 0");
      if (std::isnan(price) && std::isnan(mark) && std::isnan(index) && std::isnan(open_interest))
        return true;  // a delta of other fields
      const InstrumentInfo* ins = instruments_.find(symbol, err);
      if (ins == nullptr) return false;
      // Open interest in contracts: base units × contract_value (linear, options), or USD
      // (inverse): base units at the mark (else the last price); unknown without either.
      double oi_base = kNaN;
      if (!std::isnan(open_interest)) {
        const double px = !std::isnan(mark) ? mark : price;
        oi_base = !ins->inverse ? open_interest * ins->contract_value
                  : px > 0      ? open_interest * ins->contract_value / px
                                : kNaN;
      }
      if (std::isnan(price) && std::isnan(mark) && std::isnan(index) && std::isnan(oi_base)) return true;
      PriceRecord p;
      p.recv_ns = recv_ns;
      p.venue_ns = time_ms != kNoTime ? time_ms * 1'000'000 : 0;
      p.venue = Venue::kBybit;
      p.instrument = ins->id;
      p.underlying = ins->underlying;
      p.price = price;
      p.mark_price = mark;
      p.underlying_price = index;
      p.open_interest = oi_base;
      market_.push_back(p);
      return true;
    };
    if (tickers) {
      od::object row;
      if (auto e = v.get_object().get(row); e) return fail_json(err, e, "'data' (object)");
      return read_row(row);
    }
    od::array rows;
    if (auto e = v.get_array().get(rows); e) return fail_json(err, e, "'data' (array)");
    for (auto row_result : rows) {
      od::object row;
      if (auto e = row_result.get_object().get(row); e) return fail_json(err, e, "trade (object)");
      if (!read_row(row)) return false;
    }
    return true;
  }

  //! The fields of an execution that a fill needs; NaN / empty / 0 when absent.
  struct ExecFields {
    std::string_view category, symbol, exec_id, exec_type, side, fee_currency;
    double price = kNaN, qty = kNaN, fee = kNaN, trade_iv = kNaN, mark = kNaN, index = kNaN, underlying = kNaN;
    bool has_exec_type = false;
    bool maker = false, has_maker = false;
    std::int64_t exec_time = 0;
  };
  //! In the order Bybit sends them.
  using ExecTable = FieldTable<ExecFields,                                                                          //
                               Field<"category", &ExecFields::category, read_string>,                               //
                               Field<"symbol", &ExecFields::symbol, read_string>,                                   //
                               Field<"execFee", &ExecFields::fee, read_decimal>,                                    //
                               Field<"execId", &ExecFields::exec_id, read_string>,                                  //
                               Field<"execPrice", &ExecFields::price, read_decimal>,                                //
                               Field<"execQty", &ExecFields::qty, read_decimal>,                                    //
                               Field<"execType", &ExecFields::exec_type, read_string, &ExecFields::has_exec_type>,  //
                               Field<"tradeIv", &ExecFields::trade_iv, read_decimal>,                               //
                               Field<"markPrice", &ExecFields::mark, read_decimal>,                                 //
                               Field<"indexPrice", &ExecFields::index, read_decimal>,                               //
                               Field<"underlyingPrice", &ExecFields::underlying, read_decimal>,                     //
                               Field<"side", &ExecFields::side, read_string>,                                       //
                               Field<"execTime", &ExecFields::exec_time, read_ms_string>,                           //
                               Field<"isMaker", &ExecFields::maker, read_bool, &ExecFields::has_maker>,             //
                               Field<"feeCurrency", &ExecFields::fee_currency, read_string>>;

  bool decode_execution(od::object& exec, bool fast, std::int64_t recv_ns, std::vector<Fill>& out,
                        DecodeOutcome& outcome, ParseError& err) {
    ExecFields x;
    if (!ExecTable::read(exec, x, "execution", err)) return false;
    const std::string_view category = x.category, symbol = x.symbol, exec_id = x.exec_id, exec_type = x.exec_type,
                           side = x.side, fee_currency = x.fee_currency;
    const double price = x.price, qty = x.qty, fee = x.fee, trade_iv = x.trade_iv, mark = x.mark, index = x.index,
                 underlying = x.underlying;
    const bool has_exec_type = x.has_exec_type, maker = x.maker, has_maker = x.has_maker;
    const std::int64_t exec_time = x.exec_time;
    if (!has_exec_type && !fast) return fail(err, ParseErrorReason::kMissingField, "execution without 'execType'");
    if (has_exec_type && !is_fill(exec_type)) {
      ++outcome.skipped;
      return true;
    }
    // Presence first, then values (fill_checks.h), as every adapter does.
    constexpr std::string_view kWhat = "execution";
    Fill f;
    if (!require_text(exec_id, kWhat, "execId", err) || !require_text(symbol, kWhat, "symbol", err) ||
        !require_number(price, kWhat, "execPrice", err) || !require_number(qty, kWhat, "execQty", err) ||
        !require_positive(price, kWhat, "execPrice", err) || !require_positive(qty, kWhat, "execQty", err) ||
        !adapter::side(side, "side", "Buy", "Sell", f.side, err))
      return false;
    f.recv_ns = recv_ns;
    f.venue_ns = exec_time;
    f.venue = Venue::kBybit;
    f.account = account_;
    if (has_maker) f.liquidity = maker ? Liquidity::kMaker : Liquidity::kTaker;
    // The category decides the instrument: a spot execution of BTCUSDT is the spot pair, which
    // Bybit spells like the perpetual (symbols.h).
    const InstrumentInfo* ins = instruments_.find(category == "spot" ? spot_symbol(symbol) : symbol, err);
    if (ins == nullptr) return false;
    set_instrument(f, *ins);
    f.price = price;
    // Inverse contracts are sized in USD (contract value 1 USD).
    f.qty = ins->inverse ? qty * ins->contract_value / price : qty * ins->contract_value;
    const double idx = index > 0 ? index : kNaN;
    f.underlying_price = ins->kind == InstrumentKind::kOption && underlying > 0 ? underlying : idx;
    if (!set_notional(f, *ins))
      return fail(err, ParseErrorReason::kMissingField, "option execution without 'underlyingPrice'");
    if (trade_iv > 0) f.iv = trade_iv;  // already a fraction
    if (mark > 0) f.mark_price = mark;
    if (!std::isnan(fee)) {
      std::string_view currency = fee_currency;
      if (currency.empty() && category != "spot")
        currency = ins->inverse ? std::string_view(ins->base) : std::string_view(ins->quote);
      f.fee_usd = fee_to_usd(fee, currency, *ins, base_usd_price(f, *ins, idx));
    }
    f.trade_id = TradeIdHasher("bybit").add(exec_id).value();
    out.push_back(f);
    return true;
  }

  //! The execution types that are fills of the account: a trade, and the trades the venue makes
  //! on the account's position (takeover liquidation, auto-deleveraging) or that it books
  //! (block trade). Funding, Settle, Delivery, MovePosition, ... are not.
  static bool is_fill(std::string_view exec_type) {
    return exec_type == "Trade" || exec_type == "BustTrade" || exec_type == "AdlTrade" || exec_type == "BlockTrade";
  }

  //! The registry's name of the spot pair `symbol`: "spot:BTCUSDT" (valid until the next call).
  std::string_view spot_symbol(std::string_view symbol) {
    spot_symbol_.assign(kBybitSpotPrefix);
    spot_symbol_.append(symbol);
    return spot_symbol_;
  }

  std::string spot_symbol_;
  od::parser rest_parser_;  //!< decode_rest_positions' own, so as not to disturb a message being read
  std::string rest_body_;
  std::int64_t rest_snapshot_ns_ = kNoTime;  //!< the REST snapshot being read (its first call's time)
  double rest_margin_usd_ = 0.0;             //!< Σ of its rows' positionIM, USD (NaN: a row had none)
  double row_margin_usd_ = kNaN;             //!< decode_position_row's row's positionIM, USD
};

}  // namespace

std::unique_ptr<VenueAdapter> make_bybit_adapter(AdapterContext context) {
  return std::make_unique<BybitAdapter>(std::move(context));
}

}  // namespace segmentd
