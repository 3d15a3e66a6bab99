#pragma once
// The signatures venues ask for at login, computed for our sessions and verified by the venue
// simulator (tools/fillsim), so that both sides use the one definition:
//   Deribit public/auth client_signature: hex HMAC-SHA256(secret, timestamp + "\n" + nonce + "\n" + data)
//   OKX login: base64 HMAC-SHA256(secret, timestamp + "GET" + "/users/self/verify"), timestamp in s
//   Bybit auth: hex HMAC-SHA256(secret, "GET/realtime" + expires), expires in ms

#include <cstdint>
#include <string>
#include <string_view>

namespace segmentd {

std::string hmac_sha256_hex(std::string_view key, std::string_view message);
std::string hmac_sha256_base64(std::string_view key, std::string_view message);

std::string deribit_signature(std::string_view secret, std::int64_t timestamp_ms, std::string_view nonce,
                              std::string_view data);
std::string okx_signature(std::string_view secret, std::string_view timestamp_s);
std::string bybit_signature(std::string_view secret, std::int64_t expires_ms);

}  // namespace segmentd
