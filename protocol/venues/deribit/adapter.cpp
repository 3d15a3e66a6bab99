#include "protocol/venues/deribit/adapter.h"

#include <cctype>
#include <cmath>
#include <string>
#include <type_traits>

#include "protocol/fill_checks.h"
#include "protocol/ordered_fields.h"
#include "protocol/venues/adapter_support.h"
#include "protocol/venues/deribit/control.h"

namespace segmentd {
namespace {

using namespace adapter;

constexpr std::string_view kUserTrades = "user.trades.";
constexpr std::string_view kUserChanges = "user.changes.";
// Public market data (protocol/README.md, "Market data from the venues"): trades.{instrument}.
// {interval} and trades.{kind}.{currency}.{interval}; markprice.options.{index};
// deribit_price_index.{index}.
constexpr std::string_view kPublicTrades = "trades.";
constexpr std::string_view kMarkPrices = "markprice.options.";
constexpr std::string_view kPriceIndex = "deribit_price_index.";

class DeribitAdapter final : public JsonAdapter {
 public:
  explicit DeribitAdapter(AdapterContext ctx)
      : JsonAdapter(Venue::kDeribit, std::move(ctx), false, /*random_access=*/false) {}

 protected:
  bool decode_document(od::document& doc, std::string_view message, std::int64_t recv_ns, std::vector<Fill>& out,
                       DecodeOutcome& outcome, ParseError& err) override {
    doc_ = &doc;
    end_ = message.data() + message.size();
    us_out_ = 0;
    position_rows_ = false;
    positions_margin_usd_ = 0.0;
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
        if (!decode_result(v, recv_ns, outcome, err)) return false;
        classified = true;
      } else if (key == "usOut") {
        if (!get_int(v, "usOut", us_out_, err)) return false;
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
    // The answer to private/get_positions (known by the id our sessions give it; the id may
    // come after the result): a complete snapshot, as of the venue's send time (usOut, µs).
    if (outcome.request_id == control::kDeribitPositionsRequestId &&
        (position_rows_ || outcome.kind == MessageKind::kSubscriptionAck)) {
      const std::int64_t t = us_out_ > 0 ? us_out_ * 1000 : 0;
      for (std::size_t i = positions_start_; i < positions_.size(); ++i) positions_[i].venue_ns = t;
      end_positions(account_, t, recv_ns, positions_margin_usd_);
      outcome.kind = MessageKind::kPositions;
      outcome.reason = "private/get_positions answer (a complete snapshot)";
    } else if (position_rows_) {
      return fail(err, ParseErrorReason::kUnknownMessage, "a list of positions that answers no request of ours");
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
        } else if (is_market_data(channel)) {
          if (!decode_market_data(fv, channel, recv_ns, err)) return false;
          decoded = true;
        } else if (channel.starts_with(kUserChanges)) {
          if (!decode_changes(fv, recv_ns, err)) return false;
          decoded = true;
        }
      }
    }
    if (channel.starts_with(kUserChanges)) {
      if (data_pending) {
        if (auto e = params.reset().error(); e) return fail_json(err, e, "'params'");
        od::value dv;
        if (auto e = params.find_field_unordered("data").get(dv); e) return fail_json(err, e, "'params.data'");
        if (!decode_changes(dv, recv_ns, err)) return false;
        decoded = true;
        if (auto e = params.reset().error(); e) return fail_json(err, e, "'params'");
        for (auto f : params) {
          if (auto e = f.error(); e) return fail_json(err, e, "'params'");
        }
      }
      if (!decoded)
        return fail(err, ParseErrorReason::kMissingField, "user.changes notification without 'params.data'");
      outcome.kind = MessageKind::kPositions;
      outcome.reason = "user.changes notification (its positions; its trades come on user.trades)";
      return true;
    }
    if (!has_channel)
      return fail(err, ParseErrorReason::kMissingField, "subscription notification without 'params.channel'");
    if (data_pending && (is_user_trades(channel) || is_market_data(channel))) {
      if (auto e = params.reset().error(); e) return fail_json(err, e, "'params'");
      od::value dv;
      if (auto e = params.find_field_unordered("data").get(dv); e) return fail_json(err, e, "'params.data'");
      if (is_user_trades(channel) ? !decode_trades(dv, recv_ns, out, outcome, err)
                                  : !decode_market_data(dv, channel, recv_ns, err))
        return false;
      decoded = true;
      if (auto e = params.reset().error(); e) return fail_json(err, e, "'params'");
      for (auto f : params) {
        if (auto e = f.error(); e) return fail_json(err, e, "'params'");
      }
    }
    if (is_market_data(channel)) {
      if (!decoded) return fail(err, ParseErrorReason::kMissingField, "market-data notification without 'params.data'");
      outcome.kind = MessageKind::kMarketData;
      outcome.reason = "public market data (trades, mark or index prices) for the price tape";
      return true;
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
  static bool is_market_data(std::string_view channel) {
    return channel.starts_with(kPublicTrades) || channel.starts_with(kMarkPrices) || channel.starts_with(kPriceIndex);
  }

  //! trades.* and markprice.options.*: an array of entries with instrument_name and prices;
  //! deribit_price_index.*: one object {timestamp, price, index_name}. Each becomes a PriceRecord.
  bool decode_market_data(od::value& v, std::string_view channel, std::int64_t recv_ns, ParseError& err) {
    if (channel.starts_with(kPriceIndex)) {
      od::object obj;
      if (auto e = v.get_object().get(obj); e) return fail_json(err, e, "'params.data' (object)");
      double price = kNaN;
      std::int64_t timestamp = kNoTime;
      std::string_view index_name;
      for (auto field_result : obj) {
        od::field field;
        if (auto e = std::move(field_result).get(field); e) return fail_json(err, e, "'params.data'");
        const std::string_view key = raw_key(field);
        if (key == "price") {
          if (!get_number(field, key, price, err)) return false;
        } else if (key == "timestamp") {
          if (!get_int(field, key, timestamp, err)) return false;
        } else if (key == "index_name") {
          if (!get_string(field, key, index_name, err)) return false;
        }
      }
      if (!(price > 0) || !std::isfinite(price))
        return fail(err, ParseErrorReason::kBadValue, "price index without a positive 'price'");
      // "btc_usd": the underlying's USD index. Other quote currencies (btc_usdc) are USD-like.
      const std::size_t sep = index_name.find('_');
      if (sep == 0 || sep == std::string_view::npos)
        return fail(err, ParseErrorReason::kBadValue, "price index without an 'index_name' such as btc_usd");
      std::string base(index_name.substr(0, sep));
      for (char& c : base) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      PriceRecord p;
      p.recv_ns = recv_ns;
      p.venue_ns = timestamp != kNoTime ? timestamp * 1'000'000 : 0;
      p.venue = Venue::kDeribit;
      p.underlying = instruments_.registry().underlying_id(base);
      p.underlying_price = price;
      market_.push_back(p);
      return true;
    }
    od::array entries;
    if (auto e = v.get_array().get(entries); e) return fail_json(err, e, "'params.data' (array)");
    for (auto entry_result : entries) {
      od::value entry;
      if (auto e = std::move(entry_result).get(entry); e) return fail_json(err, e, "'params.data'");
      od::object obj;
      if (auto e = entry.get_object().get(obj); e) return fail_json(err, e, "market-data entry (object)");
      TradeFields t;
      if (!read_any_order(obj, t, err)) return false;
      if (t.instrument.empty())
        return fail(err, ParseErrorReason::kMissingField, "market-data entry without 'instrument_name'");
      const InstrumentInfo* ins = instruments_.find(t.instrument, err);
      if (ins == nullptr) return false;
      PriceRecord p;
      p.recv_ns = recv_ns;
      p.venue_ns = t.timestamp != kNoTime ? t.timestamp * 1'000'000 : 0;
      p.venue = Venue::kDeribit;
      p.instrument = ins->id;
      p.underlying = ins->underlying;
      if (t.price > 0 && std::isfinite(t.price)) p.price = t.price;
      if (t.mark_price > 0 && std::isfinite(t.mark_price)) p.mark_price = t.mark_price;
      if (t.index_price > 0 && std::isfinite(t.index_price)) p.underlying_price = t.index_price;
      if (std::isnan(p.price) && std::isnan(p.mark_price))
        return fail(err, ParseErrorReason::kMissingField, "market-data entry without 'price' or 'mark_price'");
      market_.push_back(p);
    }
    return true;
  }

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

  //! The fields of a user trade that a Fill needs; NaN / empty / kNoTime when absent.
  struct TradeFields {
    std::string_view trade_id, instrument, direction, liquidity, fee_currency;
    double price = kNaN, amount = kNaN, fee = kNaN, index_price = kNaN, underlying_price = kNaN, mark_price = kNaN,
           iv = kNaN;
    std::int64_t timestamp = kNoTime;
  };

  //! Reads the value of `key` into `t` when it is a field we use; other keys are ignored.
  //! `Source` is an od::field (its value materialised only for the keys we use) or an od::value.
  template <class Source>
  static bool read_known(std::string_view key, Source& src, TradeFields& t, ParseError& err) {
    switch (key.size()) {
      case 2:
        if (key == "iv") return get_number(src, key, t.iv, err);
        break;
      case 3:
        if (key == "fee") return get_number(src, key, t.fee, err);
        break;
      case 5:
        if (key == "price") return get_number(src, key, t.price, err);
        break;
      case 6:
        if (key == "amount") return get_number(src, key, t.amount, err);
        break;
      case 8:
        if (key == "trade_id") return get_string(src, key, t.trade_id, err);
        break;
      case 9:
        if (key == "direction") return get_string(src, key, t.direction, err);
        if (key == "liquidity") return get_string(src, key, t.liquidity, err);
        if (key == "timestamp") return get_int(src, key, t.timestamp, err);
        break;
      case 10:
        if (key == "mark_price") return get_number(src, key, t.mark_price, err);
        break;
      case 11:
        if (key == "index_price") return get_number(src, key, t.index_price, err);
        break;
      case 12:
        if (key == "fee_currency") return get_string(src, key, t.fee_currency, err);
        break;
      case 15:
        if (key == "instrument_name") return get_string(src, key, t.instrument, err);
        break;
      case 16:
        if (key == "underlying_price") return get_number(src, key, t.underlying_price, err);
        break;
      default: break;
    }
    return true;
  }

  //! Reads a trade's fields in any order: one pass over every field, switching on the key.
  static bool read_any_order(od::object& obj, TradeFields& t, ParseError& err) {
    for (auto field_result : obj) {
      od::field field;
      if (auto e = std::move(field_result).get(field); e) return fail_json(err, e, "user trade");
      if (!read_known(raw_key(field), field, t, err)) return false;
    }
    return true;
  }

  //! Where the key of the next field of the object being read starts (just after its opening
  //! quote), without consuming anything: the iterator stands at the object's first key or right
  //! after a value (at ',' or '}'). nullptr when no field follows.
  const char* next_key() const {
    const char* p = nullptr;
    if (doc_->current_location().get(p) != simdjson::SUCCESS) return nullptr;
    if (*p == ',') {
      ++p;
      while (p < end_ && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t')) ++p;
    }
    if (p >= end_ || *p != '"') return nullptr;
    return p + 1;
  }

  //! The key of the next field (see next_key()). Empty when no field follows, or when the key
  //! has an escape (it then matches no known key).
  std::string_view peek_key() const {
    const char* p = next_key();
    if (p == nullptr) return {};
    const char* q = p;
    while (q < end_ && *q != '"' && *q != '\\') ++q;
    if (q >= end_ || *q != '"') return {};
    return {p, static_cast<std::size_t>(q - p)};
  }

  //! True when the next key is K, without consuming anything.
  template <FieldKey K>
  bool next_key_is() const {
    const char* p = next_key();
    return p != nullptr && key_is<K>(p);  // reads K.size() + 1 bytes: within the message or its padding
  }

  //! One step of the ordered walk: the field K at or after the current position (the ordered
  //! find, which never goes back, and skips the fields before it without materialising them),
  //! read into `out` as a number (double), an integer (int64) or a string taken as written
  //! (string_view). `in_order` becomes false when K is not in the rest of the object, or when a
  //! string holds an escape (Deribit's ids, symbols and enums never do; the order-free walk then
  //! unescapes it). K is a template argument, so every key comparison is a constant-size compare
  //! (protocol/ordered_fields.h) and the key's name for an error is a constant.
  template <FieldKey K, class T>
  static inline __attribute__((always_inline)) bool step(od::object& obj, bool& in_order, ParseError& err, T& out) {
    od::value v;
    bool found = false;
    if (auto e = find_field_ordered<K>(obj, v, found); e) return fail_json(err, e, "user trade");
    if (!found) {
      in_order = false;
      return true;
    }
    if constexpr (std::is_same_v<T, double>) {
      return get_number(v, K.name(), out, err);
    } else if constexpr (std::is_same_v<T, std::int64_t>) {
      return get_int(v, K.name(), out, err);
    } else {
      static_assert(std::is_same_v<T, std::string_view>);
      od::raw_json_string raw;
      if (auto e = v.get_raw_json_string().get(raw); e) return get_string_failed(e, K.name(), err);
      const char* p = raw.raw();
      const char* q = p;
      while (*q != '"' && *q != '\\') ++q;  // the closing quote exists: stage 1 checked strings
      if (*q == '\\') {
        in_order = false;
        return true;
      }
      out = {p, static_cast<std::size_t>(q - p)};
      return true;
    }
  }

  //! Reads a trade's fields in the order Deribit sends them (keys in reverse alphabetical order:
  //! underlying_price, trade_id, timestamp, price, mark_price, liquidity, iv, instrument_name,
  //! index_price, fee_currency, fee, direction, amount). `in_order` is false when the object does
  //! not follow that order (a field missing or elsewhere, or an unknown field after amount): the
  //! caller then rewinds the object and reads it with read_any_order(). The optional iv and
  //! underlying_price are taken where Deribit puts them, or right after amount.
  bool read_in_venue_order(od::object& obj, TradeFields& t, bool& in_order, ParseError& err) {
    in_order = true;
    if (next_key_is<"underlying_price">() && !step<"underlying_price">(obj, in_order, err, t.underlying_price))
      return false;
    // Each line: false on an error; stop (in_order false) at the first key not found in order.
    if (!step<"trade_id">(obj, in_order, err, t.trade_id)) return false;
    if (!in_order) return true;
    if (!step<"timestamp">(obj, in_order, err, t.timestamp)) return false;
    if (!in_order) return true;
    if (!step<"price">(obj, in_order, err, t.price)) return false;
    if (!in_order) return true;
    if (!step<"mark_price">(obj, in_order, err, t.mark_price)) return false;
    if (!in_order) return true;
    if (!step<"liquidity">(obj, in_order, err, t.liquidity)) return false;
    if (!in_order) return true;
    if (next_key_is<"iv">() && !step<"iv">(obj, in_order, err, t.iv)) return false;
    if (!step<"instrument_name">(obj, in_order, err, t.instrument)) return false;
    if (!in_order) return true;
    if (!step<"index_price">(obj, in_order, err, t.index_price)) return false;
    if (!in_order) return true;
    if (!step<"fee_currency">(obj, in_order, err, t.fee_currency)) return false;
    if (!in_order) return true;
    if (!step<"fee">(obj, in_order, err, t.fee)) return false;
    if (!in_order) return true;
    if (!step<"direction">(obj, in_order, err, t.direction)) return false;
    if (!in_order) return true;
    if (!step<"amount">(obj, in_order, err, t.amount)) return false;
    if (!in_order) return true;
    for (std::string_view key = peek_key(); !key.empty(); key = peek_key()) {
      bool ok = true;
      if (key == "iv" && std::isnan(t.iv)) {
        ok = step<"iv">(obj, in_order, err, t.iv);
      } else if (key == "underlying_price" && std::isnan(t.underlying_price)) {
        ok = step<"underlying_price">(obj, in_order, err, t.underlying_price);
      } else {
        in_order = false;  // something else after amount: read the object in any order
      }
      if (!ok) return false;
      if (!in_order) return true;
    }
    return true;
  }

  bool decode_trade(od::value& v, std::int64_t recv_ns, std::vector<Fill>& out, ParseError& err) {
    od::object obj;
    if (auto e = v.get_object().get(obj); e) return fail_json(err, e, "user trade (object)");
    TradeFields t;
    bool in_order = false;
    if (!read_in_venue_order(obj, t, in_order, err)) return false;
    if (!in_order) {
      if (auto e = obj.reset().error(); e) return fail_json(err, e, "user trade");
      t = TradeFields{};
      if (!read_any_order(obj, t, err)) return false;
    }
    const std::string_view trade_id = t.trade_id, instrument = t.instrument, direction = t.direction,
                           liquidity = t.liquidity, fee_currency = t.fee_currency;
    const double price = t.price, amount = t.amount, fee = t.fee, index_price = t.index_price,
                 underlying_price = t.underlying_price, mark_price = t.mark_price, iv = t.iv;
    const std::int64_t timestamp = t.timestamp;
    // Presence first, then values (fill_checks.h), as every adapter does.
    constexpr std::string_view kWhat = "user trade";
    Fill f;
    if (!require_text(trade_id, kWhat, "trade_id", err) || !require_text(instrument, kWhat, "instrument_name", err) ||
        !require_text(direction, kWhat, "direction", err) || !require_number(price, kWhat, "price", err) ||
        !require_number(amount, kWhat, "amount", err) ||
        !require_present(timestamp != kNoTime, kWhat, "timestamp", err) ||
        !require_positive(price, kWhat, "price", err) || !require_positive(amount, kWhat, "amount", err) ||
        !require_time_ms(timestamp, kWhat, "timestamp", f.venue_ns, err) ||
        !adapter::side(direction, "direction", "buy", "sell", f.side, err))
      return false;
    f.recv_ns = recv_ns;
    f.venue = Venue::kDeribit;
    f.account = account_;
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

  bool decode_result(od::value& v, std::int64_t recv_ns, DecodeOutcome& outcome, ParseError& err) {
    od::json_type type;
    if (auto e = v.type().get(type); e) return fail_json(err, e, "'result'");
    outcome.kind = MessageKind::kIgnored;
    outcome.reason = "response to a request of ours";
    switch (type) {
      case od::json_type::array: {
        // public/subscribe and private/subscribe answer with the list of subscribed channels;
        // private/get_positions with a list of positions (objects).
        od::array list;
        if (auto e = v.get_array().get(list); e) return fail_json(err, e, "'result'");
        positions_start_ = positions_.size();
        for (auto item_result : list) {
          od::value item;
          if (auto e = std::move(item_result).get(item); e) return fail_json(err, e, "'result'");
          od::json_type t;
          if (auto e = item.type().get(t); e) return fail_json(err, e, "'result' element");
          if (t == od::json_type::object) {
            od::object pos;
            if (auto e = item.get_object().get(pos); e) return fail_json(err, e, "position (object)");
            if (!decode_position(pos, 0, recv_ns, err)) return false;
            position_rows_ = true;
          } else if (!skip(item, err)) {
            return false;
          }
        }
        if (position_rows_) return true;
        outcome.kind = MessageKind::kSubscriptionAck;
        outcome.reason = "subscribe response (list of channels)";
        return true;
      }
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

  //! user.changes data: {"instrument_name", "trades": [...], "orders": [...], "positions": [...]}.
  //! The positions as of the newest of its trades (the change they made); a change without trades
  //! (a delivery, a settlement) as of its receive time.
  bool decode_changes(od::value& v, std::int64_t recv_ns, ParseError& err) {
    od::object data;
    if (auto e = v.get_object().get(data); e) return fail_json(err, e, "'params.data' (object)");
    std::int64_t newest_ms = 0;
    bool has_positions = false;
    const std::size_t first = positions_.size();
    for (auto field_result : data) {
      od::field field;
      if (auto e = std::move(field_result).get(field); e) return fail_json(err, e, "'params.data'");
      const std::string_view key = raw_key(field);
      if (key == "trades") {
        od::array trades;
        if (auto e = field.value().get_array().get(trades); e) return fail_json(err, e, "'data.trades' (array)");
        for (auto trade_result : trades) {
          od::object trade;
          if (auto e = trade_result.get_object().get(trade); e) return fail_json(err, e, "trade (object)");
          od::value tv;
          bool found = false;
          if (!find_field(trade, "timestamp", tv, found, err)) return false;
          std::int64_t ms = 0;
          if (found && !get_int(tv, "trade.timestamp", ms, err)) return false;
          newest_ms = std::max(newest_ms, ms);
          if (!finish_object(trade, err)) return false;
        }
      } else if (key == "positions") {
        has_positions = true;
        od::array list;
        if (auto e = field.value().get_array().get(list); e) return fail_json(err, e, "'data.positions' (array)");
        for (auto item_result : list) {
          od::object pos;
          if (auto e = item_result.get_object().get(pos); e) return fail_json(err, e, "position (object)");
          if (!decode_position(pos, 0, recv_ns, err)) return false;
        }
      }
    }
    if (!has_positions) return true;  // orders only
    std::int64_t t = 0;
    if (newest_ms > 0 && !ms_to_ns(newest_ms, "trade.timestamp", t, err)) return false;
    for (std::size_t i = first; i < positions_.size(); ++i) positions_[i].venue_ns = t;
    return true;
  }

  //! A position object: {"instrument_name", "kind", "direction": buy|sell|zero, "size" (signed; USD
  //! for inverse futures and perpetuals, the coin for options and linear ones), "size_currency"
  //! (futures: the coin, signed), "average_price", "mark_price", "index_price", ...}.
  bool decode_position(od::object& pos, std::int64_t venue_ns, std::int64_t recv_ns, ParseError& err) {
    std::string_view instrument, direction;
    double size = kNaN, size_currency = kNaN, average = kNaN, mark = kNaN, index = kNaN, initial_margin = kNaN;
    for (auto field_result : pos) {
      od::field field;
      if (auto e = std::move(field_result).get(field); e) return fail_json(err, e, "position");
      const std::string_view key = raw_key(field);
      if (key == "instrument_name") {
        if (!get_string(field, "position.instrument_name", instrument, err)) return false;
      } else if (key == "direction") {
        if (!get_string(field, "position.direction", direction, err)) return false;
      } else if (key == "size") {
        if (!get_number(field, "position.size", size, err)) return false;
      } else if (key == "size_currency") {
        if (!get_number(field, "position.size_currency", size_currency, err)) return false;
      } else if (key == "average_price") {
        if (!get_number(field, "position.average_price", average, err)) return false;
      } else if (key == "mark_price") {
        if (!get_number(field, "position.mark_price", mark, err)) return false;
      } else if (key == "index_price") {
        if (!get_number(field, "position.index_price", index, err)) return false;
      } else if (key == "initial_margin") {
        if (!get_number(field, "position.initial_margin", initial_margin, err)) return false;
      }
    }
    constexpr std::string_view kWhat = "position";
    if (!require_text(instrument, kWhat, "instrument_name", err) || !require_number(size, kWhat, "size", err))
      return false;
    if (!direction.empty() && direction != "buy" && direction != "sell" && direction != "zero")
      return fail(err, ParseErrorReason::kBadValue, "position 'direction' must be buy, sell or zero");
    const InstrumentInfo* ins = instruments_.find(instrument, err);
    if (ins == nullptr) return false;
    if (ins->kind == InstrumentKind::kSpot) return true;  // spot holdings are balances
    // The margin, in the position's currency: the coin (inverse and coin-settled options, at the
    // index price) or USDC (linear). Unknown for the whole snapshot once one row lacks it.
    if (!std::isnan(initial_margin) && !(initial_margin >= 0 && std::isfinite(initial_margin)))
      return fail(err, ParseErrorReason::kBadValue, "position 'initial_margin' must be >= 0");
    const bool in_coin = ins->inverse || !ins->usd_quoted;
    const double margin_usd = !in_coin ? initial_margin : index > 0 ? initial_margin * index : kNaN;
    positions_margin_usd_ += margin_usd;  // NaN stays NaN
    double qty = size;
    if (std::isfinite(size_currency)) {
      qty = size_currency;
    } else if (ins->inverse && size != 0.0) {
      const double px = mark > 0 ? mark : index;
      if (!(px > 0)) return fail(err, ParseErrorReason::kMissingField, "inverse position without 'mark_price'");
      qty = size / px;
    }
    if (direction == "zero") qty = 0.0;
    VenuePosition p;
    p.account = account_;
    p.instrument = ins;
    p.qty = qty;
    p.entry_price = average;
    p.mark_price = mark;
    p.underlying_price = index;
    p.venue_ns = venue_ns;
    add_position(p, recv_ns);
    return true;
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

  od::document* doc_ = nullptr;        //!< the message being decoded (for peek_key)
  const char* end_ = nullptr;          //!< its end
  std::int64_t us_out_ = 0;            //!< the message's usOut (µs), 0 when absent
  bool position_rows_ = false;         //!< the message's result was a list of positions
  double positions_margin_usd_ = 0.0;  //!< Σ of its rows' initial_margin in USD (NaN: one lacked it)
  std::size_t positions_start_ = 0;    //!< where that list's records start in positions_
};

}  // namespace

std::unique_ptr<VenueAdapter> make_deribit_adapter(AdapterContext context) {
  return std::make_unique<DeribitAdapter>(std::move(context));
}

}  // namespace segmentd
