#include "protocol/venues/okx/adapter.h"

#include <unordered_map>

#include "core/str_cat.h"
#include "protocol/fill_checks.h"
#include "protocol/ordered_fields.h"
#include "protocol/venues/adapter_support.h"

namespace segmentd {
namespace {

using namespace adapter;

class OkxAdapter final : public JsonAdapter {
 public:
  explicit OkxAdapter(AdapterContext ctx) : JsonAdapter(Venue::kOkx, std::move(ctx), false) {}

 protected:
  bool decode_text(std::string_view message, DecodeOutcome& outcome) override {
    if (message != "pong") return false;
    outcome.kind = MessageKind::kPong;
    outcome.reason = "\"pong\" (answer to our \"ping\")";
    return true;
  }

  bool decode_document(od::document& doc, std::string_view, std::int64_t recv_ns, std::vector<Fill>& out,
                       DecodeOutcome& outcome, ParseError& err) override {
    od::object root;
    if (auto e = doc.get_object().get(root); e) return fail_root(doc, e, err);
    od::value v;
    bool found = false;
    if (!find_field(root, "event", v, found, err)) return false;
    if (found) {
      std::string_view event;
      if (!get_string(v, "event", event, err)) return false;
      if (!decode_event(root, event, outcome, err)) return false;
      return finish_object(root, err);
    }
    if (!find_field(root, "arg", v, found, err)) return false;
    if (!found) return fail(err, ParseErrorReason::kUnknownMessage, "neither an event nor a channel push ('arg')");
    std::string_view channel;
    od::object arg;
    if (auto e = v.get_object().get(arg); e) return fail_json(err, e, "'arg' (object)");
    if (!find_field(arg, "channel", v, found, err)) return false;
    if (!found) return fail(err, ParseErrorReason::kMissingField, "'arg' without 'channel'");
    if (!get_string(v, "arg.channel", channel, err)) return false;
    if (!finish_object(arg, err)) return false;
    if (channel == "trades" || channel == "mark-price" || channel == "index-tickers") {
      if (!find_field(root, "data", v, found, err)) return false;
      if (!found) return fail(err, ParseErrorReason::kMissingField, "market-data push without 'data'");
      if (!decode_market_data(v, channel, recv_ns, err)) return false;
      outcome.kind = MessageKind::kMarketData;
      outcome.reason = "public market data (trades, mark or index prices) for the price tape";
      return finish_object(root, err);
    }
    if (channel == "positions") {
      if (!decode_positions(root, recv_ns, err)) return false;
      outcome.kind = MessageKind::kPositions;
      outcome.reason = "positions push (a snapshot, or the positions that changed)";
      return true;
    }
    if (channel != "orders") {
      outcome.kind = MessageKind::kIgnored;
      outcome.reason = "channel other than orders (not a source of fills)";
      return finish_object(root, err);
    }
    if (!find_field(root, "data", v, found, err)) return false;
    if (!found) return fail(err, ParseErrorReason::kMissingField, "orders push without 'data'");
    od::array orders;
    if (auto e = v.get_array().get(orders); e) return fail_json(err, e, "'data' (array)");
    const std::size_t before = out.size();
    for (auto order_result : orders) {
      od::object order;
      if (auto e = order_result.get_object().get(order); e) return fail_json(err, e, "order (object)");
      if (!decode_order(order, recv_ns, out, outcome, err)) return false;
    }
    if (out.size() > before) {
      outcome.kind = MessageKind::kFills;
      outcome.reason = "orders push with executions (tradeId set, fillSz > 0)";
    } else {
      outcome.kind = MessageKind::kOrderUpdate;
      outcome.reason = "orders push without an execution (tradeId empty or fillSz 0)";
    }
    return finish_object(root, err);
  }

 private:
  //! trades (px), mark-price (markPx) and index-tickers (idxPx): an array of rows with instId and
  //! ts (ms, as text). An index's instId ("BTC-USDT") names its base; the others an instrument.
  bool decode_market_data(od::value& v, std::string_view channel, std::int64_t recv_ns, ParseError& err) {
    const std::string_view price_key = channel == "trades" ? "px" : channel == "mark-price" ? "markPx" : "idxPx";
    od::array rows;
    if (auto e = v.get_array().get(rows); e) return fail_json(err, e, "'data' (array)");
    for (auto row_result : rows) {
      od::object row;
      if (auto e = row_result.get_object().get(row); e) return fail_json(err, e, "market-data row (object)");
      std::string_view inst_id;
      double price = kNaN;
      bool has_price = false;
      std::int64_t ts_ns = 0;
      for (auto field_result : row) {
        od::field field;
        if (auto e = std::move(field_result).get(field); e) return fail_json(err, e, "market-data row");
        const std::string_view key = raw_key(field);
        if (key == "instId") {
          if (!get_string(field, "instId", inst_id, err)) return false;
        } else if (key == price_key) {
          if (!get_decimal_string(field.value(), price_key, price, has_price, err)) return false;
        } else if (key == "ts") {
          if (!get_ms_string(field.value(), "ts", ts_ns, err)) return false;
        }
      }
      if (inst_id.empty()) return fail(err, ParseErrorReason::kMissingField, "market-data row without 'instId'");
      if (!has_price)
        return fail(err, ParseErrorReason::kMissingField, str_cat("market-data row without '", price_key, "'"));
      if (!(price > 0)) return fail(err, ParseErrorReason::kBadValue, str_cat("'", price_key, "' must be positive"));
      PriceRecord p;
      p.recv_ns = recv_ns;
      p.venue_ns = ts_ns;
      p.venue = Venue::kOkx;
      if (channel == "index-tickers") {
        const std::size_t dash = inst_id.find('-');
        if (dash == 0 || dash == std::string_view::npos || !is_usd_like(inst_id.substr(dash + 1)))
          return fail(err, ParseErrorReason::kBadValue, "index instId must be BASE-USD, BASE-USDT or BASE-USDC");
        p.underlying = instruments_.registry().underlying_id(inst_id.substr(0, dash));
        p.underlying_price = price;
      } else {
        const InstrumentInfo* ins = instruments_.find(inst_id, err);
        if (ins == nullptr) return false;
        p.instrument = ins->id;
        p.underlying = ins->underlying;
        (channel == "trades" ? p.price : p.mark_price) = price;
      }
      market_.push_back(p);
    }
    return true;
  }

  bool decode_event(od::object& root, std::string_view event, DecodeOutcome& outcome, ParseError& err) {
    od::value v;
    bool found = false;
    if (!find_field(root, "code", v, found, err)) return false;
    if (found) {
      std::string_view code;
      if (!get_string(v, "code", code, err)) return false;
      if (!parse_int(code, outcome.venue_code))
        return fail(err, ParseErrorReason::kBadValue, "'code' is not an integer");
    }
    if (event == "login") {
      outcome.kind = MessageKind::kAuthResult;
      outcome.success = outcome.venue_code == 0;
      outcome.reason = outcome.success ? "login succeeded" : "login failed (see venue_code)";
    } else if (event == "subscribe") {
      outcome.kind = MessageKind::kSubscriptionAck;
      outcome.reason = "subscribed";
    } else if (event == "unsubscribe") {
      outcome.kind = MessageKind::kIgnored;
      outcome.reason = "unsubscribed";
    } else if (event == "error") {
      outcome.kind = MessageKind::kVenueError;
      outcome.success = false;
      outcome.reason = "error event (see venue_code; 60009 = login failed)";
    } else if (event == "notice") {
      outcome.kind = MessageKind::kVenueError;
      outcome.reason = "notice: the venue will close this connection (64008 = service upgrade); reconnect";
    } else if (event == "channel-conn-count") {
      outcome.kind = MessageKind::kIgnored;
      outcome.reason = "channel connection count information";
    } else if (event == "channel-conn-count-error") {
      outcome.kind = MessageKind::kVenueError;
      outcome.success = false;
      outcome.reason = "too many connections for the channel";
    } else {
      outcome.kind = MessageKind::kUnknown;
      outcome.reason = "event we do not know";
    }
    return true;
  }

  //! OKX times are ms in strings; "" means not applicable (fillTime of a non-fill push).
  static bool get_optional_ms(od::value& v, std::string_view what, std::int64_t& out_ns, ParseError& err) {
    std::string_view s;
    if (!get_string(v, what, s, err)) return false;
    if (s.empty()) {
      out_ns = 0;
      return true;
    }
    std::int64_t ms = 0;
    if (!parse_int(s, ms)) return fail(err, ParseErrorReason::kBadValue, "time is not an integer in ms");
    return ms_to_ns(ms, what, out_ns, err);
  }

  //! positions: {"arg", "eventType": "snapshot" | "event_update", "curPage", "lastPage", "data":
  //! [{"instId", "posSide", "pos", "avgPx", "markPx", "idxPx", "notionalUsd", "uTime", "pTime",
  //! ...}]}. pos is in contracts (signed in net mode; long/short in hedge mode). A snapshot (the
  //! first push after subscribe, and the regular ones) lists every open position, possibly over
  //! pages: its end comes with lastPage, timed by its first page so that every page's records
  //! count as restated. A record's time is the push time (pTime): the position as of then.
  //! Hedge mode: the book holds the net position, so each side's last stated size is kept
  //! (hedge_) and a push of one side nets with the other; a snapshot's first page forgets them
  //! (a side it does not list is flat). OKX sends eventType and curPage before data.
  bool decode_positions(od::object& root, std::int64_t recv_ns, ParseError& err) {
    bool snapshot = false, last_page = true;
    std::int64_t cur_page = 1;
    bool has_data = false;
    const std::size_t first = positions_.size();
    std::int64_t push_ns = 0;
    if (auto e = root.reset().error(); e) return fail_json(err, e, "positions push");
    for (auto field_result : root) {
      od::field field;
      if (auto e = std::move(field_result).get(field); e) return fail_json(err, e, "positions push");
      const std::string_view key = raw_key(field);
      if (key == "eventType") {
        std::string_view type;
        if (!get_string(field, "eventType", type, err)) return false;
        snapshot = type == "snapshot";
      } else if (key == "curPage") {
        if (!get_int(field, "curPage", cur_page, err)) return false;
      } else if (key == "lastPage") {
        od::value lv = field.value();
        if (!get_bool(lv, "lastPage", last_page, err)) return false;
      } else if (key == "data") {
        has_data = true;
        if (snapshot && cur_page <= 1) hedge_.clear();
        od::array list;
        if (auto e = field.value().get_array().get(list); e) return fail_json(err, e, "'data' (array)");
        for (auto item_result : list) {
          od::object item;
          if (auto e = item_result.get_object().get(item); e) return fail_json(err, e, "position (object)");
          if (!decode_position(item, recv_ns, push_ns, err)) {
            positions_.resize(first);
            return false;
          }
        }
      }
    }
    if (!has_data) return fail(err, ParseErrorReason::kMissingField, "positions push without 'data'");
    if (snapshot) {
      if (cur_page <= 1) snapshot_ns_ = push_ns;  // 0 (the receive time) for an empty snapshot
      if (last_page) end_positions(account_, snapshot_ns_, recv_ns);
    }
    return true;
  }

  bool decode_position(od::object& item, std::int64_t recv_ns, std::int64_t& push_ns, ParseError& err) {
    std::string_view inst_id, pos_side;
    double pos = kNaN, avg = kNaN, mark = kNaN, idx = kNaN, notional = kNaN;
    std::int64_t u_time = 0, p_time = 0;
    for (auto field_result : item) {
      od::field field;
      if (auto e = std::move(field_result).get(field); e) return fail_json(err, e, "position");
      const std::string_view key = raw_key(field);
      bool present = false;
      od::value v = field.value();
      if (key == "instId") {
        if (!get_string(v, "instId", inst_id, err)) return false;
      } else if (key == "posSide") {
        if (!get_string(v, "posSide", pos_side, err)) return false;
      } else if (key == "pos") {
        if (!get_decimal_string(v, "pos", pos, present, err)) return false;
      } else if (key == "avgPx") {
        if (!get_decimal_string(v, "avgPx", avg, present, err)) return false;
      } else if (key == "markPx") {
        if (!get_decimal_string(v, "markPx", mark, present, err)) return false;
      } else if (key == "idxPx") {
        if (!get_decimal_string(v, "idxPx", idx, present, err)) return false;
      } else if (key == "notionalUsd") {
        if (!get_decimal_string(v, "notionalUsd", notional, present, err)) return false;
      } else if (key == "uTime") {
        if (!get_optional_ms(v, "uTime", u_time, err)) return false;
      } else if (key == "pTime") {
        if (!get_optional_ms(v, "pTime", p_time, err)) return false;
      }
    }
    constexpr std::string_view kWhat = "position";
    if (!require_text(inst_id, kWhat, "instId", err) || !require_number(pos, kWhat, "pos", err)) return false;
    if (pos_side != "net" && pos_side != "long" && pos_side != "short" && !pos_side.empty())
      return fail(err, ParseErrorReason::kBadValue, "position 'posSide' must be net, long or short");
    const InstrumentInfo* ins = instruments_.find(inst_id, err);
    if (ins == nullptr) return false;
    if (ins->kind == InstrumentKind::kSpot) return true;  // a MARGIN position: a loan, not a derivative
    double contracts = pos;
    const bool hedge = pos_side == "long" || pos_side == "short";
    if (hedge) {
      HedgeSides& sides = hedge_[ins->id];
      (pos_side == "long" ? sides.long_contracts : sides.short_contracts) = std::abs(pos);
      contracts = sides.long_contracts - sides.short_contracts;
      // The other side's row earlier in this push: this record, the net of both, replaces it.
      std::erase_if(positions_,
                    [ins](const Fill& r) { return r.record == RecordKind::kPosition && r.instrument == ins->id; });
    }
    const double px = mark > 0 ? mark : avg;
    if (ins->inverse && contracts != 0 && !(px > 0))
      return fail(err, ParseErrorReason::kMissingField, "inverse position without 'markPx' or 'avgPx'");
    VenuePosition p;
    p.account = account_;
    p.instrument = ins;
    p.qty = ins->inverse ? contracts * ins->contract_value / px : contracts * ins->contract_value;
    p.entry_price = avg;
    p.mark_price = mark;
    if (idx > 0 && ins->kind != InstrumentKind::kOption)
      p.underlying_price = idx;
    else if (notional > 0 && p.qty != 0)
      p.underlying_price = notional / std::abs(p.qty);
    p.venue_ns = p_time > 0 ? p_time : u_time;
    push_ns = std::max(push_ns, p.venue_ns);
    add_position(p, recv_ns);
    return true;
  }

  //! The time of the snapshot being read (its first page's push time).
  std::int64_t snapshot_ns_ = 0;
  //! Hedge mode: each side's last stated size (contracts, ≥ 0) per instrument of the account.
  struct HedgeSides {
    double long_contracts = 0.0;
    double short_contracts = 0.0;
  };
  std::unordered_map<InstrumentId, HedgeSides> hedge_;

  //! The fields of an order that a fill needs; NaN / empty / 0 when absent.
  struct OrderFields {
    std::string_view inst_id, side, trade_id, exec_type, fill_fee_ccy, fee_ccy;
    double fill_sz = kNaN, fill_px = kNaN, acc_fill_sz = kNaN, px_vol = kNaN, fwd_px = kNaN, mark_px = kNaN,
           idx_px = kNaN;
    DecimalText fill_fee, fee;  //!< "" (not present) differs from "0"
    std::int64_t fill_time = 0, u_time = 0;
  };
  //! In the order OKX sends them (alphabetical).
  using OrderTable = FieldTable<OrderFields,                                                   //
                                Field<"accFillSz", &OrderFields::acc_fill_sz, read_decimal>,   //
                                Field<"execType", &OrderFields::exec_type, read_string>,       //
                                Field<"fee", &OrderFields::fee, read_decimal_text>,            //
                                Field<"feeCcy", &OrderFields::fee_ccy, read_string>,           //
                                Field<"fillFee", &OrderFields::fill_fee, read_decimal_text>,   //
                                Field<"fillFeeCcy", &OrderFields::fill_fee_ccy, read_string>,  //
                                Field<"fillFwdPx", &OrderFields::fwd_px, read_decimal>,        //
                                Field<"fillIdxPx", &OrderFields::idx_px, read_decimal>,        //
                                Field<"fillMarkPx", &OrderFields::mark_px, read_decimal>,      //
                                Field<"fillPx", &OrderFields::fill_px, read_decimal>,          //
                                Field<"fillPxVol", &OrderFields::px_vol, read_decimal>,        //
                                Field<"fillSz", &OrderFields::fill_sz, read_decimal>,          //
                                Field<"fillTime", &OrderFields::fill_time, get_optional_ms>,   //
                                Field<"instId", &OrderFields::inst_id, read_string>,           //
                                Field<"side", &OrderFields::side, read_string>,                //
                                Field<"tradeId", &OrderFields::trade_id, read_string>,         //
                                Field<"uTime", &OrderFields::u_time, get_optional_ms>>;

  bool decode_order(od::object& order, std::int64_t recv_ns, std::vector<Fill>& out, DecodeOutcome& outcome,
                    ParseError& err) {
    OrderFields o;
    if (!OrderTable::read(order, o, "order", err)) return false;
    const std::string_view inst_id = o.inst_id, side = o.side, trade_id = o.trade_id, exec_type = o.exec_type;
    const double fill_sz = o.fill_sz, fill_px = o.fill_px, px_vol = o.px_vol, fwd_px = o.fwd_px, mark_px = o.mark_px,
                 idx_px = o.idx_px;
    // A push without an execution says so with tradeId "" and fillSz "0" or "": a state change
    // of the order. A negative fillSz is a defect, reported like any venue's negative size.
    if (trade_id.empty() || std::isnan(fill_sz) || fill_sz == 0) {
      ++outcome.skipped;
      return true;
    }
    // Presence first, then values (fill_checks.h), as every adapter does.
    constexpr std::string_view kWhat = "fill";
    Fill f;
    if (!require_text(inst_id, kWhat, "instId", err) || !require_number(fill_px, kWhat, "fillPx", err) ||
        !require_positive(fill_sz, kWhat, "fillSz", err) || !require_positive(fill_px, kWhat, "fillPx", err) ||
        !adapter::side(side, "side", "buy", "sell", f.side, err))
      return false;
    f.recv_ns = recv_ns;
    f.venue_ns = o.fill_time > 0 ? o.fill_time : o.u_time;
    f.venue = Venue::kOkx;
    f.account = account_;
    if (exec_type == "M")
      f.liquidity = Liquidity::kMaker;
    else if (exec_type == "T")
      f.liquidity = Liquidity::kTaker;
    const InstrumentInfo* ins = instruments_.find(inst_id, err);
    if (ins == nullptr) return false;
    set_instrument(f, *ins);
    f.price = fill_px;
    f.qty = ins->inverse ? fill_sz * ins->contract_value / fill_px : fill_sz * ins->contract_value;
    const double index = idx_px > 0 ? idx_px : kNaN;
    f.underlying_price = ins->kind == InstrumentKind::kOption && fwd_px > 0 ? fwd_px : index;
    if (!set_notional(f, *ins)) return fail(err, ParseErrorReason::kMissingField, "option fill without 'fillFwdPx'");
    if (px_vol > 0) f.iv = px_vol;  // already a fraction
    if (mark_px > 0) f.mark_price = mark_px;
    // OKX signs fees from the account's side: negative = charged. Fill::fee_usd: positive = paid.
    const double base_usd = base_usd_price(f, *ins, index);
    if (o.fill_fee.present) {
      f.fee_usd = fee_to_usd(-o.fill_fee.value, o.fill_fee_ccy, *ins, base_usd);
    } else if (o.fee.present && o.acc_fill_sz == fill_sz) {
      f.fee_usd = fee_to_usd(-o.fee.value, o.fee_ccy, *ins, base_usd);
    }
    f.trade_id = TradeIdHasher("okx").add(inst_id).add(trade_id).value();
    out.push_back(f);
    return true;
  }
};

}  // namespace

std::unique_ptr<VenueAdapter> make_okx_adapter(AdapterContext context) {
  return std::make_unique<OkxAdapter>(std::move(context));
}

}  // namespace segmentd
