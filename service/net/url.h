#pragma once
// The parts of a ws://, wss://, http:// or https:// URL that a connection needs.

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace segmentd {

struct Url {
  bool tls = false;
  std::string host;
  std::string port;    //!< explicit or the scheme's default
  std::string target;  //!< path and query, at least "/"
};

absl::StatusOr<Url> parse_url(std::string_view url);

//! "host:port" → (host, port); for listen addresses.
absl::StatusOr<std::pair<std::string, std::uint16_t>> parse_host_port(std::string_view s);

}  // namespace segmentd
