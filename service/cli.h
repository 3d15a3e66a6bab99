#pragma once
// The command line: subcommand dispatch and option parsing, kept out of main() so that tests can
// drive it. Exit codes: 0 ok, 1 runtime failure, 2 usage or config error.

#include <iosfwd>
#include <string>
#include <vector>

namespace segmentd {

int run_cli(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

//! The embedded default configuration (config/default.toml, compiled in).
const char* embedded_default_config();

}  // namespace segmentd
