// segmentd: real-time customer segmentation for crypto derivatives venues.
// Subcommands: run (default), replay, decode. `segmentd --help` lists them.

#include <cstring>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include "service/cli.h"

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  return segmentd::run_cli(args, std::cout, std::cerr);
}
