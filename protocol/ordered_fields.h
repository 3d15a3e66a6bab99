#pragma once
// Ordered field lookup with the key compared as constant-size words, and field tables: the fields
// of an object that an adapter reads, declared once and read in one walk (protocol/venues/*/
// adapter.cpp only).
//
// simdjson's object::find_field(key) compares every key it passes with memcmp(raw, key, n) and a
// check of the closing quote. GCC 12 turns that memcmp into an out-of-line call for the 9-15 byte
// keys of Deribit trades (timestamp, mark_price, index_price, instrument_name, ...): ~8 % of the
// Deribit parse profile. find_field_ordered<"key">() walks the object the same way as
// find_field() (same iterator steps, same errors, never goes back), but the key is a template
// argument, so its bytes and closing quote are constants and each compare is two word loads.
//
// It reaches simdjson 3.0's on-demand iterator (ondemand::value_iterator, public in 3.0) through
// object's protected member and value's protected constructor, both by derivation (legal C++).
// The walk below mirrors value_iterator::find_field_raw(); re-check it when simdjson is upgraded.

#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

#include "protocol/venues/adapter_support.h"
#include "simdjson.h"

namespace segmentd::adapter {

namespace od = simdjson::ondemand;

//! A key usable as a template argument: its bytes followed by the closing quote.
template <std::size_t N>
struct FieldKey {
  char quoted[N]{};
  constexpr FieldKey(const char (&key)[N]) {  // NOLINT(google-explicit-constructor): FieldKey<"...">
    for (std::size_t i = 0; i + 1 < N; ++i) quoted[i] = key[i];
    quoted[N - 1] = '"';
  }
  static constexpr std::size_t size() { return N - 1; }
  constexpr std::string_view name() const { return {quoted, N - 1}; }
};

namespace ordered_detail {

template <class T>
inline T load(const char* p) {
  T v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

//! a[0, M) == b[0, M) for a constant M, with overlapping loads (no call, no loop).
template <std::size_t M>
inline __attribute__((always_inline)) bool equal_bytes(const char* a, const char* b) {
  if constexpr (M > 16) {
    return load<std::uint64_t>(a) == load<std::uint64_t>(b) && equal_bytes<M - 8>(a + 8, b + 8);
  } else if constexpr (M >= 8) {
    return ((load<std::uint64_t>(a) ^ load<std::uint64_t>(b)) |
            (load<std::uint64_t>(a + M - 8) ^ load<std::uint64_t>(b + M - 8))) == 0;
  } else if constexpr (M >= 4) {
    return ((load<std::uint32_t>(a) ^ load<std::uint32_t>(b)) |
            (load<std::uint32_t>(a + M - 4) ^ load<std::uint32_t>(b + M - 4))) == 0;
  } else if constexpr (M >= 2) {
    return ((load<std::uint16_t>(a) ^ load<std::uint16_t>(b)) |
            (load<std::uint16_t>(a + M - 2) ^ load<std::uint16_t>(b + M - 2))) == 0;
  } else {
    return a[0] == b[0];
  }
}

struct ObjectAccess : od::object {
  static od::value_iterator& iterator(od::object& o) { return o.*(&ObjectAccess::iter); }
};

struct ValueAccess : od::value {
  explicit ValueAccess(const od::value_iterator& it) : od::value(it) {}
};

}  // namespace ordered_detail

//! True when the raw key text at `raw` (as simdjson's raw_json_string::raw() gives it: just after
//! the opening quote) is exactly K. Reads K.size() + 1 bytes: within the message or its padding
//! (the caller's buffer has kJsonPadding bytes after the message, more than any key we look for).
//! An escaped key never matches (K holds no backslash, so the quote K ends with is the real one).
template <FieldKey K>
inline __attribute__((always_inline)) bool key_is(const char* raw) {
  return ordered_detail::equal_bytes<K.size() + 1>(raw, K.quoted);
}

//! od::object::find_field(K) without the memcmp call: the field K at or after the current
//! position, skipping the fields before it without materialising them. `found` is false (and
//! the object is at its end) when K is not in the rest of the object. Errors as find_field().
template <FieldKey K>
inline __attribute__((always_inline)) simdjson::error_code find_field_ordered(od::object& obj, od::value& out,
                                                                              bool& found) {
  od::value_iterator& it = ordered_detail::ObjectAccess::iterator(obj);
  found = false;
  bool has_value = false;
  if (it.at_first_field()) {
    has_value = true;
  } else if (!it.is_open()) {
    return simdjson::SUCCESS;
  } else {
    if (auto e = it.skip_child(); e) {
      it.abandon();
      return e;
    }
    if (auto e = it.has_next_field().get(has_value); e) {
      it.abandon();
      return e;
    }
  }
  while (has_value) {
    od::raw_json_string key;
    if (auto e = it.field_key().get(key); e) {
      it.abandon();
      return e;
    }
    if (auto e = it.field_value(); e) {
      it.abandon();
      return e;
    }
    if (key_is<K>(key.raw())) {
      out = ordered_detail::ValueAccess(it.child());
      found = true;
      return simdjson::SUCCESS;
    }
    if (auto e = it.skip_child(); e) return e;  // as find_field_raw(): no abandon here
    if (auto e = it.has_next_field().get(has_value); e) {
      it.abandon();
      return e;
    }
  }
  return simdjson::SUCCESS;
}

// ---------------------------------------------------------------------------------------------
// Field tables
//
// An adapter declares the fields of an object it reads as a table, in the order the venue sends
// them:
//
//   struct OrderFields { std::string_view inst_id; double fill_px = kNaN; ... };
//   using OrderTable = FieldTable<OrderFields,
//                                 Field<"fillPx", &OrderFields::fill_px, read_decimal>,
//                                 Field<"instId", &OrderFields::inst_id, read_string>, ...>;
//   OrderFields o;
//   if (!OrderTable::read(order, o, "order", err)) return false;
//
// read() is the order-free walk the adapters used to write by hand (for each field: switch on
// the key, read the value when the key is one we use), with the same result in every case: the
// fields are visited once, in document order; a key in the table is read whenever it appears
// (so with a key twice, the second value is the one kept, and each value's error is reported
// in document order); every other field is skipped; the object's structural errors are those
// of simdjson's object iteration, reported as "<what>: ...". Field order never changes the
// result, only the speed. What it saves over the hand-written loop:
//  - no ondemand::field / value is built for a skipped field (the walk steps the iterator
//    itself, as find_field_ordered() does);
//  - a skipped key is told apart from the table's keys by one bit: its first bytes (as many as
//    the shortest key has, plus its quote, at most 4) hash into a 256-bit set of the table's
//    prefixes, built at compile time; only a key whose prefix is in the set is compared;
//  - those compares are key_is<K>() (constant-size words, no memcmp call, no scan for the
//    key's end), in table order, so a field sent in the table's order is found early.

//! One entry of a FieldTable: the value of key K is read into the record's member M with
//! R(value, "K", record.*M, err). R is one of the read_* functions below or an adapter's own
//! function of that shape. `Seen`, when given, is a bool member set when K is met (before its
//! value is read), for fields whose presence matters beyond their value.
template <FieldKey K, auto M, auto R, auto Seen = nullptr>
struct Field {
  static constexpr auto kKey = K;

  template <class Record>
  static inline __attribute__((always_inline)) bool read(od::value& v, Record& rec, ParseError& err) {
    if constexpr (Seen != nullptr) rec.*Seen = true;
    return R(v, K.name(), rec.*M, err);
  }
};

// Readers for Field: the value as the venue encodes it → the member.

//! A JSON string (unescaped).
inline bool read_string(od::value& v, std::string_view key, std::string_view& out, ParseError& err) {
  return get_string(v, key, out, err);
}
//! A decimal number in a JSON string ("2500.00"); NaN for "".
inline bool read_decimal(od::value& v, std::string_view key, double& out, ParseError& err) {
  bool present = false;
  return get_decimal_string(v, key, out, present, err);
}
//! A decimal in a string whose presence matters: `present` is false for "" (and then value NaN).
struct DecimalText {
  double value = kNaN;
  bool present = false;
};
inline bool read_decimal_text(od::value& v, std::string_view key, DecimalText& out, ParseError& err) {
  return get_decimal_string(v, key, out.value, out.present, err);
}
//! A JSON integer.
inline bool read_int(od::value& v, std::string_view key, std::int64_t& out, ParseError& err) {
  return get_int(v, key, out, err);
}
//! A JSON boolean.
inline bool read_bool(od::value& v, std::string_view key, bool& out, ParseError& err) {
  return get_bool(v, key, out, err);
}
//! A time in ms inside a JSON string ("1746947317402") → ns.
inline bool read_ms_string(od::value& v, std::string_view key, std::int64_t& out_ns, ParseError& err) {
  return get_ms_string(v, key, out_ns, err);
}

namespace ordered_detail {

static_assert(std::endian::native == std::endian::little, "key prefixes are read as little-endian words");

//! The bucket (0..255) of a key prefix in a table's prefix set.
constexpr unsigned prefix_bucket(std::uint32_t prefix) { return (prefix * 0x9E3779B1u) >> 24; }

}  // namespace ordered_detail

//! The fields of an object that an adapter reads (see "Field tables" above).
template <class Record, class... Fields>
class FieldTable {
  static_assert(sizeof...(Fields) > 0);
  //! Bytes of a key's text that every key of the table has, its closing quote included.
  static constexpr std::size_t kPrefixBytes = std::min<std::size_t>(4, std::min({Fields::kKey.size()...}) + 1);
  static constexpr std::uint32_t kPrefixMask =
      kPrefixBytes == 4 ? 0xFFFFFFFFu : (std::uint32_t{1} << (8 * kPrefixBytes)) - 1;

  template <class F>
  static constexpr std::uint32_t prefix_of() {
    std::uint32_t p = 0;
    for (std::size_t i = 0; i < kPrefixBytes; ++i)
      p |= static_cast<std::uint32_t>(static_cast<unsigned char>(F::kKey.quoted[i])) << (8 * i);
    return p;
  }
  struct Buckets {
    std::uint64_t bits[4]{};
  };
  static constexpr Buckets kBuckets = [] {
    Buckets b;
    for (std::uint32_t p : {prefix_of<Fields>()...}) {
      const unsigned i = ordered_detail::prefix_bucket(p);
      b.bits[i / 64] |= std::uint64_t{1} << (i % 64);
    }
    return b;
  }();

  //! False when the key at `raw` (just after its opening quote) is surely not in the table. Reads
  //! 4 bytes: within the message or its padding, as key_is().
  static inline __attribute__((always_inline)) bool may_be_ours(const char* raw) {
    const unsigned i = ordered_detail::prefix_bucket(ordered_detail::load<std::uint32_t>(raw) & kPrefixMask);
    return (kBuckets.bits[i / 64] >> (i % 64)) & 1;
  }

 public:
  //! Reads the fields of `obj` that are in the table into `rec` (one walk over the whole object,
  //! which ends at its end). False with `err` set on the first error: a value of a wrong type
  //! or bad content (as the field's reader says), or a broken object ("<what>: ...").
  static bool read(od::object& obj, Record& rec, std::string_view what, ParseError& err) {
    od::value_iterator& it = ordered_detail::ObjectAccess::iterator(obj);
    // The steps of `for (auto field : obj)` (ondemand::object_iterator), one for one.
    while (it.is_open()) {
      if (auto e = it.error(); e) {
        it.abandon();
        return fail_json(err, e, what);
      }
      od::raw_json_string key;
      if (auto e = it.field_key().get(key); e) {
        it.abandon();
        return fail_json(err, e, what);
      }
      if (auto e = it.field_value(); e) {
        it.abandon();
        return fail_json(err, e, what);
      }
      const char* raw = key.raw();
      if (may_be_ours(raw)) {
        bool ok = true;
        (void)((key_is<Fields::kKey>(raw) && (ok = read_value<Fields>(it, rec, err), true)) || ...);
        if (!ok) return false;
      }
      // object_iterator::operator++: an error here is reported at the top of the loop.
      if (!it.is_open()) break;
      if (it.skip_child() != simdjson::SUCCESS) continue;
      bool has_value = false;
      if (it.has_next_field().get(has_value) != simdjson::SUCCESS) continue;
    }
    return true;
  }

 private:
  template <class F>
  static inline __attribute__((always_inline)) bool read_value(od::value_iterator& it, Record& rec, ParseError& err) {
    od::value v = ordered_detail::ValueAccess(it.child());
    return F::read(v, rec, err);
  }
};

}  // namespace segmentd::adapter
