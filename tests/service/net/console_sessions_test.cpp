// The console's login sessions (service/net/console_sessions.h): ids, the Cookie header, expiry,
// logout and the bound on live sessions.

#include "service/net/console_sessions.h"

#include <catch2/catch.hpp>
#include <chrono>
#include <string>
#include <thread>

using namespace segmentd;

namespace {
std::string cookie(const std::string& id) { return std::string(kConsoleCookie) + "=" + id; }
}  // namespace

TEST_CASE("console sessions: a new session's cookie opens it, another does not", "[console]") {
  ConsoleSessions sessions;
  const std::string id = sessions.open();
  CHECK(id.size() == 64);
  CHECK(id.find_first_not_of("0123456789abcdef") == std::string::npos);
  CHECK(sessions.open() != id);
  CHECK(sessions.check(cookie(id)));
  CHECK(sessions.check("theme=dark; " + cookie(id) + "; lang=en"));
  CHECK_FALSE(sessions.check(""));
  CHECK_FALSE(sessions.check(cookie(std::string(64, '0'))));
  CHECK_FALSE(sessions.check(cookie(id.substr(0, 63))));
  CHECK_FALSE(sessions.check("other_session=" + id));
  CHECK_FALSE(sessions.check(cookie(id) + "x"));
}

TEST_CASE("console sessions: the Cookie header's pairs", "[console]") {
  CHECK(ConsoleSessions::cookie_value("a=1; b=2", "b") == "2");
  CHECK(ConsoleSessions::cookie_value("a=1;b=2", "a") == "1");
  CHECK(ConsoleSessions::cookie_value(" b = 2", "b") == std::nullopt);  // "b " is not "b"
  CHECK(ConsoleSessions::cookie_value("b=\"2\"", "b") == "2");
  CHECK(ConsoleSessions::cookie_value("ab=1", "b") == std::nullopt);
  CHECK(ConsoleSessions::cookie_value("b", "b") == std::nullopt);
  CHECK(ConsoleSessions::cookie_value("b=", "b") == "");
}

TEST_CASE("console sessions: logout ends a session, expiry ends them all", "[console]") {
  ConsoleSessions sessions(std::chrono::milliseconds(200));
  const std::string a = sessions.open(), b = sessions.open();
  sessions.close("x=1; " + cookie(a));
  CHECK_FALSE(sessions.check(cookie(a)));
  CHECK(sessions.check(cookie(b)));
  sessions.close("");  // nothing to close
  CHECK(sessions.size() == 1);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  CHECK_FALSE(sessions.check(cookie(b)));
  sessions.open();  // expired sessions are swept at the next login
  CHECK(sessions.size() == 1);
}

TEST_CASE("console sessions: past max_sessions a login ends the oldest", "[console]") {
  ConsoleSessions sessions(std::chrono::hours(1), 3);
  const std::string first = sessions.open();
  std::this_thread::sleep_for(std::chrono::milliseconds(2));
  const std::string second = sessions.open();
  std::this_thread::sleep_for(std::chrono::milliseconds(2));
  const std::string third = sessions.open();
  std::this_thread::sleep_for(std::chrono::milliseconds(2));
  const std::string fourth = sessions.open();
  CHECK(sessions.size() == 3);
  CHECK_FALSE(sessions.check(cookie(first)));
  CHECK(sessions.check(cookie(second)));
  CHECK(sessions.check(cookie(third)));
  CHECK(sessions.check(cookie(fourth)));
}

TEST_CASE("console sessions: an origin on the request's host, any port", "[console]") {
  CHECK(ConsoleSessions::origin_on_host("http://127.0.0.1:8766", "127.0.0.1:8765"));
  CHECK(ConsoleSessions::origin_on_host("https://desk.example", "desk.example:8765"));
  CHECK(ConsoleSessions::origin_on_host("http://[::1]:8766", "[::1]:8765"));
  CHECK_FALSE(ConsoleSessions::origin_on_host("http://evil.example", "127.0.0.1:8765"));
  CHECK_FALSE(ConsoleSessions::origin_on_host("null", "127.0.0.1:8765"));
  CHECK_FALSE(ConsoleSessions::origin_on_host("", "127.0.0.1:8765"));
  CHECK_FALSE(ConsoleSessions::origin_on_host("http://127.0.0.1", ""));
  CHECK_FALSE(ConsoleSessions::origin_on_host("http://a b", "a b"));  // not a host name
  CHECK(ConsoleSessions::host_of("[::1") == "");
  CHECK(ConsoleSessions::host_of("x.example:80") == "x.example");
}
