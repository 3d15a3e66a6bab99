// libFuzzer target for one venue adapter (SEGMENTD_FUZZ_VENUE picks it; tests/fuzz/CMakeLists.txt
// builds one binary per venue). Checks the decode() contract on arbitrary bytes: no crash or
// sanitizer report, a rejected message appends nothing, every fill has finite, positive units.

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "core/account_interner.h"
#include "core/instrument_registry.h"
#include "protocol/native_format.h"
#include "protocol/venues/registry.h"
#include "protocol/venues/venue_adapter.h"

namespace {

using namespace segmentd;

struct Harness {
  AccountInterner accounts;
  InstrumentRegistry instruments{segmentd::parse_symbol};
  std::unique_ptr<VenueAdapter> adapter;
  std::vector<Fill> fills;
  std::string buffer;

  Harness() {
    AdapterContext ctx;
    ctx.accounts = &accounts;
    ctx.instruments = &instruments;
    ctx.account = "0x15f43d1f2dee81424afd891943262aa90f22cc2a";
    adapter = make_venue_adapter(Venue::SEGMENTD_FUZZ_VENUE, std::move(ctx));
  }
};

void require(bool ok) {
  if (!ok) __builtin_trap();
}

bool finite_or_nan(double v) { return std::isnan(v) || std::isfinite(v); }

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static Harness h;
  // Exactly the message, then the padding decode() may read: ASan catches any read beyond it.
  h.buffer.assign(reinterpret_cast<const char*>(data), size);
  h.buffer.append(kJsonPadding, '\0');
  h.fills.clear();
  h.fills.push_back(Fill{});  // a fill from an earlier message must survive any outcome
  DecodeOutcome outcome;
  ParseError error;
  const bool ok = h.adapter->decode(std::string_view(h.buffer.data(), size), 1, h.fills, outcome, error);
  require(h.fills.size() >= 1 && h.fills[0].trade_id == 0);
  if (!ok) {
    require(h.fills.size() == 1);
    require(!error.detail.empty());
    return 0;
  }
  require(h.fills.size() == 1 + outcome.fills);
  for (std::size_t i = 1; i < h.fills.size(); ++i) {
    const Fill& f = h.fills[i];
    require(std::isfinite(f.qty) && f.qty > 0);
    require(std::isfinite(f.price) && f.price > 0);
    require(std::isfinite(f.notional_usd) && f.notional_usd >= 0);
    require(finite_or_nan(f.fee_usd) && finite_or_nan(f.iv) && finite_or_nan(f.underlying_price) &&
            finite_or_nan(f.mark_price));
    require(f.trade_id != 0);
    require(f.venue == Venue::SEGMENTD_FUZZ_VENUE);
    // The native writer must cope with whatever the adapter produced.
    std::string line;
    append_native_fill(line, f, h.accounts.name(f.account), h.instruments.get(f.instrument).symbol);
    require(!line.empty() && line.back() == '\n');
  }
  return 0;
}
