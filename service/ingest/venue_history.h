#pragma once
// The venue gap-fill: after a restart and after every reconnect a session fetches its account's
// fills since the last trade it saw from the venue's REST trade history (the request shapes,
// signatures, page limits and pagination are in protocol/venues/<venue>/history.h), page by page,
// and hands each page to the session as the stream messages the venue would have pushed, so the
// session's adapter decodes them and its TradeDedup drops what the live stream delivers meanwhile.
//
//   Deribit      private/get_user_trades_by_currency_and_time over HTTP, per currency, by time
//   OKX          /api/v5/trade/fills, newest first, `after` = the oldest billId of the last page
//   Binance      USDⓈ-M /fapi/v1/userTrades, per configured symbol, startTime then fromId;
//                options /eapi/v1/userTrades, every symbol at once, startTime then fromId
//   Bybit        /v5/execution/list, per category, in windows of 7 days, nextPageCursor
//   Hyperliquid  /info userFillsByTime, by time (unsigned)
//
// A failed call (no answer, an HTTP error, the venue's rate limit, a body that does not parse) is
// counted in GapFillStats, logged, and retried with backoff; the live stream flows meanwhile.
// A fetch asked for while one runs starts when it ends.
//
// Threading: used from its session's strand; HTTP answers and timers come back through `post`.

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "core/types.h"
#include "protocol/venues/binance/control.h"
#include "service/ingest/venue_control.h"
#include "service/net/backoff.h"

namespace boost::asio {
class io_context;
}

namespace segmentd {

struct HttpResponse;

//! Counters of a source's gap-fills (all its sessions); relaxed atomics like SourceStats.
struct GapFillStats {
  using Counter = std::atomic<std::uint64_t>;
  Counter runs{0};           //!< gap-fills started
  Counter completed{0};      //!< gap-fills that read every page
  Counter requests{0};       //!< REST calls sent
  Counter pages{0};          //!< answers read as a page
  Counter records{0};        //!< trade records in those pages (before de-duplication)
  Counter http_errors{0};    //!< no answer, or an HTTP status other than 200 and 429
  Counter rate_limited{0};   //!< HTTP 429 or the venue's rate-limit code
  Counter bad_responses{0};  //!< a 200 whose body is not a page (malformed JSON, a venue error)
  Counter retries{0};        //!< calls sent again after a backoff
  static std::uint64_t get(const Counter& c) { return c.load(std::memory_order_relaxed); }
  static void add(Counter& c, std::uint64_t n = 1) { c.fetch_add(n, std::memory_order_relaxed); }
};

class VenueHistory {
 public:
  struct Options {
    Venue venue = Venue::kNative;
    std::string rest_url;  //!< "https://www.deribit.com", "https://www.okx.com", ...
    std::int64_t timeout_ns = 10'000'000'000;
    bool tls_verify = true;
    std::string ca_file;
    BackoffConfig backoff;
    std::vector<std::string> currencies;  //!< Deribit
    std::vector<std::string> symbols;     //!< Binance USDⓈ-M
    control::BinanceMarket binance_market = control::BinanceMarket::kUsdM;
    std::string source;  //!< for log lines
  };
  using Post = std::function<void(std::function<void()>)>;
  //! One stream message of a page; called on the strand.
  using Deliver = std::function<void(std::string_view message)>;

  VenueHistory(boost::asio::io_context& ioc, Options options, const ControlCredentials& credentials, Post post,
               Deliver deliver, GapFillStats& stats);
  ~VenueHistory();

  //! Fetches every fill since `since_ms` (venue time, ms).
  void fetch(std::int64_t since_ms);
  //! No more calls or deliveries.
  void stop();
  bool busy() const { return running_; }

 private:
  struct Task {
    std::string group;  //!< Deribit currency, Bybit category, Binance symbol
    std::int64_t since_ms = 0;
    std::int64_t window_end_ms = 0;  //!< Bybit: the 7-day window being paged
    std::string cursor;              //!< Bybit cursor, OKX billId, Binance fromId
  };
  void begin(std::int64_t since_ms);
  void call();
  void on_answer(absl::StatusOr<HttpResponse> r);
  void retry();
  void done();
  bool binance_options() const { return options_.binance_market == control::BinanceMarket::kOptions; }

  boost::asio::io_context& ioc_;
  Options options_;
  ControlCredentials credentials_;
  Post post_;
  Deliver deliver_;
  GapFillStats& stats_;
  Backoff backoff_;
  std::unique_ptr<struct HistoryTimer> timer_;
  std::vector<Task> tasks_;
  std::size_t task_ = 0;
  bool running_ = false;
  bool stopped_ = false;
  std::optional<std::int64_t> queued_since_ms_;
  std::uint64_t nonce_ = 0;
  std::shared_ptr<bool> alive_;  //!< false once destroyed: late timer callbacks do nothing
};

}  // namespace segmentd
