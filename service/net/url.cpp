#include "service/net/url.h"

#include <charconv>

#include "core/str_cat.h"

namespace segmentd {

absl::StatusOr<Url> parse_url(std::string_view url) {
  Url out;
  std::string_view rest;
  std::string_view default_port;
  for (auto [scheme, tls, port] : {std::tuple{"wss://", true, "443"}, std::tuple{"ws://", false, "80"},
                                   std::tuple{"https://", true, "443"}, std::tuple{"http://", false, "80"}}) {
    std::string_view s(scheme);
    if (url.substr(0, s.size()) == s) {
      out.tls = tls;
      default_port = port;
      rest = url.substr(s.size());
      break;
    }
  }
  if (default_port.empty()) return absl::InvalidArgumentError("URL scheme is not ws, wss, http or https");
  const std::size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  out.target = slash == std::string_view::npos ? "/" : std::string(rest.substr(slash));
  if (authority.empty()) return absl::InvalidArgumentError("URL has no host");
  std::size_t colon = authority.rfind(':');
  if (!authority.empty() && authority.front() == '[') {  // [::1]:443
    const std::size_t close = authority.find(']');
    if (close == std::string_view::npos) return absl::InvalidArgumentError("URL has an unterminated IPv6 host");
    out.host = std::string(authority.substr(1, close - 1));
    colon = authority.size() > close + 1 && authority[close + 1] == ':' ? close + 1 : std::string_view::npos;
  } else {
    out.host = std::string(authority.substr(0, colon));
  }
  out.port = colon == std::string_view::npos ? std::string(default_port) : std::string(authority.substr(colon + 1));
  int port = 0;
  auto [p, ec] = std::from_chars(out.port.data(), out.port.data() + out.port.size(), port);
  if (ec != std::errc() || p != out.port.data() + out.port.size() || port <= 0 || port > 65535)
    return absl::InvalidArgumentError("URL port is not a number in 1..65535");
  return out;
}

absl::StatusOr<std::pair<std::string, std::uint16_t>> parse_host_port(std::string_view s) {
  const std::size_t colon = s.rfind(':');
  if (colon == std::string_view::npos) return absl::InvalidArgumentError("expected host:port");
  int port = -1;
  std::string_view p = s.substr(colon + 1);
  auto [end, ec] = std::from_chars(p.data(), p.data() + p.size(), port);
  if (ec != std::errc() || end != p.data() + p.size() || port < 0 || port > 65535)
    return absl::InvalidArgumentError("port is not a number in 0..65535");
  std::string host(s.substr(0, colon));
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  return std::pair{host, static_cast<std::uint16_t>(port)};
}

}  // namespace segmentd
