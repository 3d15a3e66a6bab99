#include "service/app/decode_command.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "simdjson.h"
#include "tests/fixtures/fixture_paths.h"

namespace segmentd {
namespace {

using testing::own_fixture;
using testing::own_fixture_path;
using testing::shared_exchanges_dir;
using testing::shared_fixture_path_or_skip;

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line))
    if (!line.empty()) out.push_back(line);
  return out;
}

double number(simdjson::dom::element e) {
  if (e.is_int64()) return static_cast<double>(std::int64_t(e.get_int64()));
  if (e.is_uint64()) return static_cast<double>(std::uint64_t(e.get_uint64()));
  return double(e.get_double());
}

// ---- The repository's own fixtures (tests/fixtures/exchanges). The expected values are those of
// the fixtures' hand-computed .expected.json.

TEST_CASE("decode: NDJSON of OKX order pushes (own fixture) prints the fills and names the rest", "[decode]") {
  std::ostringstream out, err;
  const int rc = run_decode("okx", own_fixture_path("okx/orders_spot_sequence.ndjson"), "okx-main", out, err);
  CHECK(rc == 0);
  const std::vector<std::string> fills = lines_of(out.str());
  REQUIRE(fills.size() == 2);  // lines 1 and 3 carry an execution, 2 and 4 do not
  struct Expected {
    const char* side;
    double qty, price, notional_usd, fee_usd;
    const char* liquidity;
    std::int64_t venue_ns;
  };
  // okx/orders_spot_sequence.expected.json, lines 1 and 3.
  const Expected expected[] = {{"sell", 0.25, 3421.55, 855.3875, 0.68431, "maker", 1741951205338000000},
                               {"buy", 0.146, 3423.1, 499.7288, 0.4997288, "taker", 1741951260117000000}};
  simdjson::dom::parser parser;
  for (std::size_t i = 0; i < 2; ++i) {
    INFO(fills[i]);
    simdjson::dom::object f;
    REQUIRE(parser.parse(fills[i]).get(f) == simdjson::SUCCESS);
    const Expected& e = expected[i];
    CHECK(std::string_view(f["venue"].get_string()) == "okx");
    CHECK(std::string_view(f["account"].get_string()) == "okx-main");
    CHECK(std::string_view(f["symbol"].get_string()) == "ETH-USDT");
    CHECK(std::string_view(f["side"].get_string()) == e.side);
    CHECK(std::string_view(f["liquidity"].get_string()) == e.liquidity);
    CHECK(number(f["qty"]) == Approx(e.qty).epsilon(1e-12));
    CHECK(number(f["price"]) == Approx(e.price).epsilon(1e-12));
    CHECK(number(f["notional_usd"]) == Approx(e.notional_usd).epsilon(1e-12));
    CHECK(number(f["fee_usd"]) == Approx(e.fee_usd).epsilon(1e-12));
    CHECK(std::int64_t(f["ts_ns"].get_int64()) == e.venue_ns);  // decode prints the venue time
    CHECK(std::int64_t(f["venue_ts_ns"].get_int64()) == e.venue_ns);
  }
  const std::string notes = err.str();
  CHECK(notes.find("message 1: fills:") != std::string::npos);
  CHECK(notes.find("message 2: order_update:") != std::string::npos);
  CHECK(notes.find("message 3: fills:") != std::string::npos);
  CHECK(notes.find("message 4: order_update:") != std::string::npos);
}

TEST_CASE("decode: a pretty-printed single message, and control messages (own fixtures)", "[decode]") {
  std::ostringstream out, err;
  CHECK(run_decode("deribit", own_fixture_path("deribit/user_trades_perpetual_taker_buy.json"), "deribit-main", out,
                   err) == 0);
  CHECK(out.str().find(R"("venue":"deribit","account":"deribit-main","symbol":"BTC-PERPETUAL","side":"buy")") !=
        std::string::npos);
  CHECK(out.str().find(R"("ts_ns":1741944413589000000)") != std::string::npos);  // venue time
  CHECK(err.str().find("message 1: fills:") != std::string::npos);
  std::ostringstream out2, err2;
  CHECK(run_decode("deribit", own_fixture_path("deribit/heartbeat_test_request.json"), "", out2, err2) == 0);
  CHECK(out2.str().empty());
  CHECK(err2.str().find("message 1: test_request:") != std::string::npos);
}

TEST_CASE("decode: bad input and usage errors (own fixtures)", "[decode]") {
  // A fixture cut short is malformed JSON: written to a scratch file of this test.
  const std::filesystem::path dir = std::filesystem::path(SEGMENTD_BINARY_DIR) / "tests" / "decode_command_test";
  std::filesystem::create_directories(dir);
  const std::string good = own_fixture("binance/usdm_order_trade_update_new.json");
  const std::string truncated = (dir / "usdm_order_trade_update_new.truncated.json").string();
  {
    std::ofstream f(truncated, std::ios::binary | std::ios::trunc);
    f << good.substr(0, good.size() / 2);
  }
  std::ostringstream out, err;
  CHECK(run_decode("binance", truncated, "", out, err) == 1);
  CHECK(err.str().find("error malformed_json") != std::string::npos);
  CHECK(out.str().empty());
  CHECK(run_decode("nasdaq", own_fixture_path("binance/usdm_trade_lite.json"), "", out, err) == 2);
  CHECK(run_decode("binance", "/nonexistent/file.json", "", out, err) == 2);
  std::filesystem::remove(truncated);
}

// ---- Third-party samples (../shared/fixtures/exchanges): an extra layer, reported as skipped
// when that folder is absent.

TEST_CASE("decode: NDJSON of OKX order pushes prints the fills and names the rest", "[decode]") {
  const auto path = shared_fixture_path_or_skip("okx/orders_spot_sequence__gocryptotrader_wsOrders.ndjson");
  if (!path) return;
  std::ostringstream out, err;
  const int rc = run_decode("okx", *path, "okx-main", out, err);
  CHECK(rc == 0);
  const std::string fills = out.str();
  CHECK(std::count(fills.begin(), fills.end(), '\n') == 2);
  CHECK(fills.find(
            R"("venue":"okx","account":"okx-main","symbol":"BTC-USDT","side":"sell","qty":0.001,"price":31527.1)") !=
        std::string::npos);
  const std::string notes = err.str();
  CHECK(notes.find("message 1: fills:") != std::string::npos);
  CHECK(notes.find("message 2: order_update:") != std::string::npos);
  CHECK(notes.find("message 4: order_update:") != std::string::npos);
}

TEST_CASE("decode: a pretty-printed single message, and control messages", "[decode]") {
  const auto path = shared_fixture_path_or_skip("deribit/user_trades_any_raw__ccxt_comment.json");
  if (!path) return;
  std::ostringstream out, err;
  CHECK(run_decode("deribit", *path, "d", out, err) == 0);
  CHECK(out.str().find(R"("symbol":"BTC-PERPETUAL","side":"buy")") != std::string::npos);
  CHECK(out.str().find(R"("ts_ns":1655421193564000000)") != std::string::npos);  // venue time
  std::ostringstream out2, err2;
  CHECK(run_decode("deribit", shared_exchanges_dir() + "/deribit/heartbeat_test_request__nautilus.json", "", out2,
                   err2) == 0);
  CHECK(out2.str().empty());
  CHECK(err2.str().find("message 1: test_request:") != std::string::npos);
}

TEST_CASE("decode: bad input and usage errors", "[decode]") {
  const auto annotated = shared_fixture_path_or_skip("binance/usdm_order_trade_update_new__docs_with_comments.jsonc");
  if (!annotated) return;
  std::ostringstream out, err;
  CHECK(run_decode("binance", *annotated, "", out, err) == 1);
  CHECK(err.str().find("error malformed_json") != std::string::npos);
  CHECK(run_decode("nasdaq", shared_exchanges_dir() + "/binance/usdm_trade_lite__nautilus.json", "", out, err) == 2);
  CHECK(run_decode("binance", "/nonexistent/file.json", "", out, err) == 2);
}

}  // namespace
}  // namespace segmentd
