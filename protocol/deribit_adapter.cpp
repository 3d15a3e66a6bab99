#include "protocol/deribit_adapter.h"

#include "protocol/adapter_support.h"

namespace segmentd {
namespace {

using namespace adapter;

constexpr std::string_view kUserTrades = "user.trades.";

class DeribitAdapter final : public JsonAdapter {
 public:
  explicit DeribitAdapter(AdapterContext ctx)
      : JsonAdapter(Venue::kDeribit, std::move(ctx), false, /*random_access=*/false) {}

 protected:
  bool decode_document(od::document& doc, std::string_view, std::int64_t recv_ns, std::vector<Fill>& out,
                       DecodeOutcome& outcome, ParseError& err) override {
    od::object root;
    if (auto e = doc.get_object().get(root); e) return fail_root(doc, e, err);
    std::string_view method;
    bool has_method = false;
    bool params_pending = false;  // params came before method: decode them after the first pass
    bool classified = false;
    for (auto field_result : root) {
      od::field field;
      if (auto e = std::move(field_result).get(field); e) return fail_json(err, e, "message");
      const std::string_view key = raw_key(field);
      od::value v = field.value();
      if (key == "method") {
        if (!get_string(v, "method", method, err)) return false;
        has_method = true;
      } else if (key == "params") {
        if (!has_method) {
          params_pending = true;
        } else {
          if (!decode_params(v, method, recv_ns, out, outcome, err)) return false;
          classified = true;
        }
      } else if (key == "id") {
        if (!get_int(v, "id", outcome.request_id, err)) return false;
      } else if (key == "result") {
        if (!decode_result(v, outcome, err)) return false;
        classified = true;
      } else if (key == "error") {
        if (!decode_error(v, outcome, err)) return false;
        classified = true;
      }
    }
    if (params_pending) {
      if (auto e = root.reset().error(); e) return fail_json(err, e, "message");
      od::value v;
      if (auto e = root.find_field_unordered("params").get(v); e) return fail_json(err, e, "'params'");
      if (!decode_params(v, method, recv_ns, out, outcome, err)) return false;
      classified = true;
      // Walk to the end so that the caller's "whole message consumed" check holds.
      if (auto e = root.reset().error(); e) return fail_json(err, e, "message");
      for (auto f : root) {
        if (auto e = f.error(); e) return fail_json(err, e, "message");
      }
    }
    if (!classified) {
      if (has_method) {
        outcome.kind = MessageKind::kUnknown;
        outcome.reason = "JSON-RPC method without params that we do not handle";
      } else {
        return fail(err, ParseErrorReason::kUnknownMessage,
                    "neither a notification (method) nor a response (result/error)");
      }
    }
    return true;
  }

 private:
  bool decode_params(od::value& v, std::string_view method, std::int64_t recv_ns, std::vector<Fill>& out,
                     DecodeOutcome& outcome, ParseError& err) {
    od::object params;
    if (auto e = v.get_object().get(params); e) return fail_json(err, e, "'params' (object)");
    if (method == "heartbeat") {
      std::string_view type;
      for (auto field_result : params) {
        od::field field;
        if (auto e = std::move(field_result).get(field); e) return fail_json(err, e, "'params'");
        if (raw_key(field) == "type") {
          od::value t = field.value();
          if (!get_string(t, "params.type", type, err)) return false;
        }
      }
      if (type == "test_request") {
        outcome.kind = MessageKind::kTestRequest;
        outcome.reason = "heartbeat test_request: answer with public/test";
      } else if (type == "heartbeat") {
        outcome.kind = MessageKind::kHeartbeat;
        outcome.reason = "heartbeat";
      } else {
        return fail(err, ParseErrorReason::kBadValue, "heartbeat 'params.type' is neither heartbeat nor test_request");
      }
      return true;
    }
    if (method != "subscription") {
      outcome.kind = MessageKind::kUnknown;
      outcome.reason = "JSON-RPC notification with a method we do not handle";
      return true;
    }
    std::string_view channel;
    bool has_channel = false;
    bool data_pending = false;
    bool decoded = false;
    for (auto field_result : params) {
      od::field field;
      if (auto e = std::move(field_result).get(field); e) return fail_json(err, e, "'params'");
      const std::string_view key = raw_key(field);
      od::value fv = field.value();
      if (key == "channel") {
        if (!get_string(fv, "params.channel", channel, err)) return false;
        has_channel = true;
      } else if (key == "data") {
        if (!has_channel) {
          data_pending = true;
        } else if (is_user_trades(channel)) {
          if (!decode_trades(fv, recv_ns, out, outcome, err)) return false;
          decoded = true;
        }
      }
    }
    if (!has_channel)
      return fail(err, ParseErrorReason::kMissingField, "subscription notification without 'params.channel'");
    if (data_pending && is_user_trades(channel)) {
      if (auto e = params.reset().error(); e) return fail_json(err, e, "'params'");
      od::value dv;
      if (auto e = params.find_field_unordered("data").get(dv); e) return fail_json(err, e, "'params.data'");
      if (!decode_trades(dv, recv_ns, out, outcome, err)) return false;
      decoded = true;
      if (auto e = params.reset().error(); e) return fail_json(err, e, "'params'");
      for (auto f : params) {
        if (auto e = f.error(); e) return fail_json(err, e, "'params'");
      }
    }
    if (!is_user_trades(channel)) {
      outcome.kind = MessageKind::kIgnored;
      outcome.reason = "subscription channel other than user.trades (not a source of fills)";
      return true;
    }
    if (!decoded) return fail(err, ParseErrorReason::kMissingField, "user.trades notification without 'params.data'");
    outcome.kind = MessageKind::kFills;
    outcome.reason = "user.trades notification";
    return true;
  }

  static bool is_user_trades(std::string_view channel) { return channel.substr(0, kUserTrades.size()) == kUserTrades; }

  bool decode_trades(od::value& v, std::int64_t recv_ns, std::vector<Fill>& out, DecodeOutcome& outcome,
                     ParseError& err) {
    od::array trades;
    if (auto e = v.get_array().get(trades); e) return fail_json(err, e, "'params.data' (array)");
    for (auto trade_result : trades) {
      od::value trade;
      if (auto e = std::move(trade_result).get(trade); e) return fail_json(err, e, "'params.data'");
      if (!decode_trade(trade, recv_ns, out, err)) return false;
    }
    return true;
  }

  bool decode_trade(od::value& v, std::int64_t recv_ns, std::vector<Fill>& out, ParseError& err) {
    od::object obj;
    if (auto e = v.get_object().get(obj); e) return fail_json(err, e, "user trade (object)");
    std::string_view trade_id, instrument, direction, liquidity, fee_currency;
    double price = kNaN, amount = kNaN, fee = kNaN, index_price = kNaN, underlying_price = kNaN, mark_price = kNaN,
           iv = kNaN;
    std::int64_t timestamp = -1;
    // The value of a field is only materialised for the keys we read: skipping the others is
    // cheaper than building an ondemand::value for each (half of a trade's ~20 fields).
    for (auto field_result : obj) {
      od::field field;
      if (auto e = std::move(field_result).get(field); e) return fail_json(err, e, "user trade");
      const std::string_view key = raw_key(field);
      bool ok = true;
      switch (key.size()) {
        case 2:
          if (key == "iv") ok = get_number(field, key, iv, err);
          break;
        case 3:
          if (key == "fee") ok = get_number(field, key, fee, err);
          break;
        case 5:
          if (key == "price") ok = get_number(field, key, price, err);
          break;
        case 6:
          if (key == "amount") ok = get_number(field, key, amount, err);
          break;
        case 8:
          if (key == "trade_id") ok = get_string(field, key, trade_id, err);
          break;
        case 9:
          if (key == "direction")
            ok = get_string(field, key, direction, err);
          else if (key == "liquidity")
            ok = get_string(field, key, liquidity, err);
          else if (key == "timestamp")
            ok = get_int(field, key, timestamp, err);
          break;
        case 10:
          if (key == "mark_price") ok = get_number(field, key, mark_price, err);
          break;
        case 11:
          if (key == "index_price") ok = get_number(field, key, index_price, err);
          break;
        case 12:
          if (key == "fee_currency") ok = get_string(field, key, fee_currency, err);
          break;
        case 15:
          if (key == "instrument_name") ok = get_string(field, key, instrument, err);
          break;
        case 16:
          if (key == "underlying_price") ok = get_number(field, key, underlying_price, err);
          break;
        default: break;
      }
      if (!ok) return false;
    }
    if (trade_id.empty()) return fail(err, ParseErrorReason::kMissingField, "user trade without 'trade_id'");
    if (instrument.empty()) return fail(err, ParseErrorReason::kMissingField, "user trade without 'instrument_name'");
    if (direction.empty()) return fail(err, ParseErrorReason::kMissingField, "user trade without 'direction'");
    if (std::isnan(price)) return fail(err, ParseErrorReason::kMissingField, "user trade without 'price'");
    if (std::isnan(amount)) return fail(err, ParseErrorReason::kMissingField, "user trade without 'amount'");
    if (timestamp < 0) return fail(err, ParseErrorReason::kMissingField, "user trade without 'timestamp'");
    if (!(price > 0)) return fail(err, ParseErrorReason::kBadValue, "'price' must be > 0");
    if (!(amount > 0)) return fail(err, ParseErrorReason::kBadValue, "'amount' must be > 0");

    Fill f;
    f.recv_ns = recv_ns;
    if (!ms_to_ns(timestamp, "timestamp", f.venue_ns, err)) return false;
    f.venue = Venue::kDeribit;
    f.account = account_;
    if (direction == "buy") {
      f.side = Side::kBuy;
    } else if (direction == "sell") {
      f.side = Side::kSell;
    } else {
      return fail(err, ParseErrorReason::kBadValue, "'direction' must be buy or sell");
    }
    if (liquidity == "M") {
      f.liquidity = Liquidity::kMaker;
    } else if (liquidity == "T") {
      f.liquidity = Liquidity::kTaker;
    } else if (!liquidity.empty()) {
      return fail(err, ParseErrorReason::kBadValue, "'liquidity' must be M or T");
    }
    const InstrumentInfo* ins = instruments_.find(instrument, err);
    if (ins == nullptr) return false;
    set_instrument(f, *ins);
    f.price = price;
    // Inverse perpetuals and futures are sized in USD; everything else in the coin.
    f.qty = ins->inverse ? amount / price : amount;
    if (!(std::isfinite(f.qty) && f.qty > 0)) return fail(err, ParseErrorReason::kBadValue, "quantity out of range");
    const double index = index_price > 0 ? index_price : kNaN;
    const double underlying = underlying_price > 0 ? underlying_price : kNaN;
    f.underlying_price = ins->kind == InstrumentKind::kOption && !std::isnan(underlying) ? underlying : index;
    if (!set_notional(f, *ins)) {
      return fail(err, ParseErrorReason::kMissingField, "option trade without 'underlying_price' or 'index_price'");
    }
    if (iv > 0) f.iv = iv / 100.0;  // Deribit sends percent
    if (mark_price > 0) f.mark_price = mark_price;
    if (!std::isnan(fee)) f.fee_usd = fee_to_usd(fee, fee_currency, *ins, base_usd_price(f, *ins, index));
    f.trade_id = TradeIdHasher("deribit").add(trade_id).value();
    out.push_back(f);
    return true;
  }

  bool decode_result(od::value& v, DecodeOutcome& outcome, ParseError& err) {
    od::json_type type;
    if (auto e = v.type().get(type); e) return fail_json(err, e, "'result'");
    outcome.kind = MessageKind::kIgnored;
    outcome.reason = "response to a request of ours";
    switch (type) {
      case od::json_type::array:
        // public/subscribe and private/subscribe answer with the list of subscribed channels.
        outcome.kind = MessageKind::kSubscriptionAck;
        outcome.reason = "subscribe response (list of channels)";
        return skip(v, err);
      case od::json_type::object: {
        od::object obj;
        if (auto e = v.get_object().get(obj); e) return fail_json(err, e, "'result'");
        for (auto field_result : obj) {
          od::field field;
          if (auto e = std::move(field_result).get(field); e) return fail_json(err, e, "'result'");
          const std::string_view key = raw_key(field);
          if (key == "access_token") {
            outcome.kind = MessageKind::kAuthResult;
            outcome.reason = "public/auth succeeded";
            outcome.success = true;
          } else if (key == "version" && outcome.kind != MessageKind::kAuthResult) {
            outcome.kind = MessageKind::kPong;
            outcome.reason = "public/test response";
          }
        }
        return true;
      }
      case od::json_type::string: {
        std::string_view s;
        if (!get_string(v, "result", s, err)) return false;
        if (s == "ok") outcome.reason = "request acknowledged with \"ok\" (e.g. public/set_heartbeat)";
        return true;
      }
      default: return true;
    }
  }

  static bool skip(od::value& v, ParseError& err) {
    // Walk an array so that structural errors inside it are reported here; scalars need nothing.
    od::array a;
    if (v.get_array().get(a) != simdjson::SUCCESS) return true;
    for (auto element : a) {
      if (auto e = element.error(); e) return fail_json(err, e, "'result'");
    }
    return true;
  }

  bool decode_error(od::value& v, DecodeOutcome& outcome, ParseError& err) {
    od::object obj;
    if (auto e = v.get_object().get(obj); e) return fail_json(err, e, "'error' (object)");
    for (auto field_result : obj) {
      od::field field;
      if (auto e = std::move(field_result).get(field); e) return fail_json(err, e, "'error'");
      if (raw_key(field) == "code") {
        od::value cv = field.value();
        if (!get_int(cv, "error.code", outcome.venue_code, err)) return false;
      }
    }
    outcome.kind = MessageKind::kVenueError;
    outcome.success = false;
    outcome.reason = "JSON-RPC error response (see venue_code)";
    return true;
  }
};

}  // namespace

std::unique_ptr<VenueAdapter> make_deribit_adapter(AdapterContext context) {
  return std::make_unique<DeribitAdapter>(std::move(context));
}

}  // namespace segmentd
