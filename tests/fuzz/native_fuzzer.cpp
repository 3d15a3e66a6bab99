// libFuzzer target for the native NDJSON parser (protocol/native_format.h). The input is split
// into lines at '\n'; each line goes through NativeFillParser::parse (exactly followed by its
// kJsonPadding bytes, so ASan sees any read past them) and parse_unpadded, which must agree on
// the outcome and the reason.
// A parsed fill must hold what protocol/README.md promises (finite, positive qty and price, a
// finite notional >= 0, optional values NaN or in range) and survive append_native_fill →
// parse unchanged (native_format.h: "encoding then parsing gives back the same Fill").
// The registries and the parser are fresh for every input: the run is deterministic and memory
// does not grow with the accounts and symbols the fuzzer invents.

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "core/account_interner.h"
#include "core/instrument_registry.h"
#include "protocol/native_format.h"
#include "protocol/venues/registry.h"

namespace {

using namespace segmentd;

void require(bool ok) {
  if (!ok) __builtin_trap();
}

bool nan_or_positive(double v) { return std::isnan(v) || (std::isfinite(v) && v > 0); }

//! Bitwise equality for doubles, so that NaN == NaN.
bool same(double a, double b) { return std::memcmp(&a, &b, sizeof a) == 0; }

bool same_fill(const Fill& a, const Fill& b) {
  return a.recv_ns == b.recv_ns && a.venue_ns == b.venue_ns && a.account == b.account && a.instrument == b.instrument &&
         a.underlying == b.underlying && a.venue == b.venue && a.side == b.side && a.liquidity == b.liquidity &&
         a.kind == b.kind && a.option_type == b.option_type && a.expiry_ns == b.expiry_ns && same(a.strike, b.strike) &&
         same(a.qty, b.qty) && same(a.price, b.price) && same(a.notional_usd, b.notional_usd) &&
         same(a.fee_usd, b.fee_usd) && same(a.iv, b.iv) && same(a.underlying_price, b.underlying_price) &&
         same(a.mark_price, b.mark_price) && a.trade_id == b.trade_id;
}

void check_fill(const Fill& f, const AccountInterner& accounts, InstrumentRegistry& instruments) {
  require(f.recv_ns > 0 && f.venue_ns >= 0);
  require(std::isfinite(f.qty) && f.qty > 0);
  require(std::isfinite(f.price) && f.price > 0);
  require(std::isfinite(f.notional_usd) && f.notional_usd >= 0);
  require(std::isnan(f.fee_usd) || std::isfinite(f.fee_usd));
  require(std::isnan(f.iv) || (f.iv > 0 && f.iv <= 10.0));
  require(nan_or_positive(f.underlying_price) && nan_or_positive(f.mark_price));
  const std::string_view account = accounts.name(f.account);
  require(!account.empty() && account.size() <= 128);
  require(f.instrument < instruments.size());
  const Instrument& ins = instruments.get(f.instrument);
  require(!ins.symbol.empty() && ins.symbol.size() <= 64);
  require(f.underlying == instruments.underlying_of(f.instrument));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  AccountInterner accounts;
  InstrumentRegistry instruments{segmentd::parse_symbol};
  NativeFillParser parser(accounts, instruments);
  std::string_view input(reinterpret_cast<const char*>(data), size);
  std::string padded, encoded;
  Fill fill, again;
  ParseError error, error_unpadded;
  while (!input.empty()) {
    const std::size_t nl = input.find('\n');
    const std::string_view line = input.substr(0, nl);
    input = nl == std::string_view::npos ? std::string_view() : input.substr(nl + 1);
    // The padding holds junk, not spaces: parse() may read it but must not take it as content.
    padded.assign(line);
    padded.append(kJsonPadding, '}');
    const bool ok = parser.parse(std::string_view(padded.data(), line.size()), &fill, &error);
    const bool ok_unpadded = parser.parse_unpadded(line, &again, &error_unpadded);
    require(ok == ok_unpadded);
    // parse_line: a fill exactly where parse() takes one; else a price record (which parse()
    // refuses) or the same refusal. A price record's writer line parses back to it.
    NativeLine kind = NativeLine::kFill;
    PriceRecord price, price_again;
    Fill line_fill;
    ParseError line_error;
    const bool ok_line = parser.parse_line_unpadded(line, &kind, &line_fill, &price, &line_error);
    require(ok_line == ok || (ok_line && kind == NativeLine::kPrice));
    if (ok_line && kind == NativeLine::kFill) require(same_fill(line_fill, again));
    if (ok_line && kind == NativeLine::kPrice) {
      require(price.recv_ns > 0 && price.instrument < instruments.size());
      require(std::isfinite(price.price) || std::isfinite(price.mark_price) || std::isfinite(price.underlying_price));
      encoded.clear();
      append_native_price(encoded, price, native_symbol(instruments.get(price.instrument)));
      encoded.pop_back();
      require(parser.parse_line_unpadded(encoded, &kind, &line_fill, &price_again, &line_error));
      require(kind == NativeLine::kPrice && price_again.instrument == price.instrument &&
              price_again.recv_ns == price.recv_ns);
      for (auto [a, b] :
           {std::pair{price.price, price_again.price}, std::pair{price.mark_price, price_again.mark_price},
            std::pair{price.underlying_price, price_again.underlying_price}})
        require((std::isnan(a) && std::isnan(b)) || a == b);
    }
    if (!ok) {
      // Same reason; the detail may differ: on a truncated document simdjson's message depends
      // on what the padding holds.
      require(!error.detail.empty() && error.reason == error_unpadded.reason);
      continue;
    }
    require(same_fill(fill, again));
    check_fill(fill, accounts, instruments);
    // The writer's line parses back to the same fill.
    encoded.clear();
    append_native_fill(encoded, fill, accounts.name(fill.account), native_symbol(instruments.get(fill.instrument)));
    require(encoded.size() > 1 && encoded.back() == '\n' && encoded.find('\n') == encoded.size() - 1);
    encoded.pop_back();
    if (!parser.parse_unpadded(encoded, &again, &error)) __builtin_trap();
    require(same_fill(fill, again));
  }
  return 0;
}
