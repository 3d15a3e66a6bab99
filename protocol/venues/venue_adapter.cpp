#include "protocol/venues/venue_adapter.h"

#include "protocol/native_format.h"

namespace segmentd {

std::string_view to_string(MessageKind k) {
  switch (k) {
    case MessageKind::kFills: return "fills";
    case MessageKind::kHeartbeat: return "heartbeat";
    case MessageKind::kTestRequest: return "test_request";
    case MessageKind::kAuthResult: return "auth_result";
    case MessageKind::kSubscriptionAck: return "subscription_ack";
    case MessageKind::kPong: return "pong";
    case MessageKind::kOrderUpdate: return "order_update";
    case MessageKind::kVenueError: return "venue_error";
    case MessageKind::kIgnored: return "ignored";
    case MessageKind::kUnknown: return "unknown";
    case MessageKind::kMarketData: return "market_data";
    case MessageKind::kPositions: return "positions";
  }
  return "?";
}

bool VenueAdapter::decode_unpadded(std::string_view message, std::int64_t recv_ns, std::vector<Fill>& out,
                                   DecodeOutcome& outcome, ParseError& error) {
  padded_.assign(message.data(), message.size());
  padded_.append(kJsonPadding, '\0');
  return decode(std::string_view(padded_.data(), message.size()), recv_ns, out, outcome, error);
}

}  // namespace segmentd
