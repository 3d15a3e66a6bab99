#include "service/app/run_command.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <csignal>
#include <iomanip>
#include <ostream>
#include <thread>

#include "absl/strings/str_format.h"
#include "core/str_cat.h"
#include "service/admin/admin_server.h"
#include "service/base/log.h"
#include "service/publisher/publisher.h"

namespace segmentd {
namespace {

std::atomic<bool> g_stop{false};

extern "C" void on_stop_signal(int) { g_stop.store(true); }

}  // namespace

const std::atomic<bool>* install_stop_signals() {
  struct sigaction sa {};
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  std::signal(SIGPIPE, SIG_IGN);
  return &g_stop;
}

void add_default_sources(Config& config) {
  if (!config.sources.empty()) return;
  SourceConfig sim;
  sim.name = "simulator";
  sim.kind = SourceKind::kSimulator;
  sim.sim_accounts = config.run.sim_accounts;
  sim.rate = config.run.sim_rate;
  sim.seed = config.run.sim_seed;
  sim.duration_s = 0;  // unbounded
  sim.market_events = config.run.sim_market_events;
  config.sources.push_back(sim);
}

namespace {

//! "250,000 USD"; 0 is the policy's "no limit".
std::string max_order_text(double usd) {
  if (!(usd > 0)) return "no limit";
  std::string digits = absl::StrFormat("%.0f", usd);
  std::string out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out.push_back(',');
    out.push_back(digits[i]);
  }
  return out + " USD";
}

//! A label without the "-2", "-3" that tells apart segments the label rules named alike.
std::string_view base_label(std::string_view label) {
  const std::size_t dash = label.rfind('-');
  if (dash == std::string_view::npos || dash + 1 == label.size()) return label;
  for (std::size_t i = dash + 1; i < label.size(); ++i)
    if (label[i] < '0' || label[i] > '9') return label;
  return label.substr(0, dash);
}

//! 3 significant digits with k/M/B: "3.5k", "2.9M".
std::string short_number(double v) {
  const double a = std::abs(v);
  if (a >= 1e9) return absl::StrFormat("%.3gB", v / 1e9);
  if (a >= 1e6) return absl::StrFormat("%.3gM", v / 1e6);
  if (a >= 1e3) return absl::StrFormat("%.3gk", v / 1e3);
  return absl::StrFormat("%.3g", v);
}

//! A raw feature value in the units people use: the log1p features (core/features.md) back in
//! their own units ("3.5k USD", "113 fills/h"), the others as they are.
std::string raw_text(std::size_t j, double v) {
  switch (static_cast<Feature>(j)) {
    case Feature::kTradeRate: return short_number(std::expm1(v)) + " fills/h";
    case Feature::kNotionalRate: return short_number(std::expm1(v)) + " USD/h";
    case Feature::kTicketSize: return short_number(std::expm1(v)) + " USD";
    case Feature::kTenor: return short_number(std::expm1(v)) + " days";
    case Feature::kTurnover: return short_number(std::expm1(v)) + "x/h";
    case Feature::kExposure: return short_number(std::expm1(v)) + " USD";
    case Feature::kMarkoutBps: return short_number(v) + " bps";
    default: return short_number(v);
  }
}

//! What sets a segment apart from the population: its two features farthest from the mean in
//! the model's scaled space (standard deviations × feature weight), with their raw values.
std::string traits(const Segment& s) {
  std::vector<int> order;
  for (int j = 0; j < kFeatureCount; ++j)
    if (std::abs(s.centroid[static_cast<std::size_t>(j)]) >= 0.5) order.push_back(j);
  std::sort(order.begin(), order.end(), [&](int a, int b) {
    return std::abs(s.centroid[static_cast<std::size_t>(a)]) > std::abs(s.centroid[static_cast<std::size_t>(b)]);
  });
  if (order.empty()) return "close to the population on every feature";
  std::string out;
  for (std::size_t i = 0; i < std::min<std::size_t>(2, order.size()); ++i) {
    const auto j = static_cast<std::size_t>(order[i]);
    out += str_cat(i > 0 ? ", " : "", s.centroid[j] > 0 ? "high " : "low ", kFeatureNames[j], " ",
                   raw_text(j, s.centroid_raw[j]));
  }
  return out;
}

//! How segment `s` differs from `other`, which the label rules named alike: the feature on which
//! their centres lie farthest apart in the scaled space.
std::string difference(const Segment& s, const Segment& other) {
  std::size_t best = 0;
  for (std::size_t j = 1; j < static_cast<std::size_t>(kFeatureCount); ++j)
    if (std::abs(s.centroid[j] - other.centroid[j]) > std::abs(s.centroid[best] - other.centroid[best])) best = j;
  return str_cat("like #", other.id, " but ", s.centroid[best] > other.centroid[best] ? "higher " : "lower ",
                 kFeatureNames[best], ": ", raw_text(best, s.centroid_raw[best]), " vs ",
                 raw_text(best, other.centroid_raw[best]));
}

}  // namespace

void print_pipeline_summary(const PipelineSummary& now, const PipelineSummary& before, std::ostream& out) {
  const double dt = now.seconds - before.seconds;
  const double fps = dt > 0 ? (now.fills - before.fills) / dt : 0.0;
  const double mps = dt > 0 ? (now.moves - before.moves) / dt : 0.0;
  out << absl::StrFormat("[%7.1fs] %10.0f fills/s  %9d fills  %7d accounts  %6.1f moves/s  model v%d", now.seconds, fps,
                         now.fills, now.accounts, mps, now.model_version);
  if (now.parse_errors) out << "  bad messages " << now.parse_errors;
  if (now.ring_full_events) out << "  ring-full " << now.ring_full_events;
  out << "\n";
  if (!now.model || !now.model->ready()) {
    out << absl::StrFormat("           warming up: %d of %d accounts have enough fills\n", now.warmup_progress,
                           now.warmup_target);
    return;
  }
  out << absl::StrFormat("           %-26s %8s %7s %10s %14s  %s\n", "segment", "accounts", "margin", "quote bps",
                         "max order", "what sets it apart");
  std::int64_t assigned = 0;
  for (const auto& row : now.segments) {
    assigned += row.accounts;
    std::string why;
    if (const Segment* seg = now.model->find(row.id)) {
      why = traits(*seg);
      // Named like an older segment ("delta-neutral-2" after "delta-neutral"): say how they differ.
      for (const Segment& other : now.model->segments) {
        if (other.id >= seg->id || base_label(other.label) != base_label(seg->label)) continue;
        why = difference(*seg, other);
        break;
      }
    }
    out << absl::StrFormat("           %-26s %8d %6.2fx %10.1f %14s  %s\n", str_cat("#", row.id, " ", row.label),
                           row.accounts, row.policy.margin_multiplier, row.policy.quote_width_bps,
                           max_order_text(row.policy.max_order_notional_usd), why);
  }
  // Moves over this summary's window, as counted: no extrapolation to an hour (a window of a warm
  // model's reorganisation read as thousands of percent per hour).
  const std::uint64_t moved = now.moves - before.moves;
  out << absl::StrFormat(
      "           in the last %.1f s (wall clock) %d accounts changed segment: %.1f%% of the %d assigned\n", dt, moved,
      assigned > 0 ? 100.0 * static_cast<double>(moved) / static_cast<double>(assigned) : 0.0, assigned);
}

int run_service(Config config, SourceMaker simulator, std::ostream& out, std::ostream& err,
                const std::atomic<bool>* stop) {
  add_default_sources(config);
  Pipeline pipeline(config, std::move(simulator));
  if (auto st = pipeline.start(); !st.ok()) {
    err << "segmentd run: " << st.message() << "\n";
    const bool refused = pipeline.state_refused();
    pipeline.stop();
    return refused ? 2 : 1;
  }
  out << "segmentd: running with " << config.path << ": " << config.sources.size() << " source(s), "
      << config.shards.shards << " shards";
  if (pipeline.publisher() && config.publisher.enabled)  // else the hub runs for [jetstream] alone
    out << ", publisher ws://" << config.publisher.listen.address << ":" << pipeline.publisher()->port();
  if (pipeline.admin()) out << ", admin http://" << config.admin.listen.address << ":" << pipeline.admin()->port();
  out << "\n";
  if (pipeline.checkpointer() != nullptr) {
    out << "segmentd: state in " << pipeline.state_dir() << " ("
        << (pipeline.restored_from().empty() ? std::string("no checkpoint: started empty")
                                             : str_cat("restored from ", pipeline.restored_from()))
        << ")";
  } else {
    out << "segmentd: checkpoints disabled ([checkpoint] enabled = false): a restart starts empty";
  }
  out << "\n" << std::flush;
  PipelineSummary last = pipeline.summary();
  auto next = std::chrono::steady_clock::now() + std::chrono::nanoseconds(config.run.summary_interval_ns);
  while (!(stop && stop->load()) && !pipeline.sources_finished()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    if (config.run.summary_interval_ns > 0 && std::chrono::steady_clock::now() >= next) {
      PipelineSummary s = pipeline.summary();
      print_pipeline_summary(s, last, out);
      out << std::flush;
      last = s;
      next += std::chrono::nanoseconds(config.run.summary_interval_ns);
    }
  }
  out << "segmentd: stopping" << (stop && stop->load() ? " (signal)" : " (sources finished)") << "\n";
  pipeline.stop();
  PipelineSummary s = pipeline.summary();
  print_pipeline_summary(s, last, out);
  out << "segmentd: stopped cleanly\n" << std::flush;
  return 0;
}

}  // namespace segmentd
