#pragma once
// The trade ids a client must end up with, read back from the fill frames this server sends, by
// a path of its own: a plain simdjson DOM walk to each venue's raw trade id fields, joined into
// the project's dedup key (tests/fixtures/exchanges/README.md):
//   deribit:<trade_id>   okx:<instId>:<tradeId>   binance:<o.s>:<o.t> (options: <o[].s>:<o[].fi[].t>)
//   bybit:<execId>
//   hyperliquid:<tid>:<data.user>
// and hashed with core/fill.h's stable_hash (0 is written as 1: 0 means "no trade id" in a Fill).
// Never the venue adapters: expected ids that came from the decoder under test would agree with
// it whatever it did (issue 23, item 4).

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/types.h"

namespace fillsim {

//! The dedup keys of every fill in one frame, in order; false when the frame is not a fill push
//! of `venue` that this reader understands.
bool frame_dedup_keys(segmentd::Venue venue, std::string_view frame, std::vector<std::string>& keys);

//! stable_hash of a dedup key, as Fill::trade_id holds it.
std::uint64_t dedup_key_hash(std::string_view key);

}  // namespace fillsim
