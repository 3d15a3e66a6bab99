#pragma once
// The admin HTTP API (protocol/publisher/publisher.md), served by Beast on its own I/O thread:
//
//   GET /healthz           200 "ok" while the process serves requests (liveness)
//   GET /readyz            200 when every readiness check passes, else 503; JSON body lists them
//   GET /metrics           Prometheus exposition text from `handlers.metrics` (404 when unset)
//   GET /v1/segments       the model in original units: segments, sizes, labels, policy
//   GET /v1/accounts/{id}  one account: raw and scaled features, segment, distances to every
//                          centroid, confidence, recent changes (404 when unknown)
//   GET /v1/overview       the console's dashboard: quality, throughput, readiness, the
//                          population's percentiles, segment sizes over time, the publisher's seq
//   GET /v1/map            the console's map: a sample of accounts projected to 2-D
//   GET /                  the console (service/admin/console/): its page with a session, else
//                          the login form; POST /console/login (form field `token`) opens a
//                          session, POST /console/logout ends it; /console/<file> its scripts
//                          and styles (docs/console.md)
//
// /v1/* requires "Authorization: Bearer <token>" or the console's session cookie (401 otherwise,
// logged with the peer's address, never the token); POST /v1/checkpoint takes the token only (the
// console changes nothing). /healthz, /readyz and /metrics are open (probes and Prometheus) and
// answered even while max_connections are held (admin_session.h, "Connections"). GET and HEAD,
// and the POSTs named above; keep-alive; bounded requests.
//
// Handlers run on the admin I/O thread, one request at a time: they may block briefly (e.g.
// wait for a shard's answer) without touching the publisher or ingest. They must be set before
// start() and stay valid until stop().

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "core/model.h"
#include "protocol/publisher/admin_messages.h"
#include "service/config/publisher_config.h"
#include "service/net/console_sessions.h"

namespace segmentd {

struct AdminHandlers {
  std::function<std::vector<ReadinessCheck>()> readiness;                       //!< unset → ready
  std::function<ModelPtr()> model;                                              //!< the current model (may return null)
  std::function<std::optional<AccountView>(std::string_view account)> account;  //!< nullopt → 404
  std::function<std::string()> metrics;                                         //!< Prometheus text format
  //! GET /v1/checkpoint: the state directory and the last write, as JSON (unset → 404, disabled).
  std::function<std::string()> checkpoint_status;
  //! POST /v1/checkpoint: starts a write now and calls `done` once, from any thread, with whether
  //! it worked and its result as JSON. The write takes seconds at millions of accounts; the admin
  //! thread serves other requests (probes, scrapes) meanwhile.
  using CheckpointDone = std::function<void(bool ok, std::string body)>;
  std::function<void(CheckpointDone done)> checkpoint_now;
  //! GET /v1/overview and GET /v1/map, as JSON (unset → 404).
  std::function<std::string()> overview;
  std::function<std::string()> map;
  //! GET /v1/risk/exposure, as JSON (unset → 404; "" → 503, the shards are not running).
  std::function<std::string()> exposure;
  //! GET /v1/risk/scenarios, as JSON (unset → 404; "" → 503, the shards are not running).
  std::function<std::string()> scenarios;
  //! The exposure /v1/segments shows beside the model (unset or null: "exposure": null).
  std::function<std::shared_ptr<const ExposureView>()> exposure_view;
  //! GET /v1/risk/regime, as JSON (unset → 404: [regime] enabled = false).
  std::function<std::string()> regime;
  //! The console's logins, shared with the publisher (whose websocket accepts them for the live
  //! feed); null → the admin server keeps its own.
  std::shared_ptr<ConsoleSessions> console_sessions;
  //! Where the console's live feed connects (the Content-Security-Policy names it): the
  //! publisher's port on the host the browser used, 0 = no publisher.
  std::uint16_t publisher_port = 0;
  bool publisher_tls = false;
};

//! Counters for metrics and tests; relaxed atomic reads, any thread.
struct AdminStats {
  std::uint64_t connections = 0;    //!< connections holding a slot of max_connections
  std::uint64_t auth_failures = 0;  //!< /v1 requests answered 401 (each logged with the peer)
  std::uint64_t over_capacity = 0;  //!< requests that came past max_connections (probes answered, others 503)
  std::uint64_t evicted = 0;        //!< connections with no request yet, displaced by newer ones
};

class AdminServer {
 public:
  AdminServer(const AdminConfig& config, AdminHandlers handlers);
  ~AdminServer();  //!< stop()
  AdminServer(const AdminServer&) = delete;
  AdminServer& operator=(const AdminServer&) = delete;

  absl::Status start();
  void stop();
  std::uint16_t port() const;
  //! Valid after start().
  AdminStats stats() const;

 private:
  struct Io;
  AdminConfig config_;
  std::unique_ptr<Io> io_;
};

}  // namespace segmentd
