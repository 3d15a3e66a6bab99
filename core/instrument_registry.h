#pragma once
// The instrument registry: (venue, symbol) -> dense InstrumentId and its Instrument, parsed from
// the symbol on first sight by the registry's SymbolParser (the venues' grammars are in protocol/:
// pass protocol/venues/registry.h's parse_symbol) and completed by contract-spec overrides from
// config.
//
// Thread-safety: every method may be called from any thread. Adapters keep a per-session cache
// of symbol -> id so the lock is taken once per symbol, not once per fill.

#include <deque>
#include <string>
#include <string_view>
#include <vector>

#include <mutex>
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "core/instrument.h"

namespace segmentd {

//! A config override of the contract spec for symbols of one venue starting with a prefix.
struct ContractOverride {
  Venue venue = Venue::kNative;
  std::string symbol_prefix;
  double contract_value = 1.0;
  bool inverse = false;
};

//! A spot pair named by an index (Hyperliquid "@107") mapped to its base coin ("HYPE"), so that
//! the spot and the perpetual of one coin are one underlying and fees charged in the base token
//! convert to USD. Exact symbol match; config [spot_pairs.<venue>] (service/config).
struct SpotPair {
  Venue venue = Venue::kNative;
  std::string symbol;
  std::string base;
};

//! The defaults of [spot_pairs]: Hyperliquid's main spot pairs named by index.
std::vector<SpotPair> default_spot_pairs();

class InstrumentRegistry {
 public:
  explicit InstrumentRegistry(SymbolParser parser, std::vector<ContractOverride> overrides = {},
                              std::vector<SpotPair> spot_pairs = default_spot_pairs());

  //! Id of the symbol, parsing it on first sight. Error (not exception) for a bad symbol.
  absl::StatusOr<InstrumentId> resolve(Venue venue, std::string_view symbol);
  //! The instrument of an id returned by resolve(); stable reference.
  const Instrument& get(InstrumentId id) const;
  //! Dense id of an underlying asset name ("BTC"), interning it on first sight.
  UnderlyingId underlying_id(std::string_view base);
  const std::string& underlying_name(UnderlyingId id) const;
  //! Underlying id of an instrument (set by resolve()).
  UnderlyingId underlying_of(InstrumentId id) const;
  std::size_t size() const;
  //! Underlying ids handed out so far (0 .. count-1).
  std::size_t underlying_count() const;

 private:
  struct Entry {
    Instrument instrument;
    UnderlyingId underlying = 0;
  };
  SymbolParser parser_;
  mutable std::mutex mu_;  //!< std::mutex, not absl::Mutex: TSan sees only instrumented locks
  std::vector<ContractOverride> overrides_;
  std::vector<SpotPair> spot_pairs_;
  absl::flat_hash_map<std::string, InstrumentId> ids_;             // guarded by mu_  //!< key: venue '|' symbol
  std::deque<Entry> entries_;                                      // guarded by mu_
  absl::flat_hash_map<std::string, UnderlyingId> underlying_ids_;  // guarded by mu_
  std::deque<std::string> underlying_names_;                       // guarded by mu_
};

}  // namespace segmentd
