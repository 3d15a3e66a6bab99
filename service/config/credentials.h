#pragma once
// API credentials. They come from an environment variable or a file named in the config, live in
// a Secret, and never reach a log line, an error message or a metric: Secret has no stream
// operator and no implicit conversion, and every error names where the secret was looked for,
// never what it holds.

#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace segmentd {

//! Where a secret comes from: exactly one of env / file is set (config validation checks it).
struct SecretRef {
  std::string env;   //!< name of an environment variable
  std::string file;  //!< path of a file holding the secret (trailing newline stripped)
  bool configured() const { return !env.empty() || !file.empty(); }
};

class Secret {
 public:
  Secret() = default;
  explicit Secret(std::string value) : value_(std::move(value)) {}
  Secret(const Secret&) = default;
  Secret& operator=(const Secret&) = default;
  Secret(Secret&&) = default;
  Secret& operator=(Secret&&) = default;
  ~Secret();

  //! The value, for signing and for the one header that must carry it. Never log it.
  std::string_view reveal() const { return value_; }
  bool empty() const { return value_.empty(); }

 private:
  std::string value_;
};

//! Loads a secret. `what` names it in errors ("accounts[0].secret").
absl::StatusOr<Secret> load_secret(const SecretRef& ref, std::string_view what);

//! Compares in time independent of where the inputs differ (tokens, signatures).
bool constant_time_equal(std::string_view a, std::string_view b);

}  // namespace segmentd
