// Parse throughput of the venue adapters (protocol/*_adapter.cpp): bytes of venue messages in,
// Fills out, on one core. Messages are generated in each venue's exact wire shape (the field set
// of the venues' documented formats, tests/fixtures/exchanges) with varying ids, prices and sizes, so
// caches and de-duplication see realistic traffic. Deribit uses batched notifications (100 trades
// per user.trades frame), the shape bench/README.md, "Current results"'s ingest goal is measured on.
//
//   build/release/bench/adapter_bench --benchmark_counters_tabular=true

#include <benchmark/benchmark.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "core/account_interner.h"
#include "core/instrument_registry.h"
#include "core/str_cat.h"
#include "protocol/native_format.h"
#include "protocol/venues/registry.h"
#include "protocol/venues/venue_adapter.h"

namespace segmentd {
namespace {

constexpr int kMessages = 512;  //!< distinct messages cycled through (a few MB: beyond L2)

//! A message followed by the padding decode() needs.
struct Padded {
  std::string storage;
  std::size_t size = 0;
  std::string_view view() const { return {storage.data(), size}; }
};

Padded pad(std::string s) {
  Padded p;
  p.size = s.size();
  p.storage = std::move(s);
  p.storage.append(kJsonPadding, '\0');
  return p;
}

std::string deribit_trade(std::mt19937_64& rng, std::uint64_t id) {
  const int pick = static_cast<int>(rng() % 10);
  const bool option = pick == 9;
  const char* instrument = option ? "BTC-27DEC24-60000-C" : pick < 7 ? "BTC-PERPETUAL" : "ETH-PERPETUAL";
  const double index =
      pick < 7 || option ? 60000.0 + static_cast<double>(rng() % 2000) : 3000.0 + static_cast<double>(rng() % 100);
  const double price =
      option ? 0.0125 + static_cast<double>(rng() % 100) * 0.0005 : index + static_cast<double>(rng() % 40) - 20.0;
  const double amount =
      option ? 0.1 * static_cast<double>(1 + rng() % 50) : 10.0 * static_cast<double>(1 + rng() % 500);
  std::string t =
      str_cat(R"({"trade_seq":)", 100000000 + id, R"(,"trade_id":")", 219381310 + id, R"(","timestamp":)",
              1655421193564 + static_cast<std::int64_t>(id), R"(,"tick_direction":)", rng() % 4,
              R"(,"state":"filled","self_trade":false,"reduce_only":false,"profit_loss":0,"price":)", price,
              R"(,"post_only":false,"order_type":"limit","order_id":")", 46108941243 + id / 3,
              R"(","matching_id":null,"mark_price":)", price + 1.5, R"(,"liquidity":")", (rng() & 1) ? "M" : "T",
              R"(","instrument_name":")", instrument, R"(","index_price":)", index, R"(,"fee_currency":")",
              pick < 7 || option ? "BTC" : "ETH", R"(","fee":)", 2.5e-7 * static_cast<double>(1 + rng() % 100),
              R"(,"direction":")", (rng() & 1) ? "buy" : "sell", R"(","amount":)", amount);
  if (option)
    t += str_cat(R"(,"iv":)", 45.0 + static_cast<double>(rng() % 300) / 10.0, R"(,"underlying_price":)", index + 35.0);
  t += "}";
  return t;
}

std::vector<Padded> deribit_frames(int trades_per_frame) {
  std::mt19937_64 rng(1);
  std::vector<Padded> out;
  std::uint64_t id = 0;
  for (int m = 0; m < kMessages; ++m) {
    std::string s =
        R"({"jsonrpc":"2.0","method":"subscription","params":{"channel":"user.trades.any.any.raw","data":[)";
    for (int i = 0; i < trades_per_frame; ++i) {
      if (i > 0) s += ",";
      s += deribit_trade(rng, id++);
    }
    s += "]}}";
    out.push_back(pad(std::move(s)));
  }
  return out;
}

std::vector<Padded> binance_messages() {
  std::mt19937_64 rng(2);
  std::vector<Padded> out;
  for (int m = 0; m < kMessages; ++m) {
    const double price = 2500.0 + static_cast<double>(rng() % 100) * 0.01;
    out.push_back(pad(str_cat(
        R"({"e":"ORDER_TRADE_UPDATE","E":1709654401000,"T":1709654401000,"o":{"s":"ETHUSDT","c":"x-aHRE4BCj-T0000000000000","S":")",
        (rng() & 1) ? "BUY" : "SELL",
        R"(","o":"LIMIT","f":"GTC","q":"1.000","p":"2500.00","ap":"2500.00","sp":"0.00","x":"TRADE","X":"FILLED","i":)",
        12345678 + m, R"(,"l":"1.000","z":"1.000","L":")", price, R"(","N":"USDT","n":"0.50000000","T":)",
        1709654401000 + m, R"(,"t":)", 98765432 + m,
        R"(,"b":"0","a":"0","m":true,"R":false,"wt":"CONTRACT_PRICE","ot":"LIMIT","ps":"BOTH","cp":false,"pP":false,"rp":"0.50000000","V":"NONE","pm":"NONE"}})")));
  }
  return out;
}

std::vector<Padded> okx_messages() {
  std::mt19937_64 rng(3);
  std::vector<Padded> out;
  for (int m = 0; m < kMessages; ++m) {
    out.push_back(pad(str_cat(
        R"({"arg":{"channel":"orders","instType":"SWAP","uid":"614488474791936"},"data":[{"accFillSz":"0.03","algoClOrdId":"","algoId":"","attachAlgoClOrdId":"","attachAlgoOrds":[],"avgPx":"103698.9","cTime":"1746947317401","cancelSource":"","cancelSourceReason":"","category":"normal","ccy":"USDT","clOrdId":"001BTCUSDT20250106001","execType":"M","fee":"-0.021776769","feeCcy":"USDT","fillFee":"-0.021776769","fillFeeCcy":"USDT","fillPx":")",
        103698.9 + static_cast<double>(rng() % 100), R"(","fillSz":")", 1 + rng() % 20,
        R"(","fillTime":"1746947317402","instId":"BTC-USDT-SWAP","instType":"SWAP","isTpLimit":"false","lever":"2.0","linkedAlgoOrd":{"algoId":""},"ordId":")",
        2497956918703120384 + m,
        R"(","ordType":"market","pnl":"0","posSide":"long","px":"","pxType":"","pxUsd":"","pxVol":"","quickMgnType":"","rebate":"0","rebateCcy":"USDT","reduceOnly":"false","side":"buy","slOrdPx":"","slTriggerPx":"","slTriggerPxType":"","source":"","state":"filled","stpId":"","stpMode":"cancel_maker","sz":"0.03","tag":"","tdMode":"isolated","tgtCcy":"","tpOrdPx":"","tpTriggerPx":"","tpTriggerPxType":"","tradeId":")",
        1518905529 + m, R"(","uTime":"1746947317402"}]})")));
  }
  return out;
}

std::vector<Padded> bybit_messages() {
  std::mt19937_64 rng(4);
  std::vector<Padded> out;
  for (int m = 0; m < kMessages; ++m) {
    out.push_back(pad(str_cat(
        R"({"topic":"execution","id":"386825804_BTCUSDT_140612148849382","creationTime":1746270400355,"data":[{"category":"linear","symbol":"BTCUSDT","closedSize":"0.5","execFee":"26.3725275","execId":"0ab1bdf7-4219-438b-b30a-)",
        100000000000 + m, R"(","execPrice":")", 95900.1 + static_cast<double>(rng() % 100),
        R"(","execQty":"0.5","execType":"Trade","execValue":"47950.05","feeRate":"0.00055","tradeIv":"","markIv":"","blockTradeId":"","markPrice":"95901.48","indexPrice":"","underlyingPrice":"","leavesQty":"0","orderId":"9aac161b-8ed6-450d-9cab-c5cc67c21784","orderLinkId":"","orderPrice":"94942.5","orderQty":"0.5","orderType":"Market","stopOrderType":"UNKNOWN","side":"Sell","execTime":"1746270400353","isLeverage":"0","isMaker":false,"seq":140612148849382,"marketUnit":"","execPnl":"0.05","createType":"CreateByUser","extraFees":[{"feeCoin":"USDT","feeType":"GST","subFeeType":"IND_GST","feeRate":"0.0000675","fee":"0.006403779"}],"feeCurrency":"USDT"}]})")));
  }
  return out;
}

std::vector<Padded> hyperliquid_trades(int trades_per_frame) {
  std::mt19937_64 rng(5);
  std::vector<Padded> out;
  std::uint64_t tid = 140238147810435;
  for (int m = 0; m < kMessages; ++m) {
    std::string s = R"({"channel":"trades","data":[)";
    for (int i = 0; i < trades_per_frame; ++i) {
      if (i > 0) s += ",";
      s += str_cat(R"({"coin":"BTC","side":")", (rng() & 1) ? "A" : "B", R"(","px":")", 84133 + rng() % 10,
                   R"(.0","sz":"0.0)", 1000 + rng() % 9000, R"(","time":)", 1790231124037 + m,
                   R"(,"hash":"0xca6d83e6e85314fccbe7044515fdc602024700cc835633ce6e362f39a756eee7","tid":)", tid++,
                   R"(,"users":["0x)", 1000000000000 + rng() % 5000, R"(bb160cb61e694570f9d570f9fcde","0x)",
                   1000000000000 + rng() % 5000, R"(48314750d70312eddf7e6b6b7c28"]})");
    }
    s += "]}";
    out.push_back(pad(std::move(s)));
  }
  return out;
}

void run(benchmark::State& state, Venue venue, const std::vector<Padded>& messages) {
  AccountInterner accounts;
  InstrumentRegistry instruments{segmentd::parse_symbol};
  AdapterContext ctx;
  ctx.accounts = &accounts;
  ctx.instruments = &instruments;
  ctx.account = "bench-account";
  auto adapter = make_venue_adapter(venue, std::move(ctx));
  std::vector<Fill> fills;
  fills.reserve(1024);
  DecodeOutcome outcome;
  ParseError error;
  std::size_t bytes = 0, n = 0, total_fills = 0, i = 0;
  for (auto _ : state) {
    const Padded& m = messages[i];
    i = i + 1 == messages.size() ? 0 : i + 1;
    fills.clear();
    if (!adapter->decode(m.view(), 1, fills, outcome, error)) {
      state.SkipWithError(error.detail.c_str());
      break;
    }
    benchmark::DoNotOptimize(fills.data());
    bytes += m.size;
    total_fills += fills.size() + outcome.duplicates;
    ++n;
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(bytes));
  state.SetItemsProcessed(static_cast<std::int64_t>(n));
  state.counters["fills/s"] = benchmark::Counter(static_cast<double>(total_fills), benchmark::Counter::kIsRate);
  state.counters["bytes/msg"] = n ? static_cast<double>(bytes) / static_cast<double>(n) : 0.0;
}

void BM_Deribit_Batched(benchmark::State& state) {
  static const auto messages = deribit_frames(static_cast<int>(state.range(0)));
  run(state, Venue::kDeribit, messages);
}
BENCHMARK(BM_Deribit_Batched)->Arg(100);

void BM_Deribit_Single(benchmark::State& state) {
  static const auto messages = deribit_frames(1);
  run(state, Venue::kDeribit, messages);
}
BENCHMARK(BM_Deribit_Single);

void BM_Binance_OrderTradeUpdate(benchmark::State& state) {
  static const auto messages = binance_messages();
  run(state, Venue::kBinance, messages);
}
BENCHMARK(BM_Binance_OrderTradeUpdate);

void BM_Okx_Orders(benchmark::State& state) {
  static const auto messages = okx_messages();
  run(state, Venue::kOkx, messages);
}
BENCHMARK(BM_Okx_Orders);

void BM_Bybit_Execution(benchmark::State& state) {
  static const auto messages = bybit_messages();
  run(state, Venue::kBybit, messages);
}
BENCHMARK(BM_Bybit_Execution);

void BM_Hyperliquid_Trades(benchmark::State& state) {
  static const auto messages = hyperliquid_trades(50);
  run(state, Venue::kHyperliquid, messages);
}
BENCHMARK(BM_Hyperliquid_Trades);

}  // namespace
}  // namespace segmentd
