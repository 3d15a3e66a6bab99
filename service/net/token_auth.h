#pragma once
// Bearer-token authentication for the publisher and the admin API (protocol/publisher/publisher.md).
//
// Tokens come from a file (one per line; blank lines and lines starting with '#' ignored)
// and/or an environment variable (tokens separated by commas or whitespace). Only the SHA-256
// digest of each token is kept; a presented token is hashed and compared with every digest
// using CRYPTO_memcmp and without an early exit, so neither the content nor the position of a
// valid token leaks through timing.
//
// Immutable after load(): any thread may call check().

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace segmentd {

class TokenSet {
 public:
  //! Loads tokens from `file` (empty = none) and from the environment variable `env_var`
  //! (empty name or unset = none). An unreadable file is an error; so is no token at all unless
  //! `allow_anonymous` (then check() accepts every request).
  static absl::StatusOr<TokenSet> load(const std::string& file, const std::string& env_var, bool allow_anonymous);
  //! For tests: the given tokens.
  static TokenSet of(const std::vector<std::string>& tokens);

  //! True when `authorization` (the header's value) is "Bearer <token>" with a known token.
  bool check_header(std::string_view authorization) const;
  bool check_token(std::string_view token) const;
  std::size_t size() const { return digests_.size(); }
  bool anonymous() const { return anonymous_; }

 private:
  using Digest = std::array<std::uint8_t, 32>;
  static Digest digest(std::string_view token);
  void add(std::string_view token);

  std::vector<Digest> digests_;
  bool anonymous_ = false;
};

}  // namespace segmentd
