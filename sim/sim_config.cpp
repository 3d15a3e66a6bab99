#include "sim/sim_config.h"

#include <cmath>

#include <string>

#include "absl/strings/numbers.h"

namespace fillsim {

absl::Status validate(const Config& c) {
  if (c.accounts == 0 || c.accounts > 10'000'000) return absl::InvalidArgumentError("accounts must be in 1..10000000");
  if (!(c.rate > 0) || !std::isfinite(c.rate) || c.rate > 1e8)
    return absl::InvalidArgumentError("rate must be in (0, 1e8] fills/s");
  if (!(c.duration_s >= 0) || !std::isfinite(c.duration_s))
    return absl::InvalidArgumentError("duration must be >= 0 s (0 = unbounded)");
  if (c.start_ns <= 0) return absl::InvalidArgumentError("start must be after the Unix epoch");
  double total = 0;
  for (double w : c.mix) {
    if (!(w >= 0) || !std::isfinite(w)) return absl::InvalidArgumentError("mix weights must be finite and >= 0");
    total += w;
  }
  if (!(total > 0)) return absl::InvalidArgumentError("mix weights must not all be zero");
  double shares = 0;
  for (const auto& d : c.drift) {
    if (!(d.at_s >= 0) || !std::isfinite(d.at_s)) return absl::InvalidArgumentError("drift time must be >= 0 s");
    if (!(d.share >= 0 && d.share <= 1)) return absl::InvalidArgumentError("drift share must be in [0, 1]");
    shares += d.share;
  }
  if (shares > 1.0 + 1e-9)
    return absl::InvalidArgumentError("drift shares add up to more than 1 (each account switches at most once)");
  int positive = 0;
  for (double w : c.mix) positive += w > 0;
  if (!c.drift.empty() && shares > 0 && positive < 2)
    return absl::InvalidArgumentError("drift needs at least two archetypes with a positive mix weight");
  if (c.account_prefix.empty() || c.account_prefix.size() > 64)
    return absl::InvalidArgumentError("account prefix must be 1..64 bytes");
  for (char ch : c.account_prefix) {
    if (ch == '"' || ch == '\\' || ch == ',' || static_cast<unsigned char>(ch) < 0x20)
      return absl::InvalidArgumentError(
          "account prefix may not contain quotes, backslashes, commas or control characters");
  }
  return absl::OkStatus();
}

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

absl::StatusOr<std::array<double, kArchetypeCount>> parse_mix(std::string_view text) {
  // Debian's Abseil has its own string_view, so this splits by hand rather than with StrSplit.
  text = trim(text);
  if (text == "default") return default_mix();
  std::array<double, kArchetypeCount> mix{};
  std::array<bool, kArchetypeCount> seen{};
  while (!text.empty()) {
    std::size_t comma = text.find(',');
    std::string_view part = trim(text.substr(0, comma));
    text = comma == std::string_view::npos ? std::string_view() : text.substr(comma + 1);
    if (part.empty()) continue;
    std::size_t eq = part.find('=');
    std::string name(trim(part.substr(0, eq)));
    auto a = parse_archetype(name);
    if (!a) {
      std::string msg = "unknown archetype '" + name + "' (known:";
      for (int i = 0; i < kArchetypeCount; ++i) msg.append(" ").append(to_string(static_cast<Archetype>(i)));
      return absl::InvalidArgumentError(msg + ")");
    }
    std::string value(eq == std::string_view::npos ? std::string_view() : trim(part.substr(eq + 1)));
    double w = 0;
    if (!absl::SimpleAtod(value, &w) || !(w >= 0) || !std::isfinite(w))
      return absl::InvalidArgumentError("weight of '" + name + "' must be a number >= 0");
    int i = static_cast<int>(*a);
    if (seen[i]) return absl::InvalidArgumentError("archetype '" + name + "' given twice");
    seen[i] = true;
    mix[i] = w;
  }
  double total = 0;
  for (double w : mix) total += w;
  if (!(total > 0)) return absl::InvalidArgumentError("mix weights must not all be zero");
  return mix;
}

}  // namespace fillsim
