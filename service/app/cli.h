#pragma once
// The command line: subcommand dispatch and option parsing, kept out of main() so that tests can
// drive it. Exit codes: 0 ok, 1 runtime failure, 2 usage or config error.

#include <functional>
#include <iosfwd>
#include <string>
#include <vector>

#include "service/app/pipeline.h"

namespace segmentd {

//! What the binary links beyond the service library (the simulator lives in tools/).
struct CliHooks {
  //! Builds a simulator source; `speedup` is simulated seconds per wall-clock second.
  std::function<SourceMaker(double speedup)> simulator;
};

int run_cli(const std::vector<std::string>& args, std::ostream& out, std::ostream& err, const CliHooks& hooks = {});

//! The embedded default configuration (config/default.toml, compiled in).
const char* embedded_default_config();

}  // namespace segmentd
