#pragma once
// The fill simulator: a population of accounts drawn from archetypes trading on the simulated
// market, yielding fills in event-time order.
//
//   fillsim::Simulator sim(config);
//   fillsim::SimFill f;
//   while (sim.next(&f)) { ... f.fill, f.account, f.symbol ... }
//
// Arrivals are a Poisson process at the configured aggregate rate; each picks an account with
// probability proportional to its activity (alias table, O(1)), and the account's archetype
// decides what it trades. Follow-up legs (delta hedges, basis legs) and informed traders' timed
// orders wait in a small time-ordered queue. The same Config gives byte-identical output.
//
// Memory: about 30 bytes per account (1M accounts: ~30 MB), plus the instrument table.
// Thread-safety: one thread owns a Simulator; const methods may be called between next() calls.

#include <array>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <memory>
#include <queue>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "core/fill.h"
#include "sim/archetype.h"
#include "sim/calendar.h"
#include "sim/market.h"
#include "sim/sim_config.h"
#include "sim/sim_rng.h"

namespace fillsim {

//! One simulated fill. fill.account is the simulator's account index (0..N-1), fill.instrument
//! the simulator's instrument id and fill.underlying 0 = BTC, 1 = ETH: an in-process consumer that
//! keeps its own registries re-resolves them from `account` and `symbol` (venue Deribit).
struct SimFill {
  segmentd::Fill fill;
  std::string_view account;                       //!< valid until the next call of next()
  std::string_view symbol;                        //!< Deribit symbol; valid for the simulator's lifetime
  Archetype archetype = Archetype::kMarketMaker;  //!< the account's archetype when it traded
  bool follow_up = false;                         //!< a hedge or second leg of the account's previous trade
};

//! Ground truth of one account.
struct TruthRow {
  Archetype archetype = Archetype::kMarketMaker;  //!< from the start
  std::int64_t switch_ns = 0;                     //!< 0: never switches
  Archetype new_archetype = Archetype::kMarketMaker;
};

struct SimInstrument {
  std::string symbol;
  segmentd::InstrumentKind kind = segmentd::InstrumentKind::kPerpetual;
  segmentd::OptionType option_type = segmentd::OptionType::kNone;
  int underlying = 0;
  std::int64_t expiry_ns = 0;
  double strike = 0;
};

struct SimStats {
  std::uint64_t fills = 0;
  std::uint64_t arrivals = 0;    //!< primary decisions (a whale's timed order counts once)
  std::uint64_t follow_ups = 0;  //!< hedge and second-leg fills
  std::uint64_t drift_events_applied = 0;
  std::array<std::uint64_t, kArchetypeCount> fills_by_archetype{};
  std::array<std::uint64_t, kArchetypeCount> arrivals_by_archetype{};
};

class Simulator {
 public:
  //! `config` must pass validate(); otherwise the constructor aborts with the reason.
  explicit Simulator(Config config);
  ~Simulator();
  Simulator(const Simulator&) = delete;
  Simulator& operator=(const Simulator&) = delete;

  //! The next fill in event-time order (ts_ns non-decreasing); false when the run's duration is over.
  bool next(SimFill* out);

  const Config& config() const { return config_; }
  std::int64_t end_ns() const { return end_ns_; }  //!< INT64_MAX when unbounded
  std::uint32_t account_count() const { return static_cast<std::uint32_t>(accounts_.size()); }
  std::string account_name(std::uint32_t account) const;
  TruthRow truth(std::uint32_t account) const;
  Archetype archetype_now(std::uint32_t account) const { return accounts_[account].archetype; }
  std::size_t instrument_count() const { return instruments_.size(); }
  const SimInstrument& instrument(std::uint32_t id) const { return instruments_[id]; }
  //! Fair (mark) price of an instrument at ts in its quote units; ts within the market's window
  //! around the current event time (about -250 s .. +150 s).
  double fair_price(std::uint32_t instrument, std::int64_t ts_ns) const;
  const Market& market() const { return market_; }
  const SimStats& stats() const { return stats_; }

 private:
  // Per-account state: 20 bytes. Traits (ticket scale, BTC preference, bias) derive from a hash of
  // (seed, account, archetype) when the archetype is set, so drift re-draws them.
  struct Account {
    float delta_usd[Market::kUnderlyings] = {0, 0};  //!< net delta of what the account traded, USD
    float ticket_factor = 1;                         //!< account's median ticket / archetype median
    Archetype archetype = Archetype::kMarketMaker;   //!< current
    Archetype initial = Archetype::kMarketMaker;
    Archetype next = Archetype::kMarketMaker;  //!< after its drift event
    std::uint8_t drift_event = 0xFF;           //!< index into drift events; 0xFF: none
    std::uint8_t btc_pref = 128;               //!< P(trade BTC) × 255
    std::int8_t bias = 1;                      //!< persistent direction (+1 long / -1 short)
  };

  struct Order {
    int u = 0;
    segmentd::InstrumentKind kind = segmentd::InstrumentKind::kPerpetual;
    Tenor tenor = Tenor::kWeekly;
    segmentd::OptionType option_type = segmentd::OptionType::kNone;
    double k = 0;         //!< option log-moneyness target ln(K/F)
    double dir = 1;       //!< +1 buy, -1 sell
    double notional = 0;  //!< USD; for hedges 0 = "the account's whole delta on u"
    bool maker = false;
    bool hedge_all = false;  //!< trade the account's current delta on u to zero
  };

  struct Pending {
    std::int64_t ts = 0;
    std::uint64_t seq = 0;
    std::uint32_t account = 0;
    bool follow_up = false;
    Order order;
  };
  struct PendingLater {
    bool operator()(const Pending& a, const Pending& b) const;
  };
  struct InstrumentKey {
    std::int64_t expiry_ns;
    std::int64_t strike_cents;
    std::uint8_t underlying;
    std::uint8_t kind;
    std::uint8_t option_type;
    bool operator==(const InstrumentKey&) const = default;
    template <typename H>
    friend H AbslHashValue(H h, const InstrumentKey& k) {  // NOLINT(readability-identifier-naming): Abseil's hook
      return H::combine(std::move(h), k.expiry_ns, k.strike_cents, k.underlying, k.kind, k.option_type);
    }
  };

  void assign_archetypes();
  void set_traits(std::uint32_t account);
  void rebuild_alias();
  void apply_drift(std::size_t event);
  std::uint32_t pick_account();
  double mean_gap_ns() const;
  //! Decides a primary order for an arriving account; false when nothing trades now (timed order queued).
  bool decide(std::uint32_t account, std::int64_t ts, Order* order);
  bool emit(std::uint32_t account, const Order& order, std::int64_t ts, bool follow_up, SimFill* out);
  void after_fill(std::uint32_t account, const Order& order, std::int64_t ts, const SimFill& f);
  void schedule(std::int64_t ts, std::uint32_t account, const Order& order, bool follow_up);
  std::uint32_t instrument_id(int u, segmentd::InstrumentKind kind, segmentd::OptionType type, std::int64_t expiry,
                              double strike);
  double move(int u, std::int64_t ts, std::int64_t horizon_ns) const;

  Config config_;
  std::int64_t end_ns_;
  Market market_;
  ExpiryCalendar calendar_;
  Rng rng_;          //!< behaviour: what each account trades
  Rng arrival_rng_;  //!< arrival times and account picks
  std::vector<Account> accounts_;
  struct AliasEntry {
    std::uint32_t threshold;  //!< keep the slot's own account when the coin is below this (1/2^32)
    std::uint32_t alias;
  };
  std::vector<AliasEntry> alias_;  //!< alias table over accounts, by activity
  // Account picks run a few arrivals ahead, so the random reads of the alias table and the account
  // state are prefetched (with 1M accounts they miss the cache). Slot k holds the raw draw of the
  // pick k ahead of the next one; picks are resolved kPickAhead/2 ahead.
  static constexpr std::size_t kPickAhead = 16;
  std::array<std::uint64_t, kPickAhead> pick_draw_{};
  std::array<std::uint32_t, kPickAhead> pick_account_{};
  std::size_t pick_head_ = 0;
  void reset_picks();
  std::uint32_t resolve_pick(std::uint64_t draw) const;
  double total_activity_ = 0;
  std::array<double, kArchetypeCount> activity_by_archetype_{};
  std::vector<std::int64_t> drift_ns_;  //!< absolute time of each drift event
  std::size_t next_drift_ = 0;
  double arrival_offset_ns_ = 0;  //!< next arrival, ns after the start
  std::vector<Pending> pending_;  //!< min-heap by (ts, seq)
  std::uint64_t pending_seq_ = 0;
  std::vector<SimInstrument> instruments_;
  absl::flat_hash_map<InstrumentKey, std::uint32_t> instrument_ids_;
  std::string account_buf_;
  SimStats stats_;
};

//! Appends the native NDJSON line of a simulated fill (venue "deribit").
void append_native_line(std::string& out, const SimFill& f);

//! Market data beside the fills (fillsim --prices): every `interval_ns` of event time, one native
//! price record per instrument traded so far and not expired — its fair (mark) price and its
//! underlying's index, at that tick (protocol/README.md, "Price records"). A consumer's price
//! tape then prices markouts with the market, not with the next fill.
//!
//!   PriceTicker ticker(sim, 1'000'000'000);
//!   while (sim.next(&f)) { ticker.before(out, f.fill.recv_ns); append_native_line(out, f); ticker.traded(f); }
class PriceTicker {
 public:
  PriceTicker(const Simulator& sim, std::int64_t interval_ns);
  //! Appends the records of the ticks in (last tick, ts] (at most the last minute of them: the
  //! market's path does not reach further back); returns how many.
  std::size_t before(std::string& out, std::int64_t ts_ns);
  void traded(const SimFill& f);
  std::uint64_t records() const { return records_; }

 private:
  const Simulator& sim_;
  std::int64_t interval_ns_;
  std::int64_t next_tick_ = 0;  //!< 0 until the first fill
  std::vector<std::uint32_t> traded_;
  std::vector<bool> seen_;
  std::uint64_t records_ = 0;
};

//! Writes the ground truth CSV `account,archetype,switch_ts_ns,new_archetype`, one row per
//! account in account order; the switch columns are empty for accounts that never switch.
absl::Status write_truth_csv(const Simulator& sim, std::FILE* out);
absl::Status write_truth_csv(const Simulator& sim, const std::string& path);

}  // namespace fillsim
