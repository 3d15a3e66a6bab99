// segmentd: real-time customer segmentation for crypto derivatives venues.
// Subcommands: run (default), replay, decode, check-config. `segmentd --help` lists them.
//
// The composition root of the binary: it hands the pipeline the simulator source
// (service/ingest/sim_source, on sim/) that the embedded default runs in-process.

#include <chrono>
#include <iostream>
#include <string>
#include <vector>

#include "service/app/cli.h"
#include "service/ingest/sim_source.h"

namespace {

segmentd::SourceMaker simulator_maker(double speedup) {
  return [speedup](const segmentd::SourceConfig& sc, segmentd::AccountInterner& accounts,
                   segmentd::InstrumentRegistry& instruments,
                   segmentd::FillSink& sink) -> absl::StatusOr<std::unique_ptr<segmentd::Source>> {
    fillsim::SimSourceOptions o;
    o.name = sc.name;
    o.sim.seed = sc.seed;
    o.sim.accounts = sc.sim_accounts;
    // sc.rate is fills per wall-clock second; the simulator counts fills per simulated second.
    o.sim.rate = speedup > 0 ? sc.rate / speedup : sc.rate;
    o.sim.duration_s = sc.duration_s;
    auto events = fillsim::parse_market_events(sc.market_events);
    if (!events.ok()) return events.status();  // validated with the config: not reached
    o.sim.market_events = *std::move(events);
    // Start the simulated market at the current time so event time tracks the wall clock.
    o.sim.start_ns =
        std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
            .count();
    o.speedup = speedup;
    return std::make_unique<fillsim::SimSource>(std::move(o), accounts, instruments, sink);
  };
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  segmentd::CliHooks hooks;
  hooks.simulator = simulator_maker;
  return segmentd::run_cli(args, std::cout, std::cerr, hooks);
}
