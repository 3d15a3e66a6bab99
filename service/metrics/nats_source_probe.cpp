#include "service/metrics/nats_source_probe.h"

namespace segmentd {
namespace {

prometheus::Gauge& gauge(Metrics& m, const std::string& name, const std::string& help, const std::string& source) {
  return gauge_family(m, name, help).Add({{"source", source}});
}

}  // namespace

NatsSourceProbe::NatsSourceProbe(Metrics& m, const std::string& source)
    : pending_(gauge(m, "segmentd_nats_source_pending_messages",
                     "Messages the stream holds for the consumer after the last one read (the source's lag).", source)),
      read_seq_(gauge(m, "segmentd_nats_source_read_seq", "Stream sequence of the last message read.", source)),
      acked_seq_(gauge(m, "segmentd_nats_source_acked_seq",
                       "Stream sequence acknowledged to the server, after the checkpoint that holds it.", source)),
      behind_(gauge(m, "segmentd_nats_source_behind",
                    "1 while the source has not reached the end of the stream or has lost the server.", source)),
      hook_(m.on_collect([this] { collect(); })) {}

void NatsSourceProbe::sample_from(std::function<NatsSourceSample()> sampler) {
  std::lock_guard<std::mutex> lock(mu_);
  sampler_ = std::move(sampler);
}

void NatsSourceProbe::collect() {
  NatsSourceSample s;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!sampler_) return;
    s = sampler_();
  }
  pending_.Set(static_cast<double>(s.pending));
  read_seq_.Set(static_cast<double>(s.read_seq));
  acked_seq_.Set(static_cast<double>(s.acked_seq));
  behind_.Set(s.behind ? 1.0 : 0.0);
}

}  // namespace segmentd
