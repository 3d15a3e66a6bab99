// libFuzzer target for the publisher's client requests: pubmsg::parse_request, the parser that
// service/publisher/websocket_session.cpp runs on every client frame. On arbitrary bytes it
// must not crash and must return either a request that keeps the documented limits
// (protocol/publisher/publisher.md: filters sorted, unique, within max_filter_size; segment ids
// never kNoSegment; account names and ping ids within their byte limits) or an error whose message
// is short, printable and fits in the error frame the session sends back.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

#include "protocol/publisher/publisher_messages.h"

namespace {

using namespace segmentd;
using namespace segmentd::pubmsg;

void require(bool ok) {
  if (!ok) __builtin_trap();
}

void check_filter(const Filter& f, const RequestLimits& limits) {
  switch (f.kind) {
    case Filter::Kind::kAll: require(f.segments.empty() && f.accounts.empty()); break;
    case Filter::Kind::kSegments:
      require(!f.segments.empty() && f.segments.size() <= limits.max_filter_size && f.accounts.empty());
      require(std::adjacent_find(f.segments.begin(), f.segments.end(), std::greater_equal<>()) == f.segments.end());
      require(f.segments.front() != kNoSegment);
      break;
    case Filter::Kind::kAccounts:
      require(!f.accounts.empty() && f.accounts.size() <= limits.max_filter_size && f.segments.empty());
      require(std::adjacent_find(f.accounts.begin(), f.accounts.end(), std::greater_equal<>()) == f.accounts.end());
      for (const auto& a : f.accounts) require(!a.empty() && a.size() <= limits.max_account_bytes);
      break;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // Small limits, so that the fuzzer reaches filter_too_large and the id limit easily.
  RequestLimits limits;
  limits.max_filter_size = 8;
  limits.max_account_bytes = 16;
  limits.max_id_bytes = 8;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto parsed = parse_request(text, limits);
  if (auto* error = std::get_if<RequestError>(&parsed)) {
    // Never echoes more than a short prefix of the input (publisher_messages.h).
    require(!error->message.empty() && error->message.size() <= 200);
    for (char c : error->message) require(static_cast<unsigned char>(c) >= 0x20);
    std::string frame;
    append_error(frame, error->code, error->message);
    require(frame.front() == '{' && frame.back() == '}' && frame.find('\n') == std::string::npos);
    return 0;
  }
  const ClientRequest& request = std::get<ClientRequest>(parsed);
  if (const auto* sub = std::get_if<SubscribeRequest>(&request)) {
    check_filter(sub->filter, limits);
  } else if (const auto* ping = std::get_if<PingRequest>(&request)) {
    if (ping->id) {
      require(ping->id->size() <= limits.max_id_bytes);
      std::string pong;
      append_pong(pong, 1, *ping->id);
      require(pong.front() == '{' && pong.back() == '}' && pong.find('\n') == std::string::npos);
    }
  }
  return 0;
}
