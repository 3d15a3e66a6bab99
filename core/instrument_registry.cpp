#include "core/instrument_registry.h"

#include <cstdint>
#include <deque>
#include <limits>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

// Notes on locking: one mutex guards both tables. Symbols are parsed outside it (parsing touches
// no shared state), then inserted with try_emplace so that two threads racing on a new symbol
// agree on one id. Entries live in deques and are never changed after insertion, so get() and
// underlying_name() may hand out references that outlive the lock.

namespace segmentd {
namespace {

absl::string_view av(std::string_view s) { return absl::string_view(s.data(), s.size()); }

std::string key_of(Venue venue, std::string_view symbol) { return absl::StrCat(av(to_string(venue)), "|", av(symbol)); }

//! UnderlyingId is 16 bits. Ids 0..65534 name assets; past that resolve() fails rather than
//! merging assets, and underlying_id() answers 65535, which names nothing.
constexpr std::size_t kMaxUnderlyings = std::numeric_limits<UnderlyingId>::max();

//! Interns `base` into the registry's underlying tables; the caller holds the registry's mutex.
bool intern_underlying(absl::flat_hash_map<std::string, UnderlyingId>& ids, std::deque<std::string>& names,
                       std::string_view base, UnderlyingId* id) {
  if (auto it = ids.find(av(base)); it != ids.end()) {
    *id = it->second;
    return true;
  }
  if (names.size() >= kMaxUnderlyings) return false;
  *id = static_cast<UnderlyingId>(names.size());
  names.emplace_back(base);
  ids.emplace(std::string(base), *id);
  return true;
}

}  // namespace

std::vector<SpotPair> default_spot_pairs() {
  // Hyperliquid's spot universe (spotMeta): "@107" is HYPE/USDC. PURR/USDC is named by its pair
  // and needs no entry.
  return {SpotPair{Venue::kHyperliquid, "@107", "HYPE"}};
}

InstrumentRegistry::InstrumentRegistry(SymbolParser parser, std::vector<ContractOverride> overrides,
                                       std::vector<SpotPair> spot_pairs)
    : parser_(parser), overrides_(std::move(overrides)), spot_pairs_(std::move(spot_pairs)) {}

absl::StatusOr<InstrumentId> InstrumentRegistry::resolve(Venue venue, std::string_view symbol) {
  std::string key = key_of(venue, symbol);
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (auto it = ids_.find(key); it != ids_.end()) return it->second;
  }

  absl::StatusOr<Instrument> parsed = parser_(venue, symbol);
  if (!parsed.ok()) return parsed.status();
  const ContractOverride* best = nullptr;
  for (const ContractOverride& o : overrides_) {
    if (o.venue != venue || symbol.substr(0, o.symbol_prefix.size()) != o.symbol_prefix) continue;
    if (best == nullptr || o.symbol_prefix.size() > best->symbol_prefix.size()) best = &o;
  }
  if (best != nullptr) {
    parsed->contract_value = best->contract_value;
    parsed->inverse = best->inverse;
  }
  if (parsed->kind == InstrumentKind::kSpot) {
    for (const SpotPair& sp : spot_pairs_) {
      if (sp.venue == venue && sp.symbol == symbol) {
        parsed->base = sp.base;
        break;
      }
    }
  }

  std::lock_guard<std::mutex> lock(mu_);
  if (auto it = ids_.find(key); it != ids_.end()) return it->second;  // another thread won
  if (entries_.size() >= std::numeric_limits<InstrumentId>::max())
    return absl::ResourceExhaustedError("instrument registry is full");
  UnderlyingId underlying = 0;
  if (!intern_underlying(underlying_ids_, underlying_names_, parsed->base, &underlying)) {
    return absl::ResourceExhaustedError(
        absl::StrCat("too many underlyings; cannot add \"", parsed->base, "\" for ", av(symbol)));
  }
  const auto id = static_cast<InstrumentId>(entries_.size());
  entries_.push_back(Entry{*std::move(parsed), underlying});
  ids_.emplace(std::move(key), id);
  return id;
}

const Instrument& InstrumentRegistry::get(InstrumentId id) const {
  std::lock_guard<std::mutex> lock(mu_);
  return entries_.at(id).instrument;
}

UnderlyingId InstrumentRegistry::underlying_id(std::string_view base) {
  std::lock_guard<std::mutex> lock(mu_);
  UnderlyingId id = 0;
  if (!intern_underlying(underlying_ids_, underlying_names_, base, &id))
    return static_cast<UnderlyingId>(kMaxUnderlyings);
  return id;
}

const std::string& InstrumentRegistry::underlying_name(UnderlyingId id) const {
  std::lock_guard<std::mutex> lock(mu_);
  return underlying_names_.at(id);
}

UnderlyingId InstrumentRegistry::underlying_of(InstrumentId id) const {
  std::lock_guard<std::mutex> lock(mu_);
  return entries_.at(id).underlying;
}

std::size_t InstrumentRegistry::underlying_count() const {
  std::lock_guard<std::mutex> lock(mu_);
  return underlying_names_.size();
}

std::size_t InstrumentRegistry::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return entries_.size();
}

}  // namespace segmentd
