#include "service/config/config.h"

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <set>
#include <sstream>
#include <string>

#include "service/app/cli.h"
#include "service/config/config_reader.h"

using namespace segmentd;

TEST_CASE("config: the embedded default loads", "[config]") {
  auto c = load_config_text(embedded_default_config(), "default");
  INFO(c.status().message());
  REQUIRE(c.ok());
  CHECK(c->shards.shards >= 1);
}

TEST_CASE("config: config/default.toml on disk equals the embedded default", "[config]") {
  const std::string path = std::string(SEGMENTD_SOURCE_DIR) + "/config/default.toml";
  std::ifstream in(path, std::ios::binary);
  REQUIRE(in.good());
  std::ostringstream on_disk;
  on_disk << in.rdbuf();
  // Byte for byte: the binary runs on exactly the file users read (a stale build fails here).
  CHECK(on_disk.str() == std::string(embedded_default_config()));
  auto c = load_config(path);
  INFO(c.status().message());
  REQUIRE(c.ok());
}

TEST_CASE("config: errors name file, line, key and reason", "[config]") {
  auto c = load_config_text(
      "[shards]\n"
      "count = 0\n"                    // line 2: out of range
      "ring_full_policy = \"drop\"\n"  // line 3: not an allowed value
      "ring_capacity = \"big\"\n"      // line 4: wrong type
      "colour = 1\n"                   // line 5: unknown key
      "[nonsense]\n"                   // line 6: unknown section
      "x = 1\n",
      "test.toml");
  REQUIRE_FALSE(c.ok());
  std::string msg(c.status().message());
  INFO(msg);
  CHECK_THAT(msg, Catch::Contains("test.toml:2: shards.count: must be in 1..256, got 0"));
  CHECK_THAT(msg,
             Catch::Contains("test.toml:3: shards.ring_full_policy: must be one of \"block\", \"fail\", got \"drop\""));
  CHECK_THAT(msg, Catch::Contains("test.toml:4: shards.ring_capacity: must be an integer"));
  CHECK_THAT(msg, Catch::Contains("test.toml:5: shards.colour: unknown key"));
  CHECK_THAT(msg, Catch::Contains("test.toml:6: nonsense: unknown key"));
}

TEST_CASE("config: [regime] thresholds must be ordered and the clocks apart", "[config]") {
  auto c = load_config_text(
      "[regime]\n"
      "fast_half_life = \"2d\"\n"  // line 2: not shorter than the slow clock (24 h)
      "extreme_ratio = 1.5\n"      // line 3: under stressed_ratio (2)
      "stressed_drawdown = 0.2\n"  // line 4
      "extreme_drawdown = 0.1\n"   // line 5: under stressed_drawdown
      "exit_fraction = 1.5\n",     // line 6: out of range
      "regime.toml");
  REQUIRE_FALSE(c.ok());
  std::string msg(c.status().message());
  INFO(msg);
  CHECK_THAT(msg, Catch::Contains("regime.fast_half_life: must be shorter than slow_half_life"));
  CHECK_THAT(msg, Catch::Contains("regime.extreme_ratio: must be at least stressed_ratio"));
  CHECK_THAT(msg, Catch::Contains("regime.extreme_drawdown: must be at least stressed_drawdown"));
  CHECK_THAT(msg, Catch::Contains("regime.toml:6: regime.exit_fraction: must be in"));
  auto off = load_config_text("[regime]\nenabled = false\n", "off.toml");
  REQUIRE(off.ok());
  CHECK_FALSE(off->regime_enabled);
}

TEST_CASE("config: a policy sets values per market regime, each regime inheriting the milder one's", "[config]") {
  auto c = load_config_text(
      "[[clusterer.policies]]\n"
      "label = \"hft-scalper\"\n"
      "margin_multiplier = 1.1\n"
      "quote_width_bps = 2\n"
      "max_order_notional_usd = 300000\n"
      "dynamic_margin_cap = 3\n"
      "stressed = { quote_width_bps = 5 }\n"
      "[clusterer.policies.extreme]\n"
      "margin_multiplier = 2\n"
      "max_order_notional_usd = 50000\n"
      "[[clusterer.policies]]\n"
      "label = \"market-maker\"\n"
      "margin_multiplier = 0.8\n",
      "policies.toml");
  REQUIRE(c.ok());
  const auto& rules = c->clusterer.policies.rules;
  REQUIRE(rules.size() == 2);
  const RegimePolicies& hft = rules[0].policies;
  CHECK(hft[0] == SegmentPolicy{1.1, 2, 300'000});
  CHECK(hft[1] == SegmentPolicy{1.1, 5, 300'000});  // stressed: its width, the rest calm's
  CHECK(hft[2] == SegmentPolicy{2, 5, 50'000});     // extreme: the rest stressed's
  CHECK(rules[0].dynamic_margin_cap == 3.0);
  CHECK(rules[1].dynamic_margin_cap == 0.0);  // fixed unless asked
  CHECK(dynamic_margin_cap_for(c->clusterer.policies, "hft-scalper") == 3.0);
  const RegimePolicies& mm = rules[1].policies;  // no regime given: calm in every regime
  CHECK(mm[0] == SegmentPolicy{0.8, 0, 0});
  CHECK(mm[1] == mm[0]);
  CHECK(mm[2] == mm[0]);

  auto bad = load_config_text(
      "[[clusterer.policies]]\n"
      "label = \"x\"\n"
      "stressed = { margin_multiplier = 0, colour = 1 }\n"
      "[clusterer.fallback_policy.extreme]\n"
      "quote_width_bps = -1\n",
      "bad.toml");
  REQUIRE_FALSE(bad.ok());
  std::string msg(bad.status().message());
  INFO(msg);
  CHECK_THAT(msg, Catch::Contains("clusterer.policies[].stressed.margin_multiplier: must be in"));
  CHECK_THAT(msg, Catch::Contains("clusterer.policies[].stressed.colour: unknown key"));
  CHECK_THAT(msg, Catch::Contains("bad.toml:5: clusterer.fallback_policy.extreme.quote_width_bps: must be in"));
}

TEST_CASE("config: [risk] shocks are arrays of numbers without 0 and each error is named", "[config]") {
  auto c =
      load_config_text("[risk]\nprice_moves = [-0.3, 0.3]\nvol_shifts = [50]\nbase_margin_rate = 0.2\n", "risk.toml");
  REQUIRE(c.ok());
  CHECK(c->risk.price_moves == std::vector<double>{-0.3, 0.3});
  CHECK(shock_grid(c->risk).size() == 3 * 2 - 1);
  CHECK(c->risk.base_margin_rate == 0.2);
  auto bad = load_config_text(
      "[risk]\n"
      "price_moves = [0.1, 0]\n"          // line 2: the unshocked price is implied
      "vol_shifts = [\"10\"]\n"           // line 3: not a number
      "default_vol = 0\n"                 // line 4: out of range
      "colour = 1\n"                      // line 5
      "publish_interval = \"500ms\"\n"    // line 6: a scan of every account twice a second
      "exposure_interval = \"100ms\"\n",  // line 7: ten a second
      "risk.toml");
  REQUIRE_FALSE(bad.ok());
  std::string msg(bad.status().message());
  INFO(msg);
  CHECK_THAT(msg, Catch::Contains("risk.price_moves: must not hold 0"));
  CHECK_THAT(msg, Catch::Contains("risk.toml:3: risk.vol_shifts: must be an array of numbers"));
  CHECK_THAT(msg, Catch::Contains("risk.toml:4: risk.default_vol: must be in"));
  CHECK_THAT(msg, Catch::Contains("risk.toml:5: risk.colour: unknown key"));
  CHECK_THAT(msg, Catch::Contains("risk.publish_interval: must be 0 (off) or at least 1s"));
  CHECK_THAT(msg, Catch::Contains("risk.exposure_interval: must be 0 (on demand only) or at least 1s"));
}

TEST_CASE("config: TOML syntax errors carry the line", "[config]") {
  auto c = load_config_text("[shards]\ncount = = 3\n", "broken.toml");
  REQUIRE_FALSE(c.ok());
  CHECK_THAT(std::string(c.status().message()), Catch::StartsWith("broken.toml:2:"));
}

TEST_CASE("config: a missing file is an error naming it", "[config]") {
  auto c = load_config("/nonexistent/segmentd.toml");
  REQUIRE_FALSE(c.ok());
  CHECK_THAT(std::string(c.status().message()), Catch::Contains("/nonexistent/segmentd.toml"));
}

TEST_CASE("config: durations", "[config]") {
  CHECK(parse_duration_ns("250ms") == 250'000'000);
  CHECK(parse_duration_ns("10s") == 10'000'000'000);
  CHECK(parse_duration_ns("1.5h") == 5'400'000'000'000);
  CHECK(parse_duration_ns("2d") == 172'800'000'000'000);
  CHECK_FALSE(parse_duration_ns("10").has_value());
  CHECK_FALSE(parse_duration_ns("ten s").has_value());
  CHECK_FALSE(parse_duration_ns("-1s").has_value());
}

TEST_CASE("config: contract overrides", "[config]") {
  auto c = load_config_text(
      "[[contracts]]\nvenue = \"okx\"\nsymbol_prefix = \"BTC-USD-\"\ncontract_value = 100\ninverse = true\n", "c.toml");
  INFO(c.status().message());
  REQUIRE(c.ok());
  REQUIRE(c->contracts.size() == 1);
  CHECK(c->contracts[0].venue == Venue::kOkx);
  CHECK(c->contracts[0].contract_value == 100);
  CHECK(c->contracts[0].inverse);
  auto bad = load_config_text("[[contracts]]\nvenue = \"okx\"\ncontract_value = -1\n", "c.toml");
  REQUIRE_FALSE(bad.ok());
  CHECK_THAT(std::string(bad.status().message()), Catch::Contains("contracts[].symbol_prefix: is required"));
  CHECK_THAT(std::string(bad.status().message()), Catch::Contains("contracts[].contract_value: must be in"));
}

namespace {

//! A scratch directory of this test binary's own (removed and made again by each test case).
std::string scratch(const std::string& name) {
  const std::string dir = std::string(SEGMENTD_BINARY_DIR) + "/config_test_" + name;
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

}  // namespace

TEST_CASE("config: every referenced file is opened and every address parsed at validation", "[config]") {
  const std::string dir = scratch("references");
  const std::string token = dir + "/token";
  std::ofstream(token) << "s3cret\n";
  const std::string empty = dir + "/empty";
  std::ofstream(empty).flush();
  const std::string garbage = dir + "/garbage.pem";
  std::ofstream(garbage) << "not a certificate\n";
  const std::string missing = dir + "/missing";

  // What `run` used to refuse only when it started a server, with no line: each case is the
  // config's line and key, and the reason.
  auto first_error = [](const std::string& text) {
    auto c = load_config_text(text, "t.toml");
    return c.ok() ? std::string("ok") : std::string(c.status().message());
  };
  const std::string ingest = "[[sources]]\nkind = \"ingest\"\nname = \"feed\"\n";
  CHECK_THAT(
      first_error(ingest + "token_file = \"" + missing + "\"\n"),
      Catch::Contains("t.toml:4: sources[0].token_file: cannot open \"" + missing + "\": No such file or directory"));
  CHECK_THAT(first_error(ingest + "token_file = \"" + dir + "\"\n"),
             Catch::Contains("t.toml:4: sources[0].token_file: \"" + dir + "\" is a directory, not a file"));
  CHECK_THAT(first_error(ingest + "token_file = \"" + empty + "\"\n"),
             Catch::Contains("t.toml:4: sources[0].token_file: \"" + empty + "\" is empty"));
  CHECK_THAT(first_error(ingest + "token_file = \"" + token + "\"\nlisten = \"127.0.0.1:99999\"\n"),
             Catch::Contains("t.toml:5: sources[0].listen: must be host:port: \"127.0.0.1:99999\""));
  CHECK_THAT(first_error(ingest + "token_file = \"" + token + "\"\nlisten = \"localhost:9101\"\n"),
             Catch::Contains("t.toml:5: sources[0].listen: \"localhost\" is not an IP address"));
  CHECK_THAT(first_error(ingest + "token_file = \"" + token + "\"\ntls_cert_file = \"" + missing +
                         "\"\ntls_key_file = \"" + garbage + "\"\n"),
             Catch::Contains("t.toml:5: sources[0].tls_cert_file: cannot open \"" + missing + "\""));
  CHECK(first_error(ingest + "token_file = \"" + token + "\"\n") == "ok");

  CHECK_THAT(first_error("[publisher]\ntls_cert = \"" + missing + "\"\ntls_key = \"" + missing + "\"\n"),
             Catch::Contains("t.toml:2: publisher.tls_cert: cannot open \"" + missing + "\""));
  CHECK_THAT(first_error("[publisher]\ntls_cert = \"" + missing + "\"\ntls_key = \"" + missing + "\"\n"),
             Catch::Contains("t.toml:3: publisher.tls_key: cannot open \"" + missing + "\""));
  CHECK_THAT(first_error("[admin]\ntls_cert = \"" + garbage + "\"\ntls_key = \"" + garbage + "\"\n"),
             Catch::Contains("t.toml:2: admin.tls_cert: cannot load it as PEM: tls_cert " + garbage));
  CHECK_THAT(first_error("[admin]\ntokens_file = \"" + dir + "\"\n"),
             Catch::Contains("t.toml:2: admin.tokens_file: \"" + dir + "\" is a directory, not a file"));
  CHECK_THAT(first_error("[publisher]\nlisten_address = \"127.0.0.300\"\n"),
             Catch::Contains("t.toml:2: publisher.listen_address: \"127.0.0.300\" is not an IP address"));
  // A disabled server references nothing.
  CHECK(first_error("[publisher]\nenabled = false\ntokens_file = \"" + missing + "\"\n") == "ok");
  CHECK_THAT(first_error("[[sources]]\nkind = \"replay\"\npath = \"" + missing + "\"\n"),
             Catch::Contains("t.toml:3: sources[0].path: cannot open \"" + missing + "\""));
  CHECK_THAT(
      first_error("[[sources]]\nvenue = \"deribit\"\nurl = \"wss://x\"\nca_file = \"" + dir +
                  "\"\n[[sources.accounts]]\nname = \"a\"\nkey_env = \"K\"\nsecret_file = \"" + missing + "\"\n"),
      Catch::Contains("t.toml:4: sources[0].ca_file: \"" + dir + "\" is a directory, not a file"));
  CHECK_THAT(first_error("[[sources]]\nvenue = \"deribit\"\nurl = \"wss://x\"\n[[sources.accounts]]\nname = \"a\"\n"
                         "key_env = \"K\"\nsecret_file = \"" +
                         missing + "\"\n"),
             Catch::Contains("t.toml:7: sources[0].accounts[].secret_file: cannot open \"" + missing + "\""));
  std::filesystem::remove_all(dir);
}

TEST_CASE("config: a Binance source names its market: usdm or options", "[config]") {
  const std::string source =
      "[[sources]]\nvenue = \"binance\"\nurl = \"wss://nbstream.binance.com/eoptions/ws\"\n"
      "rest_url = \"https://eapi.binance.com\"\n";
  const std::string account = "[[sources.accounts]]\nname = \"a\"\nkey_env = \"K\"\nsecret_env = \"S\"\n";
  auto usdm = load_config_text(source + account, "b.toml");
  REQUIRE(usdm.ok());
  CHECK(usdm->sources[0].binance_market == control::BinanceMarket::kUsdM);  // the default
  auto options = load_config_text(source + "market = \"options\"\n" + account, "b.toml");
  INFO(options.status().message());
  REQUIRE(options.ok());
  CHECK(options->sources[0].binance_market == control::BinanceMarket::kOptions);
  auto error = [](const std::string& text) {
    auto c = load_config_text(text, "b.toml");
    return c.ok() ? std::string("ok") : std::string(c.status().message());
  };
  CHECK_THAT(error(source + "market = \"coinm\"\n" + account),
             Catch::Contains("b.toml:5: sources[0].market: must be one of \"usdm\", \"options\", got \"coinm\""));
  CHECK_THAT(error("[[sources]]\nvenue = \"okx\"\nurl = \"wss://x\"\nmarket = \"options\"\n[[sources.accounts]]\n"
                   "name = \"a\"\nkey_env = \"K\"\nsecret_env = \"S\"\npassphrase_env = \"P\"\n"),
             Catch::Contains("sources[0].market: only Binance sources choose a market"));
  // Options' history covers every symbol at once: a symbol list would say otherwise.
  CHECK_THAT(error(source + "market = \"options\"\nhistory_symbols = [\"BTC-261225-100000-C\"]\n" + account),
             Catch::Contains("sources[0].history_symbols: Binance options fetch every symbol's trades at once"));
}

TEST_CASE("config: a Deribit source subscribes to market-data channels and takes no market_data_url", "[config]") {
  const std::string account = "[[sources.accounts]]\nname = \"a\"\nkey_env = \"K\"\nsecret_env = \"S\"\n";
  const std::string deribit = "[[sources]]\nvenue = \"deribit\"\nurl = \"wss://www.deribit.com/ws/api/v2\"\n";
  auto good = load_config_text(
      deribit + "market_data = [\"trades.future.BTC.100ms\", \"deribit_price_index.btc_usd\"]\n" + account, "d.toml");
  INFO(good.status().message());
  REQUIRE(good.ok());
  CHECK(good->sources[0].market_data ==
        std::vector<std::string>{"trades.future.BTC.100ms", "deribit_price_index.btc_usd"});
  auto error = [](const std::string& text) {
    auto c = load_config_text(text, "d.toml");
    return c.ok() ? std::string("ok") : std::string(c.status().message());
  };
  CHECK_THAT(error(deribit + "market_data = [\"book.BTC-PERPETUAL.100ms\"]\n" + account),
             Catch::Contains("d.toml:4: sources[0].market_data: 'book.BTC-PERPETUAL.100ms' is not a Deribit "
                             "market-data channel"));
  CHECK_THAT(error(deribit + "market_data_url = \"wss://x\"\n" + account),
             Catch::Contains("sources[0].market_data_url: only OKX, Bybit and Binance sources read market data "
                             "on a connection of its own"));
}

TEST_CASE("config: a Bybit source reads its market-data topics on market_data_url", "[config]") {
  const std::string bybit = "[[sources]]\nvenue = \"bybit\"\nurl = \"wss://stream.bybit.com/v5/private\"\n";
  const std::string account = "[[sources.accounts]]\nname = \"a\"\nkey_env = \"K\"\nsecret_env = \"S\"\n";
  auto good = load_config_text(bybit +
                                   "market_data_url = \"wss://stream.bybit.com/v5/public/linear\"\n"
                                   "market_data = [\"publicTrade.BTCUSDT\", \"tickers.BTCUSDT\"]\n" +
                                   account,
                               "b.toml");
  INFO(good.status().message());
  REQUIRE(good.ok());
  CHECK(good->sources[0].market_data == std::vector<std::string>{"publicTrade.BTCUSDT", "tickers.BTCUSDT"});
  auto error = [](const std::string& text) {
    auto c = load_config_text(text, "b.toml");
    return c.ok() ? std::string("ok") : std::string(c.status().message());
  };
  CHECK_THAT(error(bybit + "market_data = [\"tickers.BTCUSDT\"]\n" + account),
             Catch::Contains("sources[0].market_data: Bybit public topics need market_data_url"));
  CHECK_THAT(error(bybit + "market_data_url = \"wss://x\"\nmarket_data = [\"orderbook.50.BTCUSDT\"]\n" + account),
             Catch::Contains("'orderbook.50.BTCUSDT' is not a Bybit market-data topic"));
}

TEST_CASE("config: a Binance USD-M source reads its market streams on market_data_url", "[config]") {
  const std::string binance =
      "[[sources]]\nvenue = \"binance\"\nurl = \"wss://fstream.binance.com/ws\"\n"
      "rest_url = \"https://fapi.binance.com\"\n";
  const std::string account = "[[sources.accounts]]\nname = \"a\"\nkey_env = \"K\"\nsecret_env = \"S\"\n";
  auto good = load_config_text(binance +
                                   "market_data_url = \"wss://fstream.binance.com/ws\"\n"
                                   "market_data = [\"btcusdt@aggTrade\", \"btcusdt@markPrice@1s\"]\n" +
                                   account,
                               "n.toml");
  INFO(good.status().message());
  REQUIRE(good.ok());
  CHECK(good->sources[0].market_data == std::vector<std::string>{"btcusdt@aggTrade", "btcusdt@markPrice@1s"});
  auto error = [](const std::string& text) {
    auto c = load_config_text(text, "n.toml");
    return c.ok() ? std::string("ok") : std::string(c.status().message());
  };
  CHECK_THAT(error(binance + "market_data = [\"btcusdt@aggTrade\"]\n" + account),
             Catch::Contains("sources[0].market_data: Binance market streams need market_data_url"));
  CHECK_THAT(error(binance + "market_data_url = \"wss://x/ws\"\nmarket_data = [\"BTCUSDT@aggTrade\"]\n" + account),
             Catch::Contains("'BTCUSDT@aggTrade' is not a Binance USD-M market stream"));
  CHECK_THAT(error(binance + "market_data_url = \"wss://x/ws\"\nmarket_data = [\"btcusdt@depth\"]\n" + account),
             Catch::Contains("'btcusdt@depth' is not a Binance USD-M market stream"));
  CHECK_THAT(error(binance +
                   "market = \"options\"\nmarket_data_url = \"wss://x/ws\"\n"
                   "market_data = [\"btcusdt@aggTrade\"]\n" +
                   account),
             Catch::Contains("Binance options sources do not subscribe to market data yet"));
}

TEST_CASE("config: an OKX source reads its market data on market_data_url", "[config]") {
  const std::string okx = "[[sources]]\nvenue = \"okx\"\nurl = \"wss://ws.okx.com:8443/ws/v5/private\"\n";
  const std::string account =
      "[[sources.accounts]]\nname = \"a\"\nkey_env = \"K\"\nsecret_env = \"S\"\npassphrase_env = \"P\"\n";
  auto good = load_config_text(okx +
                                   "market_data_url = \"wss://ws.okx.com:8443/ws/v5/public\"\n"
                                   "market_data = [\"trades:BTC-USDT-SWAP\", \"mark-price:BTC-USDT-SWAP\", "
                                   "\"index-tickers:BTC-USDT\"]\n" +
                                   account,
                               "o.toml");
  INFO(good.status().message());
  REQUIRE(good.ok());
  CHECK(good->sources[0].market_data_url == "wss://ws.okx.com:8443/ws/v5/public");
  CHECK(good->sources[0].market_data.size() == 3);
  auto error = [](const std::string& text) {
    auto c = load_config_text(text, "o.toml");
    return c.ok() ? std::string("ok") : std::string(c.status().message());
  };
  CHECK_THAT(error(okx + "market_data = [\"trades:BTC-USDT-SWAP\"]\n" + account),
             Catch::Contains("sources[0].market_data: OKX public channels need market_data_url"));
  CHECK_THAT(error(okx + "market_data_url = \"wss://x\"\nmarket_data = [\"tickers:BTC-USDT-SWAP\"]\n" + account),
             Catch::Contains("'tickers:BTC-USDT-SWAP' is not an OKX market-data subscription"));
  CHECK_THAT(error(okx + "market_data_url = \"https://x\"\nmarket_data = [\"trades:BTC-USDT-SWAP\"]\n" + account),
             Catch::Contains("sources[0].market_data_url: must start with ws:// or wss://"));
}

TEST_CASE("config: a Hyperliquid source names its market data as trades:COIN and activeAssetCtx:COIN", "[config]") {
  const std::string hl = "[[sources]]\nvenue = \"hyperliquid\"\nurl = \"wss://api.hyperliquid.xyz/ws\"\n";
  const std::string account = "[[sources.accounts]]\nname = \"0x15f43d1f2dee81424afd891943262aa90f22cc2a\"\n";
  auto good = load_config_text(hl + "market_data = [\"trades:BTC\", \"activeAssetCtx:BTC\"]\n" + account, "h.toml");
  INFO(good.status().message());
  REQUIRE(good.ok());
  CHECK(good->sources[0].market_data == std::vector<std::string>{"trades:BTC", "activeAssetCtx:BTC"});
  auto error = [](const std::string& text) {
    auto c = load_config_text(text, "h.toml");
    return c.ok() ? std::string("ok") : std::string(c.status().message());
  };
  CHECK_THAT(error(hl + "market_data = [\"l2Book:BTC\"]\n" + account),
             Catch::Contains("h.toml:4: sources[0].market_data: 'l2Book:BTC' is not a Hyperliquid market-data "
                             "subscription (trades:COIN, activeAssetCtx:COIN)"));
  CHECK_THAT(error(hl + "market_data = [\"trades:\"]\n" + account), Catch::Contains("'trades:' is not a Hyperliquid"));
  // Deribit's channel names are not Hyperliquid's.
  CHECK_THAT(error(hl + "market_data = [\"trades.BTC-PERPETUAL.100ms\"]\n" + account),
             Catch::Contains("is not a Hyperliquid market-data subscription"));
}

TEST_CASE("config: [jetstream] is off by default and names a bad URL or stream or subject prefix", "[config]") {
  auto error = [](const std::string& text) {
    auto c = load_config_text(text, "j.toml");
    return c.ok() ? std::string("ok") : std::string(c.status().message());
  };
  auto off = load_config_text("", "j.toml");
  REQUIRE(off.ok());
  CHECK_FALSE(off->jetstream.enabled());
  auto on = load_config_text("[jetstream]\nurl = \"nats://127.0.0.1:4222\"\nstream = \"CHANGES\"\n", "j.toml");
  REQUIRE(on.ok());
  CHECK(on->jetstream.enabled());
  CHECK(on->jetstream.stream == "CHANGES");
  CHECK_THAT(error("[jetstream]\nurl = \"http://127.0.0.1:4222\"\n"),
             Catch::Contains("j.toml:2: jetstream.url: \"http://127.0.0.1:4222\" is not a NATS URL"));
  CHECK_THAT(error("[jetstream]\nurl = \"nats://h:1\"\nstream = \"A.B\"\n"),
             Catch::Contains("jetstream.stream: \"A.B\" is not a stream name"));
  CHECK_THAT(error("[jetstream]\nurl = \"nats://h:1\"\nsubject_prefix = \"seg.>\"\n"),
             Catch::Contains("jetstream.subject_prefix: \"seg.>\" is not a subject prefix"));
  CHECK_THAT(error("[jetstream]\nack_timeout = \"0s\"\n"), Catch::Contains("jetstream.ack_timeout"));
  CHECK_THAT(error("[jetstream]\nsubjects = 1\n"), Catch::Contains("jetstream.subjects"));
}

TEST_CASE("config: a source of kind nats has its defaults and names each bad key", "[config]") {
  auto error = [](const std::string& text) {
    auto c = load_config_text(text, "n.toml");
    return c.ok() ? std::string("ok") : std::string(c.status().message());
  };
  auto ok = load_config_text("[[sources]]\nkind = \"nats\"\nurl = \"nats://127.0.0.1:4222\"\n", "n.toml");
  REQUIRE(ok.ok());
  REQUIRE(ok->sources.size() == 1);
  const SourceConfig& s = ok->sources[0];
  CHECK(s.kind == SourceKind::kNats);
  CHECK(s.name == "nats-0");
  CHECK(s.stream == "SEGMENTD_FILLS");
  CHECK(s.subject == "segmentd.fills.>");
  CHECK(s.durable == "segmentd");
  CHECK(s.create_stream);
  CHECK(s.ack_wait_ns == 300'000'000'000);
  const std::string head = "[[sources]]\nkind = \"nats\"\n";
  CHECK_THAT(error(head), Catch::Contains("n.toml:1: sources[0].url: is required for kind = \"nats\""));
  CHECK_THAT(error(head + "url = \"ws://h:1\"\n"),
             Catch::Contains("n.toml:3: sources[0].url: \"ws://h:1\" is not a NATS URL"));
  CHECK_THAT(error(head + "url = \"nats://h:1\"\nstream = \"A.B\"\n"),
             Catch::Contains("sources[0].stream: \"A.B\" is not a JetStream name"));
  CHECK_THAT(error(head + "url = \"nats://h:1\"\ndurable = \"\"\n"), Catch::Contains("sources[0].durable"));
  CHECK_THAT(error(head + "url = \"nats://h:1\"\nsubject = \"a..b\"\n"),
             Catch::Contains("sources[0].subject: \"a..b\" is not a NATS subject"));
  CHECK_THAT(error(head + "url = \"nats://h:1\"\nbatch = 0\n"), Catch::Contains("sources[0].batch"));
  CHECK_THAT(error(head + "url = \"nats://h:1\"\nack_wait = \"10ms\"\n"), Catch::Contains("sources[0].ack_wait"));
  CHECK_THAT(error(head + "url = \"nats://h:1\"\npath = \"x\"\n"), Catch::Contains("sources[0].path"));
}

TEST_CASE("config: a directory given as the config file is an error", "[config]") {
  const std::string dir = scratch("as_file");
  auto c = load_config(dir);
  REQUIRE_FALSE(c.ok());
  CHECK_THAT(std::string(c.status().message()), Catch::Contains(dir + ": \"" + dir + "\" is a directory, not a file"));
  std::filesystem::remove_all(dir);
}

namespace {

template <class T>
std::string text_of(const T& v) {
  std::ostringstream out;
  out.precision(17);
  out << v;
  return out.str();
}

//! Every key of config/default.toml and the Config field it sets, as text.
using Projection = std::function<std::string(const Config&)>;
std::map<std::string, Projection> config_fields() {
  std::map<std::string, Projection> f;
#define SEGMENTD_FIELD(key, expr) f[key] = [](const Config& c) { return text_of(c.expr); }
  SEGMENTD_FIELD("log.level", log.level);
  SEGMENTD_FIELD("log.format", log.format);
  SEGMENTD_FIELD("log.rate_limit_burst", log.rate_limit_burst);
  SEGMENTD_FIELD("log.rate_limit_interval", log.rate_limit_interval_ns);
  SEGMENTD_FIELD("shards.count", shards.shards);
  SEGMENTD_FIELD("shards.ring_capacity", shards.ring_capacity);
  SEGMENTD_FIELD("shards.ring_full_policy", shards.full_policy == RingFullPolicy::kBlock);
  SEGMENTD_FIELD("shards.max_accounts", shards.max_accounts);
  SEGMENTD_FIELD("shards.on_max_accounts", shards.on_max_accounts == AccountCapPolicy::kRefuse);
  SEGMENTD_FIELD("replay.max_line_bytes", replay.max_line_bytes);
  SEGMENTD_FIELD("event_time.max_ahead", event_time.max_ahead_ns);
  SEGMENTD_FIELD("event_time.jump_confirm", event_time.jump_confirm);
  SEGMENTD_FIELD("features.half_life", features.params.half_life_ns);
  SEGMENTD_FIELD("features.slow_half_life", features.params.slow_half_life_ns);
  SEGMENTD_FIELD("features.fast_weight.all", features.params.fast_weight[0]);
  SEGMENTD_FIELD("features.markout_horizon", features.params.markout_horizon_ns);
  SEGMENTD_FIELD("features.markout_coalesce", features.params.markout_coalesce_ns);
  SEGMENTD_FIELD("features.markout_tick", features.markout_tick_ns);
  SEGMENTD_FIELD("features.max_positions", features.params.max_positions);
  SEGMENTD_FIELD("features.markout_slots", features.params.markout_slots);
  SEGMENTD_FIELD("features.overflow_blocks", features.params.overflow_blocks);
  f["spot_pairs.hyperliquid.@107"] = [](const Config& c) {
    for (const SpotPair& p : c.spot_pairs)
      if (p.venue == Venue::kHyperliquid && p.symbol == "@107") return p.base;
    return std::string("(none)");
  };
  SEGMENTD_FIELD("features.min_mean_gross_usd", features.params.min_mean_gross_usd);
  SEGMENTD_FIELD("features.tape_instruments", features.tape_instruments);
  SEGMENTD_FIELD("features.tape_underlyings", features.tape_underlyings);
  for (const char* server : {"publisher", "admin"}) {
    const bool pub = std::string_view(server) == "publisher";
    auto listen = [pub](const Config& c) -> const ListenConfig& { return pub ? c.publisher.listen : c.admin.listen; };
    const std::string p = std::string(server) + ".";
    f[p + "enabled"] = [pub](const Config& c) { return text_of(pub ? c.publisher.enabled : c.admin.enabled); };
    f[p + "listen_address"] = [listen](const Config& c) { return listen(c).address; };
    f[p + "port"] = [listen](const Config& c) { return text_of(listen(c).port); };
    f[p + "tokens_file"] = [listen](const Config& c) { return listen(c).tokens_file; };
    f[p + "tokens_env"] = [listen](const Config& c) { return listen(c).tokens_env; };
    f[p + "allow_anonymous"] = [listen](const Config& c) { return text_of(listen(c).allow_anonymous); };
    f[p + "tls_cert"] = [listen](const Config& c) { return listen(c).tls_cert; };
    f[p + "tls_key"] = [listen](const Config& c) { return listen(c).tls_key; };
    f[p + "max_connections"] = [listen](const Config& c) { return text_of(listen(c).max_connections); };
  }
  SEGMENTD_FIELD("publisher.threads", publisher.threads);
  SEGMENTD_FIELD("publisher.replay_ring", publisher.replay_ring);
  SEGMENTD_FIELD("publisher.queue_limit_bytes", publisher.queue_limit_bytes);
  SEGMENTD_FIELD("publisher.heartbeat_interval", publisher.heartbeat_interval_ns);
  SEGMENTD_FIELD("publisher.max_frame_bytes", publisher.max_frame_bytes);
  SEGMENTD_FIELD("publisher.max_filter_size", publisher.max_filter_size);
  SEGMENTD_FIELD("publisher.snapshot_chunk", publisher.snapshot_chunk);
  SEGMENTD_FIELD("publisher.batch_frame_bytes", publisher.batch_frame_bytes);
  SEGMENTD_FIELD("publisher.flush_interval", publisher.flush_interval_ns);
  SEGMENTD_FIELD("publisher.close_timeout", publisher.close_timeout_ns);
  SEGMENTD_FIELD("admin.max_request_bytes", admin.max_request_bytes);
  SEGMENTD_FIELD("admin.request_timeout", admin.request_timeout_ns);
  SEGMENTD_FIELD("jetstream.url", jetstream.url);
  SEGMENTD_FIELD("jetstream.stream", jetstream.stream);
  SEGMENTD_FIELD("jetstream.subject_prefix", jetstream.subject_prefix);
  SEGMENTD_FIELD("jetstream.create_stream", jetstream.create_stream);
  SEGMENTD_FIELD("jetstream.duplicate_window", jetstream.duplicate_window_ns);
  SEGMENTD_FIELD("jetstream.token_env", jetstream.token_env);
  SEGMENTD_FIELD("jetstream.max_pending", jetstream.max_pending);
  SEGMENTD_FIELD("jetstream.ack_timeout", jetstream.ack_timeout_ns);
  SEGMENTD_FIELD("jetstream.retry_interval", jetstream.retry_interval_ns);
  SEGMENTD_FIELD("checkpoint.enabled", checkpoint.enabled);
  SEGMENTD_FIELD("checkpoint.dir", checkpoint.dir);
  SEGMENTD_FIELD("checkpoint.interval", checkpoint.interval_ns);
  SEGMENTD_FIELD("checkpoint.keep", checkpoint.keep);
  SEGMENTD_FIELD("checkpoint.on_invalid", checkpoint.on_invalid);
  SEGMENTD_FIELD("regime.enabled", regime_enabled);
  SEGMENTD_FIELD("regime.sample", regime.sample_ns);
  SEGMENTD_FIELD("regime.fast_half_life", regime.fast_half_life_ns);
  SEGMENTD_FIELD("regime.slow_half_life", regime.slow_half_life_ns);
  SEGMENTD_FIELD("regime.warmup", regime.warmup_ns);
  SEGMENTD_FIELD("regime.drawdown_window", regime.drawdown_window_ns);
  SEGMENTD_FIELD("regime.stressed_ratio", regime.stressed_ratio);
  SEGMENTD_FIELD("regime.stressed_drawdown", regime.stressed_drawdown);
  SEGMENTD_FIELD("regime.extreme_ratio", regime.extreme_ratio);
  SEGMENTD_FIELD("regime.extreme_drawdown", regime.extreme_drawdown);
  SEGMENTD_FIELD("regime.max_jump", regime.max_jump);
  SEGMENTD_FIELD("regime.exit_fraction", regime.exit_fraction);
  SEGMENTD_FIELD("regime.min_dwell", regime.min_dwell_ns);
  SEGMENTD_FIELD("risk.base_margin_rate", risk.base_margin_rate);
  SEGMENTD_FIELD("risk.default_vol", risk.default_vol);
  SEGMENTD_FIELD("risk.min_vol", risk.min_vol);
  SEGMENTD_FIELD("risk.publish_interval", risk.publish_interval_ns);
  SEGMENTD_FIELD("risk.exposure_interval", risk.exposure_interval_ns);
  const auto list = [](const std::vector<double>& v) {
    std::string out;
    for (double x : v) out += text_of(x) + ",";
    return out;
  };
  f["risk.price_moves"] = [list](const Config& c) { return list(c.risk.price_moves); };
  f["risk.vol_shifts"] = [list](const Config& c) { return list(c.risk.vol_shifts); };
  SEGMENTD_FIELD("clusterer.k", clusterer.k);
  SEGMENTD_FIELD("clusterer.batch_size", clusterer.batch_size);
  SEGMENTD_FIELD("clusterer.batch_interval", clusterer.batch_interval_ns);
  SEGMENTD_FIELD("clusterer.min_accounts", clusterer.min_accounts);
  SEGMENTD_FIELD("clusterer.min_fills", clusterer.min_fills);
  SEGMENTD_FIELD("clusterer.half_life", clusterer.half_life_ns);
  SEGMENTD_FIELD("clusterer.scaler_half_life", clusterer.scaler_half_life_ns);
  SEGMENTD_FIELD("clusterer.rescale_tolerance", clusterer.rescale_tolerance);
  SEGMENTD_FIELD("clusterer.reseed_ratio", clusterer.reseed_ratio);
  SEGMENTD_FIELD("clusterer.vote_horizon", clusterer.vote_horizon_ns);
  SEGMENTD_FIELD("clusterer.restart_interval", clusterer.restart_interval_ns);
  SEGMENTD_FIELD("clusterer.restart_gain", clusterer.restart_gain);
  SEGMENTD_FIELD("clusterer.seeds", clusterer.seeds);
  SEGMENTD_FIELD("clusterer.warmup_iterations", clusterer.warmup_iterations);
  SEGMENTD_FIELD("clusterer.sample_size", clusterer.sample_size);
  SEGMENTD_FIELD("clusterer.sample_ttl", clusterer.sample_ttl_ns);
  SEGMENTD_FIELD("clusterer.seed", clusterer.seed);
  SEGMENTD_FIELD("clusterer.publish_interval", clusterer.publish_interval_ns);
  SEGMENTD_FIELD("clusterer.quality_interval", clusterer.quality_interval_ns);
  SEGMENTD_FIELD("clusterer.silhouette_points", clusterer.silhouette_points);
  SEGMENTD_FIELD("clusterer.hysteresis_margin", clusterer.assigner.hysteresis_margin);
  SEGMENTD_FIELD("clusterer.min_dwell", clusterer.assigner.min_dwell_ns);
  SEGMENTD_FIELD("clusterer.fallback_label", clusterer.labels.fallback);
  SEGMENTD_FIELD("clusterer.label_hysteresis", clusterer.labels.hysteresis);
  SEGMENTD_FIELD("run.summary_interval", run.summary_interval_ns);
  SEGMENTD_FIELD("run.sim_accounts", run.sim_accounts);
  SEGMENTD_FIELD("run.sim_rate", run.sim_rate);
  SEGMENTD_FIELD("run.sim_speedup", run.sim_speedup);
  SEGMENTD_FIELD("run.sim_seed", run.sim_seed);
  SEGMENTD_FIELD("run.sim_market_events", run.sim_market_events);
#undef SEGMENTD_FIELD
  return f;
}

void leaf_keys(const toml::table& t, const std::string& prefix, std::vector<std::string>* out) {
  for (const auto& [k, v] : t) {
    const std::string key = prefix + std::string(k.str());
    if (const toml::table* sub = v.as_table())
      leaf_keys(*sub, key + ".", out);
    else
      out->push_back(key);
  }
}

}  // namespace

TEST_CASE("config: every key's code default equals its value in config/default.toml", "[config]") {
  // config/README.md: "Every key has a default in the code equal to its value in default.toml",
  // so a file that leaves a key out gets what the embedded default runs on. The one deliberate
  // exception, documented there: allow_anonymous, which default.toml sets for a loopback-only
  // start while a file that says nothing must not serve anonymous clients.
  const std::set<std::string> exceptions = {"publisher.allow_anonymous", "admin.allow_anonymous"};
  auto loaded = load_config_text(embedded_default_config(), "default.toml");
  INFO(loaded.status().message());
  REQUIRE(loaded.ok());
  const Config code;
  const auto fields = config_fields();
  std::vector<std::string> keys;
  leaf_keys(toml::parse(embedded_default_config()), "", &keys);
  REQUIRE(keys.size() > 80);
  for (const std::string& key : keys) {
    INFO(key);
    auto it = fields.find(key);
    REQUIRE(it != fields.end());  // a new key of default.toml needs its field named above
    if (exceptions.count(key)) {
      CHECK(it->second(*loaded) != it->second(code));
      continue;
    }
    CHECK(it->second(*loaded) == it->second(code));
  }
}

TEST_CASE("config: spot pairs add to the defaults, replace one by symbol, and name a bad venue", "[config]") {
  auto base_of = [](const Config& c, Venue v, std::string_view symbol) {
    for (const SpotPair& p : c.spot_pairs)
      if (p.venue == v && p.symbol == symbol) return p.base;
    return std::string("(none)");
  };
  auto c = load_config_text("[spot_pairs.hyperliquid]\n\"@150\" = \"XYZ\"\n", "t.toml");
  REQUIRE(c.ok());
  CHECK(base_of(*c, Venue::kHyperliquid, "@107") == "HYPE");  // the default stays
  CHECK(base_of(*c, Venue::kHyperliquid, "@150") == "XYZ");
  auto replaced = load_config_text("[spot_pairs.hyperliquid]\n\"@107\" = \"OTHER\"\n", "t.toml");
  REQUIRE(replaced.ok());
  CHECK(base_of(*replaced, Venue::kHyperliquid, "@107") == "OTHER");
  CHECK(replaced->spot_pairs.size() == default_spot_pairs().size());
  auto bad = load_config_text("[spot_pairs.nowhere]\n\"@1\" = \"X\"\n", "t.toml");
  REQUIRE_FALSE(bad.ok());
  CHECK_THAT(std::string(bad.status().message()), Catch::Contains("spot_pairs.nowhere"));
}
