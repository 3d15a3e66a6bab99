#include "service/config/credentials.h"

#include <openssl/crypto.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "core/str_cat.h"

namespace segmentd {

Secret::~Secret() {
  if (!value_.empty()) OPENSSL_cleanse(value_.data(), value_.size());
}

absl::StatusOr<Secret> load_secret(const SecretRef& ref, std::string_view what) {
  if (!ref.env.empty()) {
    const char* v = std::getenv(ref.env.c_str());
    if (v == nullptr || *v == '\0')
      return absl::NotFoundError(str_cat(what, ": environment variable ", ref.env, " is not set or empty"));
    return Secret(v);
  }
  if (!ref.file.empty()) {
    std::ifstream in(ref.file, std::ios::binary);
    if (!in) return absl::NotFoundError(str_cat(what, ": cannot read ", ref.file));
    std::ostringstream text;
    text << in.rdbuf();
    std::string value = text.str();
    while (!value.empty() && (value.back() == '\n' || value.back() == '\r' || value.back() == ' ')) value.pop_back();
    if (value.empty()) return absl::InvalidArgumentError(str_cat(what, ": ", ref.file, " is empty"));
    Secret s(std::move(value));
    OPENSSL_cleanse(value.data(), value.size());
    return s;
  }
  return absl::InvalidArgumentError(str_cat(what, ": neither an environment variable nor a file is configured"));
}

bool constant_time_equal(std::string_view a, std::string_view b) {
  // The length is not secret (tokens have a fixed format); the content is.
  if (a.size() != b.size()) return false;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace segmentd
