#include "service/net/token_auth.h"

#include <cstdlib>
#include <fstream>
#include <sstream>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "core/str_cat.h"

namespace segmentd {
namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

}  // namespace

TokenSet::Digest TokenSet::digest(std::string_view token) {
  Digest d{};
  unsigned int len = 0;
  EVP_Digest(token.data(), token.size(), d.data(), &len, EVP_sha256(), nullptr);
  return d;
}

void TokenSet::add(std::string_view token) {
  token = trim(token);
  if (!token.empty()) digests_.push_back(digest(token));
}

absl::StatusOr<TokenSet> TokenSet::load(const std::string& file, const std::string& env_var, bool allow_anonymous) {
  TokenSet set;
  if (!file.empty()) {
    std::ifstream in(file);
    if (!in) return absl::NotFoundError(str_cat("tokens file ", file, ": cannot be read"));
    std::string line;
    while (std::getline(in, line)) {
      std::string_view t = trim(line);
      if (t.empty() || t.front() == '#') continue;
      set.add(t);
    }
  }
  if (!env_var.empty()) {
    if (const char* v = std::getenv(env_var.c_str()); v != nullptr) {
      std::string_view rest(v);
      while (!rest.empty()) {
        std::size_t end = rest.find_first_of(", \t\r\n");
        set.add(rest.substr(0, end));
        if (end == std::string_view::npos) break;
        rest.remove_prefix(end + 1);
      }
    }
  }
  if (set.digests_.empty()) {
    if (!allow_anonymous) {
      return absl::FailedPreconditionError(str_cat("no tokens: give a tokens file or set the environment variable ",
                                                   env_var.empty() ? "(none configured)" : env_var,
                                                   ", or allow anonymous access explicitly"));
    }
    set.anonymous_ = true;
  }
  return set;
}

TokenSet TokenSet::of(const std::vector<std::string>& tokens) {
  TokenSet set;
  for (const auto& t : tokens) set.add(t);
  return set;
}

bool TokenSet::check_token(std::string_view token) const {
  if (anonymous_) return true;
  const Digest d = digest(token);
  int ok = 0;
  for (const Digest& known : digests_) ok |= CRYPTO_memcmp(d.data(), known.data(), d.size()) == 0 ? 1 : 0;
  return ok != 0 && !token.empty();
}

bool TokenSet::check_header(std::string_view authorization) const {
  if (anonymous_) return true;
  constexpr std::string_view kBearer = "Bearer ";
  if (authorization.size() <= kBearer.size()) return false;
  // The scheme is case-insensitive (RFC 7235).
  for (std::size_t i = 0; i < kBearer.size(); ++i) {
    char a = authorization[i], b = kBearer[i];
    if (a >= 'A' && a <= 'Z') a = static_cast<char>(a - 'A' + 'a');
    if (b >= 'A' && b <= 'Z') b = static_cast<char>(b - 'A' + 'a');
    if (a != b) return false;
  }
  return check_token(trim(authorization.substr(kBearer.size())));
}

}  // namespace segmentd
