#include "protocol/native_format.h"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <vector>

#include "core/str_cat.h"
#include "protocol/json_writer.h"
#include "simdjson.h"

namespace segmentd {
namespace {

static_assert(kJsonPadding >= simdjson::SIMDJSON_PADDING, "kJsonPadding must cover simdjson's padding");

constexpr std::size_t kMaxAccountBytes = 128;
constexpr std::size_t kMaxSymbolBytes = 64;

bool fail(ParseError* err, ParseErrorReason reason, std::string detail) {
  err->reason = reason;
  err->detail = std::move(detail);
  return false;
}

bool is_usd_like(std::string_view quote) {
  return quote == "USD" || quote == "USDT" || quote == "USDC" || quote == "FDUSD" || quote == "BUSD" || quote == "USDE";
}

// Field bits: each known field once.
enum FieldBit : std::uint32_t {
  kTs = 1u << 0,
  kVenueTs = 1u << 1,
  kVenueF = 1u << 2,
  kAccount = 1u << 3,
  kSymbol = 1u << 4,
  kSideF = 1u << 5,
  kQty = 1u << 6,
  kPrice = 1u << 7,
  kNotional = 1u << 8,
  kLiq = 1u << 9,
  kFee = 1u << 10,
  kTradeId = 1u << 11,
  kIv = 1u << 12,
  kUnderlying = 1u << 13,
  kMark = 1u << 14,
  kRecord = 1u << 15,
  kOpenInterest = 1u << 16,
  kMarginUsd = 1u << 17,
};
// The fields a price record may carry; any other fill field in one is an error.
constexpr std::uint32_t kPriceRecordFields =
    kTs | kVenueTs | kVenueF | kSymbol | kPrice | kUnderlying | kMark | kRecord | kOpenInterest;
// Likewise for a position record and the end of a positions snapshot.
constexpr std::uint32_t kPositionRecordFields =
    kTs | kVenueTs | kVenueF | kAccount | kSymbol | kQty | kPrice | kNotional | kUnderlying | kMark | kRecord;
constexpr std::uint32_t kPositionsEndFields = kTs | kVenueTs | kVenueF | kAccount | kRecord | kMarginUsd;

//! The first field of `seen` outside `allowed`, by name ("" when none).
std::string_view first_field_outside(std::uint32_t seen, std::uint32_t allowed) {
  constexpr std::pair<std::uint32_t, const char*> kNames[] = {{kTs, "ts_ns"},
                                                              {kVenueTs, "venue_ts_ns"},
                                                              {kVenueF, "venue"},
                                                              {kAccount, "account"},
                                                              {kSymbol, "symbol"},
                                                              {kSideF, "side"},
                                                              {kQty, "qty"},
                                                              {kPrice, "price"},
                                                              {kNotional, "notional_usd"},
                                                              {kLiq, "liquidity"},
                                                              {kFee, "fee_usd"},
                                                              {kTradeId, "trade_id"},
                                                              {kIv, "iv"},
                                                              {kUnderlying, "underlying_price"},
                                                              {kMark, "mark_price"},
                                                              {kRecord, "record"},
                                                              {kOpenInterest, "open_interest"},
                                                              {kMarginUsd, "margin_usd"}};
  for (auto [bit, name] : kNames)
    if ((seen & bit) && !(allowed & bit)) return name;
  return {};
}

}  // namespace

struct NativeFillParser::Json {
  simdjson::ondemand::parser parser;
  simdjson::dom::parser validator;  //!< error path only: is the line JSON at all?
};

NativeFillParser::NativeFillParser(AccountInterner& accounts, InstrumentRegistry& instruments)
    : accounts_(accounts), instruments_(instruments), json_(std::make_unique<Json>()) {}

NativeFillParser::~NativeFillParser() = default;

bool NativeFillParser::parse(std::string_view line, Fill* out, ParseError* err) {
  NativeLine kind = NativeLine::kFill;
  PriceRecord ignored;
  if (!parse_line(line, &kind, out, &ignored, err)) return false;
  if (kind == NativeLine::kFill) return true;
  return fail(err, ParseErrorReason::kBadValue, "'record' is not \"fill\": only fills are read here");
}

bool NativeFillParser::parse_unpadded(std::string_view line, Fill* out, ParseError* err) {
  NativeLine kind = NativeLine::kFill;
  PriceRecord ignored;
  if (!parse_line_unpadded(line, &kind, out, &ignored, err)) return false;
  if (kind == NativeLine::kFill) return true;
  return fail(err, ParseErrorReason::kBadValue, "'record' is not \"fill\": only fills are read here");
}

bool NativeFillParser::parse_line(std::string_view line, NativeLine* kind, Fill* fill, PriceRecord* price,
                                  ParseError* err) {
  if (parse_document(line.data(), line.size(), line.size() + kJsonPadding, kind, fill, price, err)) return true;
  classify_error(line, err);
  return false;
}

bool NativeFillParser::parse_line_unpadded(std::string_view line, NativeLine* kind, Fill* fill, PriceRecord* price,
                                           ParseError* err) {
  scratch_.assign(line.data(), line.size());
  scratch_.append(kJsonPadding, ' ');
  if (parse_document(scratch_.data(), line.size(), scratch_.size(), kind, fill, price, err)) return true;
  classify_error(line, err);
  return false;
}

void NativeFillParser::classify_error(std::string_view line, ParseError* err) {
  // On-Demand parses lazily, so broken JSON can surface as a type error at the first bad
  // value. On the (rare) error path, validate the whole line to report the true reason.
  if (err->reason == ParseErrorReason::kMalformedJson) return;
  simdjson::dom::element ignored;
  if (auto e = json_->validator.parse(line.data(), line.size(), true).get(ignored); e) {
    err->reason = ParseErrorReason::kMalformedJson;
    err->detail = str_cat("not valid JSON: ", simdjson::error_message(e));
  }
}

bool NativeFillParser::lookup_instrument(Venue venue, std::string_view symbol, const CachedInstrument** out,
                                         ParseError* err) {
  key_scratch_.clear();
  key_scratch_.push_back(static_cast<char>('0' + static_cast<int>(venue)));
  key_scratch_.append(symbol);
  auto it = symbol_cache_.find(absl::string_view(key_scratch_.data(), key_scratch_.size()));
  if (it == symbol_cache_.end()) {
    auto id = instruments_.resolve(venue, symbol);
    if (!id.ok()) return fail(err, ParseErrorReason::kBadSymbol, std::string(id.status().message()));
    const Instrument& ins = instruments_.get(*id);
    CachedInstrument c;
    c.id = *id;
    c.underlying = instruments_.underlying_of(*id);
    c.kind = ins.kind;
    c.option_type = ins.option_type;
    c.expiry_ns = ins.expiry_ns;
    c.strike = ins.strike;
    c.usd_quoted = is_usd_like(ins.quote) && ins.kind != InstrumentKind::kOption;
    it = symbol_cache_.emplace(key_scratch_, c).first;
  }
  *out = &it->second;
  return true;
}

bool NativeFillParser::parse_document(const char* data, std::size_t len, std::size_t capacity, NativeLine* kind,
                                      Fill* out, PriceRecord* price, ParseError* err) {
  using simdjson::ondemand::json_type;
  simdjson::ondemand::document doc;
  if (auto e = json_->parser.iterate(data, len, capacity).get(doc); e) {
    return fail(err, ParseErrorReason::kMalformedJson, simdjson::error_message(e));
  }
  simdjson::ondemand::object obj;
  if (auto e = doc.get_object().get(obj); e) {
    if (e == simdjson::INCORRECT_TYPE)
      return fail(err, ParseErrorReason::kWrongType, "a fill line must be a JSON object");
    return fail(err, ParseErrorReason::kMalformedJson, simdjson::error_message(e));
  }

  *out = Fill{};
  std::uint32_t seen = 0;
  std::string_view account, symbol;
  Venue venue = Venue::kNative;
  bool has_trade_id = false;
  double open_interest = kNaN;  // price records only
  double margin_usd = kNaN;     // ends of positions only
  *kind = NativeLine::kFill;

  auto number = [&](simdjson::ondemand::value& v, std::string_view key, double* dst) {
    if (auto e = v.get_double().get(*dst); e) {
      if (e == simdjson::INCORRECT_TYPE)
        return fail(err, ParseErrorReason::kWrongType, str_cat("'", key, "' must be a number"));
      return fail(err, ParseErrorReason::kMalformedJson, str_cat("'", key, "': ", simdjson::error_message(e)));
    }
    if (!std::isfinite(*dst)) return fail(err, ParseErrorReason::kBadValue, str_cat("'", key, "' must be finite"));
    return true;
  };
  auto positive = [&](simdjson::ondemand::value& v, std::string_view key, double* dst) {
    if (!number(v, key, dst)) return false;
    if (!(*dst > 0)) return fail(err, ParseErrorReason::kBadValue, str_cat("'", key, "' must be > 0"));
    return true;
  };
  auto text = [&](simdjson::ondemand::value& v, std::string_view key, std::string_view* dst) {
    if (auto e = v.get_string().get(*dst); e) {
      if (e == simdjson::INCORRECT_TYPE)
        return fail(err, ParseErrorReason::kWrongType, str_cat("'", key, "' must be a string"));
      return fail(err, ParseErrorReason::kMalformedJson, str_cat("'", key, "': ", simdjson::error_message(e)));
    }
    return true;
  };
  auto timestamp = [&](simdjson::ondemand::value& v, std::string_view key, std::int64_t* dst) {
    if (auto e = v.get_int64().get(*dst); e) {
      if (e == simdjson::INCORRECT_TYPE || e == simdjson::NUMBER_ERROR)
        return fail(err, ParseErrorReason::kWrongType,
                    str_cat("'", key, "' must be an integer (ns since the Unix epoch)"));
      return fail(err, ParseErrorReason::kMalformedJson, str_cat("'", key, "': ", simdjson::error_message(e)));
    }
    if (*dst <= 0) return fail(err, ParseErrorReason::kBadValue, str_cat("'", key, "' must be > 0"));
    return true;
  };

  for (auto field_result : obj) {
    simdjson::ondemand::field field;
    if (auto e = std::move(field_result).get(field); e)
      return fail(err, ParseErrorReason::kMalformedJson, simdjson::error_message(e));
    std::string_view key;
    if (auto e = field.unescaped_key().get(key); e)
      return fail(err, ParseErrorReason::kMalformedJson, simdjson::error_message(e));
    simdjson::ondemand::value v = field.value();
    std::uint32_t bit = 0;
    bool ok = true;
    if (key == "ts_ns") {
      bit = kTs;
      ok = timestamp(v, key, &out->recv_ns);
    } else if (key == "venue_ts_ns") {
      bit = kVenueTs;
      ok = timestamp(v, key, &out->venue_ns);
    } else if (key == "venue") {
      bit = kVenueF;
      std::string_view s;
      ok = text(v, key, &s);
      if (ok) {
        auto parsed = parse_venue(s);
        if (!parsed)
          ok = fail(err, ParseErrorReason::kBadValue,
                    str_cat("'venue' must be one of native, deribit, binance, okx, bybit, hyperliquid"));
        else
          venue = *parsed;
      }
    } else if (key == "account") {
      bit = kAccount;
      ok = text(v, key, &account);
      if (ok && (account.empty() || account.size() > kMaxAccountBytes))
        ok = fail(err, ParseErrorReason::kBadValue, "'account' must be 1..128 bytes");
    } else if (key == "symbol") {
      bit = kSymbol;
      ok = text(v, key, &symbol);
      if (ok && (symbol.empty() || symbol.size() > kMaxSymbolBytes))
        ok = fail(err, ParseErrorReason::kBadValue, "'symbol' must be 1..64 bytes");
    } else if (key == "side") {
      bit = kSideF;
      std::string_view s;
      ok = text(v, key, &s);
      if (ok) {
        auto parsed = parse_side(s);
        if (!parsed)
          ok = fail(err, ParseErrorReason::kBadValue, "'side' must be \"buy\" or \"sell\"");
        else
          out->side = *parsed;
      }
    } else if (key == "qty") {
      bit = kQty;
      ok = number(v, key, &out->qty);  // > 0 for a fill, signed for a position (checked below)
    } else if (key == "price") {
      bit = kPrice;
      ok = positive(v, key, &out->price);
    } else if (key == "notional_usd") {
      bit = kNotional;
      ok = number(v, key, &out->notional_usd);
      if (ok && out->notional_usd < 0) ok = fail(err, ParseErrorReason::kBadValue, "'notional_usd' must be >= 0");
    } else if (key == "liquidity") {
      bit = kLiq;
      std::string_view s;
      ok = text(v, key, &s);
      if (ok) {
        auto parsed = parse_liquidity(s);
        if (!parsed)
          ok = fail(err, ParseErrorReason::kBadValue, "'liquidity' must be \"maker\", \"taker\" or \"unknown\"");
        else
          out->liquidity = *parsed;
      }
    } else if (key == "fee_usd") {
      bit = kFee;
      ok = number(v, key, &out->fee_usd);
    } else if (key == "trade_id") {
      bit = kTradeId;
      json_type t;
      if (auto e = v.type().get(t); e) {
        ok = fail(err, ParseErrorReason::kMalformedJson, simdjson::error_message(e));
      } else if (t == json_type::string) {
        std::string_view s;
        ok = text(v, key, &s);
        if (ok) out->trade_id = stable_hash(s.data(), s.size());
      } else if (t == json_type::number) {
        if (v.get_uint64().get(out->trade_id))
          ok = fail(err, ParseErrorReason::kWrongType, "'trade_id' must be a string or an unsigned integer");
      } else {
        ok = fail(err, ParseErrorReason::kWrongType, "'trade_id' must be a string or an unsigned integer");
      }
      has_trade_id = ok;
    } else if (key == "iv") {
      bit = kIv;
      ok = positive(v, key, &out->iv);
      if (ok && out->iv > 10.0)
        ok = fail(err, ParseErrorReason::kBadValue, "'iv' is a fraction (0.55 = 55%) and must be in (0, 10]");
    } else if (key == "underlying_price") {
      bit = kUnderlying;
      ok = positive(v, key, &out->underlying_price);
    } else if (key == "mark_price") {
      bit = kMark;
      ok = positive(v, key, &out->mark_price);
    } else if (key == "open_interest") {
      bit = kOpenInterest;
      ok = number(v, key, &open_interest);
      if (ok && open_interest < 0) ok = fail(err, ParseErrorReason::kBadValue, "'open_interest' must be >= 0");
    } else if (key == "margin_usd") {
      bit = kMarginUsd;
      ok = number(v, key, &margin_usd);
      if (ok && margin_usd < 0) ok = fail(err, ParseErrorReason::kBadValue, "'margin_usd' must be >= 0");
    } else if (key == "record") {
      bit = kRecord;
      std::string_view s;
      ok = text(v, key, &s);
      if (ok && s == "price")
        *kind = NativeLine::kPrice;
      else if (ok && s == "position")
        *kind = NativeLine::kPosition;
      else if (ok && s == "positions_end")
        *kind = NativeLine::kPositionsEnd;
      else if (ok && s != "fill")
        ok = fail(err, ParseErrorReason::kBadValue,
                  "'record' must be \"fill\", \"price\", \"position\" or \"positions_end\"");
    } else {
      return fail(err, ParseErrorReason::kUnknownField, str_cat("unknown field '", key.substr(0, 64), "'"));
    }
    if (!ok) return false;
    if (seen & bit) return fail(err, ParseErrorReason::kBadValue, str_cat("duplicate field '", key, "'"));
    seen |= bit;
  }
  // simdjson 3.0 has no document::at_end(): a readable current location means trailing bytes.
  if (const char* rest = nullptr; doc.current_location().get(rest) == simdjson::SUCCESS)
    return fail(err, ParseErrorReason::kMalformedJson, "trailing content after the JSON object");

  if (*kind == NativeLine::kPrice) {
    if (seen & kQty) return fail(err, ParseErrorReason::kUnknownField, "'qty' is not a field of a price record");
    if (seen & kMarginUsd)
      return fail(err, ParseErrorReason::kUnknownField, "'margin_usd' is not a field of a price record");
    return finish_price_record(seen, venue, symbol, *out, open_interest, price, err);
  }
  if (*kind == NativeLine::kPosition || *kind == NativeLine::kPositionsEnd) {
    if (!finish_position_record(seen, venue, account, symbol, *kind, out, err)) return false;
    if (*kind == NativeLine::kPositionsEnd) out->fee_usd = margin_usd;  // Fill::venue_margin_usd
    return true;
  }
  if (seen & kOpenInterest)
    return fail(err, ParseErrorReason::kUnknownField, "'open_interest' is a field of a price record, not of a fill");
  if (seen & kMarginUsd)
    return fail(err, ParseErrorReason::kUnknownField, "'margin_usd' is a field of an end of positions, not of a fill");
  if ((seen & kQty) && !(out->qty > 0)) return fail(err, ParseErrorReason::kBadValue, "'qty' must be > 0");

  constexpr std::pair<std::uint32_t, const char*> kRequired[] = {
      {kTs, "ts_ns"}, {kAccount, "account"}, {kSymbol, "symbol"}, {kSideF, "side"}, {kQty, "qty"}, {kPrice, "price"}};
  for (auto [bit, name] : kRequired) {
    if (!(seen & bit))
      return fail(err, ParseErrorReason::kMissingField, str_cat("missing required field '", name, "'"));
  }

  const CachedInstrument* ins = nullptr;
  if (!lookup_instrument(venue, symbol, &ins, err)) return false;
  out->venue = venue;
  out->instrument = ins->id;
  out->underlying = ins->underlying;
  out->kind = ins->kind;
  out->option_type = ins->option_type;
  out->expiry_ns = ins->expiry_ns;
  out->strike = ins->strike;
  if (!(seen & kNotional)) {
    if (seen & kUnderlying) {
      out->notional_usd = out->qty * out->underlying_price;
    } else if (ins->usd_quoted) {
      out->notional_usd = out->qty * out->price;
    } else {
      return fail(err, ParseErrorReason::kMissingField,
                  "missing 'notional_usd' (or 'underlying_price'): the price of this instrument is not in USD");
    }
  }
  if (!has_trade_id) out->trade_id = 0;
  out->account = accounts_.intern(account);
  return true;
}

bool NativeFillParser::finish_price_record(std::uint32_t seen, Venue venue, std::string_view symbol, const Fill& fields,
                                           double open_interest, PriceRecord* out, ParseError* err) {
  constexpr std::pair<std::uint32_t, const char*> kFillOnly[] = {
      {kAccount, "account"}, {kSideF, "side"},  {kQty, "qty"},          {kNotional, "notional_usd"},
      {kLiq, "liquidity"},   {kFee, "fee_usd"}, {kTradeId, "trade_id"}, {kIv, "iv"}};
  for (auto [bit, name] : kFillOnly) {
    if (seen & bit)
      return fail(err, ParseErrorReason::kUnknownField, str_cat("'", name, "' is not a field of a price record"));
  }
  static_assert((kPriceRecordFields & (kAccount | kSideF | kQty)) == 0);
  if (!(seen & kTs)) return fail(err, ParseErrorReason::kMissingField, "missing required field 'ts_ns'");
  if (!(seen & kSymbol)) return fail(err, ParseErrorReason::kMissingField, "missing required field 'symbol'");
  if (!(seen & (kPrice | kMark | kUnderlying | kOpenInterest)))
    return fail(err, ParseErrorReason::kMissingField,
                "a price record needs at least one of 'price', 'mark_price', 'underlying_price', 'open_interest'");
  const CachedInstrument* ins = nullptr;
  if (!lookup_instrument(venue, symbol, &ins, err)) return false;
  *out = PriceRecord{};
  out->recv_ns = fields.recv_ns;
  out->venue_ns = fields.venue_ns;
  out->instrument = ins->id;
  out->underlying = ins->underlying;
  out->venue = venue;
  if (seen & kPrice) out->price = fields.price;
  if (seen & kMark) out->mark_price = fields.mark_price;
  if (seen & kUnderlying) out->underlying_price = fields.underlying_price;
  if (seen & kOpenInterest) out->open_interest = open_interest;
  return true;
}

bool NativeFillParser::finish_position_record(std::uint32_t seen, Venue venue, std::string_view account,
                                              std::string_view symbol, NativeLine kind, Fill* out, ParseError* err) {
  const bool end = kind == NativeLine::kPositionsEnd;
  const std::string_view what = end ? "an end of positions" : "a position record";
  if (const std::string_view extra = first_field_outside(seen, end ? kPositionsEndFields : kPositionRecordFields);
      !extra.empty())
    return fail(err, ParseErrorReason::kUnknownField, str_cat("'", extra, "' is not a field of ", what));
  const std::uint32_t required = end ? (kTs | kAccount) : (kTs | kAccount | kSymbol | kQty);
  for (auto [bit, name] : {std::pair{kTs, "ts_ns"}, std::pair{kAccount, "account"}, std::pair{kSymbol, "symbol"},
                           std::pair{kQty, "qty"}}) {
    if ((required & bit) && !(seen & bit))
      return fail(err, ParseErrorReason::kMissingField, str_cat("missing required field '", name, "'"));
  }
  out->venue = venue;
  out->record = end ? RecordKind::kPositionsEnd : RecordKind::kPosition;
  if (!end) {
    const CachedInstrument* ins = nullptr;
    if (!lookup_instrument(venue, symbol, &ins, err)) return false;
    out->instrument = ins->id;
    out->underlying = ins->underlying;
    out->kind = ins->kind;
    out->option_type = ins->option_type;
    out->expiry_ns = ins->expiry_ns;
    out->strike = ins->strike;
    if (!(seen & kNotional)) {
      // USD of the position, when its prices say it: as a fill's notional.
      if (seen & kUnderlying)
        out->notional_usd = std::abs(out->qty) * out->underlying_price;
      else if (ins->usd_quoted && (seen & kMark))
        out->notional_usd = std::abs(out->qty) * out->mark_price;
      else if (ins->usd_quoted && (seen & kPrice))
        out->notional_usd = std::abs(out->qty) * out->price;
    }
    if (!(seen & kUnderlying) && ins->usd_quoted && out->qty != 0.0 && out->notional_usd > 0)
      out->underlying_price = out->notional_usd / std::abs(out->qty);
  }
  out->account = accounts_.intern(account);
  return true;
}

int partition_of_account(std::string_view account, int partitions) {
  std::uint64_t h = 14695981039346656037ull;  // FNV-1a, 64-bit
  for (const char c : account) {
    h ^= static_cast<unsigned char>(c);
    h *= 1099511628211ull;
  }
  return partitions <= 1 ? 0 : static_cast<int>(h % static_cast<std::uint64_t>(partitions));
}

void append_native_fill(std::string& out, const Fill& f, std::string_view account, std::string_view symbol) {
  out.append("{\"ts_ns\":");
  json::append_int(out, f.recv_ns);
  if (f.venue_ns > 0) {
    out.append(",\"venue_ts_ns\":");
    json::append_int(out, f.venue_ns);
  }
  out.append(",\"venue\":\"");
  out.append(to_string(f.venue));
  out.append("\",\"account\":");
  json::append_string(out, account);
  out.append(",\"symbol\":");
  json::append_string(out, symbol);
  out.append(",\"side\":\"");
  out.append(to_string(f.side));
  out.append("\",\"qty\":");
  json::append_double(out, f.qty);
  out.append(",\"price\":");
  json::append_double(out, f.price);
  out.append(",\"notional_usd\":");
  json::append_double(out, f.notional_usd);
  if (f.liquidity != Liquidity::kUnknown) {
    out.append(",\"liquidity\":\"");
    out.append(to_string(f.liquidity));
    out.push_back('"');
  }
  if (!std::isnan(f.fee_usd)) {
    out.append(",\"fee_usd\":");
    json::append_double(out, f.fee_usd);
  }
  if (f.trade_id != 0) {
    out.append(",\"trade_id\":");
    json::append_uint(out, f.trade_id);
  }
  if (!std::isnan(f.iv)) {
    out.append(",\"iv\":");
    json::append_double(out, f.iv);
  }
  if (!std::isnan(f.underlying_price)) {
    out.append(",\"underlying_price\":");
    json::append_double(out, f.underlying_price);
  }
  if (!std::isnan(f.mark_price)) {
    out.append(",\"mark_price\":");
    json::append_double(out, f.mark_price);
  }
  out.append("}\n");
}

void append_native_price(std::string& out, const PriceRecord& p, std::string_view symbol) {
  out.append("{\"record\":\"price\",\"ts_ns\":");
  json::append_int(out, p.recv_ns);
  if (p.venue_ns > 0) {
    out.append(",\"venue_ts_ns\":");
    json::append_int(out, p.venue_ns);
  }
  out.append(",\"venue\":\"");
  out.append(to_string(p.venue));
  out.append("\",\"symbol\":");
  json::append_string(out, symbol);
  if (!std::isnan(p.price)) {
    out.append(",\"price\":");
    json::append_double(out, p.price);
  }
  if (!std::isnan(p.mark_price)) {
    out.append(",\"mark_price\":");
    json::append_double(out, p.mark_price);
  }
  if (!std::isnan(p.underlying_price)) {
    out.append(",\"underlying_price\":");
    json::append_double(out, p.underlying_price);
  }
  if (!std::isnan(p.open_interest)) {
    out.append(",\"open_interest\":");
    json::append_double(out, p.open_interest);
  }
  out.append("}\n");
}

void append_native_position(std::string& out, const Fill& rec, std::string_view account, std::string_view symbol) {
  const bool end = rec.record == RecordKind::kPositionsEnd;
  out.append(end ? "{\"record\":\"positions_end\",\"ts_ns\":" : "{\"record\":\"position\",\"ts_ns\":");
  json::append_int(out, rec.recv_ns);
  if (rec.venue_ns > 0) {
    out.append(",\"venue_ts_ns\":");
    json::append_int(out, rec.venue_ns);
  }
  out.append(",\"venue\":\"");
  out.append(to_string(rec.venue));
  out.append("\",\"account\":");
  json::append_string(out, account);
  if (!end) {
    out.append(",\"symbol\":");
    json::append_string(out, symbol);
    out.append(",\"qty\":");
    json::append_double(out, rec.qty);
    if (rec.price > 0 && std::isfinite(rec.price)) {
      out.append(",\"price\":");
      json::append_double(out, rec.price);
    }
    if (rec.notional_usd > 0 && std::isfinite(rec.notional_usd)) {
      out.append(",\"notional_usd\":");
      json::append_double(out, rec.notional_usd);
    }
    if (rec.underlying_price > 0 && std::isfinite(rec.underlying_price)) {
      out.append(",\"underlying_price\":");
      json::append_double(out, rec.underlying_price);
    }
    if (rec.mark_price > 0 && std::isfinite(rec.mark_price)) {
      out.append(",\"mark_price\":");
      json::append_double(out, rec.mark_price);
    }
  }
  out.append("}\n");
}

absl::Status read_native_file(const std::string& path, NativeFillParser& parser, std::size_t max_line_bytes,
                              const std::function<void(const Fill&)>& on_fill,
                              const std::function<void(std::uint64_t line, const ParseError&)>& on_error,
                              NativeReadStats* stats) {
  NativeReadPosition ignored;
  return read_native_file(path, parser, max_line_bytes, on_fill, {}, on_error, stats, NativeReadPosition{}, &ignored);
}

absl::Status read_native_file(const std::string& path, NativeFillParser& parser, std::size_t max_line_bytes,
                              const std::function<void(const Fill&)>& on_fill,
                              const std::function<void(const PriceRecord&)>& on_price,
                              const std::function<void(std::uint64_t line, const ParseError&)>& on_error,
                              NativeReadStats* stats, NativeReadPosition from, NativeReadPosition* current) {
  std::FILE* file = std::fopen(path.c_str(), "rb");
  if (file == nullptr) return absl::NotFoundError(str_cat("cannot open '", path, "': ", std::strerror(errno)));
  if (from.offset > 0 && fseeko(file, static_cast<off_t>(from.offset), SEEK_SET) != 0) {
    std::fclose(file);
    return absl::OutOfRangeError(str_cat("cannot seek '", path, "' to byte ", from.offset));
  }
  std::uint64_t buf_offset = from.offset;  // file offset of buf[0]
  constexpr std::size_t kChunk = 1 << 22;
  // buf holds [carry-over of a partial line][new chunk][padding]; lines are parsed in place.
  std::vector<char> buf;
  std::size_t have = 0;  // valid bytes in buf
  std::uint64_t line_no = from.line;
  bool skipping_oversized = false;  // inside a line already reported as oversized
  Fill fill;
  PriceRecord price;
  NativeLine kind = NativeLine::kFill;
  ParseError err;
  auto handle_line = [&](const char* p, std::size_t n) {
    current->offset = buf_offset + static_cast<std::uint64_t>(p - buf.data());
    current->line = line_no;
    ++line_no;
    if (n > 0 && p[n - 1] == '\r') --n;
    bool blank = true;
    for (std::size_t i = 0; i < n && blank; ++i) blank = (p[i] == ' ' || p[i] == '\t');
    if (blank) return;
    ++stats->lines;
    if (parser.parse_line(std::string_view(p, n), &kind, &fill, &price, &err)) {
      if (kind == NativeLine::kFill) {
        ++stats->fills;
        on_fill(fill);
      } else if (kind == NativeLine::kPosition || kind == NativeLine::kPositionsEnd) {
        ++stats->positions;
        on_fill(fill);  // Fill::record says what it is
      } else {
        ++stats->prices;
        if (on_price) on_price(price);
      }
    } else {
      stats->errors.add(err.reason);
      on_error(line_no, err);
    }
  };
  for (;;) {
    if (buf.size() < have + kChunk + kJsonPadding) buf.resize(have + kChunk + kJsonPadding);
    std::size_t got = std::fread(buf.data() + have, 1, kChunk, file);
    stats->bytes += got;
    bool eof = got < kChunk;
    have += got;
    std::size_t start = 0;
    for (;;) {
      const char* nl = static_cast<const char*>(std::memchr(buf.data() + start, '\n', have - start));
      if (nl == nullptr) break;
      std::size_t end = static_cast<std::size_t>(nl - buf.data());
      if (skipping_oversized) {
        skipping_oversized = false;  // the tail of a line already counted
      } else if (end - start > max_line_bytes) {
        ++line_no;
        ++stats->lines;
        err = {ParseErrorReason::kOversized, str_cat("line longer than ", max_line_bytes, " bytes")};
        stats->errors.add(err.reason);
        on_error(line_no, err);
      } else {
        handle_line(buf.data() + start, end - start);
      }
      start = end + 1;
    }
    // Keep the partial last line; an over-long one is reported now and its tail skipped.
    std::size_t rest = have - start;
    if (rest > max_line_bytes && !skipping_oversized) {
      ++line_no;
      ++stats->lines;
      err = {ParseErrorReason::kOversized, str_cat("line longer than ", max_line_bytes, " bytes")};
      stats->errors.add(err.reason);
      on_error(line_no, err);
      skipping_oversized = true;
      rest = 0;
    } else if (skipping_oversized) {
      rest = 0;
    }
    std::memmove(buf.data(), buf.data() + have - rest, rest);
    buf_offset += have - rest;
    have = rest;
    if (eof) break;
  }
  bool read_error = std::ferror(file) != 0;
  std::fclose(file);
  if (read_error) return absl::DataLossError(str_cat("error reading '", path, "'"));
  if (have > 0) {
    std::memset(buf.data() + have, ' ', kJsonPadding);
    handle_line(buf.data(), have);
  }
  return absl::OkStatus();
}

}  // namespace segmentd
