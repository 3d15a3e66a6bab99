#include "protocol/venues/hyperliquid/adapter.h"

#include <algorithm>

#include "protocol/fill_checks.h"
#include "protocol/ordered_fields.h"
#include "protocol/venues/adapter_support.h"

namespace segmentd {
namespace {

using namespace adapter;

AdapterContext lower_case_account(AdapterContext ctx) {
  for (char& c : ctx.account) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return ctx;
}

class HyperliquidAdapter final : public JsonAdapter {
 public:
  explicit HyperliquidAdapter(AdapterContext ctx)
      : JsonAdapter(Venue::kHyperliquid, lower_case_account(ctx), true), price_only_(std::move(ctx.price_only_coins)) {}

 protected:
  bool decode_document(od::document& doc, std::string_view, std::int64_t recv_ns, std::vector<Fill>& out,
                       DecodeOutcome& outcome, ParseError& err) override {
    od::object root;
    if (auto e = doc.get_object().get(root); e) return fail_root(doc, e, err);
    od::value v;
    bool found = false;
    if (!find_field(root, "channel", v, found, err)) return false;
    if (!found) return fail(err, ParseErrorReason::kUnknownMessage, "no 'channel'");
    std::string_view channel;
    if (!get_string(v, "channel", channel, err)) return false;
    const std::size_t before = out.size();
    if (channel == "userFills" || channel == "user") {
      if (!find_field(root, "data", v, found, err)) return false;
      if (!found) return fail(err, ParseErrorReason::kMissingField, "no 'data'");
      if (!decode_user_fills(v, channel == "userFills", recv_ns, out, outcome, err)) return false;
      outcome.kind = out.size() > before || channel == "userFills" ? MessageKind::kFills : MessageKind::kIgnored;
      outcome.reason = channel == "user" && out.size() == before
                           ? "user event without fills (funding, liquidation, cancel)"
                       : outcome.snapshot ? "userFills snapshot (recent fills re-sent on subscribe)"
                                          : "user fills";
    } else if (channel == "trades") {
      if (!find_field(root, "data", v, found, err)) return false;
      if (!found) return fail(err, ParseErrorReason::kMissingField, "no 'data'");
      if (!decode_trades(v, recv_ns, out, outcome, err)) return false;
      outcome.kind = out.size() > before ? MessageKind::kFills
                     : market_.empty()   ? MessageKind::kIgnored
                                         : MessageKind::kMarketData;
      outcome.reason = out.size() > before ? "public trades with both users (buyer and seller fills, and prints)"
                                           : "public trades as prints only (no 'users', or a price-only coin)";
    } else if (channel == "activeAssetCtx") {
      if (!find_field(root, "data", v, found, err)) return false;
      if (!found) return fail(err, ParseErrorReason::kMissingField, "no 'data'");
      if (!decode_asset_ctx(v, recv_ns, err)) return false;
      outcome.kind = MessageKind::kMarketData;
      outcome.reason = "perpetual asset context (mark and oracle price for the price tape)";
    } else if (channel == "clearinghouseState") {
      if (!find_field(root, "data", v, found, err)) return false;
      if (!found) return fail(err, ParseErrorReason::kMissingField, "no 'data'");
      if (!decode_clearinghouse(v, recv_ns, err)) return false;
      outcome.kind = MessageKind::kPositions;
      outcome.reason = "clearinghouse state (every perpetual position of the user: a complete snapshot)";
    } else if (channel == "subscriptionResponse") {
      outcome.kind = MessageKind::kSubscriptionAck;
      outcome.reason = "subscription response";
    } else if (channel == "pong") {
      outcome.kind = MessageKind::kPong;
      outcome.reason = "pong (answer to our ping)";
    } else if (channel == "error") {
      outcome.kind = MessageKind::kVenueError;
      outcome.success = false;
      outcome.reason = "error channel";
    } else {
      outcome.kind = MessageKind::kIgnored;
      outcome.reason = "channel other than userFills, user, trades, activeAssetCtx and clearinghouseState";
    }
    return finish_object(root, err);
  }

 private:
  bool decode_user_fills(od::value& v, bool user_fills, std::int64_t recv_ns, std::vector<Fill>& out,
                         DecodeOutcome& outcome, ParseError& err) {
    od::object data;
    if (auto e = v.get_object().get(data); e) return fail_json(err, e, "'data' (object)");
    std::string_view user = account_name_;
    od::value fv;
    bool found = false;
    if (user_fills) {
      if (!find_field(data, "user", fv, found, err)) return false;
      if (!found) return fail(err, ParseErrorReason::kMissingField, "userFills without 'data.user'");
      if (!get_string(fv, "data.user", user, err)) return false;
      if (user.empty()) return fail(err, ParseErrorReason::kBadValue, "'data.user' is empty");
      if (!find_field(data, "isSnapshot", fv, found, err)) return false;
      if (found && !get_bool(fv, "data.isSnapshot", outcome.snapshot, err)) return false;
    } else if (user.empty()) {
      return fail(err, ParseErrorReason::kBadValue, "user event but no configured user address for this source");
    }
    if (!find_field(data, "fills", fv, found, err)) return false;
    if (!found) {
      if (user_fills) return fail(err, ParseErrorReason::kMissingField, "userFills without 'data.fills'");
      return finish_object(data, err);
    }
    od::array fills;
    if (auto e = fv.get_array().get(fills); e) return fail_json(err, e, "'data.fills' (array)");
    const AccountId account = accounts_.intern(user);
    for (auto fill_result : fills) {
      od::object obj;
      if (auto e = fill_result.get_object().get(obj); e) return fail_json(err, e, "fill (object)");
      if (!decode_fill(obj, user, account, recv_ns, out, err)) return false;
    }
    return finish_object(data, err);
  }

  //! A trade id: an unsigned JSON integer.
  static bool get_tid(od::value& v, std::string_view, std::uint64_t& tid, ParseError& err) {
    if (auto e = v.get_uint64().get(tid); e) return fail_json(err, e, "'tid' (integer)");
    return true;
  }

  //! The fields of a user fill that a Fill needs; NaN / empty / kNoTime when absent.
  struct FillFields {
    std::string_view coin, side, fee_token;
    double px = kNaN, sz = kNaN, fee = kNaN;
    bool crossed = false, has_crossed = false;
    std::int64_t time = kNoTime;
    std::uint64_t tid = 0;
    bool has_tid = false;
  };
  //! In the order Hyperliquid sends them.
  using FillTable = FieldTable<FillFields,                                                                   //
                               Field<"coin", &FillFields::coin, read_string>,                                //
                               Field<"px", &FillFields::px, read_decimal>,                                   //
                               Field<"sz", &FillFields::sz, read_decimal>,                                   //
                               Field<"side", &FillFields::side, read_string>,                                //
                               Field<"time", &FillFields::time, read_int>,                                   //
                               Field<"crossed", &FillFields::crossed, read_bool, &FillFields::has_crossed>,  //
                               Field<"fee", &FillFields::fee, read_decimal>,                                 //
                               Field<"tid", &FillFields::tid, get_tid, &FillFields::has_tid>,                //
                               Field<"feeToken", &FillFields::fee_token, read_string>>;

  bool decode_fill(od::object& obj, std::string_view user, AccountId account, std::int64_t recv_ns,
                   std::vector<Fill>& out, ParseError& err) {
    FillFields x;
    if (!FillTable::read(obj, x, "fill", err)) return false;
    const std::string_view coin = x.coin, side = x.side, fee_token = x.fee_token;
    const double px = x.px, sz = x.sz, fee = x.fee;
    const bool crossed = x.crossed, has_crossed = x.has_crossed, has_tid = x.has_tid;
    const std::int64_t time = x.time;
    const std::uint64_t tid = x.tid;
    Fill f;
    if (!common(coin, side, px, sz, time, has_tid, recv_ns, f, err)) return false;
    f.account = account;
    if (has_crossed) f.liquidity = crossed ? Liquidity::kTaker : Liquidity::kMaker;
    if (!std::isnan(fee)) {
      const InstrumentInfo* ins = instruments_.find(coin, err);
      if (ins == nullptr) return false;  // common() resolved the coin already: not expected
      // feeToken is absent in older messages; fees were USDC then.
      f.fee_usd = fee_to_usd(fee, fee_token.empty() ? std::string_view("USDC") : fee_token, *ins,
                             base_usd_price(f, *ins, kNaN));
    }
    f.trade_id = trade_id(tid, user);
    out.push_back(f);
    return true;
  }

  //! A trade's users: [buyer, seller]. `n` counts every element (only the first two are kept).
  struct Users {
    std::string_view names[2];
    std::size_t n = 0;
    bool present = false;
  };
  static bool get_users(od::value& v, std::string_view, Users& out, ParseError& err) {
    out.present = true;
    od::array a;
    if (auto e = v.get_array().get(a); e) return fail_json(err, e, "'users' (array)");
    for (auto u : a) {
      std::string_view s;
      if (auto e = u.get_string().get(s); e) return fail_json(err, e, "'users' element (string)");
      if (out.n < 2) out.names[out.n] = s;
      ++out.n;
    }
    return true;
  }

  //! The fields of a public trade that its two fills need; NaN / empty / kNoTime when absent.
  struct TradeFields {
    std::string_view coin, side;
    double px = kNaN, sz = kNaN;
    std::int64_t time = kNoTime;
    std::uint64_t tid = 0;
    bool has_tid = false;
    Users users;
  };
  //! In the order Hyperliquid sends them.
  using TradeTable = FieldTable<TradeFields,                                                      //
                                Field<"coin", &TradeFields::coin, read_string>,                   //
                                Field<"side", &TradeFields::side, read_string>,                   //
                                Field<"px", &TradeFields::px, read_decimal>,                      //
                                Field<"sz", &TradeFields::sz, read_decimal>,                      //
                                Field<"time", &TradeFields::time, read_int>,                      //
                                Field<"tid", &TradeFields::tid, get_tid, &TradeFields::has_tid>,  //
                                Field<"users", &TradeFields::users, get_users>>;

  bool decode_trades(od::value& v, std::int64_t recv_ns, std::vector<Fill>& out, DecodeOutcome& outcome,
                     ParseError& err) {
    od::array trades;
    if (auto e = v.get_array().get(trades); e) return fail_json(err, e, "'data' (array)");
    for (auto trade_result : trades) {
      od::object obj;
      if (auto e = trade_result.get_object().get(obj); e) return fail_json(err, e, "trade (object)");
      TradeFields x;
      if (!TradeTable::read(obj, x, "trade", err)) return false;
      const std::string_view coin = x.coin, side = x.side;
      const std::string_view* users = x.users.names;
      const std::size_t n_users = x.users.n;
      const bool has_users = x.users.present, has_tid = x.has_tid;
      const double px = x.px, sz = x.sz;
      const std::int64_t time = x.time;
      const std::uint64_t tid = x.tid;
      if (has_users && (n_users != 2 || users[0].empty() || users[1].empty())) {
        return fail(err, ParseErrorReason::kBadValue, "'users' must be [buyer, seller]");
      }
      Fill buyer;
      if (!common(coin, side, px, sz, time, has_tid, recv_ns, buyer, err)) return false;
      // Every public trade is a print for the price tape.
      PriceRecord print;
      print.recv_ns = recv_ns;
      print.venue_ns = buyer.venue_ns;
      print.venue = Venue::kHyperliquid;
      print.instrument = buyer.instrument;
      print.underlying = buyer.underlying;
      print.price = px;
      market_.push_back(print);
      // A trade without users (older feeds) cannot be attributed; a price-only coin's is not.
      if (!has_users || std::find(price_only_.begin(), price_only_.end(), coin) != price_only_.end()) {
        ++outcome.skipped;
        continue;
      }
      const bool buyer_took = side == "B";
      Fill seller = buyer;
      buyer.side = Side::kBuy;
      buyer.liquidity = buyer_took ? Liquidity::kTaker : Liquidity::kMaker;
      buyer.account = accounts_.intern(users[0]);
      buyer.trade_id = trade_id(tid, users[0]);
      seller.side = Side::kSell;
      seller.liquidity = buyer_took ? Liquidity::kMaker : Liquidity::kTaker;
      seller.account = accounts_.intern(users[1]);
      seller.trade_id = trade_id(tid, users[1]);
      out.push_back(buyer);
      out.push_back(seller);
    }
    return true;
  }

  //! activeAssetCtx: {"coin": C, "ctx": {"markPx", "oraclePx", "openInterest", ...}}; the message
  //! has no time of its own, so the record's is the receive time. The oracle price is the coin's
  //! index; the open interest is in coins.
  bool decode_asset_ctx(od::value& v, std::int64_t recv_ns, ParseError& err) {
    od::object data;
    if (auto e = v.get_object().get(data); e) return fail_json(err, e, "'data' (object)");
    std::string_view coin;
    double mark = kNaN, oracle = kNaN, open_interest = kNaN;
    bool has_ctx = false;
    for (auto field_result : data) {
      od::field field;
      if (auto e = std::move(field_result).get(field); e) return fail_json(err, e, "'data'");
      const std::string_view key = raw_key(field);
      if (key == "coin") {
        if (!get_string(field, "data.coin", coin, err)) return false;
      } else if (key == "ctx") {
        has_ctx = true;
        od::object ctx;
        if (auto e = field.value().get_object().get(ctx); e) return fail_json(err, e, "'data.ctx' (object)");
        for (auto cf_result : ctx) {
          od::field cf;
          if (auto e = std::move(cf_result).get(cf); e) return fail_json(err, e, "'data.ctx'");
          const std::string_view ckey = raw_key(cf);
          bool present = false;
          if (ckey == "markPx") {
            if (!get_decimal_string(cf.value(), "ctx.markPx", mark, present, err)) return false;
          } else if (ckey == "oraclePx") {
            if (!get_decimal_string(cf.value(), "ctx.oraclePx", oracle, present, err)) return false;
          } else if (ckey == "openInterest") {
            if (!get_decimal_string(cf.value(), "ctx.openInterest", open_interest, present, err)) return false;
          }
        }
      }
    }
    if (coin.empty()) return fail(err, ParseErrorReason::kMissingField, "activeAssetCtx without 'data.coin'");
    if (!has_ctx) return fail(err, ParseErrorReason::kMissingField, "activeAssetCtx without 'data.ctx'");
    if (std::isnan(mark)) return fail(err, ParseErrorReason::kMissingField, "activeAssetCtx without 'ctx.markPx'");
    if (!(mark > 0) || !std::isfinite(mark))
      return fail(err, ParseErrorReason::kBadValue, "activeAssetCtx 'ctx.markPx' must be positive");
    if (!std::isnan(oracle) && (!(oracle > 0) || !std::isfinite(oracle)))
      return fail(err, ParseErrorReason::kBadValue, "activeAssetCtx 'ctx.oraclePx' must be positive");
    if (!std::isnan(open_interest) && !(open_interest >= 0))
      return fail(err, ParseErrorReason::kBadValue, "activeAssetCtx 'ctx.openInterest' must be >= 0");
    const InstrumentInfo* ins = instruments_.find(coin, err);
    if (ins == nullptr) return false;
    PriceRecord p;
    p.recv_ns = recv_ns;
    p.venue = Venue::kHyperliquid;
    p.open_interest = open_interest;  // in coins, as the perpetual's size
    p.instrument = ins->id;
    p.underlying = ins->underlying;
    p.mark_price = mark;
    p.underlying_price = oracle;
    market_.push_back(p);
    return true;
  }

  //! clearinghouseState: {"dex", "user", "clearinghouseState": {"assetPositions": [{"type",
  //! "position": {"coin", "szi", "entryPx", "positionValue", ...}}], "marginSummary":
  //! {"totalMarginUsed", ...}, ..., "time"}}. Every push is the user's whole set of perpetual
  //! positions on the dex: records, then the end of a snapshot (with the margin used, USD). szi is
  //! signed, in coins; positionValue = |szi| × mark (USD).
  bool decode_clearinghouse(od::value& v, std::int64_t recv_ns, ParseError& err) {
    od::object data;
    if (auto e = v.get_object().get(data); e) return fail_json(err, e, "'data' (object)");
    std::string_view user;
    std::int64_t time_ms = kNoTime;
    double margin_used = kNaN;  // marginSummary.totalMarginUsed: USD held against the positions
    bool has_state = false;
    const std::size_t first = positions_.size();
    pending_positions_.clear();
    for (auto field_result : data) {
      od::field field;
      if (auto e = std::move(field_result).get(field); e) return fail_json(err, e, "'data'");
      const std::string_view key = raw_key(field);
      if (key == "user") {
        if (!get_string(field, "data.user", user, err)) return false;
      } else if (key == "clearinghouseState") {
        has_state = true;
        od::object state;
        if (auto e = field.value().get_object().get(state); e)
          return fail_json(err, e, "'data.clearinghouseState' (object)");
        for (auto sf_result : state) {
          od::field sf;
          if (auto e = std::move(sf_result).get(sf); e) return fail_json(err, e, "'clearinghouseState'");
          const std::string_view skey = raw_key(sf);
          if (skey == "time") {
            if (!get_int(sf, "clearinghouseState.time", time_ms, err)) return false;
          } else if (skey == "marginSummary") {
            od::object summary;
            if (auto e = sf.value().get_object().get(summary); e) return fail_json(err, e, "'marginSummary' (object)");
            for (auto mf_result : summary) {
              od::field mf;
              if (auto e = std::move(mf_result).get(mf); e) return fail_json(err, e, "'marginSummary'");
              bool present = false;
              if (raw_key(mf) == "totalMarginUsed" &&
                  !get_decimal_string(mf.value(), "marginSummary.totalMarginUsed", margin_used, present, err))
                return false;
            }
            if (!std::isnan(margin_used) && (!(margin_used >= 0) || !std::isfinite(margin_used)))
              return fail(err, ParseErrorReason::kBadValue, "'marginSummary.totalMarginUsed' must be >= 0");
          } else if (skey == "assetPositions") {
            od::array list;
            if (auto e = sf.value().get_array().get(list); e) return fail_json(err, e, "'assetPositions' (array)");
            for (auto item_result : list) {
              od::object item;
              if (auto e = item_result.get_object().get(item); e) return fail_json(err, e, "asset position (object)");
              od::value pv;
              bool found = false;
              if (!find_field(item, "position", pv, found, err)) return false;
              if (!found) return fail(err, ParseErrorReason::kMissingField, "asset position without 'position'");
              od::object pos;
              if (auto e = pv.get_object().get(pos); e) return fail_json(err, e, "'position' (object)");
              PendingPosition p;
              for (auto pf_result : pos) {
                od::field pf;
                if (auto e = std::move(pf_result).get(pf); e) return fail_json(err, e, "'position'");
                const std::string_view pkey = raw_key(pf);
                bool present = false;
                if (pkey == "coin") {
                  if (!get_string(pf, "position.coin", p.coin, err)) return false;
                } else if (pkey == "szi") {
                  if (!get_decimal_string(pf.value(), "position.szi", p.szi, present, err)) return false;
                } else if (pkey == "entryPx") {
                  // null for a position of size 0. is_null() fails on a broken value: an error, not
                  // an exception (the adapter is fed hostile bytes).
                  bool null_entry = false;
                  if (auto e = pf.value().is_null().get(null_entry); e) return fail_json(err, e, "'position.entryPx'");
                  if (null_entry) continue;
                  if (!get_decimal_string(pf.value(), "position.entryPx", p.entry, present, err)) return false;
                } else if (pkey == "positionValue") {
                  if (!get_decimal_string(pf.value(), "position.positionValue", p.value, present, err)) return false;
                }
              }
              if (p.coin.empty()) return fail(err, ParseErrorReason::kMissingField, "position without 'coin'");
              if (std::isnan(p.szi)) return fail(err, ParseErrorReason::kMissingField, "position without 'szi'");
              if (!std::isfinite(p.szi)) return fail(err, ParseErrorReason::kBadValue, "position 'szi' must be finite");
              if (!std::isnan(p.value) && (!(p.value >= 0) || !std::isfinite(p.value)))
                return fail(err, ParseErrorReason::kBadValue, "position 'positionValue' must be >= 0");
              if (!finish_object(item, err)) return false;
              pending_positions_.push_back(p);
            }
          }
        }
      }
    }
    if (!has_state) return fail(err, ParseErrorReason::kMissingField, "no 'data.clearinghouseState'");
    std::string_view who = user.empty() ? std::string_view(account_name_) : user;
    if (who.empty()) return fail(err, ParseErrorReason::kMissingField, "clearinghouseState without 'data.user'");
    std::int64_t venue_ns = 0;
    if (time_ms != kNoTime && !ms_to_ns(time_ms, "clearinghouseState.time", venue_ns, err)) return false;
    const AccountId account = accounts_.intern(who);  // as userFills keys its fills
    for (const PendingPosition& p : pending_positions_) {
      const InstrumentInfo* ins = instruments_.find(p.coin, err);
      if (ins == nullptr) {
        positions_.resize(first);
        return false;
      }
      VenuePosition vp;
      vp.account = account;
      vp.instrument = ins;
      vp.qty = p.szi * ins->contract_value;
      vp.entry_price = p.entry;
      const double size = std::abs(p.szi);
      if (size > 0 && std::isfinite(p.value) && p.value > 0) {
        vp.mark_price = p.value / size;
        vp.underlying_price = vp.mark_price;
      }
      vp.venue_ns = venue_ns;
      add_position(vp, recv_ns);
    }
    end_positions(account, venue_ns, recv_ns, margin_used);
    return finish_object(data, err);
  }

  //! Fields shared by userFills and trades; side "B" (bid) is a buy, "A" (ask) a sell.
  bool common(std::string_view coin, std::string_view side, double px, double sz, std::int64_t time, bool has_tid,
              std::int64_t recv_ns, Fill& f, ParseError& err) {
    // Presence first, then values (fill_checks.h), as every adapter does.
    constexpr std::string_view kWhat = "fill";
    if (!require_text(coin, kWhat, "coin", err) || !require_number(px, kWhat, "px", err) ||
        !require_number(sz, kWhat, "sz", err) || !require_present(time != kNoTime, kWhat, "time", err) ||
        !require_present(has_tid, kWhat, "tid", err) || !require_positive(px, kWhat, "px", err) ||
        !require_positive(sz, kWhat, "sz", err) || !adapter::side(side, "side", "B", "A", f.side, err) ||
        !require_time_ms(time, kWhat, "time", f.venue_ns, err))
      return false;
    f.recv_ns = recv_ns;
    f.venue = Venue::kHyperliquid;
    const InstrumentInfo* ins = instruments_.find(coin, err);
    if (ins == nullptr) return false;
    set_instrument(f, *ins);
    f.price = px;
    f.qty = sz * ins->contract_value;
    if (!set_notional(f, *ins)) return fail(err, ParseErrorReason::kBadSymbol, "instrument price is not in USD");
    return true;
  }

  static std::uint64_t trade_id(std::uint64_t tid, std::string_view user) {
    char buf[24];
    auto [p, ec] = std::to_chars(buf, buf + sizeof buf, tid);
    return TradeIdHasher("hyperliquid").add(std::string_view(buf, static_cast<std::size_t>(p - buf))).add(user).value();
  }

  std::vector<std::string> price_only_;
  //! A clearinghouseState position read, before its coin is resolved.
  struct PendingPosition {
    std::string_view coin;
    double szi = kNaN, entry = kNaN, value = kNaN;
  };
  std::vector<PendingPosition> pending_positions_;  //!< scratch of decode_clearinghouse
};

}  // namespace

std::unique_ptr<VenueAdapter> make_hyperliquid_adapter(AdapterContext context) {
  return std::make_unique<HyperliquidAdapter>(std::move(context));
}

}  // namespace segmentd
