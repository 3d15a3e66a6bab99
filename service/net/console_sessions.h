#pragma once
// Browser sessions of the console (the admin server's page at `/`): a browser logs in once with
// an admin token and gets a random session id in an HttpOnly, SameSite=Strict cookie; the admin
// API and the publisher's websocket accept that cookie as they accept the token itself. The
// page's JavaScript never sees the token nor the cookie.
//
// A session lasts `ttl` from its login (no sliding renewal), ends at logout, and at most
// `max_sessions` live at once (a new login past that ends the oldest). Only the SHA-256 of each
// id is kept. Thread-safe: the admin thread opens and closes sessions, the publisher's threads
// check them.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "absl/container/flat_hash_map.h"

namespace segmentd {

inline constexpr std::string_view kConsoleCookie = "segmentd_session";

class ConsoleSessions {
 public:
  using Clock = std::chrono::steady_clock;
  explicit ConsoleSessions(Clock::duration ttl = std::chrono::hours(12), std::size_t max_sessions = 1024);

  //! A new session: its id (64 hex characters), to be set as the cookie's value.
  std::string open();
  //! True when `cookie_header` (a Cookie request header) holds a live session's id.
  bool check(std::string_view cookie_header) const;
  //! Ends the session named by `cookie_header`, if any.
  void close(std::string_view cookie_header);
  std::size_t size() const;
  std::chrono::seconds ttl() const { return std::chrono::duration_cast<std::chrono::seconds>(ttl_); }

  //! The value of cookie `name` in a Cookie header ("a=1; b=2"), or nullopt.
  static std::optional<std::string_view> cookie_value(std::string_view header, std::string_view name);
  //! The host part of a Host header or an origin's authority ("h", "h:port", "[v6]:port"), when
  //! it is made of the characters a host name or an address may have; else empty.
  static std::string_view host_of(std::string_view authority);
  //! True when `origin` (an Origin header, "scheme://authority") names the host of `host_header`
  //! (any port): the page that sent the request is served from this host.
  static bool origin_on_host(std::string_view origin, std::string_view host_header);

 private:
  static std::string digest(std::string_view id);

  Clock::duration ttl_;
  std::size_t max_sessions_;
  mutable std::mutex mu_;
  absl::flat_hash_map<std::string, Clock::time_point> sessions_;  // guarded by mu_; digest → expiry
};

}  // namespace segmentd
