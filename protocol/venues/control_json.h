#pragma once
// Reading control-plane requests (auth, subscribe, ping) on the venue side: small messages, read
// once per connection, so a simdjson DOM is simpler than on-demand and fast enough. Internal to
// protocol/*_control.cpp. Error details name fields, never their values (they carry credentials).

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
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

namespace segmentd::control {

//! A venue REST call as the service's HTTP client sends it: the method, the target (path and
//! query, appended to the configured REST base) and the signed headers. Built by the venues'
//! history.h; the signature is over exactly these bytes.
struct RestCall {
  std::string method = "GET";
  std::string target;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};

//! One page of a venue's trade history (the REST gap-fill), rewritten into the messages the
//! venue's private stream pushes for the same trades, so that the session's own adapter decodes
//! both: one place resolves the venue's units, and a trade has the same Fill::trade_id whether
//! it came live or from history (the de-duplication depends on it).
struct HistoryPage {
  std::vector<std::string> stream_messages;  //!< empty when the page held no trade
  std::size_t trades = 0;                    //!< records on the page
  std::int64_t first_time_ms = -1;           //!< oldest record time on the page
  std::int64_t last_time_ms = -1;            //!< newest record time on the page
  bool more = false;                         //!< the venue says another page follows
  std::string cursor;                        //!< where the next page starts (venue-specific)
};

//! Percent-encodes a query-string value (RFC 3986 unreserved characters stay).
std::string url_encode(std::string_view value);

}  // namespace segmentd::control
