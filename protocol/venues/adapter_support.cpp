#include "protocol/venues/adapter_support.h"

#include <limits>
#include <utility>

#include "core/str_cat.h"

namespace segmentd::adapter {

bool fail(ParseError& err, ParseErrorReason reason, std::string_view detail) {
  err.reason = reason;
  err.detail.assign(detail.data(), detail.size());
  return false;
}

bool fail_json(ParseError& err, simdjson::error_code e, std::string_view what) {
  ParseErrorReason reason = ParseErrorReason::kMalformedJson;
  std::string_view expected;
  switch (e) {
    case simdjson::INCORRECT_TYPE:
      reason = ParseErrorReason::kWrongType;
      expected = ": wrong JSON type";
      break;
    case simdjson::NUMBER_ERROR:
    case simdjson::NUMBER_OUT_OF_RANGE:
      reason = ParseErrorReason::kBadValue;
      expected = ": number out of range or malformed";
      break;
    case simdjson::NO_SUCH_FIELD:
      reason = ParseErrorReason::kMissingField;
      expected = ": missing";
      break;
    default: break;
  }
  err.reason = reason;
  if (expected.empty()) {
    err.detail = str_cat(what, ": ", simdjson::error_message(e));
  } else {
    err.detail = str_cat(what, expected);
  }
  return false;
}

bool fail_root(od::document& doc, simdjson::error_code e, ParseError& err) {
  if (e != simdjson::INCORRECT_TYPE) return fail_json(err, e, "message");
  od::json_type type;
  if (doc.type().get(type) == simdjson::SUCCESS) {
    bool valid = false;
    switch (type) {
      case od::json_type::array: valid = true; break;
      case od::json_type::string: valid = doc.get_string().error() == simdjson::SUCCESS; break;
      case od::json_type::number: valid = doc.get_double().error() == simdjson::SUCCESS; break;
      case od::json_type::boolean: valid = doc.get_bool().error() == simdjson::SUCCESS; break;
      case od::json_type::null: {
        bool is_null = false;
        valid = doc.is_null().get(is_null) == simdjson::SUCCESS && is_null;
        break;
      }
      default: break;
    }
    if (valid) return fail(err, ParseErrorReason::kUnknownMessage, "the message is not a JSON object");
  }
  return fail(err, ParseErrorReason::kMalformedJson, "the message is not JSON");
}

bool get_string_failed(simdjson::error_code e, std::string_view what, ParseError& err) {
  return fail_json(err, e, str_cat("'", what, "' (string)"));
}

bool get_bool(od::value& v, std::string_view what, bool& out, ParseError& err) {
  if (auto e = v.get_bool().get(out); e) return fail_json(err, e, str_cat("'", what, "' (boolean)"));
  return true;
}

bool get_number_failed(simdjson::error_code e, std::string_view what, ParseError& err) {
  if (e) return fail_json(err, e, str_cat("'", what, "' (number)"));
  return fail(err, ParseErrorReason::kBadValue, str_cat("'", what, "' must be finite"));
}

bool get_int_failed(simdjson::error_code e, std::string_view what, ParseError& err) {
  return fail_json(err, e, str_cat("'", what, "' (integer)"));
}

bool parse_decimal(std::string_view s, double& out) {
  if (s.empty() || s.size() > 64) return false;
  const char* b = s.data();
  const char* e = b + s.size();
  if (*b == '+') return false;  // from_chars would refuse it anyway; keep the rule explicit
  auto [p, ec] = std::from_chars(b, e, out, std::chars_format::general);
  return ec == std::errc() && p == e && std::isfinite(out);
}

bool parse_int(std::string_view s, std::int64_t& out) {
  if (s.empty() || s.size() > 19) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size();
}

bool get_decimal_string(od::value& v, std::string_view what, double& out, bool& present, ParseError& err) {
  od::raw_json_string raw;
  if (auto e = v.get_raw_json_string().get(raw); e) return fail_json(err, e, str_cat("'", what, "' (numeric string)"));
  // A numeric string has no escapes, so its raw text ends at the first quote (which stage 1 of
  // simdjson has already found, so the scan is bounded by the message).
  const char* p = raw.raw();
  const char* q = p;
  while (*q != '"' && *q != '\\') ++q;
  if (*q == '\\') return fail(err, ParseErrorReason::kBadValue, str_cat("'", what, "' is not a decimal number"));
  const std::string_view text(p, static_cast<std::size_t>(q - p));
  present = !text.empty();
  if (!present) {
    out = kNaN;
    return true;
  }
  if (!parse_decimal(text, out))
    return fail(err, ParseErrorReason::kBadValue, str_cat("'", what, "' is not a decimal number"));
  return true;
}

bool get_ms_string(od::value& v, std::string_view what, std::int64_t& out_ns, ParseError& err) {
  std::string_view s;
  if (!get_string(v, what, s, err)) return false;
  std::int64_t ms = 0;
  if (!parse_int(s, ms)) return fail(err, ParseErrorReason::kBadValue, str_cat("'", what, "' is not a time in ms"));
  return ms_to_ns(ms, what, out_ns, err);
}

bool find_field(od::object& obj, std::string_view key, od::value& out, bool& found, ParseError& err) {
  auto e = obj.find_field_unordered(key).get(out);
  found = e == simdjson::SUCCESS;
  if (e == simdjson::NO_SUCH_FIELD) return true;
  if (e) return fail_json(err, e, str_cat("'", key, "'"));
  return true;
}

bool finish_object(od::object& obj, ParseError& err) {
  if (auto e = obj.reset().error(); e) return fail_json(err, e, "message");
  for (auto field : obj) {
    if (auto e = field.error(); e) return fail_json(err, e, "message");
  }
  return true;
}

bool ms_to_ns(std::int64_t ms, std::string_view what, std::int64_t& out, ParseError& err) {
  if (ms <= 0 || ms > kMaxMs)
    return fail(err, ParseErrorReason::kBadValue, str_cat("'", what, "' is not a time in ms"));
  out = ms * kNsPerMs;
  return true;
}

bool is_usd_like(std::string_view c) {
  return c == "USD" || c == "USDT" || c == "USDC" || c == "FDUSD" || c == "BUSD" || c == "USDE";
}

// ---------------------------------------------------------------------------------------------

namespace {

std::uint64_t load_u64(const char* p) {
  std::uint64_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

//! a == b for symbols, without a memcmp call for the usual 8-16 byte ones: the first and the last
//! 8 bytes (which overlap, and so cover every byte, up to 16), then the middle of longer ones.
bool same_symbol(std::string_view a, std::string_view b) {
  const std::size_t n = a.size();
  if (n != b.size()) return false;
  if (n < 8) return a == b;
  if (load_u64(a.data()) != load_u64(b.data()) || load_u64(a.data() + n - 8) != load_u64(b.data() + n - 8))
    return false;
  return n <= 16 || std::memcmp(a.data() + 8, b.data() + 8, n - 16) == 0;
}

}  // namespace

const InstrumentInfo* InstrumentCache::find(std::string_view symbol, ParseError& err) {
  for (std::size_t i = 0; i < kRecent && recent_[i].info != nullptr; ++i) {
    if (!same_symbol(recent_[i].symbol, symbol)) continue;
    // Move to the front, so that the most frequent symbols are found first.
    for (; i > 0; --i) std::swap(recent_[i], recent_[i - 1]);
    return recent_[0].info;
  }
  auto it = map_.find(absl::string_view(symbol.data(), symbol.size()));
  if (it == map_.end()) {
    auto id = registry_.resolve(venue_, symbol);
    if (!id.ok()) {
      const auto message = id.status().message();
      fail(err, ParseErrorReason::kBadSymbol, std::string_view(message.data(), message.size()));
      return nullptr;
    }
    const Instrument& ins = registry_.get(*id);
    InstrumentInfo info;
    info.id = *id;
    info.underlying = registry_.underlying_of(*id);
    info.kind = ins.kind;
    info.option_type = ins.option_type;
    info.expiry_ns = ins.expiry_ns;
    info.strike = ins.strike;
    info.contract_value = ins.contract_value;
    info.inverse = ins.inverse;
    info.usd_quoted = is_usd_like(ins.quote);
    info.base = ins.base;
    info.quote = ins.quote;
    if (map_.size() >= kMaxEntries) map_.clear();
    it = map_.emplace(std::string(symbol), std::move(info)).first;
    for (Recent& r : recent_) r.info = nullptr;  // the insertion may have moved every entry
  }
  // Into the front slot; the least recent entry drops out.
  for (std::size_t i = kRecent - 1; i > 0; --i) recent_[i] = recent_[i - 1];
  recent_[0].symbol = std::string_view(it->first.data(), it->first.size());
  recent_[0].info = &it->second;
  return recent_[0].info;
}

AccountId AccountCache::intern(std::string_view name) {
  auto it = map_.find(absl::string_view(name.data(), name.size()));
  if (it != map_.end()) return it->second;
  const AccountId id = interner_.intern(name);
  if (map_.size() >= kMaxEntries) map_.clear();
  map_.emplace(std::string(name), id);
  return id;
}

// ---------------------------------------------------------------------------------------------

namespace {

constexpr int kMaxWalkDepth = 64;  //!< venue messages nest 4-5 levels; deeper is hostile input

//! Walks a value sequentially, checking structure, keys and strings; values themselves are
//! checked by whoever reads them.
simdjson::error_code walk(od::value v, int depth) {
  if (depth > kMaxWalkDepth) return simdjson::DEPTH_ERROR;
  od::json_type type;
  if (auto e = v.type().get(type); e) return e;
  switch (type) {
    case od::json_type::object: {
      od::object o;
      if (auto e = v.get_object().get(o); e) return e;
      for (auto field_result : o) {
        od::field field;
        if (auto e = std::move(field_result).get(field); e) return e;
        if (auto e = walk(field.value(), depth + 1); e) return e;
      }
      return simdjson::SUCCESS;
    }
    case od::json_type::array: {
      od::array a;
      if (auto e = v.get_array().get(a); e) return e;
      for (auto element : a) {
        od::value x;
        if (auto e = std::move(element).get(x); e) return e;
        if (auto e = walk(x, depth + 1); e) return e;
      }
      return simdjson::SUCCESS;
    }
    case od::json_type::string: {
      std::string_view s;
      return v.get_string().get(s);
    }
    default:
      v.raw_json_token();  // scalars: consumed here, checked by whoever reads them
      return simdjson::SUCCESS;
  }
}

simdjson::error_code validate(od::document& doc) {
  od::value root;
  if (auto e = doc.get_value().get(root); e) return e;
  if (auto e = walk(root, 0); e) return e;
  const char* rest = nullptr;
  if (doc.current_location().get(rest) == simdjson::SUCCESS) return simdjson::TRAILING_CONTENT;
  doc.rewind();
  return simdjson::SUCCESS;
}

}  // namespace

JsonAdapter::JsonAdapter(Venue venue, AdapterContext ctx, bool needs_dedup, bool random_access)
    : venue_(venue),
      account_name_(std::move(ctx.account)),
      instruments_(*ctx.instruments, venue),
      accounts_(*ctx.accounts),
      random_access_(random_access),
      dedup_(ctx.dedup) {
  prices_ = ctx.prices;
  // Interned even when empty, so that every fill's AccountId names something; a private stream
  // without a configured account is a config error the source reports, not the adapter.
  account_ = ctx.accounts->intern(account_name_);
  if (dedup_ == nullptr && needs_dedup) {
    own_dedup_ = std::make_unique<TradeDedup>();
    dedup_ = own_dedup_.get();
  }
}

JsonAdapter::~JsonAdapter() = default;

bool JsonAdapter::decode(std::string_view message, std::int64_t recv_ns, std::vector<Fill>& out, DecodeOutcome& outcome,
                         ParseError& error) {
  outcome.reset();
  market_.clear();
  positions_.clear();
  if (decode_text(message, outcome)) return true;
  const std::size_t start = out.size();
  od::document doc;
  bool ok = true;
  if (auto e = parser_.iterate(message.data(), message.size(), message.size() + kJsonPadding).get(doc); e) {
    ok = fail_json(error, e, "message");
  } else if (auto ve = random_access_ ? validate(doc) : simdjson::SUCCESS; ve) {
    ok = ve == simdjson::INCORRECT_TYPE ? fail(error, ParseErrorReason::kMalformedJson, "the message is not JSON")
                                        : fail_json(error, ve, "message");
    if (ve == simdjson::TRAILING_CONTENT) error.reason = ParseErrorReason::kMalformedJson;
  } else {
    ok = decode_document(doc, message, recv_ns, out, outcome, error);
    // simdjson 3.0 has no document::at_end(): a readable current location means trailing bytes.
    const char* rest = nullptr;
    if (ok && doc.current_location().get(rest) == simdjson::SUCCESS) {
      ok = fail(error, ParseErrorReason::kMalformedJson, "trailing content after the message");
    }
  }
  if (!ok) {
    out.resize(start);
    market_.clear();
    positions_.clear();
    outcome.reset();
    return false;
  }
  // De-duplicate only now that the whole message is good, so a bad message records nothing.
  std::size_t w = start;
  for (std::size_t r = start; r < out.size(); ++r) {
    if (dedup_ != nullptr && !dedup_->insert(out[r].trade_id)) {
      ++outcome.duplicates;
      continue;
    }
    if (w != r) out[w] = out[r];
    ++w;
  }
  out.resize(w);
  outcome.fills = static_cast<std::uint32_t>(w - start);
  return true;
}

void JsonAdapter::set_instrument(Fill& f, const InstrumentInfo& ins) {
  f.instrument = ins.id;
  f.underlying = ins.underlying;
  f.kind = ins.kind;
  f.option_type = ins.option_type;
  f.expiry_ns = ins.expiry_ns;
  f.strike = ins.strike;
}

void JsonAdapter::add_position(const VenuePosition& p, std::int64_t recv_ns) {
  Fill r;
  r.record = RecordKind::kPosition;
  r.recv_ns = recv_ns;
  r.venue_ns = p.venue_ns;
  r.account = p.account;
  r.venue = venue_;
  set_instrument(r, *p.instrument);
  r.qty = p.qty == 0.0 ? 0.0 : p.qty;  // no negative zero
  r.price = std::isfinite(p.entry_price) && p.entry_price > 0 ? p.entry_price : 0.0;
  r.mark_price = std::isfinite(p.mark_price) && p.mark_price > 0 ? p.mark_price : kNaN;
  double usd = std::isfinite(p.underlying_price) && p.underlying_price > 0 ? p.underlying_price : kNaN;
  // A linear instrument quoted in USD: its mark is USD per base unit.
  if (std::isnan(usd) && p.instrument->usd_quoted && p.instrument->kind != InstrumentKind::kOption)
    usd = std::isfinite(r.mark_price) ? r.mark_price : r.price > 0 ? r.price : kNaN;  // else the entry price
  r.underlying_price = usd;
  r.notional_usd = std::isfinite(usd) ? std::abs(r.qty) * usd : 0.0;
  positions_.push_back(r);
}

void JsonAdapter::end_positions(AccountId account, std::int64_t venue_ns, std::int64_t recv_ns, double margin_usd) {
  Fill r;
  r.record = RecordKind::kPositionsEnd;
  r.fee_usd = margin_usd;
  r.recv_ns = recv_ns;
  r.venue_ns = venue_ns;
  r.account = account;
  r.venue = venue_;
  positions_.push_back(r);
}

bool JsonAdapter::set_notional(Fill& f, const InstrumentInfo& ins) {
  if (std::isfinite(f.underlying_price) && f.underlying_price > 0) {
    f.notional_usd = f.qty * f.underlying_price;
    return true;
  }
  if (ins.usd_quoted && ins.kind != InstrumentKind::kOption) {
    f.notional_usd = f.qty * f.price;
    return true;
  }
  return false;
}

double JsonAdapter::fee_to_usd(double fee, std::string_view currency, const InstrumentInfo& ins, double base_usd) {
  if (!std::isfinite(fee)) return kNaN;
  if (is_usd_like(currency)) return fee;
  if (currency == ins.base && std::isfinite(base_usd) && base_usd > 0) return fee * base_usd;
  return kNaN;
}

double JsonAdapter::base_usd_price(const Fill& f, const InstrumentInfo& ins, double index_price) {
  if (std::isfinite(index_price) && index_price > 0) return index_price;
  if (std::isfinite(f.underlying_price) && f.underlying_price > 0) return f.underlying_price;
  if (ins.usd_quoted && ins.kind != InstrumentKind::kOption) return f.price;
  return kNaN;
}

}  // namespace segmentd::adapter
