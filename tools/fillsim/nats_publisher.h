#pragma once
// fillsim --nats: the simulator's fills published to a NATS JetStream stream, partitioned as a
// feed for segmentd's sources of kind "nats" (protocol/README.md, "Over NATS JetStream"): each
// account's fills go to <subject_prefix>.<partition>, partition_of_account(account, partitions),
// up to `batch` fills per message, in the order they happened. Publishes are asynchronous with
// at most `max_pending` unacknowledged; finish() waits for the stream to acknowledge them all.
//
//   auto pub = NatsPublisher::connect(config);   // creates the stream when it is absent
//   (*pub)->add(account, line);  ...  (*pub)->flush();  ...  (*pub)->finish(10'000);

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace fillsim {

struct NatsPublishConfig {
  std::string url;                                //!< nats://host:port
  std::string stream = "SEGMENTD_FILLS";          //!< created (subjects <subject_prefix>.>) when absent
  std::string subject_prefix = "segmentd.fills";  //!< messages go to <prefix>.<partition>
  int partitions = 8;
  int batch = 64;          //!< fills per message at most
  int max_pending = 4096;  //!< unacknowledged publishes in flight
  std::string token;       //!< the server's auth token ("" = none)
};

class NatsPublisher {
 public:
  static absl::StatusOr<std::unique_ptr<NatsPublisher>> connect(const NatsPublishConfig& config);
  ~NatsPublisher();
  NatsPublisher(const NatsPublisher&) = delete;
  NatsPublisher& operator=(const NatsPublisher&) = delete;

  //! Adds one native line (with its '\n') of `account`; its partition's message goes out when
  //! it holds `batch` fills.
  absl::Status add(std::string_view account, std::string_view line);
  //! Sends every partly filled message (live pacing calls it at each of its flushes).
  absl::Status flush();
  //! Sends what is left and waits up to `timeout_ms` for every acknowledgement. An error when
  //! the server refused or never acknowledged a message.
  absl::Status finish(std::int64_t timeout_ms);

  std::uint64_t messages() const { return messages_; }
  std::uint64_t failed() const { return failed_.load(std::memory_order_relaxed); }

 private:
  struct Nats;
  explicit NatsPublisher(NatsPublishConfig config);
  absl::Status send(int partition);

  NatsPublishConfig config_;
  std::unique_ptr<Nats> nats_;
  std::vector<std::string> pending_;  //!< per partition: lines not sent yet
  std::vector<int> pending_fills_;
  std::vector<std::string> subjects_;
  std::uint64_t messages_ = 0;
  std::atomic<std::uint64_t> failed_{0};
};

}  // namespace fillsim
