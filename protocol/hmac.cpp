#include "protocol/hmac.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <array>

namespace segmentd::control {
namespace {

constexpr std::size_t kDigestBytes = 32;

std::array<unsigned char, kDigestBytes> digest(std::string_view key, std::string_view data) {
  std::array<unsigned char, kDigestBytes> out{};
  unsigned int len = 0;
  // One-shot HMAC() is not deprecated in OpenSSL 3 and needs no context management.
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(data.data()),
       data.size(), out.data(), &len);
  return out;
}

}  // namespace

std::string hmac_sha256_hex(std::string_view key, std::string_view data) {
  static constexpr char kHex[] = "0123456789abcdef";
  const auto d = digest(key, data);
  std::string out(2 * kDigestBytes, '0');
  for (std::size_t i = 0; i < kDigestBytes; ++i) {
    out[2 * i] = kHex[d[i] >> 4];
    out[2 * i + 1] = kHex[d[i] & 0xf];
  }
  return out;
}

std::string hmac_sha256_base64(std::string_view key, std::string_view data) {
  const auto d = digest(key, data);
  std::string out(4 * ((kDigestBytes + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), d.data(), kDigestBytes);
  out.resize(static_cast<std::size_t>(n));
  return out;
}

bool constant_time_equal(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;  // signature lengths are public
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace segmentd::control
