#include "service/net/console_sessions.h"

#include <algorithm>
#include <cctype>
#include <stdexcept>

#include <openssl/evp.h>
#include <openssl/rand.h>

namespace segmentd {

ConsoleSessions::ConsoleSessions(Clock::duration ttl, std::size_t max_sessions)
    : ttl_(ttl), max_sessions_(std::max<std::size_t>(max_sessions, 1)) {}

std::string ConsoleSessions::digest(std::string_view id) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(id.data(), id.size(), md, &len, EVP_sha256(), nullptr);
  return std::string(reinterpret_cast<const char*>(md), len);
}

std::string ConsoleSessions::open() {
  unsigned char bytes[32];
  if (RAND_bytes(bytes, sizeof bytes) != 1) throw std::runtime_error("RAND_bytes failed");
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id;
  id.reserve(64);
  for (unsigned char b : bytes) {
    id.push_back(kHex[b >> 4]);
    id.push_back(kHex[b & 15]);
  }
  const auto now = Clock::now();
  std::lock_guard<std::mutex> lock(mu_);
  // Expired sessions go first; past max_sessions, the one that expires soonest (the oldest login).
  absl::erase_if(sessions_, [now](const auto& kv) { return kv.second <= now; });
  while (sessions_.size() >= max_sessions_) {
    auto oldest = sessions_.begin();
    for (auto it = sessions_.begin(); it != sessions_.end(); ++it)
      if (it->second < oldest->second) oldest = it;
    sessions_.erase(oldest);
  }
  sessions_[digest(id)] = now + ttl_;
  return id;
}

std::optional<std::string_view> ConsoleSessions::cookie_value(std::string_view header, std::string_view name) {
  while (!header.empty()) {
    const std::size_t end = header.find(';');
    std::string_view pair = header.substr(0, end);
    header = end == std::string_view::npos ? std::string_view() : header.substr(end + 1);
    while (!pair.empty() && (pair.front() == ' ' || pair.front() == '\t')) pair.remove_prefix(1);
    while (!pair.empty() && (pair.back() == ' ' || pair.back() == '\t')) pair.remove_suffix(1);
    const std::size_t eq = pair.find('=');
    if (eq == std::string_view::npos || pair.substr(0, eq) != name) continue;
    std::string_view value = pair.substr(eq + 1);
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"') value = value.substr(1, value.size() - 2);
    return value;
  }
  return std::nullopt;
}

std::string_view ConsoleSessions::host_of(std::string_view authority) {
  if (authority.starts_with('[')) {
    const std::size_t close = authority.find(']');
    if (close == std::string_view::npos) return {};
    const std::string_view host = authority.substr(0, close + 1);
    for (char c : host.substr(1, host.size() - 2))
      if (!std::isxdigit(static_cast<unsigned char>(c)) && c != ':' && c != '.') return {};
    return host;
  }
  const std::string_view host = authority.substr(0, authority.find(':'));
  for (char c : host)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '-') return {};
  return host;
}

bool ConsoleSessions::origin_on_host(std::string_view origin, std::string_view host_header) {
  const std::size_t scheme = origin.find("://");
  if (scheme == std::string_view::npos) return false;
  const std::string_view host = host_of(host_header);
  return !host.empty() && host_of(origin.substr(scheme + 3)) == host;
}

bool ConsoleSessions::check(std::string_view cookie_header) const {
  const auto id = cookie_value(cookie_header, kConsoleCookie);
  if (!id || id->size() != 64) return false;
  const std::string key = digest(*id);
  std::lock_guard<std::mutex> lock(mu_);
  const auto it = sessions_.find(key);
  return it != sessions_.end() && it->second > Clock::now();
}

void ConsoleSessions::close(std::string_view cookie_header) {
  const auto id = cookie_value(cookie_header, kConsoleCookie);
  if (!id) return;
  const std::string key = digest(*id);
  std::lock_guard<std::mutex> lock(mu_);
  sessions_.erase(key);
}

std::size_t ConsoleSessions::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return sessions_.size();
}

}  // namespace segmentd
