#pragma once
// `segmentd decode --venue VENUE FILE`: what segmentd makes of captured venue messages. The file
// holds one message (pretty-printed or not) or NDJSON, one message per line. Every Fill is
// printed to `out` in the native format (protocol/native_format.h), so the output can be
// replayed; every message gets a line on `err` saying what it was and why ("message 3:
// order_update: orders push without an execution ..."), bad ones with the parse error reason.
//
// Fills get ts_ns = their venue time (deterministic output); the wall clock only when the
// message carries none.

#include <ostream>
#include <string>

namespace segmentd {

//! Returns 0 when every message decoded (fills or not), 1 when some message was rejected,
//! 2 for a usage error (unknown venue, unreadable file). `account` is the configured account of a
//! private stream (Hyperliquid: the user address for "user" messages).
int run_decode(const std::string& venue, const std::string& path, const std::string& account, std::ostream& out,
               std::ostream& err);

}  // namespace segmentd
