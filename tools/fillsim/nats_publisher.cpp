#include "tools/fillsim/nats_publisher.h"

#include <nats/nats.h>

#include "absl/strings/str_cat.h"
#include "protocol/native_format.h"
#include "service/net/nats_error.h"

namespace fillsim {

struct NatsPublisher::Nats {
  natsConnection* nc = nullptr;
  jsCtx* js = nullptr;
};

NatsPublisher::NatsPublisher(NatsPublishConfig config)
    : config_(std::move(config)),
      nats_(std::make_unique<Nats>()),
      pending_(static_cast<std::size_t>(config_.partitions)),
      pending_fills_(static_cast<std::size_t>(config_.partitions), 0) {
  for (int p = 0; p < config_.partitions; ++p) subjects_.push_back(absl::StrCat(config_.subject_prefix, ".", p));
}

NatsPublisher::~NatsPublisher() {
  if (nats_->js != nullptr) jsCtx_Destroy(nats_->js);
  if (nats_->nc != nullptr) {
    natsConnection_Close(nats_->nc);
    natsConnection_Destroy(nats_->nc);
  }
}

absl::StatusOr<std::unique_ptr<NatsPublisher>> NatsPublisher::connect(const NatsPublishConfig& config) {
  if (config.partitions < 1 || config.partitions > 100'000)
    return absl::InvalidArgumentError("--partitions: 1..100000");
  if (config.batch < 1) return absl::InvalidArgumentError("--nats-batch: at least 1");
  std::unique_ptr<NatsPublisher> pub(new NatsPublisher(config));
  natsStatus s = nats_Open(-1);
  natsOptions* opts = nullptr;
  if (s == NATS_OK) s = natsOptions_Create(&opts);
  if (s == NATS_OK) s = natsOptions_SetURL(opts, config.url.c_str());
  if (s == NATS_OK) s = natsOptions_SetName(opts, "fillsim");
  if (s == NATS_OK && !config.token.empty()) s = natsOptions_SetToken(opts, config.token.c_str());
  if (s == NATS_OK) s = natsConnection_Connect(&pub->nats_->nc, opts);
  natsOptions_Destroy(opts);
  if (s != NATS_OK)
    return absl::UnavailableError(absl::StrCat("cannot connect to ", config.url, ": ", segmentd::nats_error(s)));

  jsOptions jo;
  jsOptions_Init(&jo);
  jo.Wait = 10'000;
  jo.PublishAsync.MaxPending = config.max_pending;
  jo.PublishAsync.StallWait = 10'000;
  jo.PublishAsync.ErrHandler = [](jsCtx*, jsPubAckErr* pae, void* closure) {
    (void)pae;
    static_cast<NatsPublisher*>(closure)->failed_.fetch_add(1, std::memory_order_relaxed);
  };
  jo.PublishAsync.ErrHandlerClosure = pub.get();
  s = natsConnection_JetStream(&pub->nats_->js, pub->nats_->nc, &jo);
  if (s != NATS_OK) return absl::UnavailableError(absl::StrCat("cannot open JetStream: ", segmentd::nats_error(s)));

  jsErrCode jerr = static_cast<jsErrCode>(0);
  jsStreamInfo* si = nullptr;
  s = js_GetStreamInfo(&si, pub->nats_->js, config.stream.c_str(), nullptr, &jerr);
  if (s == NATS_NOT_FOUND || jerr == JSStreamNotFoundErr) {
    const std::string all = absl::StrCat(config.subject_prefix, ".>");
    const char* subjects[] = {all.c_str()};
    jsStreamConfig sc;
    jsStreamConfig_Init(&sc);
    sc.Name = config.stream.c_str();
    sc.Subjects = subjects;
    sc.SubjectsLen = 1;
    sc.Storage = js_FileStorage;
    jerr = static_cast<jsErrCode>(0);
    s = js_AddStream(&si, pub->nats_->js, &sc, nullptr, &jerr);
  }
  if (s != NATS_OK)
    return absl::UnavailableError(
        absl::StrCat("stream '", config.stream, "' unavailable: ", segmentd::nats_error(s, jerr)));
  jsStreamInfo_Destroy(si);
  return pub;
}

absl::Status NatsPublisher::add(std::string_view account, std::string_view line) {
  const int p = segmentd::partition_of_account(account, config_.partitions);
  pending_[static_cast<std::size_t>(p)].append(line);
  if (++pending_fills_[static_cast<std::size_t>(p)] >= config_.batch) return send(p);
  return absl::OkStatus();
}

absl::Status NatsPublisher::send(int p) {
  std::string& body = pending_[static_cast<std::size_t>(p)];
  if (body.empty()) return absl::OkStatus();
  const natsStatus s = js_PublishAsync(nats_->js, subjects_[static_cast<std::size_t>(p)].c_str(), body.data(),
                                       static_cast<int>(body.size()), nullptr);
  if (s != NATS_OK)
    return absl::UnavailableError(absl::StrCat("publish to ", subjects_[p], ": ", segmentd::nats_error(s)));
  ++messages_;
  body.clear();
  pending_fills_[static_cast<std::size_t>(p)] = 0;
  return absl::OkStatus();
}

absl::Status NatsPublisher::flush() {
  for (int p = 0; p < config_.partitions; ++p)
    if (absl::Status st = send(p); !st.ok()) return st;
  return absl::OkStatus();
}

absl::Status NatsPublisher::finish(std::int64_t timeout_ms) {
  if (absl::Status st = flush(); !st.ok()) return st;
  jsPubOptions po;
  jsPubOptions_Init(&po);
  po.MaxWait = timeout_ms;
  const natsStatus s = js_PublishAsyncComplete(nats_->js, &po);
  if (s != NATS_OK) return absl::DeadlineExceededError(absl::StrCat("acknowledgements: ", segmentd::nats_error(s)));
  if (failed() > 0) return absl::DataLossError(absl::StrCat(failed(), " messages refused by the server"));
  return absl::OkStatus();
}

}  // namespace fillsim
