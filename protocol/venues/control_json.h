#pragma once
// Reading control-plane requests (auth, subscribe, ping) on the venue side: small messages, read
// once per connection, so a simdjson DOM is simpler than on-demand and fast enough. Internal to
// protocol/*_control.cpp. Error details name fields, never their values (they carry credentials).

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/parse_error.h"
#include "simdjson.h"

namespace segmentd::control_json {

struct Object {
  simdjson::dom::object obj;
  bool present = false;
  bool valid() const { return present; }
};

class Document {
 public:
  //! Parses `message`; the root must be an object.
  bool parse(std::string_view message, ParseError& err);
  Object root() const { return root_; }

 private:
  simdjson::dom::parser parser_;
  Object root_;
};

//! Each reads `key` of `o`; absent is an error only when `required`.
bool get_string(const Object& o, std::string_view key, bool required, std::string& out, ParseError& err);
bool get_int(const Object& o, std::string_view key, bool required, std::int64_t& out, ParseError& err);
bool get_object(const Object& o, std::string_view key, bool required, Object& out, ParseError& err);
bool get_array(const Object& o, std::string_view key, bool required, simdjson::dom::array& out, bool& present,
               ParseError& err);
bool get_string_array(const Object& o, std::string_view key, bool required, std::vector<std::string>& out,
                      ParseError& err);

}  // namespace segmentd::control_json
