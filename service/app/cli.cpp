#include "service/app/cli.h"

#include <iostream>
#include <map>
#include <optional>

#include "core/str_cat.h"
#include "service/app/decode_command.h"
#include "service/app/replay.h"
#include "service/app/run_command.h"
#include "service/base/log.h"
#include "service/config/config.h"
#include "service/config/config_reader.h"

namespace segmentd {
namespace {

constexpr const char* kUsage = R"(segmentd - real-time customer segmentation for crypto derivatives venues

usage:
  segmentd [run] [--config FILE]          run the live service (default: embedded config)
  segmentd replay --input FILE [--config FILE] [--out FILE] [--model-out FILE]
                 [--checkpoint-dir DIR [--checkpoint-interval 30s]]
                                          deterministic batch run over a native NDJSON file:
                                          one line per account (features, segment, label,
                                          confidence; default stdout) and the final model.
                                          With --checkpoint-dir it checkpoints as it goes and,
                                          run again after a crash, resumes: same output as a
                                          run that never stopped
  segmentd decode --venue VENUE FILE [--account NAME]
                                          print the fills a captured venue message file
                                          (one JSON message or NDJSON) yields, in the native
                                          format; name every message that is not a fill and why
  segmentd check-config --config FILE     validate a config file and exit
  segmentd --help | --version

Config errors name the file, line, key and reason, and exit with status 2.
)";

struct Parsed {
  std::string command;
  std::map<std::string, std::string> options;
  std::vector<std::string> positional;
};

// Options are "--name value" or "--name=value"; flags listed in `flags` take no value.
std::optional<Parsed> parse_args(const std::vector<std::string>& args, std::ostream& err) {
  Parsed p;
  std::size_t i = 0;
  if (i < args.size() && args[i].rfind("--", 0) != 0) p.command = args[i++];
  if (p.command.empty()) p.command = "run";
  for (; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a.rfind("--", 0) == 0) {
      auto eq = a.find('=');
      if (eq != std::string::npos) {
        p.options[a.substr(2, eq - 2)] = a.substr(eq + 1);
      } else if (a == "--help" || a == "--version") {
        p.options[a.substr(2)] = "";
      } else if (i + 1 < args.size()) {
        p.options[a.substr(2)] = args[++i];
      } else {
        err << "segmentd: option " << a << " needs a value\n";
        return std::nullopt;
      }
    } else {
      p.positional.push_back(a);
    }
  }
  return p;
}

bool check_known(const Parsed& p, std::initializer_list<const char*> known, std::ostream& err) {
  for (const auto& [k, v] : p.options) {
    bool ok = false;
    for (const char* n : known) ok = ok || k == n;
    if (!ok) {
      err << "segmentd " << p.command << ": unknown option --" << k << "\n";
      return false;
    }
  }
  return true;
}

absl::StatusOr<Config> config_for(const Parsed& p) {
  auto it = p.options.find("config");
  if (it == p.options.end()) return load_config_text(embedded_default_config(), "<embedded default config>");
  return load_config(it->second);
}

void configure_logging(const Config& config) { default_logger().configure(log_options_from(config.log)); }

int config_error(const absl::Status& s, std::ostream& err) {
  err << "segmentd: invalid configuration:\n" << s.message() << "\n";
  return 2;
}

int cmd_replay(const Parsed& p, std::ostream& out, std::ostream& err) {
  if (!check_known(p, {"input", "config", "out", "model-out", "checkpoint-dir", "checkpoint-interval"}, err)) return 2;
  if (!p.options.count("input")) {
    err << "segmentd replay: --input FILE is required\n" << kUsage;
    return 2;
  }
  auto config = config_for(p);
  if (!config.ok()) return config_error(config.status(), err);
  ReplayOptions opts;
  opts.input = p.options.at("input");
  opts.output = p.options.count("out") ? p.options.at("out") : "-";
  if (p.options.count("model-out")) opts.model_output = p.options.at("model-out");
  if (p.options.count("checkpoint-dir")) opts.checkpoint_dir = p.options.at("checkpoint-dir");
  if (p.options.count("checkpoint-interval")) {
    auto ns = parse_duration_ns(p.options.at("checkpoint-interval"));
    if (!ns || *ns <= 0) {
      err << "segmentd replay: --checkpoint-interval: not a duration (e.g. 500ms, 30s)\n";
      return 2;
    }
    opts.checkpoint_interval_ns = *ns;
  }
  opts.checkpoint_keep = config->checkpoint.keep;
  auto summary = run_replay(*config, opts, err);
  if (!summary.ok()) {
    err << "segmentd replay: " << summary.status().message() << "\n";
    return 1;
  }
  print_summary(*summary, err);
  return 0;
}

int cmd_run(const Parsed& p, std::ostream& out, std::ostream& err, const CliHooks& hooks) {
  if (!check_known(p, {"config"}, err)) return 2;
  auto config = config_for(p);
  if (!config.ok()) return config_error(config.status(), err);
  configure_logging(*config);
  SourceMaker sim = hooks.simulator ? hooks.simulator(config->run.sim_speedup) : SourceMaker{};
  return run_service(*std::move(config), std::move(sim), out, err, install_stop_signals());
}

int cmd_decode(const Parsed& p, std::ostream& out, std::ostream& err) {
  if (!check_known(p, {"venue", "account"}, err)) return 2;
  if (!p.options.count("venue") || p.positional.size() != 1) {
    err << "segmentd decode: usage: segmentd decode --venue VENUE FILE [--account NAME]\n";
    return 2;
  }
  const std::string account = p.options.count("account") ? p.options.at("account") : "decoded";
  return run_decode(p.options.at("venue"), p.positional[0], account, out, err);
}

int cmd_check_config(const Parsed& p, std::ostream& out, std::ostream& err) {
  if (!check_known(p, {"config"}, err)) return 2;
  auto config = config_for(p);
  if (!config.ok()) return config_error(config.status(), err);
  out << config->path << ": ok\n";
  return 0;
}

}  // namespace

int run_cli(const std::vector<std::string>& args, std::ostream& out, std::ostream& err, const CliHooks& hooks) {
  auto parsed = parse_args(args, err);
  if (!parsed) return 2;
  if (parsed->options.count("help") || parsed->command == "help") {
    out << kUsage;
    return 0;
  }
  if (parsed->options.count("version")) {
    out << "segmentd " << SEGMENTD_VERSION << "\n";
    return 0;
  }
  if (parsed->command == "run") return cmd_run(*parsed, out, err, hooks);
  if (parsed->command == "replay") return cmd_replay(*parsed, out, err);
  if (parsed->command == "decode") return cmd_decode(*parsed, out, err);
  if (parsed->command == "check-config") return cmd_check_config(*parsed, out, err);
  err << "segmentd: unknown command '" << parsed->command << "'\n" << kUsage;
  return 2;
}

}  // namespace segmentd
