// protocol/ordered_fields.h, FieldTable: reading the fields of an object through a table gives
// what the hand-written order-free walk gave (the loop the OKX, Bybit and Hyperliquid adapters
// had before their tables): for any field order, unknown fields, keys twice, escaped keys, wrong
// types and broken objects, the same values, the same error and the same position afterwards.

#include "protocol/ordered_fields.h"

#include <catch2/catch.hpp>
#include <cmath>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "protocol/fill_checks.h"
#include "simdjson.h"

namespace segmentd::testing {
namespace {

using namespace adapter;

// The readers here are the test's own or inline ones: the protocol library compiles simdjson's
// on-demand code for another kernel (-mpclmul, protocol/CMakeLists.txt), so its out-of-line
// readers (get_decimal_string, get_bool, ...) take another ondemand::value type than this file's.

//! A JSON string holding a number, "" for absent (like read_decimal_text).
bool read_text_number(od::value& v, std::string_view key, DecimalText& out, ParseError& err) {
  std::string_view s;
  if (!get_string(v, key, s, err)) return false;
  out.present = !s.empty();
  out.value = out.present ? std::stod(std::string(s)) : kNaN;
  return true;
}
//! A JSON boolean.
bool read_flag(od::value& v, std::string_view key, bool& out, ParseError& err) {
  if (auto e = v.get_bool().get(out); e) return fail_json(err, e, key);
  return true;
}
//! A JSON number.
bool read_number(od::value& v, std::string_view key, double& out, ParseError& err) {
  return get_number(v, key, out, err);
}

//! Keys of 1 to 14 characters (the prefix filter reads min(4, shortest + 1) bytes), two of them
//! sharing a prefix ("px" / "pxVol"), one a prefix of an unknown key ("a" / "ab").
struct Rec {
  std::string_view a, side;
  double px = kNaN, px_vol = kNaN;
  DecimalText fee;
  std::int64_t time = kNoTime, exec_time = 0;
  bool maker = false, has_maker = false;
};

using RecTable = FieldTable<Rec,                                                        //
                            Field<"a", &Rec::a, read_string>,                           //
                            Field<"px", &Rec::px, read_number>,                         //
                            Field<"pxVol", &Rec::px_vol, read_number>,                  //
                            Field<"fee", &Rec::fee, read_text_number>,                  //
                            Field<"side", &Rec::side, read_string>,                     //
                            Field<"time", &Rec::time, read_int>,                        //
                            Field<"isMaker", &Rec::maker, read_flag, &Rec::has_maker>,  //
                            Field<"execTimeMillis", &Rec::exec_time, read_int>>;

//! The reference: the order-free walk as the adapters wrote it by hand.
bool read_by_hand(od::object& obj, Rec& r, ParseError& err) {
  for (auto field_result : obj) {
    od::field field;
    if (auto e = std::move(field_result).get(field); e) return fail_json(err, e, "thing");
    const std::string_view key = raw_key(field);
    od::value v = field.value();
    bool ok = true;
    if (key == "a") {
      ok = read_string(v, key, r.a, err);
    } else if (key == "px") {
      ok = read_number(v, key, r.px, err);
    } else if (key == "pxVol") {
      ok = read_number(v, key, r.px_vol, err);
    } else if (key == "fee") {
      ok = read_text_number(v, key, r.fee, err);
    } else if (key == "side") {
      ok = read_string(v, key, r.side, err);
    } else if (key == "time") {
      ok = read_int(v, key, r.time, err);
    } else if (key == "isMaker") {
      r.has_maker = true;
      ok = read_flag(v, key, r.maker, err);
    } else if (key == "execTimeMillis") {
      ok = read_int(v, key, r.exec_time, err);
    }
    if (!ok) return false;
  }
  return true;
}

//! Everything observable after reading the first element of `[<object>, 7]` one way.
struct Outcome {
  bool ok = false;
  ParseErrorReason reason = ParseErrorReason::kMalformedJson;
  std::string detail;
  std::string a, side;
  double px = 0, px_vol = 0, fee = 0;
  bool fee_present = false;
  std::int64_t time = 0, exec_time = 0;
  bool maker = false, has_maker = false;
  std::string after;  //!< what the array gave next: "7", "end" or an error
};

bool same_number(double x, double y) { return (std::isnan(x) && std::isnan(y)) || x == y; }

template <class Read>
Outcome run(const std::string& object_text, Read read) {
  const simdjson::padded_string json("[" + object_text + ",7]");
  od::parser parser;
  od::document doc;
  Outcome o;
  if (parser.iterate(json).get(doc)) {
    o.after = "iterate failed";
    return o;
  }
  od::array arr;
  if (doc.get_array().get(arr)) {
    o.after = "not an array";
    return o;
  }
  auto it = arr.begin();
  od::object obj;
  if (auto e = (*it).get_object().get(obj); e) {
    o.after = std::string("not an object: ") + simdjson::error_message(e);
    return o;
  }
  Rec r;
  ParseError err;
  o.ok = read(obj, r, err);
  o.reason = err.reason;
  o.detail = err.detail;
  o.a = std::string(r.a);
  o.side = std::string(r.side);
  o.px = r.px;
  o.px_vol = r.px_vol;
  o.fee = r.fee.value;
  o.fee_present = r.fee.present;
  o.time = r.time;
  o.exec_time = r.exec_time;
  o.maker = r.maker;
  o.has_maker = r.has_maker;
  if (o.ok) {
    ++it;
    std::int64_t next = 0;
    if (auto e = (*it).get_int64().get(next); e) {
      o.after = simdjson::error_message(e);
    } else {
      o.after = std::to_string(next);
    }
  }
  return o;
}

Outcome by_table(const std::string& s) {
  return run(s, [](od::object& obj, Rec& r, ParseError& err) { return RecTable::read(obj, r, "thing", err); });
}
Outcome by_hand(const std::string& s) { return run(s, read_by_hand); }

void check_same(const std::string& s) {
  INFO(s);
  const Outcome t = by_table(s);
  const Outcome h = by_hand(s);
  CHECK(t.ok == h.ok);
  if (!h.ok) {
    CHECK(t.reason == h.reason);
    CHECK(t.detail == h.detail);
  }
  CHECK(t.a == h.a);
  CHECK(t.side == h.side);
  CHECK(same_number(t.px, h.px));
  CHECK(same_number(t.px_vol, h.px_vol));
  CHECK(same_number(t.fee, h.fee));
  CHECK(t.fee_present == h.fee_present);
  CHECK(t.time == h.time);
  CHECK(t.exec_time == h.exec_time);
  CHECK(t.maker == h.maker);
  CHECK(t.has_maker == h.has_maker);
  CHECK(t.after == h.after);
}

//! The fields of a good object, each "key":value.
const std::vector<std::string> kFields = {R"("a":"A-1")",
                                          R"("ab":"not ours")",
                                          R"("px":101.5)",
                                          R"("pxVol":0.45)",
                                          R"("pxUsd":"9")",
                                          R"("fee":"-0.25")",
                                          R"("feeCcy":"USDT")",
                                          R"("nested":{"px":"1","a":[1,2]})",
                                          R"("list":["px","a"])",
                                          R"("side":"buy")",
                                          R"("time":1700000000000)",
                                          R"("isMaker":true)",
                                          R"("execTime":"1")",
                                          R"("execTimeMillis":1746270400353)"};

std::string object_of(const std::vector<std::string>& fields) {
  std::string s = "{";
  for (std::size_t i = 0; i < fields.size(); ++i) s += (i ? "," : "") + fields[i];
  return s + "}";
}

TEST_CASE("field tables: the fields in table order and in any other order read the same", "[field_tables]") {
  const Outcome in_order = by_table(object_of(kFields));
  REQUIRE(in_order.ok);
  CHECK(in_order.a == "A-1");
  CHECK(in_order.px == 101.5);
  CHECK(in_order.px_vol == 0.45);
  CHECK(in_order.fee_present);
  CHECK(in_order.fee == -0.25);
  CHECK(in_order.side == "buy");
  CHECK(in_order.time == 1700000000000);
  CHECK(in_order.exec_time == 1746270400353);
  CHECK(in_order.has_maker);
  CHECK(in_order.maker);
  CHECK(in_order.after == "7");  // the walk ends at the object's end
  std::mt19937 rng(7);
  std::vector<std::string> fields = kFields;
  for (int i = 0; i < 50; ++i) {
    std::shuffle(fields.begin(), fields.end(), rng);
    check_same(object_of(fields));
    const Outcome shuffled = by_table(object_of(fields));
    CHECK(shuffled.a == in_order.a);
    CHECK(shuffled.px == in_order.px);
    CHECK(shuffled.exec_time == in_order.exec_time);
  }
}

TEST_CASE("field tables: absent fields keep their defaults, and an empty object reads nothing", "[field_tables]") {
  const Outcome empty = by_table("{}");
  REQUIRE(empty.ok);
  CHECK(empty.a.empty());
  CHECK(std::isnan(empty.px));
  CHECK_FALSE(empty.fee_present);
  CHECK(empty.time == kNoTime);
  CHECK_FALSE(empty.has_maker);
  CHECK(empty.after == "7");
  check_same("{}");
  check_same(R"({"ab":"x","pxUsd":"1","nested":{"a":"no"}})");
  check_same(R"({"fee":""})");  // present false, value NaN
}

TEST_CASE("field tables: a key twice keeps the second value, as the order-free walk did", "[field_tables]") {
  const Outcome twice = by_table(R"({"a":"first","px":1,"a":"second","px":2})");
  REQUIRE(twice.ok);
  CHECK(twice.a == "second");
  CHECK(twice.px == 2);
  check_same(R"({"a":"first","px":1,"a":"second","px":2})");
  check_same(R"({"fee":"1","fee":""})");  // present false after the second
  check_same(R"({"px":1,"px":"5"})");     // the second is of the wrong type
}

TEST_CASE("field tables: an escaped key is not one of ours, an escaped value is unescaped", "[field_tables]") {
  const Outcome escaped = by_table(R"({"\u0061":"A","side":"b\u0075y"})");
  REQUIRE(escaped.ok);
  CHECK(escaped.a.empty());
  CHECK(escaped.side == "buy");
  check_same(R"({"\u0061":"A","side":"b\u0075y"})");
  check_same(R"({"p\u0078":"1","pxVol\"":"2","a\\":"3"})");
}

TEST_CASE("field tables: errors are the order-free walk's, the first in document order", "[field_tables]") {
  const Outcome wrong = by_table(R"({"a":"A","px":"1.5","side":7})");
  REQUIRE_FALSE(wrong.ok);
  CHECK(wrong.reason == ParseErrorReason::kWrongType);
  CHECK(wrong.detail.find("'px'") != std::string::npos);
  for (const char* s : {
           R"({"a":"A","px":"1.5","side":7})",
           R"({"side":7,"a":"A","px":"1.5"})",
           R"({"px":1e999})",
           R"({"px":-,"time":"1"})",
           R"({"time":1.5})",
           R"({"time":"1700000000000"})",
           R"({"time":99999999999999999999})",
           R"({"isMaker":"true"})",
           R"({"isMaker":nul})",
           R"({"execTimeMillis":"1746270400353"})",
           R"({"a":null})",
           R"({"a":{"b":1},"side":"sell"})",
           R"({"side":"\u00"})",
       }) {
    check_same(s);
  }
}

TEST_CASE("field tables: broken objects fail as the order-free walk's iteration does", "[field_tables]") {
  // simdjson's stage 1 rejects most broken documents before any walk; these pass it.
  for (const char* s : {
           R"({"a":"A" "side":"buy"})",
           R"({"a" "A","side":"buy"})",
           R"({"a":"A",7:"buy"})",
           R"({"a":"A","side":"buy",})",
           R"({"a":"A":"side"})",
           R"({"side":"buy","nested":{"a":1 "b":2},"a":"A"})",
           R"({"a":"A","px":1]})",
       }) {
    check_same(s);
  }
}

}  // namespace
}  // namespace segmentd::testing
