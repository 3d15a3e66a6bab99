// Tests of the simulator library: determinism, rate and duration, drift, archetype distinctness
// and that segmentd's native parser accepts every line. Meant to move to
// tests/integration/fillsim_test.cpp once integration_tests links fillsim_lib.

#include <catch2/catch.hpp>

#include <cmath>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "core/account_interner.h"
#include "core/cluster_metrics.h"
#include "core/instrument_registry.h"
#include "core/kmeans.h"
#include "protocol/native_format.h"
#include "protocol/venues/registry.h"
#include "sim/calendar.h"
#include "sim/market.h"
#include "sim/sim_config.h"
#include "sim/simulator.h"
#include "sim/truth.h"
#include "tools/fillsim/feature_probe.h"

namespace {

using fillsim::Archetype;
using segmentd::InstrumentKind;

fillsim::Config small_config(std::uint64_t seed = 7) {
  fillsim::Config c;
  c.seed = seed;
  c.accounts = 2000;
  c.rate = 2000;
  c.duration_s = 60;
  return c;
}

std::string run_native(const fillsim::Config& c) {
  fillsim::Simulator sim(c);
  fillsim::SimFill f;
  std::string out;
  while (sim.next(&f)) fillsim::append_native_line(out, f);
  return out;
}

std::string truth_csv(const fillsim::Simulator& sim) {
  std::FILE* tmp = std::tmpfile();
  REQUIRE(tmp != nullptr);
  REQUIRE(fillsim::write_truth_csv(sim, tmp).ok());
  std::string s(static_cast<std::size_t>(std::ftell(tmp)), '\0');
  std::rewind(tmp);
  REQUIRE(std::fread(s.data(), 1, s.size(), tmp) == s.size());
  std::fclose(tmp);
  return s;
}

std::int64_t ymd(int y, int m, int d) {
  return fillsim::days_from_civil(y, m, d) * fillsim::kNsPerDay + 8 * 3600 * fillsim::kNsPerSecond;
}

std::string date_code(std::int64_t ns) {
  std::string s;
  fillsim::append_date_code(s, ns);
  return s;
}

}  // namespace

TEST_CASE("calendar: civil dates, listed expiries and Deribit date codes", "[fillsim]") {
  CHECK(fillsim::days_from_civil(1970, 1, 1) == 0);
  CHECK(fillsim::days_from_civil(2000, 3, 1) == 11017);
  for (std::int64_t d : {-1000LL, 0LL, 11016LL, 20000LL, 20089LL, 60000LL}) {
    auto c = fillsim::civil_from_days(d);
    CHECK(fillsim::days_from_civil(c.year, c.month, c.day) == d);
  }
  CHECK(fillsim::weekday(fillsim::days_from_civil(2024, 12, 27)) == 5);                    // a Friday
  const std::int64_t monday = fillsim::days_from_civil(2024, 11, 4) * fillsim::kNsPerDay;  // 00:00 UTC
  using fillsim::Tenor;
  CHECK(fillsim::listed_expiry(Tenor::kDaily, monday) == ymd(2024, 11, 4));
  CHECK(fillsim::listed_expiry(Tenor::kDaily, monday + 7 * 3600 * fillsim::kNsPerSecond) == ymd(2024, 11, 5));
  CHECK(fillsim::listed_expiry(Tenor::kWeekly, monday) == ymd(2024, 11, 8));
  CHECK(fillsim::listed_expiry(Tenor::kBiweekly, monday) == ymd(2024, 11, 15));
  CHECK(fillsim::listed_expiry(Tenor::kMonthly, monday) == ymd(2024, 11, 29));
  CHECK(fillsim::listed_expiry(Tenor::kQuarterly, monday) == ymd(2024, 12, 27));
  CHECK(fillsim::listed_expiry(Tenor::kNextQuarter, monday) == ymd(2025, 3, 28));
  CHECK(date_code(ymd(2024, 12, 27)) == "27DEC24");
  CHECK(date_code(ymd(2024, 11, 8)) == "8NOV24");
  // The cache agrees with the direct computation as time moves through a week.
  fillsim::ExpiryCalendar cal;
  for (std::int64_t t = monday; t < monday + 9 * fillsim::kNsPerDay; t += 1800 * fillsim::kNsPerSecond) {
    for (int k = 0; k < fillsim::kTenorCount; ++k) {
      auto tenor = static_cast<Tenor>(k);
      REQUIRE(cal.expiry(tenor, t) == fillsim::listed_expiry(tenor, t));
      REQUIRE(cal.expiry(tenor, t) > t);
    }
  }
}

TEST_CASE("config: mix parsing and validation name the problem", "[fillsim]") {
  auto mix = fillsim::parse_mix("market_maker=1, whale=3");
  REQUIRE(mix.ok());
  CHECK((*mix)[static_cast<int>(Archetype::kWhale)] == 3);
  CHECK((*mix)[static_cast<int>(Archetype::kHedger)] == 0);
  CHECK(fillsim::parse_mix("default").ok());
  CHECK(!fillsim::parse_mix("market_maker=1,trader=2").ok());
  CHECK(!fillsim::parse_mix("whale=-1").ok());
  CHECK(!fillsim::parse_mix("whale=0").ok());
  CHECK(!fillsim::parse_mix("whale=1,whale=2").ok());
  fillsim::Config c = small_config();
  CHECK(fillsim::validate(c).ok());
  c.drift = {{10, 0.6}, {20, 0.6}};
  CHECK(!fillsim::validate(c).ok());  // an account switches at most once
  c = small_config();
  c.accounts = 0;
  CHECK(!fillsim::validate(c).ok());
  c = small_config();
  c.rate = 0;
  CHECK(!fillsim::validate(c).ok());
}

TEST_CASE("market events: parsed with their errors named and they move the market", "[fillsim]") {
  auto events = fillsim::parse_market_events("crash@45m:0.15/5m,vol_spike@2h:3/20m,liquidity_hole@90:0.1/10s");
  REQUIRE(events.ok());
  REQUIRE(events->size() == 3);
  CHECK((*events)[0].kind == fillsim::MarketEvent::Kind::kCrash);
  CHECK((*events)[0].at_s == 2700);
  CHECK((*events)[0].duration_s == 300);
  CHECK((*events)[0].size == 0.15);
  CHECK((*events)[1].at_s == 7200);
  CHECK((*events)[2].at_s == 90);
  CHECK((*events)[2].duration_s == 10);
  CHECK(fillsim::parse_market_events("")->empty());
  for (const char* bad : {"crash", "crash@1m:0.15", "meltdown@1m:0.1/1m", "crash@1m:1.5/1m", "crash@1m:0.1/0s",
                          "vol_spike@1m:0.5/1m", "liquidity_hole@x:0.1/1m", "crash@1m:abc/1m"}) {
    INFO(bad);
    const auto r = fillsim::parse_market_events(bad);
    CHECK_FALSE(r.ok());
    CHECK_THAT(std::string(r.status().message()), Catch::Contains("market event"));
  }
  // A 20 % crash over 10 minutes at 30 minutes: the index ends ~20 % lower than the calm path
  // of the same seed (the diffusion is the same draws, doubled in vol during the fall), and
  // implied vols are up meanwhile.
  const std::int64_t t0 = 1'730'678'400'000'000'000, min = 60'000'000'000;
  fillsim::Market calm(3, t0), crash(3, t0, {{fillsim::MarketEvent::Kind::kCrash, 1800, 600, 0.20}});
  calm.advance_to(t0 + 27 * min);  // the path is kept for ~400 s around the time advanced to
  crash.advance_to(t0 + 27 * min);
  CHECK(crash.index(0, t0 + 29 * min) == calm.index(0, t0 + 29 * min));
  calm.advance_to(t0 + 41 * min);
  crash.advance_to(t0 + 41 * min);
  const double ratio = crash.index(0, t0 + 41 * min) / calm.index(0, t0 + 41 * min);
  CHECK(ratio == Approx(0.8).margin(0.06));
  CHECK(crash.implied_vol(0, 0.0, 0.1, t0 + 35 * min) == Approx(calm.implied_vol(0, 0.0, 0.1) * 1.6));
  fillsim::Market hole(3, t0, {{fillsim::MarketEvent::Kind::kLiquidityHole, 60, 30, 0.1}});
  CHECK(hole.liquidity(t0 + 70'000'000'000) == 0.1);
  CHECK(hole.liquidity(t0 + 100'000'000'000) == 1.0);
}

TEST_CASE("same config and seed give byte-identical output, and another seed does not", "[fillsim]") {
  fillsim::Config c = small_config();
  c.drift = {{30, 0.1}};
  std::string a = run_native(c);
  std::string b = run_native(c);
  REQUIRE(a.size() > 100'000);
  CHECK(a == b);
  fillsim::Simulator s1(c), s2(c);
  CHECK(truth_csv(s1) == truth_csv(s2));
  c.seed = 8;
  CHECK(run_native(c) != a);
}

TEST_CASE("rate and duration are respected in event time", "[fillsim]") {
  fillsim::Config c = small_config();
  c.rate = 5000;
  c.duration_s = 120;
  fillsim::Simulator sim(c);
  fillsim::SimFill f;
  std::uint64_t n = 0, first_half = 0;
  std::int64_t last = 0;
  const std::int64_t end = c.start_ns + 120 * fillsim::kNsPerSecond;
  while (sim.next(&f)) {
    REQUIRE(f.fill.recv_ns >= last);  // event-time order
    REQUIRE(f.fill.recv_ns >= c.start_ns);
    REQUIRE(f.fill.recv_ns < end);
    REQUIRE(f.fill.venue_ns < f.fill.recv_ns);
    last = f.fill.recv_ns;
    ++n;
    if (f.fill.recv_ns < c.start_ns + 60 * fillsim::kNsPerSecond) ++first_half;
  }
  // Poisson count: sd = sqrt(600k) ≈ 775; the rate correction adds a little more; 1.5% is > 10 sd.
  CHECK(std::abs(static_cast<double>(n) - 600'000.0) < 9'000);
  CHECK(std::abs(static_cast<double>(first_half) - 300'000.0) < 4'500);
  CHECK(sim.stats().fills == n);
  CHECK(sim.stats().follow_ups > 0);
}

TEST_CASE("every line parses with segmentd's native parser and round-trips the fill", "[fillsim]") {
  fillsim::Config c = small_config();
  c.duration_s = 30;
  fillsim::Simulator sim(c);
  segmentd::AccountInterner accounts;
  segmentd::InstrumentRegistry instruments{segmentd::parse_symbol};
  segmentd::NativeFillParser parser(accounts, instruments);
  fillsim::SimFill f;
  segmentd::Fill parsed;
  segmentd::ParseError err;
  std::string line;
  std::uint64_t n = 0, errors = 0;
  std::map<InstrumentKind, int> kinds;
  while (sim.next(&f)) {
    line.clear();
    fillsim::append_native_line(line, f);
    line.pop_back();  // '\n'
    if (!parser.parse_unpadded(line, &parsed, &err)) {
      ++errors;
      UNSCOPED_INFO(line << " -> " << err.detail);
      continue;
    }
    ++n;
    ++kinds[parsed.kind];
    REQUIRE(parsed.recv_ns == f.fill.recv_ns);
    REQUIRE(parsed.venue_ns == f.fill.venue_ns);
    REQUIRE(parsed.venue == segmentd::Venue::kDeribit);
    REQUIRE(accounts.name(parsed.account) == f.account);
    REQUIRE(parsed.side == f.fill.side);
    REQUIRE(parsed.qty == f.fill.qty);
    REQUIRE(parsed.price == f.fill.price);
    REQUIRE(parsed.notional_usd == f.fill.notional_usd);
    REQUIRE(parsed.liquidity == f.fill.liquidity);
    REQUIRE(parsed.trade_id == f.fill.trade_id);
    // The symbol alone carries the instrument: the registry's parse agrees with the simulator's.
    REQUIRE(parsed.kind == f.fill.kind);
    REQUIRE(parsed.option_type == f.fill.option_type);
    REQUIRE(parsed.expiry_ns == f.fill.expiry_ns);
    REQUIRE(parsed.strike == f.fill.strike);
    REQUIRE(instruments.underlying_name(parsed.underlying) == (f.fill.underlying == 0 ? "BTC" : "ETH"));
    if (f.fill.is_option()) {
      REQUIRE(parsed.iv == f.fill.iv);
      REQUIRE(parsed.underlying_price == f.fill.underlying_price);
    }
  }
  CHECK(errors == 0);
  CHECK(n > 50'000);
  CHECK(kinds[InstrumentKind::kPerpetual] > 0);
  CHECK(kinds[InstrumentKind::kFuture] > 0);
  CHECK(kinds[InstrumentKind::kOption] > 0);

  // And through the file reader segmentd replay uses.
  std::string path = std::string(std::getenv("TMPDIR") ? std::getenv("TMPDIR") : "/tmp") + "/fillsim_test_" +
                     std::to_string(::getpid()) + ".ndjson";
  std::FILE* out = std::fopen(path.c_str(), "wb");
  REQUIRE(out != nullptr);
  fillsim::Simulator sim2(c);
  std::string buf;
  while (sim2.next(&f)) fillsim::append_native_line(buf, f);
  std::fwrite(buf.data(), 1, buf.size(), out);
  std::fclose(out);
  segmentd::NativeReadStats stats;
  segmentd::NativeFillParser parser2(accounts, instruments);
  auto st = segmentd::read_native_file(
      path, parser2, 4096, [](const segmentd::Fill&) {}, [](std::uint64_t, const segmentd::ParseError&) {}, &stats);
  std::remove(path.c_str());
  REQUIRE(st.ok());
  CHECK(stats.errors.total() == 0);
  CHECK(stats.fills == n);
}

TEST_CASE("drift: the configured share switches archetype at the configured time", "[fillsim]") {
  fillsim::Config c = small_config();
  c.duration_s = 40;
  c.drift = {{15, 0.1}, {25, 0.05}};
  fillsim::Simulator sim(c);
  const std::int64_t t1 = c.start_ns + 15 * fillsim::kNsPerSecond, t2 = c.start_ns + 25 * fillsim::kNsPerSecond;
  std::vector<fillsim::TruthRow> truth;
  int at1 = 0, at2 = 0;
  for (std::uint32_t i = 0; i < sim.account_count(); ++i) {
    truth.push_back(sim.truth(i));
    const auto& r = truth.back();
    if (r.switch_ns == 0) continue;
    CHECK(r.new_archetype != r.archetype);
    at1 += r.switch_ns == t1;
    at2 += r.switch_ns == t2;
  }
  CHECK(at1 == 200);
  CHECK(at2 == 100);
  fillsim::SimFill f;
  std::uint64_t before = 0, after = 0;
  while (sim.next(&f)) {
    const auto& r = truth[f.fill.account];
    if (f.follow_up) continue;  // a hedge of a trade made before the switch may come just after it
    bool switched = r.switch_ns != 0 && f.fill.recv_ns >= r.switch_ns;
    REQUIRE(f.archetype == (switched ? r.new_archetype : r.archetype));
    if (r.switch_ns != 0) (switched ? after : before) += 1;
  }
  CHECK(before > 1000);
  CHECK(after > 1000);
  CHECK(sim.stats().drift_events_applied == 2);
  // The CSV says the same, one row per account, empty switch columns for the rest.
  std::string csv = truth_csv(sim);
  CHECK(csv.rfind("account,archetype,switch_ts_ns,new_archetype\n", 0) == 0);
  CHECK(std::count(csv.begin(), csv.end(), '\n') == 2001);
  std::string first_row = csv.substr(csv.find('\n') + 1);
  first_row = first_row.substr(0, first_row.find('\n'));
  const auto& r0 = truth[0];
  std::string expect =
      sim.account_name(0) + "," + std::string(fillsim::to_string(r0.archetype)) + "," +
      (r0.switch_ns ? std::to_string(r0.switch_ns) + "," + std::string(fillsim::to_string(r0.new_archetype)) : ",");
  CHECK(first_row == expect);
  // And it reads back to the same truth.
  auto parsed = fillsim::parse_truth_csv(csv);
  REQUIRE(parsed.ok());
  REQUIRE(parsed->size() == truth.size());
  for (std::size_t i = 0; i < truth.size(); ++i) {
    const auto& e = (*parsed)[i];
    REQUIRE(e.account == sim.account_name(static_cast<std::uint32_t>(i)));
    REQUIRE(e.archetype == truth[i].archetype);
    REQUIRE(e.switch_ns == truth[i].switch_ns);
    if (e.switch_ns != 0) {
      REQUIRE(e.new_archetype == truth[i].new_archetype);
      REQUIRE(e.at(e.switch_ns - 1) == e.archetype);
      REQUIRE(e.at(e.switch_ns) == e.new_archetype);
    }
  }
  CHECK(!fillsim::parse_truth_csv("account,archetype\n").ok());
  CHECK(!fillsim::parse_truth_csv("account,archetype,switch_ts_ns,new_archetype\nacc1,trader,,\n").ok());
  CHECK(!fillsim::parse_truth_csv("account,archetype,switch_ts_ns,new_archetype\nacc1,whale,5,\n").ok());
}

TEST_CASE("archetypes are distinct on simple statistics of their fills", "[fillsim]") {
  fillsim::Config c = small_config(11);
  c.duration_s = 600;
  fillsim::Simulator sim(c);
  fillsim::FeatureProbe probe(sim);
  struct Stat {
    double n = 0, notional = 0, maker = 0, option = 0, perp = 0, future = 0, buy = 0;
  };
  std::array<Stat, fillsim::kArchetypeCount> st{};
  fillsim::SimFill f;
  while (sim.next(&f)) {
    probe.add(f);
    Stat& s = st[static_cast<int>(f.archetype)];
    double x = f.fill.notional_usd;
    s.n += 1;
    s.notional += x;
    if (f.fill.liquidity == segmentd::Liquidity::kMaker) s.maker += x;
    if (f.fill.side == segmentd::Side::kBuy) s.buy += x;
    (f.fill.kind == InstrumentKind::kOption      ? s.option
     : f.fill.kind == InstrumentKind::kPerpetual ? s.perp
                                                 : s.future) += x;
  }
  auto at = [&](Archetype a) -> const Stat& { return st[static_cast<int>(a)]; };
  auto share = [&](Archetype a, double Stat::*m) { return at(a).*m / at(a).notional; };
  auto ticket = [&](Archetype a) { return at(a).notional / at(a).n; };
  for (const auto& s : st) REQUIRE(s.n > 100);

  CHECK(share(Archetype::kMarketMaker, &Stat::maker) > 0.8);
  for (auto a : {Archetype::kWhale, Archetype::kOptionLottery, Archetype::kPerpGambler, Archetype::kHftScalper})
    CHECK(share(a, &Stat::maker) < 0.4);
  CHECK(share(Archetype::kOptionLottery, &Stat::option) > 0.9);
  CHECK(share(Archetype::kPremiumSeller, &Stat::option) > 0.8);
  CHECK(share(Archetype::kHftScalper, &Stat::option) == 0);
  CHECK(share(Archetype::kPerpGambler, &Stat::perp) > 0.9);
  CHECK(share(Archetype::kHedger, &Stat::future) > 0.5);
  CHECK(share(Archetype::kOptionLottery, &Stat::buy) > 0.85);
  CHECK(share(Archetype::kPremiumSeller, &Stat::buy) < 0.3);
  CHECK(ticket(Archetype::kWhale) > 10 * ticket(Archetype::kMarketMaker));
  CHECK(ticket(Archetype::kMarketMaker) > 3 * ticket(Archetype::kPerpGambler));
  CHECK(ticket(Archetype::kHedger) > 3 * ticket(Archetype::kVolArb));
  // Per-account rate: HFT and MM trade orders of magnitude more often than the slow archetypes.
  auto per_account = [&](Archetype a) {
    double accounts = 0;
    for (std::uint32_t i = 0; i < sim.account_count(); ++i) accounts += sim.archetype_now(i) == a;
    return at(a).n / accounts;
  };
  CHECK(per_account(Archetype::kHftScalper) > 50 * per_account(Archetype::kOptionLottery));
  CHECK(per_account(Archetype::kMarketMaker) > 50 * per_account(Archetype::kHedger));

  // The position-based features and markout, from the probe (means over accounts).
  auto summary = probe.summarize(10);
  auto mean = [&](Archetype a, int feature) { return summary[static_cast<int>(a)].mean[feature]; };
  constexpr int kDeltaNeutrality = 5, kVegaBias = 6, kTenor = 10, kMoneyness = 11, kConcentration = 12, kTurnover = 13,
                kMarkout = 14;
  CHECK(mean(Archetype::kVolArb, kDeltaNeutrality) > 0.9);
  CHECK(mean(Archetype::kMarketMaker, kDeltaNeutrality) > 0.9);
  CHECK(mean(Archetype::kWhale, kDeltaNeutrality) < 0.2);
  CHECK(mean(Archetype::kPerpGambler, kDeltaNeutrality) < 0.3);
  CHECK(mean(Archetype::kPremiumSeller, kVegaBias) < -0.6);
  CHECK(mean(Archetype::kOptionLottery, kVegaBias) > 0.6);
  CHECK(mean(Archetype::kHedger, kTenor) > mean(Archetype::kVolArb, kTenor));
  CHECK(mean(Archetype::kVolArb, kTenor) > mean(Archetype::kOptionLottery, kTenor));
  CHECK(mean(Archetype::kOptionLottery, kMoneyness) > 2 * mean(Archetype::kVolArb, kMoneyness));
  CHECK(mean(Archetype::kWhale, kConcentration) > 0.8);
  CHECK(mean(Archetype::kHftScalper, kConcentration) < 0.6);
  CHECK(mean(Archetype::kHftScalper, kTurnover) > mean(Archetype::kWhale, kTurnover) + 1.0);
  CHECK(mean(Archetype::kHftScalper, kMarkout) > 0);
  CHECK(mean(Archetype::kWhale, kMarkout) > 0);
  CHECK(mean(Archetype::kPerpGambler, kMarkout) < 0);
  CHECK(mean(Archetype::kOptionLottery, kMarkout) < 0);
}

TEST_CASE("a million accounts fit and trade", "[fillsim]") {
  fillsim::Config c;
  c.accounts = 1'000'000;
  c.rate = 100'000;
  c.duration_s = 1;
  fillsim::Simulator sim(c);
  fillsim::SimFill f;
  std::uint64_t n = 0;
  std::uint32_t max_account = 0;
  while (sim.next(&f)) {
    ++n;
    max_account = std::max(max_account, f.fill.account);
  }
  CHECK(n > 95'000);
  CHECK(max_account > 900'000);
  CHECK(sim.account_name(999'999) == "acc0999999");
}

TEST_CASE("archetypes are separable: k-means on the probe's standardized features recovers them", "[fillsim]") {
  // An oracle check of "clearly distinct": undecayed features over the whole run, NaN (no options)
  // read as 0, every feature standardized, plain k-means with k = 8. segmentd's decayed, online
  // version has less to go on; this bounds what it can reach on the same population.
  fillsim::Config c = small_config(5);
  c.duration_s = 900;
  fillsim::Simulator sim(c);
  fillsim::FeatureProbe probe(sim);
  fillsim::SimFill f;
  while (sim.next(&f)) probe.add(f);
  std::vector<segmentd::FeatureVector> points;
  std::vector<std::uint32_t> truth;
  for (std::uint32_t i = 0; i < sim.account_count(); ++i) {
    if (probe.fills(i) < 20) continue;
    auto x = probe.features(i);
    segmentd::FeatureVector v;
    for (int k = 0; k < segmentd::kFeatureCount; ++k) v[k] = std::isnan(x[k]) ? 0.0 : x[k];
    points.push_back(v);
    truth.push_back(static_cast<std::uint32_t>(sim.archetype_now(i)));
  }
  REQUIRE(points.size() > 1800);
  for (int k = 0; k < segmentd::kFeatureCount; ++k) {
    double mean = 0, var = 0;
    for (const auto& p : points) mean += p[k];
    mean /= points.size();
    for (const auto& p : points) var += (p[k] - mean) * (p[k] - mean);
    double sd = std::sqrt(var / points.size());
    for (auto& p : points) p[k] = sd > 0 ? (p[k] - mean) / sd : 0.0;
  }
  segmentd::Rng rng(42);
  auto result = segmentd::kmeans_best_of(points, fillsim::kArchetypeCount, 10, 100, rng);
  std::vector<std::uint32_t> labels(result.labels.begin(), result.labels.end());
  double ari = segmentd::adjusted_rand_index(truth, labels);
  INFO("ARI " << ari << ", purity " << segmentd::purity(truth, labels));
  CHECK(ari >= 0.9);
}
