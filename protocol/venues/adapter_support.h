#pragma once
// Shared machinery of the JSON venue adapters (protocol/*_adapter.cpp only; not a public header):
// the simdjson on-demand helpers that read a venue's fields with the right error reasons, the
// per-session symbol and account caches, and the base class that makes decode() all-or-nothing
// and applies de-duplication.
//
// Fields are read in document order (one pass, no DOM): an adapter declares the fields of an
// object it reads as a table (protocol/ordered_fields.h: FieldTable, the OKX, Bybit and
// Hyperliquid fills), or iterates the object's fields and switches on the key; either way field
// order never changes the result. Deribit's trades also have an ordered fast path with a
// fallback to such a walk.

#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "core/fill.h"
#include "protocol/native_format.h"
#include "protocol/venues/trade_dedup.h"
#include "protocol/venues/venue_adapter.h"
#include "simdjson.h"

namespace segmentd::adapter {

namespace od = simdjson::ondemand;

static_assert(kJsonPadding >= simdjson::SIMDJSON_PADDING, "kJsonPadding must cover simdjson's padding");

inline constexpr std::int64_t kNsPerMs = 1'000'000;
//! Venue timestamps are ms; anything past year ~2262 overflows int64 ns and is rejected.
inline constexpr std::int64_t kMaxMs = 9'000'000'000'000;

// ---------------------------------------------------------------------------------------------
// Errors

bool fail(ParseError& err, ParseErrorReason reason, std::string_view detail);
//! Maps a simdjson error met while reading `what` to our reason and fills `err`.
bool fail_json(ParseError& err, simdjson::error_code e, std::string_view what);
//! The root of a message is not an object: kUnknownMessage when it is valid JSON (an array, a
//! scalar), kMalformedJson otherwise. `e` is the error get_object() returned.
bool fail_root(od::document& doc, simdjson::error_code e, ParseError& err);

// ---------------------------------------------------------------------------------------------
// Reading fields

//! The key of a field as written in the message, without unescaping. Venues never escape keys;
//! a key with an escape yields "" so that it matches no known key (never a wrong one).
inline std::string_view raw_key(od::field& f) {
  // Keys are short: a plain loop beats a memchr call. The closing quote exists (stage 1 of
  // simdjson validated the strings), so the scan is bounded by the message.
  const char* p = f.key().raw();
  const char* q = p;
  while (*q != '"') ++q;
  if (q > p && q[-1] == '\\') return {};
  return {p, static_cast<std::size_t>(q - p)};
}

bool get_string_failed(simdjson::error_code e, std::string_view what, ParseError& err);
bool get_number_failed(simdjson::error_code e, std::string_view what, ParseError& err);
bool get_int_failed(simdjson::error_code e, std::string_view what, ParseError& err);

// The happy paths are inline: these run for every field of every fill.
inline bool get_string(od::value& v, std::string_view what, std::string_view& out, ParseError& err) {
  if (auto e = v.get_string().get(out); e) return get_string_failed(e, what, err);
  return true;
}
//! The same, reading the value of a field (materialised only when the caller wants it).
inline bool get_string(od::field& f, std::string_view what, std::string_view& out, ParseError& err) {
  od::value v = f.value();
  return get_string(v, what, out, err);
}
bool get_bool(od::value& v, std::string_view what, bool& out, ParseError& err);
//! A JSON number (Deribit). Must be finite.
inline bool get_number(od::value& v, std::string_view what, double& out, ParseError& err) {
  const auto e = v.get_double().get(out);
  if (e || !std::isfinite(out)) return get_number_failed(e, what, err);
  return true;
}
inline bool get_number(od::field& f, std::string_view what, double& out, ParseError& err) {
  od::value v = f.value();
  return get_number(v, what, out, err);
}
//! A JSON integer.
inline bool get_int(od::value& v, std::string_view what, std::int64_t& out, ParseError& err) {
  if (auto e = v.get_int64().get(out); e) return get_int_failed(e, what, err);
  return true;
}
inline bool get_int(od::field& f, std::string_view what, std::int64_t& out, ParseError& err) {
  od::value v = f.value();
  return get_int(v, what, out, err);
}
//! A decimal number inside a JSON string ("2500.00"), as Binance, OKX, Bybit and Hyperliquid
//! send them. `present` is false for "" (how those venues say "not applicable").
bool get_decimal_string(od::value& v, std::string_view what, double& out, bool& present, ParseError& err);
//! Parses the text of a decimal ("2500.00"); false when it is not one (or not finite).
bool parse_decimal(std::string_view s, double& out);
//! Venue time in ms (integer) → ns; rejects values <= 0 or beyond int64 ns.
bool ms_to_ns(std::int64_t ms, std::string_view what, std::int64_t& out, ParseError& err);
//! Parses a decimal integer in a string ("1746947317402"); false when it is not one.
bool parse_int(std::string_view s, std::int64_t& out);
//! A time in ms inside a JSON string ("1746947317402", OKX and Bybit) → ns.
bool get_ms_string(od::value& v, std::string_view what, std::int64_t& out_ns, ParseError& err);

//! Looks a field up in any order (simdjson wraps around); `found` is false when it is absent.
bool find_field(od::object& obj, std::string_view key, od::value& out, bool& found, ParseError& err);
//! After find_field() reads, walks `obj` from its start to its end so that the whole message is
//! consumed and its structure checked (the caller then checks the document is at its end).
bool finish_object(od::object& obj, ParseError& err);

//! True for currencies we count 1:1 as USD.
bool is_usd_like(std::string_view currency);

// ---------------------------------------------------------------------------------------------
// Trade ids: FNV-1a over "<venue>:<parts...>" joined by ':', incrementally, without a buffer.

class TradeIdHasher {
 public:
  explicit TradeIdHasher(std::string_view venue_prefix) : h_(stable_hash(venue_prefix.data(), venue_prefix.size())) {}
  TradeIdHasher& add(std::string_view part) {
    h_ = stable_hash(":", 1, h_);
    h_ = stable_hash(part.data(), part.size(), h_);
    return *this;
  }
  std::uint64_t value() const { return h_ == 0 ? 1 : h_; }  // 0 means "no trade id" in a Fill

 private:
  std::uint64_t h_;
};

// ---------------------------------------------------------------------------------------------
// Caches: the registry and interner take a lock; these take it once per symbol / account.

//! What a fill needs from its instrument, resolved once per symbol per session.
struct InstrumentInfo {
  InstrumentId id = 0;
  UnderlyingId underlying = 0;
  InstrumentKind kind = InstrumentKind::kSpot;
  OptionType option_type = OptionType::kNone;
  std::int64_t expiry_ns = 0;
  double strike = 0.0;
  double contract_value = 1.0;  //!< linear: base per contract; inverse: USD per contract
  bool inverse = false;
  bool usd_quoted = false;  //!< the price is in USD (or a USD stablecoin), so qty × price is USD
  std::string base;         //!< "BTC": a fee in this currency converts at the underlying price
  std::string quote;
};

class InstrumentCache {
 public:
  InstrumentCache(InstrumentRegistry& registry, Venue venue) : registry_(registry), venue_(venue) {}
  //! The instrument of `symbol`, or nullptr with err = kBadSymbol.
  const InstrumentInfo* find(std::string_view symbol, ParseError& err);
  InstrumentRegistry& registry() { return registry_; }

 private:
  static constexpr std::size_t kMaxEntries = 1 << 16;  //!< junk symbols from a broken feed stay bounded
  InstrumentRegistry& registry_;
  Venue venue_;
  //! The last few symbols looked up (a batch mostly cycles through a handful of instruments),
  //! most recent first; compared (length, first and last 8 bytes) before the hash map is asked.
  //! Cleared whenever the map inserts (its keys and values may move then), so each entry can
  //! point into the map: moving one to the front copies two pointers and a length.
  static constexpr std::size_t kRecent = 4;
  struct Recent {
    std::string_view symbol;  //!< the map's key
    const InstrumentInfo* info = nullptr;
  };
  absl::flat_hash_map<std::string, InstrumentInfo> map_;
  Recent recent_[kRecent];
};

class AccountCache {
 public:
  explicit AccountCache(AccountInterner& interner) : interner_(interner) {}
  AccountId intern(std::string_view name);

 private:
  static constexpr std::size_t kMaxEntries = 1 << 20;
  AccountInterner& interner_;
  absl::flat_hash_map<std::string, AccountId> map_;
};

// ---------------------------------------------------------------------------------------------
// Base class

class JsonAdapter : public VenueAdapter {
 public:
  //! `random_access`: the adapter looks fields up with find_field() (any order). simdjson's
  //! unordered lookup may read out of bounds on malformed input (found by fuzzing OKX), so such
  //! adapters get the whole document validated by one sequential walk first.
  JsonAdapter(Venue venue, AdapterContext ctx, bool needs_dedup, bool random_access = true);
  ~JsonAdapter() override;

  Venue venue() const final { return venue_; }
  //! Runs decode_document() and makes the result all-or-nothing, then de-duplicates.
  bool decode(std::string_view message, std::int64_t recv_ns, std::vector<Fill>& out, DecodeOutcome& outcome,
              ParseError& error) final;

 protected:
  //! Decodes a parsed document; appends fills to `out` (rolled back by the caller on failure).
  //! Fills need recv_ns, account, trade_id and all venue fields set.
  virtual bool decode_document(od::document& doc, std::string_view message, std::int64_t recv_ns,
                               std::vector<Fill>& out, DecodeOutcome& outcome, ParseError& err) = 0;

  //! Messages that are not JSON (OKX answers "ping" with the bare text "pong"). True when handled.
  virtual bool decode_text(std::string_view message, DecodeOutcome& outcome) { return false; }

  //! Sets the instrument fields of `f` from `ins`.
  static void set_instrument(Fill& f, const InstrumentInfo& ins);

  //! What a venue says of one position (PositionRecord below); NaN when it does not say.
  struct VenuePosition {
    AccountId account = 0;
    const InstrumentInfo* instrument = nullptr;
    double qty = 0.0;                //!< signed, base units
    double entry_price = kNaN;       //!< average entry, quote units
    double mark_price = kNaN;        //!< quote units
    double underlying_price = kNaN;  //!< USD per base unit (the index, or the position's value / size)
    std::int64_t venue_ns = 0;       //!< the venue's time of the position (0: unknown)
  };
  //! Appends a RecordKind::kPosition to positions_ (the message's venue positions).
  void add_position(const VenuePosition& p, std::int64_t recv_ns);
  //! Appends the end of a complete snapshot of `account`'s positions on this venue as of venue_ns.
  //! `margin_usd`: the margin the venue holds against the snapshot's positions (NaN: not stated).
  void end_positions(AccountId account, std::int64_t venue_ns, std::int64_t recv_ns, double margin_usd = kNaN);
  //! Notional and underlying price in USD: qty × underlying price when the venue gave one (the
  //! index / forward / underlying), otherwise qty × price when the price is in USD. False when
  //! neither is known (a coin-quoted option without an underlying price).
  static bool set_notional(Fill& f, const InstrumentInfo& ins);
  //! Converts a fee in `currency` to USD: 1:1 for USD-like currencies, × `base_usd` (the USD
  //! price of the instrument's base coin, NaN if unknown) for the base coin, NaN otherwise (BNB).
  static double fee_to_usd(double fee, std::string_view currency, const InstrumentInfo& ins, double base_usd);
  //! The USD price of the base coin for fee conversion: the index when the venue gave one, else
  //! the fill's underlying price, else the trade price when it is in USD; NaN otherwise.
  static double base_usd_price(const Fill& f, const InstrumentInfo& ins, double index_price);

  Venue venue_;
  const UnderlyingPrices* prices_ = nullptr;
  std::string account_name_;
  AccountId account_ = 0;  //!< the configured account (interned once)
  InstrumentCache instruments_;
  AccountCache accounts_;

 private:
  od::parser parser_;
  bool random_access_ = true;
  std::unique_ptr<TradeDedup> own_dedup_;
  TradeDedup* dedup_ = nullptr;
};

}  // namespace segmentd::adapter
