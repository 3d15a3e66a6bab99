#include "sim/simulator.h"

#include <algorithm>
#include <cassert>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <numeric>

#include "core/black76.h"
#include "protocol/native_format.h"

namespace fillsim {

using segmentd::InstrumentKind;
using segmentd::Liquidity;
using segmentd::OptionType;
using segmentd::Side;

namespace {

constexpr std::int64_t kMs = 1'000'000;
constexpr std::int64_t kSecond = 1'000 * kMs;
constexpr std::int64_t kMarkoutNs = 10 * kSecond;  // the horizon informed archetypes see ahead
constexpr std::uint8_t kNoDrift = 0xFF;

// Fills per arrival by archetype, measured on long default runs: the prior of the rate correction
// (follow-up hedges add fills; a premium seller's hedge with nothing to hedge yields none).
constexpr double kFillsPerArrival[kArchetypeCount] = {1.02, 1.83, 0.98, 1.0, 1.0, 1.18, 1.0, 1.0};
constexpr double kPriorWeight = 10'000;

double hashed_unit(std::uint64_t h) { return to_unit(h); }

//! Standard normal from a hash (Box-Muller on two derived uniforms): per-account traits that are
//! a pure function of (seed, account, archetype), so they need no storage and survive drift.
double hashed_normal(std::uint64_t h) {
  double u1 = 1.0 - hashed_unit(mix64(h, 1));
  double u2 = hashed_unit(mix64(h, 2));
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
}

double round_to(double x, double units_per_one) { return std::round(x * units_per_one) / units_per_one; }

double sgn(double x) { return x >= 0 ? 1.0 : -1.0; }

Side side_of(double dir) { return dir >= 0 ? Side::kBuy : Side::kSell; }

}  // namespace

bool Simulator::PendingLater::operator()(const Pending& a, const Pending& b) const {
  return a.ts != b.ts ? a.ts > b.ts : a.seq > b.seq;
}

Simulator::Simulator(Config config)
    : config_(std::move(config)),
      end_ns_(config_.duration_s > 0
                  ? config_.start_ns + static_cast<std::int64_t>(std::llround(config_.duration_s * 1e9))
                  : std::numeric_limits<std::int64_t>::max()),
      market_(config_.seed, config_.start_ns, config_.market_events),
      rng_(mix64(config_.seed, 0x6265686176ULL)),
      arrival_rng_(mix64(config_.seed, 0x617272697665ULL)) {
  if (auto st = validate(config_); !st.ok()) {
    std::fprintf(stderr, "fillsim: invalid config: %s\n", std::string(st.message()).c_str());
    std::abort();
  }
  assign_archetypes();
  for (const auto& d : config_.drift)
    drift_ns_.push_back(config_.start_ns + static_cast<std::int64_t>(std::llround(d.at_s * 1e9)));
  rebuild_alias();
  market_.advance_to(config_.start_ns);
  arrival_offset_ns_ = arrival_rng_.exponential(mean_gap_ns());
}

Simulator::~Simulator() = default;

void Simulator::assign_archetypes() {
  const std::uint32_t n = config_.accounts;
  accounts_.assign(n, Account{});
  // Exact counts by largest remainder, then a seeded shuffle: every run of a config has the same
  // population, and small populations still get every archetype with a positive weight.
  double total = std::accumulate(config_.mix.begin(), config_.mix.end(), 0.0);
  std::array<std::uint32_t, kArchetypeCount> count{};
  std::array<double, kArchetypeCount> rem{};
  std::uint32_t assigned = 0;
  for (int a = 0; a < kArchetypeCount; ++a) {
    double exact = n * config_.mix[a] / total;
    count[a] = static_cast<std::uint32_t>(std::floor(exact));
    rem[a] = exact - count[a];
    assigned += count[a];
  }
  while (assigned < n) {
    int best = 0;
    for (int a = 1; a < kArchetypeCount; ++a) {
      if (rem[a] > rem[best]) best = a;
    }
    ++count[best];
    rem[best] = -1;
    ++assigned;
  }
  std::vector<std::uint8_t> kinds;
  kinds.reserve(n);
  for (int a = 0; a < kArchetypeCount; ++a) kinds.insert(kinds.end(), count[a], static_cast<std::uint8_t>(a));
  Rng shuffle(mix64(config_.seed, 0x706f70ULL));
  for (std::uint32_t i = n; i > 1; --i) std::swap(kinds[i - 1], kinds[shuffle.below(i)]);
  for (std::uint32_t i = 0; i < n; ++i) {
    auto a = static_cast<Archetype>(kinds[i]);
    accounts_[i].archetype = accounts_[i].initial = accounts_[i].next = a;
  }

  // Drift: a seeded permutation; the first share_0·N accounts switch at event 0, the next at 1...
  if (!config_.drift.empty()) {
    std::vector<std::uint32_t> order(n);
    std::iota(order.begin(), order.end(), 0u);
    for (std::uint32_t i = n; i > 1; --i) std::swap(order[i - 1], order[shuffle.below(i)]);
    std::size_t pos = 0;
    for (std::size_t e = 0; e < config_.drift.size() && e < kNoDrift; ++e) {
      auto take = static_cast<std::size_t>(std::llround(config_.drift[e].share * n));
      for (std::size_t j = 0; j < take && pos < n; ++j, ++pos) {
        Account& acc = accounts_[order[pos]];
        acc.drift_event = static_cast<std::uint8_t>(e);
        // New archetype: drawn from the mix without the current one.
        double weights[kArchetypeCount];
        for (int a = 0; a < kArchetypeCount; ++a)
          weights[a] = a == static_cast<int>(acc.initial) ? 0.0 : config_.mix[a];
        acc.next = static_cast<Archetype>(shuffle.pick(weights));
      }
    }
  }
  for (std::uint32_t i = 0; i < n; ++i) set_traits(i);
}

void Simulator::set_traits(std::uint32_t i) {
  Account& acc = accounts_[i];
  const std::uint64_t h = mix64(config_.seed ^ 0x747261697473ULL, i, static_cast<std::uint64_t>(acc.archetype));
  const auto& p = params(acc.archetype);
  acc.ticket_factor = static_cast<float>(std::exp(p.account_sigma * hashed_normal(mix64(h, 3))));
  double u = hashed_unit(mix64(h, 4));
  double v = hashed_unit(mix64(h, 5));
  double pref = 0.5;
  // Concentration: the retail, whale and hedger archetypes mostly stick to one coin; the
  // professionals quote or trade both.
  switch (acc.archetype) {
    case Archetype::kMarketMaker: pref = 0.55 + 0.15 * v; break;
    case Archetype::kVolArb: pref = 0.60 + 0.25 * v; break;
    case Archetype::kWhale: pref = u < 0.8 ? 0.95 : 0.05; break;
    case Archetype::kOptionLottery: pref = u < 0.75 ? 0.92 : 0.08; break;
    case Archetype::kHftScalper: pref = 0.45 + 0.15 * v; break;
    case Archetype::kPremiumSeller: pref = 0.50 + 0.25 * v; break;
    case Archetype::kPerpGambler: pref = u < 0.7 ? 0.90 : 0.10; break;
    case Archetype::kHedger: pref = u < 0.85 ? 0.95 : 0.05; break;
  }
  acc.btc_pref = static_cast<std::uint8_t>(std::lround(pref * 255));
  double w = hashed_unit(mix64(h, 6));
  double long_share = acc.archetype == Archetype::kPerpGambler ? 0.7 : acc.archetype == Archetype::kWhale ? 0.6 : 0.5;
  acc.bias = w < long_share ? 1 : -1;
}

void Simulator::rebuild_alias() {
  // Vose's alias method over per-account activity = archetype activity × log-normal(0.5) factor.
  const std::uint32_t n = account_count();
  std::vector<double> w(n);
  total_activity_ = 0;
  activity_by_archetype_.fill(0);
  for (std::uint32_t i = 0; i < n; ++i) {
    const Account& acc = accounts_[i];
    std::uint64_t h = mix64(config_.seed ^ 0x616374ULL, i, static_cast<std::uint64_t>(acc.archetype));
    w[i] = params(acc.archetype).activity * std::exp(0.5 * hashed_normal(h));
    total_activity_ += w[i];
    activity_by_archetype_[static_cast<int>(acc.archetype)] += w[i];
  }
  alias_.assign(n, AliasEntry{0, 0});
  std::vector<std::uint32_t> small, large;
  for (std::uint32_t i = 0; i < n; ++i) {
    w[i] = w[i] * n / total_activity_;
    alias_[i].alias = i;
    (w[i] < 1.0 ? small : large).push_back(i);
  }
  constexpr double kScale = 4294967296.0;  // thresholds in 1/2^32
  while (!small.empty() && !large.empty()) {
    std::uint32_t s = small.back();
    small.pop_back();
    std::uint32_t l = large.back();
    alias_[s].threshold = static_cast<std::uint32_t>(std::min(w[s] * kScale, kScale - 1));
    alias_[s].alias = l;
    w[l] -= 1.0 - w[s];
    if (w[l] < 1.0) {
      large.pop_back();
      small.push_back(l);
    }
  }
  for (std::uint32_t i : large) alias_[i].threshold = 0xFFFFFFFFu;
  for (std::uint32_t i : small) alias_[i].threshold = 0xFFFFFFFFu;  // rounding leftovers
  reset_picks();
}

std::uint32_t Simulator::resolve_pick(std::uint64_t draw) const {
  auto i = static_cast<std::uint32_t>(((draw >> 32) * alias_.size()) >> 32);
  const AliasEntry& e = alias_[i];
  return static_cast<std::uint32_t>(draw & 0xFFFFFFFFu) < e.threshold ? i : e.alias;
}

void Simulator::reset_picks() {
  // After a rebuild of the table the queued picks are drawn again (deterministically).
  for (std::size_t k = 0; k < kPickAhead; ++k) pick_draw_[k] = arrival_rng_.next();
  for (std::size_t k = 0; k < kPickAhead / 2; ++k) pick_account_[k] = resolve_pick(pick_draw_[k]);
  pick_head_ = 0;
}

std::uint32_t Simulator::pick_account() {
  constexpr std::size_t kMask = kPickAhead - 1;
  static_assert((kPickAhead & kMask) == 0, "kPickAhead must be a power of two");
  const std::size_t head = pick_head_;
  std::uint32_t account = pick_account_[head];
  // The slot freed by this pick takes a new draw; prefetch its alias entry.
  std::uint64_t draw = arrival_rng_.next();
  pick_draw_[head] = draw;
  __builtin_prefetch(&alias_[((draw >> 32) * alias_.size()) >> 32]);
  // The pick half-way ahead resolves now (its alias entry was prefetched); prefetch its account.
  const std::size_t mid = (head + kPickAhead / 2) & kMask;
  pick_account_[mid] = resolve_pick(pick_draw_[mid]);
  __builtin_prefetch(&accounts_[pick_account_[mid]]);
  pick_head_ = (head + 1) & kMask;
  return account;
}

double Simulator::mean_gap_ns() const {
  // Arrivals come at the configured rate divided by the fills each arrival yields (follow-ups
  // add fills, a hedge with nothing to hedge yields none): a prior by activity share, corrected
  // by what the run has produced so far, so the total fill rate stays at the configured one.
  double prior = 0.0;
  for (int a = 0; a < kArchetypeCount; ++a) prior += kFillsPerArrival[a] * activity_by_archetype_[a] / total_activity_;
  double fills_per_arrival = (static_cast<double>(stats_.fills) + prior * kPriorWeight) /
                             (static_cast<double>(stats_.arrivals) + kPriorWeight);
  return 1e9 * fills_per_arrival / config_.rate;
}

void Simulator::apply_drift(std::size_t e) {
  for (std::uint32_t i = 0; i < account_count(); ++i) {
    Account& acc = accounts_[i];
    if (acc.drift_event == e) {
      acc.archetype = acc.next;
      set_traits(i);
    }
  }
  rebuild_alias();
  ++stats_.drift_events_applied;
}

double Simulator::move(int u, std::int64_t ts, std::int64_t horizon_ns) const {
  return market_.index(u, ts + horizon_ns) / market_.index(u, ts) - 1.0;
}

void Simulator::schedule(std::int64_t ts, std::uint32_t account, const Order& order, bool follow_up) {
  pending_.push_back(Pending{ts, pending_seq_++, account, follow_up, order});
  std::push_heap(pending_.begin(), pending_.end(), PendingLater{});
}

bool Simulator::next(SimFill* out) {
  for (;;) {
    const std::int64_t arrival = config_.start_ns + static_cast<std::int64_t>(arrival_offset_ns_);
    const std::int64_t drift =
        next_drift_ < drift_ns_.size() ? drift_ns_[next_drift_] : std::numeric_limits<std::int64_t>::max();
    const std::int64_t pend = pending_.empty() ? std::numeric_limits<std::int64_t>::max() : pending_.front().ts;
    const std::int64_t now = std::min({arrival, drift, pend});
    if (now >= end_ns_) return false;
    market_.advance_to(now);
    if (drift == now) {
      // Drift comes first at a tie; arrivals restart from the switch with the new population's rate.
      apply_drift(next_drift_++);
      arrival_offset_ns_ = static_cast<double>(drift - config_.start_ns) + arrival_rng_.exponential(mean_gap_ns());
      continue;
    }
    if (pend == now) {
      std::pop_heap(pending_.begin(), pending_.end(), PendingLater{});
      Pending p = pending_.back();
      pending_.pop_back();
      if (emit(p.account, p.order, p.ts, p.follow_up, out)) return true;
      continue;
    }
    // A liquidity hole thins the arrivals (the same draw, stretched).
    arrival_offset_ns_ += arrival_rng_.exponential(mean_gap_ns()) / market_.liquidity(now);
    std::uint32_t account = pick_account();
    ++stats_.arrivals;
    ++stats_.arrivals_by_archetype[static_cast<int>(accounts_[account].archetype)];
    Order order;
    if (decide(account, now, &order) && emit(account, order, now, false, out)) return true;
  }
}

// ---------------------------------------------------------------------------------------------
// Archetype behaviour. Each arrival decides one order; after_fill() queues the follow-ups.

bool Simulator::decide(std::uint32_t account, std::int64_t ts, Order* o) {
  Account& acc = accounts_[account];
  const auto& p = params(acc.archetype);
  const double median = p.ticket_usd * acc.ticket_factor;
  o->u = rng_.bernoulli(acc.btc_pref / 255.0) ? 0 : 1;
  o->notional = rng_.lognormal(median, p.ticket_sigma);
  o->maker = rng_.bernoulli(p.maker_prob);
  const double inventory = acc.delta_usd[o->u];
  auto option_at = [&](double k, OptionType type) {
    o->kind = InstrumentKind::kOption;
    o->k = k;
    o->option_type = type;
  };
  auto otm = [&](double k) { option_at(k, k >= 0 ? OptionType::kCall : OptionType::kPut); };

  switch (acc.archetype) {
    case Archetype::kMarketMaker: {
      // Quotes everything near the money on both sides, leaning against its inventory; gets
      // picked off by informed flow now and then (adverse selection).
      const double kinds[] = {0.50, 0.35, 0.15};
      int kind = rng_.pick(kinds);
      double limit = 4 * median;
      double p_buy = 0.5 - 0.4 * std::clamp(inventory / limit, -1.0, 1.0);
      o->dir = rng_.bernoulli(p_buy) ? 1 : -1;
      if (rng_.bernoulli(0.15)) o->dir = -sgn(move(o->u, ts, kMarkoutNs));
      if (kind == 0) {
        const double tenors[] = {1, 2, 1, 2, 1, 0.5};
        o->tenor = static_cast<Tenor>(rng_.pick(tenors));
        otm(rng_.normal(0, 0.07));
        o->dir = rng_.bernoulli(0.5) ? 1 : -1;
      } else if (kind == 1) {
        o->kind = InstrumentKind::kPerpetual;
      } else {
        const double tenors[] = {0, 1, 0, 1, 1, 0.5};
        o->kind = InstrumentKind::kFuture;
        o->tenor = static_cast<Tenor>(rng_.pick(tenors));
      }
      return true;
    }
    case Archetype::kVolArb: {
      // Trades vol near the money at 1-6 month tenors, or the future/perp basis; every primary
      // leg is delta hedged within a second or two (after_fill).
      if (rng_.bernoulli(0.6)) {
        const double tenors[] = {0, 0, 0, 3, 3, 1};
        o->tenor = static_cast<Tenor>(rng_.pick(tenors));
        otm(rng_.normal(0, 0.04));
        o->dir = rng_.bernoulli(0.7) ? acc.bias : -acc.bias;  // a long- or short-vol book
      } else {
        const double tenors[] = {0, 0, 0, 1, 3, 2};
        o->kind = InstrumentKind::kFuture;
        o->tenor = static_cast<Tenor>(rng_.pick(tenors));
        o->dir = rng_.bernoulli(0.75) ? 1 : -1;  // mostly cash-and-carry: long future, short perp
      }
      return true;
    }
    case Archetype::kWhale: {
      // Builds a large directional position, and times each order ahead of a move: of twelve
      // candidate moments in the next two minutes it takes the one followed by the best 10 s
      // move in its direction (queued as a timed order).
      double dir = rng_.bernoulli(0.85) ? acc.bias : -acc.bias;
      const double kinds[] = {0.6, 0.3, 0.1};
      int kind = rng_.pick(kinds);
      if (kind == 0) {
        o->kind = InstrumentKind::kPerpetual;
        o->dir = dir;
      } else if (kind == 1) {
        o->kind = InstrumentKind::kFuture;
        o->tenor = rng_.bernoulli(0.6) ? Tenor::kQuarterly : Tenor::kNextQuarter;
        o->dir = dir;
      } else {
        o->tenor = rng_.bernoulli(0.5) ? Tenor::kMonthly : Tenor::kQuarterly;
        option_at(dir * std::abs(rng_.normal(0.03, 0.03)), dir > 0 ? OptionType::kCall : OptionType::kPut);
        o->dir = 1;  // buys calls when bullish, puts when bearish
      }
      std::int64_t best_ts = ts;
      double best = -1e9;
      for (int j = 0; j < 12; ++j) {
        std::int64_t t = ts + j * 10 * kSecond + static_cast<std::int64_t>(rng_.below(1000)) * kMs;
        double m = dir * move(o->u, t, kMarkoutNs);
        if (m > best) {
          best = m;
          best_ts = t;
        }
      }
      schedule(best_ts, account, *o, false);
      return false;
    }
    case Archetype::kOptionLottery: {
      // Buys short-dated far-OTM options, mostly calls, as a taker; chases the wrong side often.
      if (rng_.bernoulli(0.95)) {
        const double tenors[] = {0.5, 0.4, 0.1, 0, 0, 0};
        o->tenor = static_cast<Tenor>(rng_.pick(tenors));
        double distance = std::min(0.06 + rng_.exponential(0.10), 0.5);
        bool call = rng_.bernoulli(0.7);
        if (rng_.bernoulli(0.3)) call = move(o->u, ts, kMarkoutNs) < 0;  // the wrong side of the next move
        option_at(call ? distance : -distance, call ? OptionType::kCall : OptionType::kPut);
        o->dir = rng_.bernoulli(0.93) ? 1 : -1;
      } else {
        o->kind = InstrumentKind::kPerpetual;
        o->dir = rng_.bernoulli(0.6) ? 1 : -1;
      }
      return true;
    }
    case Archetype::kHftScalper: {
      // Trades perps and short futures on a 10 s signal (right 85% of the time). It trades many
      // times per signal horizon, so it never unwinds against its signal: when the signal turns
      // against its inventory it trades out in bigger size. Flat book, very high turnover.
      o->kind = rng_.bernoulli(0.85) ? InstrumentKind::kPerpetual : InstrumentKind::kFuture;
      o->tenor = rng_.bernoulli(0.5) ? Tenor::kWeekly : Tenor::kMonthly;
      double signal = sgn(move(o->u, ts, kMarkoutNs));
      o->dir = rng_.bernoulli(0.85) ? signal : -signal;
      if (o->dir * inventory < 0) {
        o->notional = std::max(o->notional, 0.5 * std::abs(inventory));
        o->maker = rng_.bernoulli(0.5);
      } else {
        o->maker = rng_.bernoulli(0.2);
      }
      return true;
    }
    case Archetype::kPremiumSeller: {
      // Sells OTM puts and calls at 1-5 week tenors, passively; hedges part of the delta.
      if (rng_.bernoulli(0.85)) {
        const double tenors[] = {0, 0.35, 0.3, 0.35, 0, 0};
        o->tenor = static_cast<Tenor>(rng_.pick(tenors));
        double distance = std::min(0.04 + rng_.exponential(0.06), 0.4);
        otm(rng_.bernoulli(0.55) ? -distance : distance);
        o->dir = rng_.bernoulli(0.9) ? -1 : 1;
      } else {
        o->kind = InstrumentKind::kPerpetual;
        o->hedge_all = true;
        o->maker = rng_.bernoulli(0.3);
      }
      return true;
    }
    case Archetype::kPerpGambler: {
      // Small perp tickets, taker, with a long bias; trades against the next move more often than
      // not and closes part of its position now and then.
      o->kind = rng_.bernoulli(0.95) ? InstrumentKind::kPerpetual : InstrumentKind::kFuture;
      o->tenor = Tenor::kWeekly;
      if (rng_.bernoulli(0.25) && std::abs(inventory) > 0) {
        o->dir = -sgn(inventory);
        o->notional = std::min(o->notional, std::abs(inventory));
      } else if (rng_.bernoulli(0.55)) {
        o->dir = acc.bias;
      } else {
        double signal = sgn(move(o->u, ts, kMarkoutNs));
        o->dir = rng_.bernoulli(0.7) ? -signal : signal;
      }
      return true;
    }
    case Archetype::kHedger: {
      // Hedges a spot book off the venue: sells long-dated futures, buys OTM puts; slow, large.
      const double kinds[] = {0.65, 0.30, 0.05};
      int kind = rng_.pick(kinds);
      if (kind == 0) {
        o->kind = InstrumentKind::kFuture;
        o->tenor = rng_.bernoulli(0.6) ? Tenor::kQuarterly : Tenor::kNextQuarter;
        o->dir = rng_.bernoulli(0.85) ? -1 : 1;
      } else if (kind == 1) {
        const double tenors[] = {0, 0, 0, 0.3, 0.5, 0.2};
        o->tenor = static_cast<Tenor>(rng_.pick(tenors));
        option_at(-(0.05 + rng_.uniform(0, 0.15)), OptionType::kPut);
        o->dir = rng_.bernoulli(0.9) ? 1 : -1;
      } else {
        o->kind = InstrumentKind::kPerpetual;
        o->dir = rng_.bernoulli(0.7) ? -1 : 1;
      }
      return true;
    }
  }
  return false;
}

void Simulator::after_fill(std::uint32_t account, const Order& order, std::int64_t ts, const SimFill& f) {
  const Account& acc = accounts_[account];
  Order hedge;
  hedge.u = order.u;
  hedge.kind = InstrumentKind::kPerpetual;
  hedge.hedge_all = true;
  switch (acc.archetype) {
    case Archetype::kMarketMaker: {
      double limit = 4 * params(acc.archetype).ticket_usd * acc.ticket_factor;
      if (std::abs(acc.delta_usd[order.u]) > limit) {
        hedge.maker = rng_.bernoulli(0.6);
        schedule(ts + (50 + rng_.below(450)) * kMs, account, hedge, true);
      }
      break;
    }
    case Archetype::kVolArb:
      if (order.kind == InstrumentKind::kOption && rng_.bernoulli(0.4) && order.tenor >= Tenor::kMonthly) {
        hedge.kind = InstrumentKind::kFuture;  // hedge in the future of the option's expiry
        hedge.tenor = order.tenor;
      }
      hedge.maker = rng_.bernoulli(0.3);
      schedule(ts + (100 + rng_.below(1400)) * kMs, account, hedge, true);
      break;
    case Archetype::kPremiumSeller:
      if (order.kind == InstrumentKind::kOption && rng_.bernoulli(0.35)) {
        hedge.maker = rng_.bernoulli(0.3);
        schedule(ts + (1000 + rng_.below(9000)) * kMs, account, hedge, true);
      }
      break;
    default: break;
  }
  (void)f;
}

// ---------------------------------------------------------------------------------------------
// Pricing and the Fill itself.

std::uint32_t Simulator::instrument_id(int u, InstrumentKind kind, OptionType type, std::int64_t expiry,
                                       double strike) {
  InstrumentKey key{expiry, std::llround(strike * 100), static_cast<std::uint8_t>(u), static_cast<std::uint8_t>(kind),
                    static_cast<std::uint8_t>(type)};
  auto [it, inserted] = instrument_ids_.try_emplace(key, static_cast<std::uint32_t>(instruments_.size()));
  if (inserted) {
    SimInstrument ins;
    ins.kind = kind;
    ins.option_type = type;
    ins.underlying = u;
    ins.expiry_ns = expiry;
    ins.strike = strike;
    ins.symbol = market_.spec(u).name;
    ins.symbol.push_back('-');
    if (kind == InstrumentKind::kPerpetual) {
      ins.symbol.append("PERPETUAL");
    } else {
      append_date_code(ins.symbol, expiry);
      if (kind == InstrumentKind::kOption) {
        ins.symbol.append("-")
            .append(std::to_string(std::llround(strike)))
            .append(type == OptionType::kCall ? "-C" : "-P");
      }
    }
    instruments_.push_back(std::move(ins));
  }
  return it->second;
}

double Simulator::fair_price(std::uint32_t id, std::int64_t ts) const {
  const SimInstrument& ins = instruments_[id];
  switch (ins.kind) {
    case InstrumentKind::kPerpetual: return market_.perpetual(ins.underlying, ts);
    case InstrumentKind::kFuture: return market_.forward(ins.underlying, ins.expiry_ns, ts);
    case InstrumentKind::kOption: {
      double f = market_.forward(ins.underlying, ins.expiry_ns, ts);
      double years = static_cast<double>(ins.expiry_ns - ts) / kNsPerYear;
      double iv = market_.implied_vol(ins.underlying, std::log(ins.strike / f), years, ts);
      return segmentd::black76::greeks(ins.option_type == OptionType::kCall, f, ins.strike, years, iv).price / f;
    }
    case InstrumentKind::kSpot: return market_.index(ins.underlying, ts);
  }
  return 0;
}

bool Simulator::emit(std::uint32_t account, const Order& order, std::int64_t ts, bool follow_up, SimFill* out) {
  Account& acc = accounts_[account];
  const int u = order.u;
  const UnderlyingSpec& spec = market_.spec(u);
  double dir = order.dir;
  double notional = order.notional;
  if (order.hedge_all) {
    double delta = acc.delta_usd[u];
    dir = -sgn(delta);
    notional = std::abs(delta);
    if (notional < 100) return false;  // nothing worth hedging
  }
  if (!(notional > 0)) return false;

  segmentd::Fill& f = out->fill;
  f = segmentd::Fill{};
  f.recv_ns = ts;
  f.venue_ns = ts - (300'000 + static_cast<std::int64_t>(rng_.below(2'700'000)));  // 0.3-3 ms earlier at the venue
  f.account = account;
  f.underlying = static_cast<segmentd::UnderlyingId>(u);
  f.venue = segmentd::Venue::kDeribit;
  f.side = side_of(dir);
  f.liquidity = order.maker ? Liquidity::kMaker : Liquidity::kTaker;
  f.kind = order.kind;

  const double index = market_.index(u, ts);
  // A taker crosses the spread, a maker earns it: the fill is half a spread away from fair value.
  const double pay = order.maker ? -1.0 : 1.0;
  double delta_usd = 0;
  if (order.kind == InstrumentKind::kOption) {
    std::int64_t expiry = calendar_.expiry(order.tenor, ts);
    double fwd = market_.forward(u, expiry, ts);
    double strike = market_.strike_for(u, fwd, order.k);
    double years = static_cast<double>(expiry - ts) / kNsPerYear;
    double iv = market_.implied_vol(u, std::log(strike / fwd), years, ts);
    auto g = segmentd::black76::greeks(order.option_type == OptionType::kCall, fwd, strike, years, iv);
    double fair = g.price / fwd;  // premium in coin, Deribit style
    // Near the money the spread is ~1% of the premium; far out it is a tick or two wide.
    double half = 0.006 * fair + 0.00005;
    double price = std::max(0.0001, round_to(fair + dir * pay * half, 10'000));
    double lots_per_unit = 1.0 / spec.option_lot;
    double lots = std::max(1.0, std::round(notional / fwd * lots_per_unit));
    f.instrument = instrument_id(u, order.kind, order.option_type, expiry, strike);
    f.option_type = order.option_type;
    f.expiry_ns = expiry;
    f.strike = strike;
    f.qty = lots / lots_per_unit;
    f.price = price;
    f.underlying_price = round_to(fwd, 100);
    f.notional_usd = round_to(f.qty * f.underlying_price, 100);
    f.iv = round_to(iv, 10'000);
    f.mark_price = round_to(fair, 1e8);
    if (!(f.mark_price > 0)) f.mark_price = segmentd::kNaN;  // worthless far out: no mark, as on Deribit's 0 bid
    // Deribit: 0.03% of the underlying, capped at 12.5% of the premium; same for maker and taker.
    f.fee_usd = round_to(std::min(0.0003 * f.notional_usd, 0.125 * price * f.underlying_price * f.qty), 100);
    delta_usd = dir * f.qty * g.delta * fwd;
  } else {
    double fair;
    double half_spread;
    if (order.kind == InstrumentKind::kPerpetual) {
      fair = market_.perpetual(u, ts);
      half_spread = 0.0001;
      f.instrument = instrument_id(u, order.kind, OptionType::kNone, 0, 0);
    } else {
      std::int64_t expiry = calendar_.expiry(order.tenor, ts);
      fair = market_.forward(u, expiry, ts);
      half_spread = 0.0002;
      f.instrument = instrument_id(u, order.kind, OptionType::kNone, expiry, 0);
      f.expiry_ns = expiry;
    }
    double price = round_to(fair * (1.0 + dir * pay * half_spread), spec.ticks_per_usd);
    // Deribit sizes BTC futures in 10 USD contracts and ETH in 1 USD; base qty = USD / price.
    double contract_usd = u == 0 ? 10.0 : 1.0;
    double contracts = std::max(1.0, std::round(notional / contract_usd));
    f.qty = contracts * contract_usd / price;
    f.price = price;
    f.notional_usd = round_to(contracts * contract_usd, 100);
    f.underlying_price = round_to(index, 100);
    f.mark_price = round_to(fair, 100);
    f.fee_usd = order.maker ? 0.0 : round_to(0.0005 * f.notional_usd, 100);
    delta_usd = dir * f.notional_usd;
  }
  f.trade_id = mix64(config_.seed, stats_.fills, 0x7472616465ULL) | 1;
  acc.delta_usd[u] += static_cast<float>(delta_usd);

  account_buf_.assign(config_.account_prefix);
  char digits[8];
  std::uint32_t v = account;
  for (int i = 6; i >= 0; --i) {
    digits[i] = static_cast<char>('0' + v % 10);
    v /= 10;
  }
  account_buf_.append(digits, 7);
  out->account = account_buf_;
  out->symbol = instruments_[f.instrument].symbol;
  out->archetype = acc.archetype;
  out->follow_up = follow_up;

  ++stats_.fills;
  ++stats_.fills_by_archetype[static_cast<int>(acc.archetype)];
  if (follow_up) ++stats_.follow_ups;
  if (!follow_up) after_fill(account, order, ts, *out);
  return true;
}

std::string Simulator::account_name(std::uint32_t account) const {
  std::string s = config_.account_prefix;
  char digits[8];
  for (int i = 6; i >= 0; --i) {
    digits[i] = static_cast<char>('0' + account % 10);
    account /= 10;
  }
  s.append(digits, 7);
  return s;
}

TruthRow Simulator::truth(std::uint32_t account) const {
  const Account& acc = accounts_[account];
  TruthRow row;
  row.archetype = acc.initial;
  if (acc.drift_event != kNoDrift) {
    row.switch_ns = drift_ns_[acc.drift_event];
    row.new_archetype = acc.next;
  } else {
    row.new_archetype = acc.initial;
  }
  return row;
}

// ---------------------------------------------------------------------------------------------

void append_native_line(std::string& out, const SimFill& f) {
  segmentd::append_native_fill(out, f.fill, f.account, f.symbol);
}

PriceTicker::PriceTicker(const Simulator& sim, std::int64_t interval_ns) : sim_(sim), interval_ns_(interval_ns) {}

std::size_t PriceTicker::before(std::string& out, std::int64_t ts) {
  if (next_tick_ == 0) next_tick_ = (ts / interval_ns_ + 1) * interval_ns_;
  if (ts < next_tick_) return 0;
  constexpr std::int64_t kBackNs = 60'000'000'000;  // Market keeps ~100 s of path behind
  std::int64_t tick = next_tick_;
  if (ts - tick > kBackNs) tick += (ts - tick - kBackNs) / interval_ns_ * interval_ns_;
  std::size_t n = 0;
  for (; tick <= ts; tick += interval_ns_) {
    for (std::uint32_t id : traded_) {
      const SimInstrument& ins = sim_.instrument(id);
      if (ins.expiry_ns != 0 && ins.expiry_ns <= tick) continue;
      segmentd::PriceRecord p;
      p.recv_ns = tick;
      p.venue = segmentd::Venue::kDeribit;
      p.mark_price = sim_.fair_price(id, tick);
      p.underlying_price = sim_.market().index(ins.underlying, tick);
      if (!(p.mark_price > 0) || !std::isfinite(p.mark_price)) continue;
      segmentd::append_native_price(out, p, ins.symbol);
      ++n;
    }
  }
  next_tick_ = tick;
  records_ += n;
  return n;
}

void PriceTicker::traded(const SimFill& f) {
  const std::uint32_t id = f.fill.instrument;  // the simulator lists instruments as they first trade
  if (id >= seen_.size()) seen_.resize(std::max<std::size_t>(id + 1, sim_.instrument_count()), false);
  if (!seen_[id]) {
    seen_[id] = true;
    traded_.push_back(id);
  }
}

absl::Status write_truth_csv(const Simulator& sim, std::FILE* out) {
  std::string buf = "account,archetype,switch_ts_ns,new_archetype\n";
  for (std::uint32_t i = 0; i < sim.account_count(); ++i) {
    TruthRow row = sim.truth(i);
    buf.append(sim.account_name(i)).append(",").append(to_string(row.archetype)).append(",");
    if (row.switch_ns != 0)
      buf.append(std::to_string(row.switch_ns)).append(",").append(to_string(row.new_archetype));
    else
      buf.push_back(',');
    buf.push_back('\n');
    if (buf.size() > (1 << 20)) {
      if (std::fwrite(buf.data(), 1, buf.size(), out) != buf.size())
        return absl::DataLossError("cannot write the truth CSV");
      buf.clear();
    }
  }
  if (std::fwrite(buf.data(), 1, buf.size(), out) != buf.size())
    return absl::DataLossError("cannot write the truth CSV");
  return absl::OkStatus();
}

absl::Status write_truth_csv(const Simulator& sim, const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) return absl::NotFoundError("cannot open '" + path + "' for writing");
  absl::Status st = write_truth_csv(sim, f);
  if (std::fclose(f) != 0 && st.ok()) st = absl::DataLossError("cannot write '" + path + "'");
  return st;
}

}  // namespace fillsim
