// fillsim: writes simulated Deribit fills in segmentd's native NDJSON format, to a file or as a
// live stream paced in wall-clock time, or publishes them to a NATS JetStream stream partitioned
// by account (--nats), plus the ground truth of every account's archetype.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include <boost/program_options.hpp>

#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "sim/pacer.h"
#include "sim/simulator.h"
#include "tools/fillsim/feature_probe.h"
#include "tools/fillsim/nats_publisher.h"

namespace po = boost::program_options;

namespace {

std::atomic<bool> g_stop{false};
void on_signal(int) { g_stop.store(true); }

//! "now", integer ns since the epoch, or "YYYY-MM-DDTHH:MM:SSZ".
bool parse_start(const std::string& s, bool* now, std::int64_t* ns) {
  *now = s == "now";
  if (*now) return true;
  if (absl::SimpleAtoi(s, ns)) return *ns > 0;
  int y, mo, d, h, mi, sec;
  char z = 0;
  if (std::sscanf(s.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%c", &y, &mo, &d, &h, &mi, &sec, &z) != 7 || z != 'Z')
    return false;
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60) return false;
  *ns = (fillsim::days_from_civil(y, mo, d) * 86'400 + h * 3600 + mi * 60 + sec) * fillsim::kNsPerSecond;
  return *ns > 0;
}

void print_stats(const fillsim::FeatureProbe& probe) {
  std::fprintf(stderr, "\nper-archetype features (mean [p10 p90] over accounts with >= 20 fills):\n");
  auto summary = probe.summarize(20);
  for (int a = 0; a < fillsim::kArchetypeCount; ++a) {
    const auto& s = summary[a];
    std::fprintf(stderr, "%s: %u accounts, %llu fills\n",
                 std::string(fillsim::to_string(static_cast<fillsim::Archetype>(a))).c_str(), s.accounts,
                 static_cast<unsigned long long>(s.fills));
    for (int k = 0; k < fillsim::kFeatureCount; ++k) {
      std::fprintf(stderr, "  %-20s %10.3f [%9.3f %9.3f]\n", std::string(fillsim::kFeatureNames[k]).c_str(), s.mean[k],
                   s.p10[k], s.p90[k]);
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  fillsim::Config config;
  std::string mix = "default", out_path = "-", truth_path, start = "2024-11-04T00:00:00Z";
  std::vector<double> drift_at;
  double drift_share = 0.0, speed = 1.0, prices_s = 0.0;
  bool live = false, stats = false, quiet = false;
  fillsim::NatsPublishConfig nats;
  std::string nats_token_env;

  po::options_description opts(
      "fillsim: simulated crypto-derivatives fills (Deribit symbols, segmentd native NDJSON)\n\n"
      "  fillsim --accounts 10000 --rate 10000 --duration 3600 --seed 7 --out fills.ndjson --truth truth.csv\n"
      "  fillsim --live --rate 2000 --duration 0 | segmentd ...\n"
      "  fillsim --nats nats://127.0.0.1:4222 --partitions 8 --rate 100000 --duration 60 --live\n\noptions");
  opts.add_options()("help,h", "this help")("accounts,n", po::value(&config.accounts)->default_value(config.accounts),
                                            "number of accounts (up to 10,000,000)")(
      "rate,r", po::value(&config.rate)->default_value(config.rate), "fills per second of event time (all accounts)")(
      "duration,d", po::value(&config.duration_s)->default_value(config.duration_s),
      "event-time seconds to simulate; 0 = until stopped")(
      "seed,s", po::value(&config.seed)->default_value(config.seed), "random seed: same config and seed, same bytes")(
      "start", po::value(&start)->default_value(start),
      "event time of the first fill: YYYY-MM-DDTHH:MM:SSZ, ns since the epoch, or 'now' (default with --live)")(
      "mix", po::value(&mix)->default_value(mix),
      "population weights, e.g. "
      "market_maker=1,vol_arb=1,whale=1,option_lottery=2,hft_scalper=1,premium_seller=1,perp_gambler=3,hedger=1")(
      "drift-share", po::value(&drift_share)->default_value(drift_share),
      "share of accounts that switch archetype at each --drift-at")(
      "drift-at", po::value(&drift_at)->multitoken(),
      "seconds after the start at which drift-share of the accounts switch (repeatable)")(
      "account-prefix", po::value(&config.account_prefix)->default_value(config.account_prefix),
      "account names: prefix + 7 digits")("out,o", po::value(&out_path)->default_value(out_path),
                                          "native NDJSON output file, '-' for stdout")(
      "truth,t", po::value(&truth_path), "ground truth CSV: account,archetype,switch_ts_ns,new_archetype")(
      "live", po::bool_switch(&live), "pace the fills in wall-clock time (event time = now unless --start is given)")(
      "speed", po::value(&speed)->default_value(speed), "live mode: event seconds per wall-clock second")(
      "stats", po::bool_switch(&stats),
      "print per-archetype feature estimates at the end (stderr; up to ~100k accounts)")(
      "quiet,q", po::bool_switch(&quiet), "no summary on stderr")(
      "prices", po::value(&prices_s)->default_value(prices_s),
      "market data: every this many event-time seconds, a native price record (mark and index price) of every "
      "instrument traded so far; 0 = none")(
      "nats", po::value(&nats.url),
      "publish to this NATS JetStream server (nats://host:port) instead of writing --out: each account's fills "
      "to <nats-subject-prefix>.<partition>")("nats-stream", po::value(&nats.stream)->default_value(nats.stream),
                                              "the stream (created with subjects <prefix>.> when absent)")(
      "nats-subject-prefix", po::value(&nats.subject_prefix)->default_value(nats.subject_prefix), "subject prefix")(
      "partitions", po::value(&nats.partitions)->default_value(nats.partitions),
      "partitions: FNV-1a of the account name modulo this (protocol/README.md)")(
      "nats-batch", po::value(&nats.batch)->default_value(nats.batch), "fills per message at most")(
      "nats-token-env", po::value(&nats_token_env), "environment variable holding the server's token");
  po::variables_map vm;
  try {
    po::store(po::parse_command_line(argc, argv, opts), vm);
    po::notify(vm);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "fillsim: %s (see --help)\n", e.what());
    return 2;
  }
  if (vm.count("help")) {
    std::cout
        << opts
        << "\narchetypes: market_maker vol_arb whale option_lottery hft_scalper premium_seller perp_gambler hedger\n";
    return 0;
  }
  bool start_now = false;
  if (!parse_start(start, &start_now, &config.start_ns)) {
    std::fprintf(stderr, "fillsim: bad --start '%s'\n", start.c_str());
    return 2;
  }
  if (live && vm["start"].defaulted()) start_now = true;
  if (start_now) {
    auto now = std::chrono::system_clock::now().time_since_epoch();
    config.start_ns = std::chrono::duration_cast<std::chrono::milliseconds>(now).count() * 1'000'000;
  }
  auto parsed_mix = fillsim::parse_mix(mix);
  if (!parsed_mix.ok()) {
    std::fprintf(stderr, "fillsim: --mix: %s\n", std::string(parsed_mix.status().message()).c_str());
    return 2;
  }
  config.mix = *parsed_mix;
  for (double at : drift_at) config.drift.push_back({at, drift_share});
  if (drift_at.empty() && drift_share > 0) {
    std::fprintf(stderr, "fillsim: --drift-share needs --drift-at\n");
    return 2;
  }
  if (auto st = fillsim::validate(config); !st.ok()) {
    std::fprintf(stderr, "fillsim: %s\n", std::string(st.message()).c_str());
    return 2;
  }

  if (!(prices_s >= 0) || prices_s > 3600) {
    std::fprintf(stderr, "fillsim: --prices must be in [0, 3600] seconds\n");
    return 2;
  }
  if (prices_s > 0 && !nats.url.empty()) {
    std::fprintf(stderr,
                 "fillsim: --prices with --nats: price records are not partitioned by account; not supported\n");
    return 2;
  }

  std::unique_ptr<fillsim::NatsPublisher> publisher;
  if (!nats.url.empty()) {
    if (!vm["out"].defaulted()) {
      std::fprintf(stderr, "fillsim: --nats and --out: choose one\n");
      return 2;
    }
    if (!nats_token_env.empty()) {
      const char* token = std::getenv(nats_token_env.c_str());
      if (token == nullptr || *token == '\0') {
        std::fprintf(stderr, "fillsim: --nats-token-env: %s is not set\n", nats_token_env.c_str());
        return 2;
      }
      nats.token = token;
    }
    auto p = fillsim::NatsPublisher::connect(nats);
    if (!p.ok()) {
      std::fprintf(stderr, "fillsim: --nats: %s\n", std::string(p.status().message()).c_str());
      return 1;
    }
    publisher = *std::move(p);
    out_path = "/dev/null";
  }
  std::FILE* out = out_path == "-" ? stdout : std::fopen(out_path.c_str(), "wb");
  if (out == nullptr) {
    std::fprintf(stderr, "fillsim: cannot open '%s' for writing\n", out_path.c_str());
    return 1;
  }
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  std::signal(SIGPIPE, SIG_IGN);

  fillsim::Simulator sim(config);
  if (!truth_path.empty()) {
    if (auto st = fillsim::write_truth_csv(sim, truth_path); !st.ok()) {
      std::fprintf(stderr, "fillsim: %s\n", std::string(st.message()).c_str());
      return 1;
    }
  }
  std::unique_ptr<fillsim::FeatureProbe> probe;
  if (stats) probe = std::make_unique<fillsim::FeatureProbe>(sim);
  std::unique_ptr<fillsim::PriceTicker> ticker;
  if (prices_s > 0)
    ticker = std::make_unique<fillsim::PriceTicker>(sim, std::max<std::int64_t>(1, std::llround(prices_s * 1e9)));

  std::string buf;
  const std::size_t flush_at = live ? (64 << 10) : (4 << 20);
  buf.reserve(flush_at + 4096);
  bool write_ok = true;
  absl::Status nats_status;
  auto flush = [&] {
    if (publisher) {
      if (nats_status.ok()) nats_status = publisher->flush();
      write_ok = nats_status.ok();
      return;
    }
    if (!buf.empty() && std::fwrite(buf.data(), 1, buf.size(), out) != buf.size()) write_ok = false;
    buf.clear();
    if (live) std::fflush(out);
  };
  fillsim::Pacer pacer(config.start_ns, speed);
  constexpr std::int64_t kBatchNs = 1'000'000;  // live: fills due within 1 ms go out together
  auto t0 = std::chrono::steady_clock::now();
  std::uint64_t bytes = 0;
  fillsim::SimFill f;
  while (write_ok && !g_stop.load(std::memory_order_relaxed) && sim.next(&f)) {
    if (live && pacer.wait_ns(f.fill.recv_ns) > kBatchNs) {
      flush();
      if (!pacer.wait_until(f.fill.recv_ns, &g_stop)) break;
    }
    std::size_t before = buf.size();
    if (ticker) ticker->before(buf, f.fill.recv_ns);
    fillsim::append_native_line(buf, f);
    bytes += buf.size() - before;
    if (ticker) ticker->traded(f);
    if (probe) probe->add(f);
    if (publisher) {
      nats_status = publisher->add(f.account, std::string_view(buf).substr(before));
      buf.clear();
      write_ok = nats_status.ok();
    } else if (buf.size() >= flush_at) {
      flush();
    }
  }
  flush();
  if (publisher && nats_status.ok()) nats_status = publisher->finish(30'000);
  if (!nats_status.ok()) {
    std::fprintf(stderr, "fillsim: --nats: %s\n", std::string(nats_status.message()).c_str());
    return 1;
  }
  if (out != stdout && std::fclose(out) != 0) write_ok = false;
  if (out == stdout) std::fflush(stdout);
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (!write_ok) {
    std::fprintf(stderr, "fillsim: write to '%s' failed\n", out_path.c_str());
    return 1;
  }
  const auto& st = sim.stats();
  if (!quiet) {
    std::fprintf(stderr,
                 "fillsim: %llu fills (%llu follow-ups), %.1f MB, %u accounts, %zu instruments in %.2f s: %.0f "
                 "fills/s, %.1f MB/s\n",
                 static_cast<unsigned long long>(st.fills), static_cast<unsigned long long>(st.follow_ups), bytes / 1e6,
                 sim.account_count(), sim.instrument_count(), secs, st.fills / std::max(secs, 1e-9),
                 bytes / 1e6 / std::max(secs, 1e-9));
  }
  if (ticker && !quiet)
    std::fprintf(stderr, "fillsim: %llu price records (every %g s)\n",
                 static_cast<unsigned long long>(ticker->records()), prices_s);
  if (publisher && !quiet)
    std::fprintf(stderr, "fillsim: %llu messages to stream %s, subjects %s.<0..%d>, all acknowledged\n",
                 static_cast<unsigned long long>(publisher->messages()), nats.stream.c_str(),
                 nats.subject_prefix.c_str(), nats.partitions - 1);
  if (probe) print_stats(*probe);
  return 0;
}
