// The real Publisher and AdminServer on 127.0.0.1 (ephemeral ports), fed by a deterministic
// scripted stream of SegmentChanges and models (the AdminServer's handlers are scripted too: see
// Script::view), driven line by line on stdin by the Python
// tests in this folder (publisher_test.py). Prints "READY <ws_port> <admin_port>" once serving.
//
// Commands (one per line; each answers one line):
//   publish N [B]   publish the next N changes, B per publish_changes call (default N) → "OK <last_seq>"
//   model           publish the next model version                          → "OK <last_seq>"
//   regime U TO     a regime change of underlying U to TO (calm, stressed, extreme), which
//                   becomes the market regime too                           → "OK <last_seq>"
//   risk            a scripted `risk` message over the live segments        → "OK <last_seq>"
//   sources 0|1     what the scripted readiness check "sources" reports     → "OK"
//   stats           → "STATS {json}" (publisher counters, and the admin server's as admin_*)
//   quit            stop the servers and exit 0
//
// Options: --queue-limit BYTES --ring N --chunk N --heartbeat-ms MS --max-connections N
//          --admin-max-connections N --max-filter N --max-frame BYTES --tls CERT KEY
// Tokens: SEGMENTD_TEST_TOKENS (environment), for both servers.

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <mutex>
#include <sstream>
#include <string>
#include <vector>

#include "core/account_interner.h"
#include "core/model.h"
#include "core/segment_change.h"
#include "core/str_cat.h"
#include "service/admin/admin_server.h"
#include "service/publisher/publisher.h"

using namespace segmentd;

namespace {

constexpr int kAccounts = 50;
constexpr std::int64_t kT0 = 1'700'000'000'000'000'000;
// What the scripted /metrics handler serves, byte for byte (not the pipeline's metrics).
constexpr const char* kScriptedMetrics = "# scripted by publisher_harness\nharness_scripted_metric 1\n";

struct Script {
  AccountInterner names;
  std::mutex mu;  // guards everything below (stdin thread writes, admin thread reads)
  std::uint64_t n = 0;
  std::uint64_t version = 0;
  std::vector<SegmentId> live;
  SegmentId next_id = 1;
  std::vector<SegmentId> current = std::vector<SegmentId>(kAccounts, kNoSegment);
  ModelPtr model;
  bool sources = true;

  Script() {
    for (int a = 0; a < kAccounts; ++a) names.intern(str_cat("acct-", a));
  }

  static std::string label_of(SegmentId id, std::uint64_t version) {
    static const char* kLabels[] = {"market-maker", "hedger", "directional-taker", "vol-seller", "retail"};
    return str_cat(kLabels[(id + (version >= 2 && id == 2 ? 1 : 0)) % 5]);
  }

  ModelPtr next_model() {
    auto m = std::make_shared<Model>();
    m->version = ++version;
    m->ts_ns = kT0 + static_cast<std::int64_t>(n) * 1'000'000;
    m->scaler_version = 1;
    if (version == 1) {
      for (int i = 0; i < 4; ++i) {
        live.push_back(next_id);
        m->events.push_back({ModelEvent::Kind::kBorn, next_id, kNoSegment, label_of(next_id, version), "", "warm-up"});
        ++next_id;
      }
    } else if (version % 3 == 2) {
      SegmentId s = live[1 % live.size()];
      m->events.push_back({ModelEvent::Kind::kRelabelled, s, kNoSegment, label_of(s, version), label_of(s, version - 1),
                           "centroid crossed a label rule"});
    } else if (version % 3 == 0 && live.size() > 2) {
      SegmentId gone = live.back();
      live.pop_back();
      m->events.push_back({ModelEvent::Kind::kRetired, gone, kNoSegment, "", "", "weight below reseed_ratio"});
      live.push_back(next_id);
      m->events.push_back({ModelEvent::Kind::kBorn, next_id, live.front(), label_of(next_id, version), "",
                           "split of highest-SSE segment"});
      ++next_id;
    }
    for (SegmentId id : live) {
      Segment s;
      s.id = id;
      s.label = label_of(id, version);
      for (int f = 0; f < kFeatureCount; ++f) {
        s.centroid[f] = 0.1 * f + id;
        s.centroid_raw[f] = 0.5 * f + 2.0 * id;
      }
      s.weight = 100.0 + id;
      s.size = 10 + id;
      s.policy = SegmentPolicy{1.0 + 0.25 * id, 0.5 * id, 1e6 * id};
      s.stressed_policy = SegmentPolicy{1.5 + 0.25 * id, 1.0 * id, 5e5 * id};
      s.extreme_policy = SegmentPolicy{2.0 + 0.25 * id, 2.0 * id, 2.5e5 * id};
      m->segments.push_back(std::move(s));
    }
    m->quality = ModelQuality{1.5, 0.4, 0.01, 0.02, 0.95};
    model = m;
    return m;
  }

  SegmentChange next_change() {
    const std::uint64_t i = n++;
    const AccountId a = static_cast<AccountId>(i % kAccounts);
    SegmentChange c;
    c.ts_ns = kT0 + static_cast<std::int64_t>(i) * 1'000'000;
    c.recv_ns = c.ts_ns;
    c.account = a;
    c.from = current[a];
    SegmentId to = live[(i * 7 + a) % live.size()];
    if (to == c.from) to = live[(i * 7 + a + 1) % live.size()];
    c.to = to;
    c.confidence = static_cast<double>((i * 37) % 100) / 100.0;
    c.model_version = version;
    c.cause = c.from == kNoSegment ? SegmentChange::Cause::kFirstAssignment : SegmentChange::Cause::kMoved;
    for (int r = 0; r < 2; ++r) {
      c.reasons[r].feature = static_cast<std::int8_t>((i + r * 5) % kFeatureCount);
      c.reasons[r].value = 0.25 * static_cast<double>(i % 13);
      c.reasons[r].centroid_from = 1.0 + r;
      c.reasons[r].centroid_to = 2.0 + r;
    }
    current[a] = to;
    return c;
  }

  // Scripted, not computed: the admin handlers of this harness only give the AdminServer's HTTP
  // layer (routing, auth, percent-decoding, status codes, encoding) something to serve. The real
  // handlers (Pipeline::account_view, its readiness checks and metrics) are tested against a
  // running segmentd in admin_api_test.py.
  std::optional<AccountView> view(std::string_view name) {
    AccountId id = 0;
    if (!names.find(name, &id)) return std::nullopt;
    std::lock_guard lock(mu);
    AccountView v;
    v.account = std::string(name);
    v.segment = current[id];
    v.model_version = version;
    return v;
  }
};

std::string stats_json(const PublisherStats& s, const AdminStats& a) {
  return str_cat("{\"last_seq\":", s.last_seq, ",\"ring_first_seq\":", s.ring_first_seq, ",\"ring_size\":", s.ring_size,
                 ",\"connections\":", s.connections, ",\"subscribers\":", s.subscribers,
                 ",\"queued_bytes\":", s.queued_bytes, ",\"slow_consumer_closes\":", s.slow_consumer_closes,
                 ",\"rejected_connections\":", s.rejected_connections, ",\"auth_failures\":", s.auth_failures,
                 ",\"snapshots\":", s.snapshots, ",\"replays\":", s.replays, ",\"bad_requests\":", s.bad_requests,
                 ",\"messages_published\":", s.messages_published, ",\"catch_ups\":", s.catch_ups,
                 ",\"admin_auth_failures\":", a.auth_failures, ",\"admin_evicted\":", a.evicted,
                 ",\"admin_over_capacity\":", a.over_capacity, "}");
}

}  // namespace

int main(int argc, char** argv) {
  PublisherConfig pc;
  pc.listen.port = 0;
  pc.listen.tokens_env = "SEGMENTD_TEST_TOKENS";
  pc.heartbeat_interval_ns = 200'000'000;
  // Slow-client test: the client drains megabytes after the close; under a sanitizer and ctest -j
  // that has taken minutes.
  pc.close_timeout_ns = 300'000'000'000;
  AdminConfig ac;
  ac.listen.port = 0;
  ac.listen.tokens_env = "SEGMENTD_TEST_TOKENS";
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    auto next = [&]() -> const char* {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "%s needs a value\n", argv[i]);
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--queue-limit")
      pc.queue_limit_bytes = std::strtoull(next(), nullptr, 10);
    else if (a == "--ring")
      pc.replay_ring = std::strtoull(next(), nullptr, 10);
    else if (a == "--chunk")
      pc.snapshot_chunk = std::strtoull(next(), nullptr, 10);
    else if (a == "--heartbeat-ms")
      pc.heartbeat_interval_ns = std::strtoll(next(), nullptr, 10) * 1'000'000;
    else if (a == "--max-connections")
      pc.listen.max_connections = std::atoi(next());
    else if (a == "--admin-max-connections")
      ac.listen.max_connections = std::atoi(next());
    else if (a == "--max-filter")
      pc.max_filter_size = std::strtoull(next(), nullptr, 10);
    else if (a == "--flush-us")
      pc.flush_interval_ns = std::strtoll(next(), nullptr, 10) * 1'000;
    else if (a == "--max-frame")
      pc.max_frame_bytes = std::strtoull(next(), nullptr, 10);
    else if (a == "--tls") {
      pc.listen.tls_cert = ac.listen.tls_cert = next();
      pc.listen.tls_key = ac.listen.tls_key = next();
    } else {
      std::fprintf(stderr, "unknown option %s\n", argv[i]);
      return 2;
    }
  }

  Script script;
  Publisher publisher(pc, script.names);
  AdminHandlers handlers;
  handlers.readiness = [&] {
    std::lock_guard lock(script.mu);
    return std::vector<ReadinessCheck>{{"sources", script.sources, script.sources ? "1/1 connected" : "0/1 connected"},
                                       {"model", script.model != nullptr, script.model ? "ready" : "warming up"}};
  };
  handlers.model = [&] {
    std::lock_guard lock(script.mu);
    return script.model;
  };
  handlers.account = [&](std::string_view name) { return script.view(name); };
  handlers.metrics = [] { return std::string(kScriptedMetrics); };
  AdminServer admin(ac, handlers);
  if (auto s = publisher.start(); !s.ok()) {
    std::fprintf(stderr, "publisher: %s\n", std::string(s.message()).c_str());
    return 1;
  }
  if (auto s = admin.start(); !s.ok()) {
    std::fprintf(stderr, "admin: %s\n", std::string(s.message()).c_str());
    return 1;
  }
  std::printf("READY %u %u\n", publisher.port(), admin.port());
  std::fflush(stdout);

  std::string line;
  while (std::getline(std::cin, line)) {
    std::istringstream in(line);
    std::string cmd;
    in >> cmd;
    if (cmd == "publish") {
      std::size_t n = 0, b = 0;
      in >> n >> b;
      if (b == 0) b = n;
      ModelPtr first;
      {
        std::lock_guard lock(script.mu);
        if (!script.model) first = script.next_model();
      }
      if (first) publisher.publish_model(first);
      std::vector<SegmentChange> batch;
      for (std::size_t done = 0; done < n;) {
        batch.clear();
        {
          std::lock_guard lock(script.mu);
          for (std::size_t k = 0; k < b && done < n; ++k, ++done) batch.push_back(script.next_change());
        }
        publisher.publish_changes(batch);
      }
      std::printf("OK %llu\n", static_cast<unsigned long long>(publisher.stats().last_seq));
    } else if (cmd == "model") {
      ModelPtr m;
      {
        std::lock_guard lock(script.mu);
        m = script.next_model();
      }
      publisher.publish_model(m);
      std::printf("OK %llu\n", static_cast<unsigned long long>(publisher.stats().last_seq));
    } else if (cmd == "regime") {
      std::string underlying, to;
      in >> underlying >> to;
      pubmsg::RegimeChangeInfo c;
      c.to = to == "extreme" ? Regime::kExtreme : to == "stressed" ? Regime::kStressed : Regime::kCalm;
      c.from = publisher.hub()->regime();
      c.market = c.to;
      c.underlying = underlying;
      c.ts_ns = 1'735'000'000'000'000'000 + static_cast<std::int64_t>(publisher.stats().last_seq);
      const std::string reason = str_cat("scripted: ", to);
      c.reason = reason;
      publisher.hub()->publish_regime(c);
      std::printf("OK %llu\n", static_cast<unsigned long long>(publisher.stats().last_seq));
    } else if (cmd == "risk") {
      const std::vector<Shock> shocks = {{-0.1, 0}, {0, 25}};
      const std::vector<double> pnl = {-1000.0, 250.0}, liquidation = {5000.0, 0.0};
      const std::vector<std::uint64_t> over = {2, 0};
      std::vector<std::string> labels;
      std::vector<pubmsg::RiskSegment> rows;
      {
        std::lock_guard lock(script.mu);
        for (SegmentId id : script.live) labels.push_back(Script::label_of(id, script.version));
        for (std::size_t i = 0; i < script.live.size(); ++i)
          rows.push_back({script.live[i], labels[i], 10, 1e6, 1e5, -300.0, 2e6, 1.5, i == 0, pnl, over, liquidation});
      }
      rows.push_back({kNoSegment, "", 3, 2e5, 2e4, 0.0, 2e5, 1.0, false, pnl, over, liquidation});
      pubmsg::RiskInfo r;
      r.ts_ns = 1'735'000'000'000'000'000;
      r.as_of_ns = r.ts_ns - 1;
      r.model_version = 1;
      r.shocks = shocks;
      r.segments = rows;
      publisher.hub()->publish_risk(r, {});
      std::printf("OK %llu\n", static_cast<unsigned long long>(publisher.stats().last_seq));
    } else if (cmd == "sources") {
      int v = 0;
      in >> v;
      std::lock_guard lock(script.mu);
      script.sources = v != 0;
      std::printf("OK\n");
    } else if (cmd == "stats") {
      std::printf("STATS %s\n", stats_json(publisher.stats(), admin.stats()).c_str());
    } else if (cmd == "quit") {
      break;
    } else {
      std::printf("ERR unknown command\n");
    }
    std::fflush(stdout);
  }
  admin.stop();
  publisher.stop();
  return 0;
}
