#pragma once
// Ordered field lookup with the key compared as constant-size words (protocol/*_adapter.cpp only).
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

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

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

}  // namespace segmentd::adapter
