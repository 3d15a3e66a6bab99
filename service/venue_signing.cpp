#include "service/venue_signing.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "core/str_cat.h"

namespace segmentd {
namespace {

std::string hmac_raw(std::string_view key, std::string_view message) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(message.data()),
       message.size(), out, &len);
  return std::string(reinterpret_cast<const char*>(out), len);
}

}  // namespace

std::string hmac_sha256_hex(std::string_view key, std::string_view message) {
  static constexpr char kHex[] = "0123456789abcdef";
  const std::string raw = hmac_raw(key, message);
  std::string hex;
  hex.reserve(raw.size() * 2);
  for (unsigned char c : raw) {
    hex.push_back(kHex[c >> 4]);
    hex.push_back(kHex[c & 15]);
  }
  return hex;
}

std::string hmac_sha256_base64(std::string_view key, std::string_view message) {
  const std::string raw = hmac_raw(key, message);
  std::string b64(4 * ((raw.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(b64.data()),
                                reinterpret_cast<const unsigned char*>(raw.data()), static_cast<int>(raw.size()));
  b64.resize(static_cast<std::size_t>(n));
  return b64;
}

std::string deribit_signature(std::string_view secret, std::int64_t timestamp_ms, std::string_view nonce,
                              std::string_view data) {
  return hmac_sha256_hex(secret, str_cat(timestamp_ms, "\n", nonce, "\n", data));
}

std::string okx_signature(std::string_view secret, std::string_view timestamp_s) {
  return hmac_sha256_base64(secret, str_cat(timestamp_s, "GET/users/self/verify"));
}

std::string bybit_signature(std::string_view secret, std::int64_t expires_ms) {
  return hmac_sha256_hex(secret, str_cat("GET/realtime", expires_ms));
}

}  // namespace segmentd
