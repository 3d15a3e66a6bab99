#include "service/metrics/admin_probe.h"

namespace segmentd {

AdminProbe::AdminProbe(Metrics& m)
    : connections_(gauge_family(m, "segmentd_admin_connections", "Admin API connections holding a slot.").Add({})),
      auth_failures_(counter_family(m, "segmentd_admin_auth_failures_total",
                                    "Admin /v1 requests refused with 401 for a missing or bad token.")
                         .Add({})),
      over_capacity_(counter_family(m, "segmentd_admin_over_capacity_total",
                                    "Admin requests that came past max_connections (probes answered, others 503).")
                         .Add({})),
      evicted_(counter_family(m, "segmentd_admin_evicted_total",
                              "Admin connections with no request yet, displaced by newer ones.")
                   .Add({})),
      hook_(m.on_collect([this] { collect(); })) {}

void AdminProbe::sample_from(std::function<AdminSample()> sampler) {
  std::lock_guard<std::mutex> lock(mu_);
  sampler_ = std::move(sampler);
}

void AdminProbe::collect() {
  AdminSample s;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!sampler_) return;
    s = sampler_();
  }
  connections_.Set(static_cast<double>(s.connections));
  auth_failures_.sync(s.auth_failures);
  over_capacity_.sync(s.over_capacity);
  evicted_.sync(s.evicted);
}

}  // namespace segmentd
