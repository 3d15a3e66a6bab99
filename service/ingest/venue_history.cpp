#include "service/ingest/venue_history.h"

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>

#include "core/str_cat.h"
#include "protocol/venues/binance/history.h"
#include "protocol/venues/bybit/history.h"
#include "protocol/venues/deribit/history.h"
#include "protocol/venues/hyperliquid/history.h"
#include "protocol/venues/okx/history.h"
#include "service/base/log.h"
#include "service/net/http_client.h"
#include "service/net/ws_client.h"

namespace segmentd {

struct HistoryTimer {
  explicit HistoryTimer(boost::asio::io_context& ioc) : timer(ioc) {}
  boost::asio::steady_timer timer;
};

namespace {

std::int64_t now_ms() { return wall_clock_ns() / 1'000'000; }

//! Bybit's categories of a unified account; each has its own history.
constexpr std::string_view kBybitCategories[] = {"linear", "inverse", "option", "spot"};

}  // namespace

VenueHistory::VenueHistory(boost::asio::io_context& ioc, Options options, const ControlCredentials& credentials,
                           Post post, Deliver deliver, GapFillStats& stats)
    : ioc_(ioc),
      options_(std::move(options)),
      credentials_(credentials),
      post_(std::move(post)),
      deliver_(std::move(deliver)),
      stats_(stats),
      backoff_(options_.backoff),
      timer_(std::make_unique<HistoryTimer>(ioc)),
      alive_(std::make_shared<bool>(true)) {}

VenueHistory::~VenueHistory() {
  *alive_ = false;
  timer_->timer.cancel();
}

void VenueHistory::stop() {
  stopped_ = true;
  timer_->timer.cancel();
}

void VenueHistory::fetch(std::int64_t since_ms) {
  if (stopped_) return;
  if (running_) {
    // One at a time: the one asked for last starts when this one ends, from the older point.
    queued_since_ms_ = queued_since_ms_ ? std::min(*queued_since_ms_, since_ms) : since_ms;
    return;
  }
  begin(since_ms);
}

void VenueHistory::begin(std::int64_t since_ms) {
  running_ = true;
  GapFillStats::add(stats_.runs);
  tasks_.clear();
  task_ = 0;
  const std::int64_t now = now_ms();
  auto add = [&](std::string group) {
    Task t;
    t.group = std::move(group);
    t.since_ms = since_ms;
    t.window_end_ms = std::min(now, since_ms + control::kBybitMaxWindowMs);
    tasks_.push_back(std::move(t));
  };
  switch (options_.venue) {
    case Venue::kDeribit:
      for (const auto& c : options_.currencies) add(c);
      break;
    case Venue::kBybit:
      for (std::string_view c : kBybitCategories) add(std::string(c));
      break;
    case Venue::kBinance:
      if (binance_options()) {
        add("");
      } else {
        for (const auto& s : options_.symbols) add(s);
      }
      break;
    case Venue::kOkx:
    case Venue::kHyperliquid: add(""); break;
    case Venue::kNative: break;
  }
  call();
}

void VenueHistory::done() {
  running_ = false;
  GapFillStats::add(stats_.completed);
  if (queued_since_ms_ && !stopped_) {
    const std::int64_t since = *queued_since_ms_;
    queued_since_ms_.reset();
    begin(since);
  }
}

void VenueHistory::call() {
  if (stopped_) return;
  if (task_ >= tasks_.size()) return done();
  Task& t = tasks_[task_];
  const std::int64_t now = now_ms();
  const std::string key(credentials_.key.reveal()), secret(credentials_.secret.reveal());
  control::RestCall c;
  switch (options_.venue) {
    case Venue::kDeribit:
      c = control::deribit_user_trades_request(key, secret, t.group, t.since_ms, now + 1000,
                                               control::kDeribitUserTradesMaxCount, now,
                                               str_cat("n", now, "x", ++nonce_));
      break;
    case Venue::kOkx:
      c = control::okx_fills_request(key, secret, credentials_.passphrase.reveal(), t.since_ms, t.cursor,
                                     control::kOkxFillsMaxLimit, now);
      break;
    case Venue::kBinance:
      if (binance_options()) {
        c = control::binance_options_user_trades_request(key, secret, t.since_ms,
                                                         t.cursor.empty() ? -1 : std::stoll(t.cursor),
                                                         control::kBinanceUserTradesMaxLimit, now);
        break;
      }
      c = control::binance_user_trades_request(key, secret, t.group, t.since_ms,
                                               t.cursor.empty() ? -1 : std::stoll(t.cursor),
                                               control::kBinanceUserTradesMaxLimit, now);
      break;
    case Venue::kBybit:
      c = control::bybit_execution_list_request(key, secret, t.group, t.since_ms, t.window_end_ms, t.cursor,
                                                control::kBybitExecutionListMaxLimit, now);
      break;
    case Venue::kHyperliquid:
      c = control::hyperliquid_user_fills_by_time_request(credentials_.account, t.since_ms);
      break;
    case Venue::kNative: return done();
  }
  HttpRequest req;
  req.method = c.method;
  req.url = options_.rest_url + c.target;
  req.headers = std::move(c.headers);
  req.body = std::move(c.body);
  req.timeout_ns = options_.timeout_ns;
  req.tls_verify = options_.tls_verify;
  req.ca_file = options_.ca_file;
  req.max_body_bytes = 16 << 20;
  GapFillStats::add(stats_.requests);
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

void VenueHistory::on_answer(absl::StatusOr<HttpResponse> r) {
  const char* what = nullptr;
  std::string detail;
  if (!r.ok()) {
    GapFillStats::add(stats_.http_errors);
    what = "gap-fill call failed";
    detail = std::string(r.status().message());
  } else if (r->status == 429 || r->status == 418) {
    GapFillStats::add(stats_.rate_limited);
    what = "gap-fill rate limited";
    detail = str_cat("HTTP ", r->status);
  } else if (r->status != 200) {
    GapFillStats::add(stats_.http_errors);
    what = "gap-fill call failed";
    detail = str_cat("HTTP ", r->status);
  }
  control::HistoryPage page;
  ParseError err;
  Task& t = tasks_[task_];
  if (what == nullptr) {
    bool ok = false;
    switch (options_.venue) {
      case Venue::kDeribit: ok = control::parse_deribit_user_trades(r->body, page, err); break;
      case Venue::kOkx: ok = control::parse_okx_fills(r->body, control::kOkxFillsMaxLimit, page, err); break;
      case Venue::kBinance:
        ok = binance_options()
                 ? control::parse_binance_options_user_trades(r->body, control::kBinanceUserTradesMaxLimit, page, err)
                 : control::parse_binance_user_trades(r->body, control::kBinanceUserTradesMaxLimit, page, err);
        break;
      case Venue::kBybit: ok = control::parse_bybit_execution_list(r->body, page, err); break;
      case Venue::kHyperliquid:
        ok = control::parse_hyperliquid_user_fills(r->body, credentials_.account, page, err);
        break;
      case Venue::kNative: break;
    }
    if (!ok) {
      // Bybit's rate limit is a 200 with retCode 10006.
      if (err.detail.find("venue error 10006") != std::string::npos) {
        GapFillStats::add(stats_.rate_limited);
        what = "gap-fill rate limited";
      } else {
        GapFillStats::add(stats_.bad_responses);
        what = "gap-fill answer unreadable";
      }
      detail = err.detail;
    }
  }
  if (what != nullptr) {
    SEGMENTD_LOG_WARN("ingest", what, {"source", options_.source}, {"account", credentials_.account},
                      {"detail", detail});
    return retry();
  }
  backoff_.reset();
  GapFillStats::add(stats_.pages);
  GapFillStats::add(stats_.records, page.trades);
  for (const std::string& m : page.stream_messages) deliver_(m);
  // Where the next page starts, or the next task.
  bool next_page = false;
  switch (options_.venue) {
    case Venue::kDeribit:
    case Venue::kHyperliquid:
      // By time: again from the newest time read (that millisecond's trades come again and are
      // dropped as duplicates). A page that moved no further ends the task.
      if (options_.venue == Venue::kHyperliquid) page.more = page.trades > 0;
      if (page.more && page.last_time_ms > t.since_ms) {
        t.since_ms = page.last_time_ms;
        next_page = true;
      }
      break;
    case Venue::kOkx:
    case Venue::kBinance:
      // Until an empty page: a venue may answer fewer than the limit asked for (a smaller
      // maximum than documented) and still have more, which "shorter than the limit" would miss.
      if (page.trades > 0 && !page.cursor.empty()) {
        t.cursor = page.cursor;
        next_page = true;
      }
      break;
    case Venue::kBybit:
      if (page.more) {
        t.cursor = page.cursor;
        next_page = true;
      } else if (t.window_end_ms < now_ms() - 1000) {
        // The next 7-day window.
        t.since_ms = t.window_end_ms;
        t.window_end_ms = std::min(now_ms(), t.since_ms + control::kBybitMaxWindowMs);
        t.cursor.clear();
        next_page = true;
      }
      break;
    case Venue::kNative: break;
  }
  if (!next_page) ++task_;
  call();
}

void VenueHistory::retry() {
  GapFillStats::add(stats_.retries);
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
