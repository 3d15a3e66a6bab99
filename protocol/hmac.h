#pragma once
// HMAC-SHA256 and the encodings the venues want for their signatures. The key is a credential:
// nothing here logs it or puts it in an error.
//
// The control plane (this file and protocol/*_control.h) lives in namespace segmentd::control:
// service/venue_signing.h and service/config/credentials.h declare functions of the same names in
// namespace segmentd, and one program cannot hold both definitions.

#include <string>
#include <string_view>

namespace segmentd::control {

//! HMAC-SHA256(key, data) as 64 lower-case hex digits (Deribit, Bybit, Binance REST).
std::string hmac_sha256_hex(std::string_view key, std::string_view data);
//! HMAC-SHA256(key, data) in standard base64 with padding (OKX).
std::string hmac_sha256_base64(std::string_view key, std::string_view data);
//! Compares two signatures in time independent of where they differ (for the verifying side).
bool constant_time_equal(std::string_view a, std::string_view b);

}  // namespace segmentd::control
