#include "service/ingest/venue_positions_fetch.h"

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>

#include "core/str_cat.h"
#include "protocol/venues/binance/history.h"
#include "protocol/venues/bybit/history.h"
#include "service/base/log.h"
#include "service/net/http_client.h"
#include "service/net/ws_client.h"
#include "simdjson.h"

namespace segmentd {

struct PositionsTimer {
  explicit PositionsTimer(boost::asio::io_context& ioc) : timer(ioc) {}
  boost::asio::steady_timer timer;
};

bool positions_snapshot_over_rest(Venue venue) { return venue == Venue::kBinance || venue == Venue::kBybit; }

VenuePositionsFetch::VenuePositionsFetch(boost::asio::io_context& ioc, Options options,
                                         const ControlCredentials& credentials, Post post, Deliver deliver,
                                         SourceStats& stats)
    : ioc_(ioc),
      options_(std::move(options)),
      credentials_(credentials),
      post_(std::move(post)),
      deliver_(std::move(deliver)),
      stats_(stats),
      backoff_(options_.backoff),
      timer_(std::make_unique<PositionsTimer>(ioc)),
      alive_(std::make_shared<bool>(true)) {}

VenuePositionsFetch::~VenuePositionsFetch() {
  *alive_ = false;
  timer_->timer.cancel();
}

void VenuePositionsFetch::stop() {
  stopped_ = true;
  timer_->timer.cancel();
}

void VenuePositionsFetch::fetch() {
  if (stopped_) return;
  if (running_) {
    again_ = true;  // a reconnect during a snapshot: a fresh one when this one ends
    return;
  }
  begin();
}

void VenuePositionsFetch::begin() {
  running_ = true;
  calls_.clear();
  call_ = 0;
  cursor_.clear();
  snapshot_ns_ = 0;
  if (options_.venue == Venue::kBybit) {
    calls_ = {{"linear", "USDT"}, {"linear", "USDC"}, {"inverse", ""}, {"option", ""}};
  } else {
    calls_ = {{"", ""}};
  }
  call();
}

void VenuePositionsFetch::call() {
  if (stopped_) return;
  const std::int64_t now = wall_clock_ns() / 1'000'000;
  const std::string key(credentials_.key.reveal()), secret(credentials_.secret.reveal());
  const Call& c = calls_[call_];
  control::RestCall rc =
      options_.venue == Venue::kBybit
          ? control::bybit_position_list_request(key, secret, c.category, c.settle_coin, cursor_, now)
          : control::binance_position_risk_request(key, secret, now, options_.binance_market);
  call_ns_ = wall_clock_ns();
  if (snapshot_ns_ == 0) snapshot_ns_ = call_ns_;
  HttpRequest req;
  req.method = rc.method;
  req.url = options_.rest_url + rc.target;
  req.headers = std::move(rc.headers);
  req.body = std::move(rc.body);
  req.timeout_ns = options_.timeout_ns;
  req.tls_verify = options_.tls_verify;
  req.ca_file = options_.ca_file;
  req.max_body_bytes = 16 << 20;
  std::weak_ptr<bool> alive = alive_;
  async_http_request(ioc_, std::move(req), [this, alive](absl::StatusOr<HttpResponse> r) mutable {
    auto a = alive.lock();
    if (!a || !*a) return;
    post_([this, alive, r = std::move(r)]() mutable {
      auto a2 = alive.lock();
      if (!a2 || !*a2 || stopped_) return;
      on_answer(std::move(r));
    });
  });
}

void VenuePositionsFetch::on_answer(absl::StatusOr<HttpResponse> r) {
  std::string detail;
  if (!r.ok()) {
    detail = std::string(r.status().message());
  } else if (r->status != 200) {
    detail = str_cat("HTTP ", r->status);
  }
  std::string next_cursor;
  if (detail.empty() && options_.venue == Venue::kBybit) {
    // Bybit: a rate limit or an error is a 200 with retCode; the pages go on by nextPageCursor.
    simdjson::dom::parser parser;
    simdjson::dom::element root;
    std::int64_t code = -1;
    if (parser.parse(r->body.data(), r->body.size()).get(root) || root["retCode"].get(code) || code != 0) {
      detail = str_cat("venue error ", code);
    } else {
      std::string_view cursor;
      if (!root["result"]["nextPageCursor"].get(cursor)) next_cursor = std::string(cursor);
    }
  }
  const bool last = call_ + 1 == calls_.size() && next_cursor.empty();
  if (detail.empty() && !deliver_(r->body, last, snapshot_ns_, call_ns_)) detail = "an answer the adapter refused";
  if (!detail.empty()) {
    SourceStats::add(stats_.position_snapshot_failures);
    SEGMENTD_LOG_WARN("ingest", "positions snapshot call failed", {"source", options_.source},
                      {"account", credentials_.account}, {"detail", detail});
    return retry();
  }
  backoff_.reset();
  if (!next_cursor.empty()) {
    cursor_ = next_cursor;
    return call();
  }
  cursor_.clear();
  if (++call_ < calls_.size()) return call();
  running_ = false;
  SourceStats::add(stats_.position_snapshots);
  if (again_ && !stopped_) {
    again_ = false;
    begin();
  }
}

void VenuePositionsFetch::retry() {
  timer_->timer.expires_after(std::chrono::nanoseconds(backoff_.next_delay_ns()));
  std::weak_ptr<bool> alive = alive_;
  timer_->timer.async_wait([this, alive](const boost::system::error_code& ec) {
    if (ec) return;
    auto a = alive.lock();
    if (!a || !*a) return;
    post_([this, alive] {
      auto a2 = alive.lock();
      if (!a2 || !*a2 || stopped_) return;
      call();
    });
  });
}

}  // namespace segmentd
