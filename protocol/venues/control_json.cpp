#include "protocol/venues/control_json.h"

#include "core/str_cat.h"

namespace segmentd::control_json {
namespace {

bool fail(ParseError& err, ParseErrorReason reason, std::string detail) {
  err.reason = reason;
  err.detail = std::move(detail);
  return false;
}

//! Finds `key`; false + error when it is required and absent.
bool find(const Object& o, std::string_view key, bool required, simdjson::dom::element& out, bool& present,
          ParseError& err) {
  present = false;
  if (!o.present) return required ? fail(err, ParseErrorReason::kMissingField, str_cat("missing '", key, "'")) : true;
  auto e = o.obj[key].get(out);
  if (e == simdjson::NO_SUCH_FIELD) {
    return required ? fail(err, ParseErrorReason::kMissingField, str_cat("missing '", key, "'")) : true;
  }
  if (e) return fail(err, ParseErrorReason::kMalformedJson, str_cat("'", key, "': ", simdjson::error_message(e)));
  present = true;
  return true;
}

}  // namespace

bool Document::parse(std::string_view message, ParseError& err) {
  simdjson::dom::element el;
  if (auto e = parser_.parse(message.data(), message.size()).get(el); e) {
    return fail(err, ParseErrorReason::kMalformedJson, str_cat("request: ", simdjson::error_message(e)));
  }
  if (el.get_object().get(root_.obj))
    return fail(err, ParseErrorReason::kUnknownMessage, "request is not a JSON object");
  root_.present = true;
  return true;
}

bool get_string(const Object& o, std::string_view key, bool required, std::string& out, ParseError& err) {
  simdjson::dom::element el;
  bool present = false;
  if (!find(o, key, required, el, present, err)) return false;
  if (!present) return true;
  std::string_view s;
  if (el.get_string().get(s)) return fail(err, ParseErrorReason::kWrongType, str_cat("'", key, "' must be a string"));
  out.assign(s.data(), s.size());
  return true;
}

bool get_int(const Object& o, std::string_view key, bool required, std::int64_t& out, ParseError& err) {
  simdjson::dom::element el;
  bool present = false;
  if (!find(o, key, required, el, present, err)) return false;
  if (!present) return true;
  if (el.get_int64().get(out))
    return fail(err, ParseErrorReason::kWrongType, str_cat("'", key, "' must be an integer"));
  return true;
}

bool get_object(const Object& o, std::string_view key, bool required, Object& out, ParseError& err) {
  simdjson::dom::element el;
  bool present = false;
  out.present = false;
  if (!find(o, key, required, el, present, err)) return false;
  if (!present) return true;
  if (el.get_object().get(out.obj))
    return fail(err, ParseErrorReason::kWrongType, str_cat("'", key, "' must be an object"));
  out.present = true;
  return true;
}

bool get_array(const Object& o, std::string_view key, bool required, simdjson::dom::array& out, bool& present,
               ParseError& err) {
  simdjson::dom::element el;
  if (!find(o, key, required, el, present, err)) return false;
  if (!present) return true;
  if (el.get_array().get(out)) return fail(err, ParseErrorReason::kWrongType, str_cat("'", key, "' must be an array"));
  return true;
}

bool get_string_array(const Object& o, std::string_view key, bool required, std::vector<std::string>& out,
                      ParseError& err) {
  simdjson::dom::array a;
  bool present = false;
  if (!get_array(o, key, required, a, present, err)) return false;
  for (simdjson::dom::element el : a) {
    std::string_view s;
    if (el.get_string().get(s))
      return fail(err, ParseErrorReason::kWrongType, str_cat("'", key, "' must hold strings"));
    out.emplace_back(s);
  }
  return true;
}

}  // namespace segmentd::control_json

namespace segmentd::control {

std::string url_encode(std::string_view value) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(value.size());
  for (const char ch : value) {
    const auto c = static_cast<unsigned char>(ch);
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
        c == '.' || c == '~') {
      out.push_back(ch);
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

}  // namespace segmentd::control
