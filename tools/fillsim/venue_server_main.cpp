// fillsim-venue: serve simulated fills as one venue would, for manual runs and fault drills, e.g. (one command):
//   fillsim-venue --venue deribit --listen 127.0.0.1:8443 --cert c.pem --key k.pem
//     --account acc1:KEY:SECRET[:PASSPHRASE] --fills 1000 --drop-after 50
// Secrets on the command line are for a simulator only; they are never printed.
#include <atomic>
#include <csignal>
#include <iostream>
#include <thread>

#include <boost/program_options.hpp>

#include "core/types.h"
#include "tools/fillsim/venue_server.h"

namespace po = boost::program_options;

namespace {
std::atomic<bool> g_stop{false};
void on_signal(int) { g_stop.store(true); }
}  // namespace

int main(int argc, char** argv) {
  fillsim::VenueServerOptions o;
  std::string venue, market;
  std::vector<std::string> accounts;
  po::options_description desc("fillsim-venue options");
  desc.add_options()("help,h", "this help")("venue", po::value(&venue)->required(),
                                            "deribit | okx | bybit | binance | hyperliquid")(
      "market", po::value(&market)->default_value("usdm"), "Binance: usdm | options")(
      "listen", po::value(&o.listen)->default_value("127.0.0.1:8443"), "host:port (127.0.0.1 unless you mean it)")(
      "cert", po::value(&o.tls_cert_file), "TLS certificate chain (PEM); with --key serves wss://")(
      "key", po::value(&o.tls_key_file), "TLS private key (PEM)")(
      "account", po::value(&accounts)->composing(), "name:key:secret[:passphrase] (Hyperliquid: the user address)")(
      "fills", po::value(&o.fills_per_account)->default_value(1000), "fills per account stream")(
      "batch", po::value(&o.batch)->default_value(4), "fills per message")(
      "rate", po::value(&o.messages_per_second)->default_value(100), "messages per second per connection")(
      "snapshot-fills", po::value(&o.snapshot_fills)->default_value(10),
      "Hyperliquid: recent fills in the userFills snapshot")("history-page-limit",
                                                             po::value(&o.history_page_limit)->default_value(0),
                                                             "REST history page size (0: the venue's own maximum)")(
      "history-rate", po::value(&o.history_requests_per_second)->default_value(10),
      "REST history calls per second per account")(
      "rest-error-every", po::value(&o.faults.rest_error_every)->default_value(0),
      "fail every Nth REST history call (500, rate limit, truncated JSON in turn)")(
      "away-fills", po::value(&o.faults.away_fills)->default_value(0),
      "after the drop, refuse reconnects until the account's fills ran on by N")(
      "seed", po::value(&o.sim.seed)->default_value(1), "simulation seed")(
      "heartbeat-timeout-ms", po::value(&o.heartbeat_timeout_ms)->default_value(30'000),
      "silent clients are closed after this")("drop-after", po::value(&o.faults.drop_after)->default_value(0),
                                              "drop a connection after N fill messages")(
      "max-drops", po::value(&o.faults.max_drops)->default_value(1), "drops over the server's life")(
      "bad-every", po::value(&o.faults.bad_every)->default_value(0), "a malformed frame before every Nth fill message")(
      "oversized-every", po::value(&o.faults.oversized_every)->default_value(0),
      "an oversized frame before every Nth fill message")(
      "oversized-bytes", po::value(&o.faults.oversized_bytes)->default_value(2 << 20), "size of oversized frames")(
      "stall-after", po::value(&o.faults.stall_after)->default_value(0), "go silent after N fill messages...")(
      "stall-ms", po::value(&o.faults.stall_ms)->default_value(0), "...for this long");
  po::variables_map vm;
  try {
    po::store(po::parse_command_line(argc, argv, desc), vm);
    if (vm.count("help")) {
      std::cout << desc << "\n";
      return 0;
    }
    po::notify(vm);
  } catch (const std::exception& e) {
    std::cerr << "fillsim-venue: " << e.what() << "\n" << desc << "\n";
    return 2;
  }
  auto v = segmentd::parse_venue(venue);
  if (!v || *v == segmentd::Venue::kNative) {
    std::cerr << "fillsim-venue: unknown venue\n";
    return 2;
  }
  o.venue = *v;
  if (market == "options") {
    o.binance_market = segmentd::control::BinanceMarket::kOptions;
  } else if (market != "usdm") {
    std::cerr << "fillsim-venue: --market is usdm or options\n";
    return 2;
  }
  if (market != "usdm" && o.venue != segmentd::Venue::kBinance) {
    std::cerr << "fillsim-venue: --market is for --venue binance\n";
    return 2;
  }
  for (const std::string& a : accounts) {
    fillsim::ServerAccount acc;
    std::vector<std::string> parts;
    std::size_t start = 0;
    while (true) {
      const std::size_t colon = a.find(':', start);
      parts.push_back(a.substr(start, colon - start));
      if (colon == std::string::npos) break;
      start = colon + 1;
    }
    acc.name = parts[0];
    if (parts.size() > 1) acc.key = parts[1];
    if (parts.size() > 2) acc.secret = parts[2];
    if (parts.size() > 3) acc.passphrase = parts[3];
    o.accounts.push_back(std::move(acc));
  }
  o.sim.accounts = 200;
  o.sim.rate = 100;
  o.sim.duration_s = 0;
  fillsim::VenueServer server(o);
  if (auto s = server.start(); !s.ok()) {
    std::cerr << "fillsim-venue: " << s.message() << "\n";
    return 1;
  }
  std::cerr << "fillsim-venue: " << venue << " on port " << server.port() << "\n";
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  while (!g_stop.load()) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  server.stop();
  return 0;
}
