#pragma once
// Deribit control plane (JSON-RPC 2.0): the messages a session sends, and the parser with which
// the venue side (tools/fillsim) reads and verifies them. Pure functions, no I/O.
//
// Auth with grant_type client_signature (docs.deribit.com, public/auth):
//   signature = hex(HMAC-SHA256(client_secret, timestamp + "\n" + nonce + "\n" + data))
// Heartbeats: after public/set_heartbeat {interval}, the venue sends heartbeat test_request
// notifications that must be answered with public/test, or it closes the connection.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/parse_error.h"

namespace segmentd::control {

std::string deribit_signature(std::string_view client_secret, std::int64_t timestamp_ms, std::string_view nonce,
                              std::string_view data);
//! public/auth with grant_type client_signature. The secret only enters the signature.
std::string deribit_auth_request(std::int64_t id, std::string_view client_id, std::string_view client_secret,
                                 std::int64_t timestamp_ms, std::string_view nonce, std::string_view data = {});
std::string deribit_set_heartbeat_request(std::int64_t id, int interval_seconds);
//! The answer to a heartbeat test_request.
std::string deribit_test_request(std::int64_t id);
//! private/subscribe (needed for raw user channels), e.g. {"user.trades.any.any.raw"}.
std::string deribit_subscribe_request(std::int64_t id, const std::vector<std::string>& channels);

//! A client request as the venue reads it.
struct DeribitRequest {
  std::int64_t id = -1;
  std::string method;
  // public/auth
  std::string grant_type;
  std::string client_id;
  std::int64_t timestamp_ms = 0;
  std::string signature;
  std::string nonce;
  std::string data;
  // public/set_heartbeat
  int interval_seconds = 0;
  // public|private/subscribe
  std::vector<std::string> channels;
};

//! The id our sessions give private/get_positions: its answer (a list of positions, possibly
//! empty) is a complete snapshot, and the adapter knows it by this id.
inline constexpr std::int64_t kDeribitPositionsRequestId = 4;
//! private/get_positions of every currency and kind: the account's open positions.
std::string deribit_get_positions_request(std::int64_t id = kDeribitPositionsRequestId);
//! The channels of position changes (user.changes.{kind}.any.raw, kinds future and option).
inline constexpr const char* kDeribitPositionChannels[] = {"user.changes.future.any.raw",
                                                           "user.changes.option.any.raw"};

bool parse_deribit_request(std::string_view message, DeribitRequest& out, ParseError& err);
//! True when `r` is a client_signature auth signed with `client_secret`.
bool verify_deribit_auth(const DeribitRequest& r, std::string_view client_secret);

}  // namespace segmentd::control
