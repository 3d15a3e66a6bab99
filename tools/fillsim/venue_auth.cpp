#include "tools/fillsim/venue_auth.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

namespace fillsim::venue_auth {
namespace {

std::string raw_hmac(std::string_view key, std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(data.data()),
           data.size(), md, &len) == nullptr)
    return {};
  return std::string(reinterpret_cast<const char*>(md), len);
}

bool same(std::string_view got, const std::string& want) {
  return !want.empty() && got.size() == want.size() && CRYPTO_memcmp(got.data(), want.data(), want.size()) == 0;
}

std::string decimal(std::int64_t v) { return std::to_string(v); }

}  // namespace

std::string hmac_hex(std::string_view key, std::string_view data) {
  constexpr std::string_view kDigits = "0123456789abcdef";
  std::string out;
  for (unsigned char c : raw_hmac(key, data)) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 15]);
  }
  return out;
}

std::string hmac_base64(std::string_view key, std::string_view data) {
  const std::string raw = raw_hmac(key, data);
  std::string out(4 * ((raw.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(raw.data()), static_cast<int>(raw.size()));
  out.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
  return out;
}

bool deribit_ws_ok(std::string_view secret, std::int64_t timestamp_ms, std::string_view nonce, std::string_view data,
                   std::string_view signature) {
  std::string to_sign = decimal(timestamp_ms);
  to_sign += '\n';
  to_sign += nonce;
  to_sign += '\n';
  to_sign += data;
  return same(signature, hmac_hex(secret, to_sign));
}

bool parse_deribit_authorization(std::string_view header, DeribitHttpAuthHeader& out) {
  out = {};
  constexpr std::string_view kScheme = "deri-hmac-sha256 ";
  if (header.substr(0, kScheme.size()) != kScheme) return false;
  std::string_view rest = header.substr(kScheme.size());
  while (!rest.empty()) {
    const std::size_t comma = rest.find(',');
    const std::string_view item = rest.substr(0, comma);
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    const std::size_t eq = item.find('=');
    if (eq == std::string_view::npos) return false;
    const std::string_view name = item.substr(0, eq), value = item.substr(eq + 1);
    if (name == "id") out.id = value;
    if (name == "ts") out.ts = value;
    if (name == "sig") out.sig = value;
    if (name == "nonce") out.nonce = value;
  }
  return !out.id.empty() && !out.ts.empty() && !out.sig.empty();
}

bool deribit_http_ok(std::string_view secret, const DeribitHttpAuthHeader& auth, std::string_view method,
                     std::string_view uri, std::string_view body) {
  std::string to_sign = auth.ts;
  for (std::string_view part : {std::string_view(auth.nonce), method, uri, body}) {
    to_sign += '\n';
    to_sign += part;
  }
  to_sign += '\n';
  return same(auth.sig, hmac_hex(secret, to_sign));
}

bool okx_login_ok(std::string_view secret, std::string_view timestamp, std::string_view sign) {
  return okx_rest_ok(secret, timestamp, "GET", "/users/self/verify", "", sign);
}

bool okx_rest_ok(std::string_view secret, std::string_view timestamp, std::string_view method,
                 std::string_view request_path, std::string_view body, std::string_view sign) {
  std::string to_sign(timestamp);
  to_sign += method;
  to_sign += request_path;
  to_sign += body;
  return same(sign, hmac_base64(secret, to_sign));
}

bool binance_query_ok(std::string_view secret, std::string_view query) {
  constexpr std::string_view kParam = "&signature=";
  const std::size_t at = query.rfind(kParam);
  if (at == std::string_view::npos) return false;
  return same(query.substr(at + kParam.size()), hmac_hex(secret, query.substr(0, at)));
}

bool bybit_ws_ok(std::string_view secret, std::int64_t expires_ms, std::string_view signature) {
  return same(signature, hmac_hex(secret, "GET/realtime" + decimal(expires_ms)));
}

bool bybit_rest_ok(std::string_view secret, std::string_view timestamp, std::string_view api_key,
                   std::string_view recv_window, std::string_view query, std::string_view sign) {
  std::string to_sign(timestamp);
  to_sign += api_key;
  to_sign += recv_window;
  to_sign += query;
  return same(sign, hmac_hex(secret, to_sign));
}

}  // namespace fillsim::venue_auth
