// precision_report: runs `segmentd replay` on simulated (or given) fills and compares the
// segments with the simulator's ground truth.
//
//   precision_report --accounts 2000 --rate 200 --duration 14400 [--drift-share 0.1 --drift-at 7200]
//                    [--seed 7] [--config FILE] [--keep DIR]
//   precision_report --fills FILE --truth FILE [--config FILE]

#include <cstdio>
#include <filesystem>
#include <iostream>
#include <map>
#include <string>

#include "service/app/replay.h"
#include "service/config/config.h"
#include "sim/simulator.h"
#include "sim/truth.h"
#include "tools/precision_report/precision.h"

int main(int argc, char** argv) {
  std::map<std::string, std::string> opt;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--help" || a.rfind("--", 0) != 0 || i + 1 >= argc) {
      std::cerr << "usage: precision_report [--accounts N --rate R --duration S --seed X --drift-share F --drift-at S"
                   " --keep DIR] | [--fills FILE --truth FILE] [--config FILE]\n";
      return a == "--help" ? 0 : 2;
    }
    opt[a.substr(2)] = argv[++i];
  }
  auto get = [&](const char* k, const char* def) { return opt.count(k) ? opt[k] : std::string(def); };
  auto config =
      opt.count("config") ? segmentd::load_config(opt["config"]) : segmentd::load_config_text("", "<defaults>");
  if (!config.ok()) {
    std::cerr << config.status().message() << "\n";
    return 2;
  }
  std::string fills = get("fills", ""), truth = get("truth", "");
  if (fills.empty()) {
    std::string dir = get("keep", "");
    if (dir.empty()) dir = std::filesystem::temp_directory_path() / "precision_report";
    std::filesystem::create_directories(dir);
    fills = dir + "/fills.ndjson";
    truth = dir + "/truth.csv";
    fillsim::Config c;
    c.accounts = static_cast<std::uint32_t>(std::stoul(get("accounts", "2000")));
    c.rate = std::stod(get("rate", "200"));
    c.duration_s = std::stod(get("duration", "14400"));
    c.seed = std::stoull(get("seed", "7"));
    if (opt.count("drift-share"))
      c.drift.push_back({std::stod(get("drift-at", "7200")), std::stod(opt["drift-share"])});
    if (auto st = fillsim::validate(c); !st.ok()) {
      std::cerr << "simulator: " << st.message() << "\n";
      return 2;
    }
    fillsim::Simulator sim(c);
    std::FILE* f = std::fopen(fills.c_str(), "wb");
    std::string buf;
    fillsim::SimFill sf;
    while (sim.next(&sf)) {
      fillsim::append_native_line(buf, sf);
      if (buf.size() > (1 << 20)) {
        std::fwrite(buf.data(), 1, buf.size(), f);
        buf.clear();
      }
    }
    std::fwrite(buf.data(), 1, buf.size(), f);
    std::fclose(f);
    if (auto st = fillsim::write_truth_csv(sim, truth); !st.ok()) {
      std::cerr << st.message() << "\n";
      return 1;
    }
  }
  auto t = fillsim::read_truth_csv(truth);
  if (!t.ok()) {
    std::cerr << t.status().message() << "\n";
    return 2;
  }
  segmentd::ReplayOptions ro;
  ro.input = fills;
  ro.output = "/dev/null";
  ro.keep_changes = true;
  auto replay = segmentd::run_replay(*config, ro, std::cerr);
  if (!replay.ok()) {
    std::cerr << replay.status().message() << "\n";
    return 1;
  }
  segmentd::print_summary(*replay, std::cout);
  precision::print(precision::evaluate(*replay, *t, config->features.params.half_life_ns), std::cout);
  return 0;
}
