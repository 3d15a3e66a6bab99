#include "service/app/run_command.h"

#include <chrono>
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
  config.sources.push_back(sim);
}

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
  // Churn: accounts moving between segments per hour of wall-clock time (first assignments excluded).
  const double churn = now.accounts > 0 && dt > 0 ? (now.moves - before.moves) / double(now.accounts) / dt * 3600 : 0;
  out << absl::StrFormat("           %-26s %8s %7s %10s %14s   churn %.1f%% of accounts/h\n", "segment", "accounts",
                         "margin", "quote bps", "max order USD", churn * 100);
  for (const auto& s : now.segments) {
    out << absl::StrFormat("           %-26s %8d %6.2fx %10.1f %14.0f\n", str_cat("#", s.id, " ", s.label), s.accounts,
                           s.policy.margin_multiplier, s.policy.quote_width_bps, s.policy.max_order_notional_usd);
  }
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
  if (pipeline.publisher())
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
