#include "tools/fillsim/venue_server.h"
#include "protocol/venues/registry.h"

#include <algorithm>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <cctype>
#include <chrono>
#include <cstdlib>
#include <deque>
#include <optional>
#include <thread>

#include "absl/container/flat_hash_map.h"
#include "core/account_interner.h"
#include "core/instrument_registry.h"
#include "core/str_cat.h"
#include "protocol/native_format.h"
#include "protocol/venues/binance/control.h"
#include "protocol/venues/binance/history.h"
#include "protocol/venues/bybit/history.h"
#include "protocol/venues/deribit/history.h"
#include "protocol/venues/hyperliquid/history.h"
#include "protocol/venues/okx/history.h"
#include "protocol/venues/venue_adapter.h"
#include "service/net/stream_ops.h"
#include "sim/simulator.h"
#include "tools/fillsim/frame_trade_ids.h"
#include "tools/fillsim/venue_auth.h"
#include "tools/fillsim/venue_encoders.h"

namespace fillsim {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
namespace ssl = asio::ssl;
namespace beast_ops = segmentd::beast_ops;
using Tcp = asio::ip::tcp;
using beast::error_code;
using segmentd::str_cat;
using segmentd::Venue;

namespace {

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

void fail(error_code ec, std::string_view) {
  // A simulator's connections end all the time in fault tests; the stats count what matters.
  (void)ec;
}

}  // namespace

//! State shared by the listener and every session; touched on the I/O thread only, except the
//! atomics.
struct VenueServer::Io {
  asio::io_context ioc;
  std::thread thread;
};

struct VenueServer::Shared {
  Shared(asio::io_context& ioc, VenueServerOptions& o, VenueServerStats& s)
      : ioc(ioc), options(o), stats(s), acceptor(asio::make_strand(ioc)) {}
  asio::io_context& ioc;
  VenueServerOptions& options;
  VenueServerStats& stats;
  Tcp::acceptor acceptor;
  std::optional<ssl::context> tls;
  std::vector<std::vector<VenueFill>> streams;           //!< per account
  std::unique_ptr<std::atomic<std::size_t>[]> happened;  //!< per account: fills that happened so far
  std::unique_ptr<std::atomic<std::size_t>[]> missed;    //!< per account: ...with nobody subscribed
  std::vector<std::int64_t> start_ms;                    //!< per account: first subscribe; -1 before
  std::vector<int> live;                                 //!< per account: subscribed connections
  //! Per account: the REST rate limit's token bucket.
  struct Bucket {
    double tokens = 0;
    std::int64_t last_ms = -1;
  };
  std::vector<Bucket> buckets;
  std::uint64_t rest_calls = 0;             //!< history calls so far (rest_error_every)
  std::optional<asio::steady_timer> clock;  //!< runs every account's fills on, connected or not
  int away_account = -1;                    //!< away_fills: the dropped account...
  std::size_t away_until = 0;               //!< ...and how far its fills must run before upgrades are accepted

  //! Runs an account's stream on to `now`: every fill due by then happens, stamped with the
  //! wall-clock time it was due at (one message of `batch` fills per 1/messages_per_second).
  void advance(std::size_t a, std::int64_t now) {
    if (start_ms[a] < 0) return;
    auto& stream = streams[a];
    const std::size_t batch = options.venue == Venue::kBinance ? 1 : std::max<std::size_t>(1, options.batch);
    const double period_ms = 1000.0 / std::max(1.0, options.messages_per_second);
    const auto ticks = static_cast<std::size_t>(static_cast<double>(now - start_ms[a]) / period_ms) + 1;
    const std::size_t target = std::min(stream.size(), ticks * batch);
    std::size_t done = happened[a].load();
    if (target <= done) return;
    for (std::size_t i = done; i < target; ++i) {
      const auto due_ms = start_ms[a] + static_cast<std::int64_t>(static_cast<double>(i / batch) * period_ms);
      stream[i].fill.venue_ns = due_ms * 1'000'000;
    }
    if (live[a] == 0) {
      missed[a].fetch_add(target - done);
      stats.missed.fetch_add(target - done);
    }
    happened[a].store(target);
  }
  //! Account `a`'s positions as the venue holds them once the first `upto` fills of its stream
  //! happened: the start position, then every fill; one entry per instrument ever held.
  std::vector<SimPosition> positions_after(std::size_t a, std::size_t upto) const {
    const auto& stream = streams[a];
    std::vector<SimPosition> out;
    auto add = [&out](const VenueFill* vf, double dq, double dv) {
      for (SimPosition& p : out) {
        if (p.sample->symbol != vf->symbol) continue;
        p.qty += dq;
        p.venue_qty += dv;
        p.sample = vf;
        if (std::abs(p.venue_qty) <= 1e-9 * std::abs(dv)) p.qty = p.venue_qty = 0.0;
        return;
      }
      out.push_back(SimPosition{vf, dq, dv});
    };
    // The start position, in the venue's unit: as many of its first fill's size as make it.
    if (!stream.empty() && options.start_position != 0.0) {
      const VenueFill& f0 = stream[0];
      const double per_base = std::abs(venue_size(options.venue, f0)) / f0.fill.qty;
      add(&f0, options.start_position, std::round(options.start_position * per_base * 100) / 100);
    }
    for (std::size_t i = 0; i < upto && i < stream.size(); ++i)
      add(&stream[i], (stream[i].fill.side == segmentd::Side::kBuy ? 1.0 : -1.0) * stream[i].fill.qty,
          venue_size(options.venue, stream[i]));
    return out;
  }
  //! The venue's open interest of a symbol, in its size unit, once the fills that happened so far
  //! did: the open contracts, each with a long and a short side. The accounts trade with the
  //! venue's other users (kSimMarketUser), who hold the other side of their net, so the longs
  //! of all users are max(Σ the accounts' longs, Σ their shorts).
  double open_interest(std::string_view symbol) const {
    double longs = 0.0, shorts = 0.0;
    for (std::size_t a = 0; a < streams.size(); ++a)
      for (const SimPosition& p : positions_after(a, happened[a].load()))
        if (venue_symbol(options.venue, *p.sample) == symbol)
          (p.venue_qty > 0 ? longs : shorts) += std::abs(p.venue_qty);
    return std::max(longs, shorts);
  }
  //! Takes one REST call from account `a`'s bucket; false when it is empty (rate limited).
  bool take_token(std::size_t a, std::int64_t now) {
    const double rate = std::max(0.1, options.history_requests_per_second);
    Bucket& b = buckets[a];
    if (b.last_ms < 0)
      b.tokens = rate;
    else
      b.tokens = std::min(rate, b.tokens + static_cast<double>(now - b.last_ms) * rate / 1000.0);
    b.last_ms = now;
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }
  //! Binance: each account's listenKey. POST returns the live one (and extends it) or makes a
  //! new one once it has expired; PUT extends a live one.
  struct ListenKey {
    std::string key;  //!< "" before the first POST
    std::int64_t expires_ms = 0;
    int generation = 0;
  };
  std::vector<ListenKey> listen_keys;  //!< per account
  bool listen_key_live(int account, std::int64_t now) const {
    const ListenKey& k = listen_keys[static_cast<std::size_t>(account)];
    return !k.key.empty() && now < k.expires_ms;
  }
  int drops = 0;
  std::uint64_t next_conn = 1;
  bool stopping = false;
};

namespace {

template <class Next>
class VenueSession : public std::enable_shared_from_this<VenueSession<Next>> {
 public:
  template <class... Args>
  VenueSession(std::shared_ptr<VenueServer::Shared> shared, Args&&... args)
      : sh_(std::move(shared)), ws_(std::forward<Args>(args)...), timer_(ws_.get_executor()) {
    control_.conn = sh_->next_conn++;
  }
  ~VenueSession() { leave(); }

  void run() {
    beast::get_lowest_layer(ws_).expires_after(std::chrono::seconds(10));
    if constexpr (std::is_same_v<Next, beast::ssl_stream<beast::tcp_stream>>) {
      beast_ops::tls_handshake(ws_.next_layer(), ssl::stream_base::server,
                               [self = this->shared_from_this()](error_code ec) {
                                 if (ec) return fail(ec, "tls");
                                 self->do_read_request();
                               });
    } else {
      do_read_request();
    }
  }

 private:
  VenueServerOptions& opt() { return sh_->options; }
  const VenueServerOptions& opt() const { return sh_->options; }
  VenueServerStats& stats() { return sh_->stats; }

  void do_read_request() {
    parser_.emplace();
    parser_->header_limit(8192);
    parser_->body_limit(16384);
    beast_ops::read_request(ws_.next_layer(), http_buffer_, *parser_,
                            [self = this->shared_from_this()](error_code ec, std::size_t) { self->on_request(ec); });
  }

  void on_request(error_code ec) {
    if (ec) return fail(ec, "read request");
    auto req = parser_->release();
    if (!websocket::is_upgrade(req)) return on_rest(req);
    if (sh_->away_account >= 0) {
      const auto away = static_cast<std::size_t>(sh_->away_account);
      sh_->advance(away, now_ms());
      if (sh_->happened[away].load() < std::min(sh_->away_until, sh_->streams[away].size())) {
        stats().refused_upgrades.fetch_add(1);
        return respond(req, http::status::service_unavailable, R"({"error":"maintenance"})", false);
      }
      sh_->away_account = -1;
    }
    if (opt().venue == Venue::kBinance &&
        std::string_view(req.target().data(), req.target().size()) == kBinancePublicStreamPath) {
      public_stream_ = true;  // the raw market streams: SUBSCRIBE, no listenKey
    } else if (opt().venue == Venue::kBinance) {
      // The user-data stream: /ws/<listenKey>.
      std::string_view target(req.target().data(), req.target().size());
      const std::size_t slash = target.rfind('/');
      const std::string_view key = target.substr(slash == std::string_view::npos ? 0 : slash + 1);
      const std::int64_t now = now_ms();
      for (std::size_t a = 0; a < sh_->listen_keys.size(); ++a)
        if (sh_->listen_keys[a].key == key && sh_->listen_key_live(static_cast<int>(a), now))
          control_.account = static_cast<int>(a);
      if (control_.account < 0)
        return respond(req, http::status::bad_request, R"({"code":-1125,"msg":"This listenKey does not exist."})",
                       true);
      listen_key_ = std::string(key);
    }
    beast::get_lowest_layer(ws_).expires_never();
    ws_.set_option(websocket::stream_base::timeout::suggested(beast::role_type::server));
    ws_.read_message_max(1 << 20);
    beast_ops::accept(ws_, req, [self = this->shared_from_this()](error_code ec) {
      if (ec) return fail(ec, "accept");
      self->on_open();
    });
  }

  // --- REST ----------------------------------------------------------------------------------

  void on_rest(const http::request<http::string_body>& req) {
    std::string_view target(req.target().data(), req.target().size());
    const std::string_view path = target.substr(0, target.find('?'));
    const bool history = (opt().venue == Venue::kBinance && path == binance_history_path()) ||
                         (opt().venue == Venue::kDeribit && path == segmentd::control::kDeribitUserTradesPath) ||
                         (opt().venue == Venue::kOkx && path == segmentd::control::kOkxFillsPath) ||
                         (opt().venue == Venue::kBybit && path == segmentd::control::kBybitExecutionListPath) ||
                         (opt().venue == Venue::kHyperliquid && path == segmentd::control::kHyperliquidInfoPath);
    if (history) return on_history(req, target);
    if ((opt().venue == Venue::kBinance && path == segmentd::control::binance_positions_path(opt().binance_market)) ||
        (opt().venue == Venue::kBybit && path == segmentd::control::kBybitPositionListPath))
      return on_positions_rest(req, target);
    if (opt().venue != Venue::kBinance || path != binance_listen_key_path())
      return respond(req, http::status::not_found, R"({"code":-1,"msg":"not found"})", false);
    auto key_it = req.find("X-MBX-APIKEY");
    std::string_view api_key =
        key_it == req.end() ? std::string_view() : std::string_view(key_it->value().data(), key_it->value().size());
    int account = -1;
    for (std::size_t i = 0; i < opt().accounts.size(); ++i)
      if (opt().accounts[i].key == api_key) account = static_cast<int>(i);
    if (account < 0) {
      stats().listen_key_rejected.fetch_add(1);
      return respond(req, http::status::unauthorized,
                     R"({"code":-2015,"msg":"Invalid API-key, IP, or permissions for action."})", false);
    }
    const std::int64_t now = now_ms();
    auto& lk = sh_->listen_keys[static_cast<std::size_t>(account)];
    if (req.method() == http::verb::post) {
      // Binance: "If the account has an active listenKey, that listenKey will be returned and
      // its validity will be extended"; otherwise a new one.
      if (!sh_->listen_key_live(account, now)) {
        ++lk.generation;
        lk.key = str_cat("simListenKey", account, "x", 1000 + account * 7919, "g", lk.generation);
      }
      lk.expires_ms = now + opt().listen_key_validity_ms;
      stats().listen_keys.fetch_add(1);
      return respond(req, http::status::ok, str_cat(R"({"listenKey":")", lk.key, "\"}"), false);
    }
    if (req.method() == http::verb::put) {
      if (!sh_->listen_key_live(account, now)) {
        stats().keepalive_rejected.fetch_add(1);
        return respond(req, http::status::bad_request, R"({"code":-1125,"msg":"This listenKey does not exist."})",
                       false);
      }
      lk.expires_ms = now + opt().listen_key_validity_ms;
      stats().keepalives.fetch_add(1);
      return respond(req, http::status::ok, str_cat(R"({"listenKey":")", lk.key, "\"}"), false);
    }
    return respond(req, http::status::method_not_allowed, R"({"code":-1,"msg":"method"})", false);
  }

  bool binance_options() const { return opt().binance_market == segmentd::control::BinanceMarket::kOptions; }
  std::string_view binance_history_path() const {
    return binance_options() ? segmentd::control::kBinanceOptionsUserTradesPath
                             : segmentd::control::kBinanceUserTradesPath;
  }
  std::string binance_listen_key_path() const {
    return segmentd::control::binance_listen_key_request(opt().binance_market, segmentd::control::ListenKeyOp::kCreate,
                                                         "")
        .path;
  }

  // --- REST: trade history (the gap-fill) ----------------------------------------------------

  static std::string header(const http::request<http::string_body>& req, std::string_view name) {
    auto it = req.find(name);
    return it == req.end() ? std::string() : std::string(it->value().data(), it->value().size());
  }

  //! The query's parameters, percent-decoded.
  static absl::flat_hash_map<std::string, std::string> query_of(std::string_view target) {
    absl::flat_hash_map<std::string, std::string> q;
    const std::size_t qm = target.find('?');
    if (qm == std::string_view::npos) return q;
    std::string_view rest = target.substr(qm + 1);
    while (!rest.empty()) {
      const std::size_t amp = rest.find('&');
      const std::string_view pair = rest.substr(0, amp);
      rest = amp == std::string_view::npos ? std::string_view() : rest.substr(amp + 1);
      const std::size_t eq = pair.find('=');
      std::string value;
      const std::string_view raw = eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1);
      for (std::size_t i = 0; i < raw.size(); ++i) {
        if (raw[i] == '%' && i + 2 < raw.size() && std::isxdigit(static_cast<unsigned char>(raw[i + 1])) &&
            std::isxdigit(static_cast<unsigned char>(raw[i + 2]))) {
          value.push_back(static_cast<char>(std::stoi(std::string(raw.substr(i + 1, 2)), nullptr, 16)));
          i += 2;
        } else {
          value.push_back(raw[i]);
        }
      }
      q[std::string(pair.substr(0, eq))] = std::move(value);
    }
    return q;
  }

  static std::int64_t int_param(const absl::flat_hash_map<std::string, std::string>& q, const std::string& key,
                                std::int64_t fallback) {
    auto it = q.find(key);
    if (it == q.end() || it->second.empty()) return fallback;
    std::int64_t v = 0;
    for (char ch : it->second) {
      if (ch < '0' || ch > '9') return fallback;
      v = v * 10 + (ch - '0');
    }
    return v;
  }

  //! The venue's answer to a refused signature or key.
  std::string auth_error_body() const {
    switch (opt().venue) {
      case Venue::kDeribit: return R"({"jsonrpc":"2.0","error":{"message":"invalid_credentials","code":13004}})";
      case Venue::kOkx: return R"({"code":"50113","msg":"Invalid Sign","data":[]})";
      case Venue::kBinance: return R"({"code":-1022,"msg":"Signature for this request is not valid."})";
      case Venue::kBybit: return R"({"retCode":10004,"retMsg":"error sign!","result":{},"retExtInfo":{},"time":0})";
      default: return R"({"error":"unauthorized"})";
    }
  }

  //! The venue's rate-limit answer: status and body.
  std::pair<http::status, std::string> rate_limit_answer() const {
    switch (opt().venue) {
      case Venue::kDeribit:
        return {http::status::too_many_requests,
                R"({"jsonrpc":"2.0","error":{"message":"too_many_requests","code":10028}})"};
      case Venue::kOkx:
        return {http::status::too_many_requests, R"({"code":"50011","msg":"Rate limit reached.","data":[]})"};
      case Venue::kBinance:
        return {http::status::too_many_requests,
                R"({"code":-1003,"msg":"Too many requests; current limit is exceeded."})"};
      case Venue::kBybit:  // an API rate limit is an HTTP 200 with its own retCode
        return {http::status::ok,
                R"({"retCode":10006,"retMsg":"Too many visits!","result":{},"retExtInfo":{},"time":0})"};
      default: return {http::status::too_many_requests, "null"};
    }
  }

  //! Authenticates a history call as the venue does; the account index or -1.
  int history_account(const http::request<http::string_body>& req, std::string_view target) {
    namespace c = segmentd::control;
    const auto& accounts = opt().accounts;
    const std::string method(req.method_string());
    switch (opt().venue) {
      // Each signature is checked as the venue documents it (venue_auth.h), not with the
      // client's own signers.
      case Venue::kDeribit: {
        venue_auth::DeribitHttpAuthHeader auth;
        if (!venue_auth::parse_deribit_authorization(header(req, "Authorization"), auth)) return -1;
        for (std::size_t i = 0; i < accounts.size(); ++i)
          if (accounts[i].key == auth.id &&
              venue_auth::deribit_http_ok(accounts[i].secret, auth, method, target, req.body()))
            return static_cast<int>(i);
        return -1;
      }
      case Venue::kOkx: {
        const std::string key = header(req, "OK-ACCESS-KEY"), ts = header(req, "OK-ACCESS-TIMESTAMP");
        for (std::size_t i = 0; i < accounts.size(); ++i)
          if (accounts[i].key == key && accounts[i].passphrase == header(req, "OK-ACCESS-PASSPHRASE") &&
              venue_auth::okx_rest_ok(accounts[i].secret, ts, method, target, req.body(),
                                      header(req, "OK-ACCESS-SIGN")))
            return static_cast<int>(i);
        return -1;
      }
      case Venue::kBinance: {
        const std::string key = header(req, std::string(c::kBinanceApiKeyHeader));
        const std::size_t qm = target.find('?');
        const std::string_view query = qm == std::string_view::npos ? std::string_view() : target.substr(qm + 1);
        for (std::size_t i = 0; i < accounts.size(); ++i)
          if (accounts[i].key == key && venue_auth::binance_query_ok(accounts[i].secret, query))
            return static_cast<int>(i);
        return -1;
      }
      case Venue::kBybit: {
        const std::string key = header(req, "X-BAPI-API-KEY");
        const std::size_t qm = target.find('?');
        const std::string_view query = qm == std::string_view::npos ? std::string_view() : target.substr(qm + 1);
        for (std::size_t i = 0; i < accounts.size(); ++i)
          if (accounts[i].key == key &&
              venue_auth::bybit_rest_ok(accounts[i].secret, header(req, "X-BAPI-TIMESTAMP"), key,
                                        header(req, "X-BAPI-RECV-WINDOW"), query, header(req, "X-BAPI-SIGN")))
            return static_cast<int>(i);
        return -1;
      }
      case Venue::kHyperliquid: {
        c::HyperliquidInfoRequest r;
        segmentd::ParseError err;
        if (!c::parse_hyperliquid_info_request(req.body(), r, err)) return -1;
        for (std::size_t i = 0; i < accounts.size(); ++i)
          if (accounts[i].name == r.user) return static_cast<int>(i);
        return -1;
      }
      default: return -1;
    }
  }

  //! The account's positions over REST (Binance positionRisk or options position, Bybit
  //! position/list), signed as the
  //! history calls are; every rest_error_every-th REST call fails as theirs do.
  void on_positions_rest(const http::request<http::string_body>& req, std::string_view target) {
    const int account = history_account(req, target);
    if (account < 0) {
      stats().history_rejected.fetch_add(1);
      return respond(req, http::status::unauthorized, auth_error_body(), false);
    }
    const int every = opt().faults.rest_error_every;
    if (every > 0 && ++sh_->rest_calls % static_cast<std::uint64_t>(every) == 0) {
      stats().history_faults.fetch_add(1);
      return respond(req, http::status::internal_server_error, "Internal Server Error", false);
    }
    const auto a = static_cast<std::size_t>(account);
    const std::int64_t now = now_ms();
    sh_->advance(a, now);
    std::vector<SimPosition> all = sh_->positions_after(a, sh_->happened[a].load());
    std::vector<SimPosition> listed;
    for (const SimPosition& p : all) {
      if (opt().venue != Venue::kBybit) {
        listed.push_back(p);
        continue;
      }
      // Bybit: one category (and settle coin) per call.
      const bool option = p.sample->fill.kind == segmentd::InstrumentKind::kOption;
      const bool wanted = option ? target.find("category=option") != std::string_view::npos
                                 : target.find("category=linear") != std::string_view::npos &&
                                       target.find("settleCoin=USDT") != std::string_view::npos;
      if (wanted) listed.push_back(p);
    }
    std::vector<std::string> body = encode_positions(opt().venue, listed, opt().accounts[a].name, now, true);
    stats().position_messages.fetch_add(1);
    respond(req, http::status::ok, body.empty() ? std::string("[]") : std::move(body.front()), false);
  }

  void on_history(const http::request<http::string_body>& req, std::string_view target) {
    namespace c = segmentd::control;
    const std::int64_t now = now_ms();
    const int account = history_account(req, target);
    if (account < 0) {
      stats().history_rejected.fetch_add(1);
      return respond(req, http::status::unauthorized, auth_error_body(), false);
    }
    const auto a = static_cast<std::size_t>(account);
    if (!sh_->take_token(a, now)) {
      stats().history_rate_limited.fetch_add(1);
      auto [status, body] = rate_limit_answer();
      return respond(req, status, std::move(body), false);
    }
    const int every = opt().faults.rest_error_every;
    if (every > 0 && ++sh_->rest_calls % static_cast<std::uint64_t>(every) == 0) {
      stats().history_faults.fetch_add(1);
      switch (sh_->rest_calls / static_cast<std::uint64_t>(every) % 3) {
        case 0: return respond(req, http::status::internal_server_error, "Internal Server Error", false);
        case 1: {
          auto [status, body] = rate_limit_answer();
          return respond(req, status, std::move(body), false);
        }
        default: {
          std::string truncated = std::string(header_ok_body());
          return respond(req, http::status::ok, truncated.substr(0, truncated.size() / 2), false);
        }
      }
    }
    sh_->advance(a, now);
    const auto& stream = sh_->streams[a];
    const std::size_t happened = sh_->happened[a].load();
    const auto q = query_of(target);
    auto page_limit = [&](std::size_t venue_max, std::int64_t asked) {
      std::size_t limit = asked > 0 ? std::min<std::size_t>(static_cast<std::size_t>(asked), venue_max) : venue_max;
      if (opt().history_page_limit > 0) limit = std::min(limit, opt().history_page_limit);
      return limit;
    };
    auto time_of = [&](std::size_t i) { return stream[i].fill.venue_ns / 1'000'000; };
    std::string body;
    std::size_t records = 0;
    auto add = [&](std::size_t i, std::string_view bill = {}) {
      if (records++ > 0) body += ',';
      body += encode_history_record(opt().venue, stream[i], bill);
    };
    switch (opt().venue) {
      case Venue::kDeribit: {
        // Oldest first from start_timestamp (sorting=asc), count ≤ 1000, has_more.
        const std::string currency = q.contains("currency") ? q.at("currency") : "";
        const std::int64_t start = int_param(q, "start_timestamp", 0), end = int_param(q, "end_timestamp", now);
        const std::size_t limit = page_limit(c::kDeribitUserTradesMaxCount, int_param(q, "count", 10));
        bool more = false;
        body = R"({"jsonrpc":"2.0","result":{"trades":[)";
        for (std::size_t i = 0; i < happened; ++i) {
          if (history_group(opt().venue, stream[i]) != currency || time_of(i) < start || time_of(i) > end) continue;
          if (records == limit) {
            more = true;
            break;
          }
          add(i);
        }
        body +=
            str_cat("],\"has_more\":", more ? "true" : "false", R"(},"usIn":0,"usOut":0,"usDiff":0,"testnet":true})");
        break;
      }
      case Venue::kHyperliquid: {
        c::HyperliquidInfoRequest r;
        segmentd::ParseError err;
        (void)c::parse_hyperliquid_info_request(req.body(), r, err);
        const std::size_t limit = page_limit(c::kHyperliquidFillsByTimeMax, 0);
        body = "[";
        for (std::size_t i = 0; i < happened && records < limit; ++i)
          if (time_of(i) >= r.start_ms && (r.end_ms < 0 || time_of(i) <= r.end_ms)) add(i);
        body += "]";
        break;
      }
      case Venue::kBybit: {
        // Newest first in [startTime, endTime] (≤ 7 days), limit ≤ 100, nextPageCursor.
        const std::string category = q.contains("category") ? q.at("category") : "";
        const std::int64_t start = int_param(q, "startTime", now - c::kBybitMaxWindowMs);
        const std::int64_t end = int_param(q, "endTime", start + c::kBybitMaxWindowMs);
        if (end - start > c::kBybitMaxWindowMs || end < start)
          return respond(
              req, http::status::ok,
              R"({"retCode":10001,"retMsg":"The time range must be within 7 days","result":{},"retExtInfo":{},"time":0})",
              false);
        const std::size_t limit = page_limit(c::kBybitExecutionListMaxLimit, int_param(q, "limit", 50));
        // The cursor is the stream index to continue below, as opaque text.
        std::size_t below = happened;
        if (auto it = q.find("cursor"); it != q.end() && it->second.rfind("sim:", 0) == 0)
          below = std::min<std::size_t>(happened, std::strtoull(it->second.c_str() + 4, nullptr, 10));
        std::string cursor;
        body = str_cat(R"({"retCode":0,"retMsg":"OK","result":{"category":")", category, R"(","list":[)");
        for (std::size_t i = below; i-- > 0;) {
          if (history_group(opt().venue, stream[i]) != category || time_of(i) < start || time_of(i) > end) continue;
          if (records == limit) {
            cursor = str_cat("sim:", i + 1);
            break;
          }
          add(i);
        }
        body += str_cat(R"(],"nextPageCursor":")", c::url_encode(cursor), R"("},"retExtInfo":{},"time":)", now, "}");
        break;
      }
      case Venue::kOkx: {
        // Newest first with ts in [begin, end], limit ≤ 100; after=billId pages to older ones.
        const std::int64_t begin = int_param(q, "begin", 0), end = int_param(q, "end", now);
        const std::size_t limit = page_limit(c::kOkxFillsMaxLimit, int_param(q, "limit", 100));
        const std::int64_t after = int_param(q, "after", -1);
        body = R"({"code":"0","msg":"","data":[)";
        for (std::size_t i = happened; i-- > 0 && records < limit;) {
          const std::int64_t bill = okx_bill_id(a, i);
          if (time_of(i) < begin || time_of(i) > end || (after >= 0 && bill >= after)) continue;
          add(i, str_cat(bill));
        }
        body += "]}";
        break;
      }
      case Venue::kBinance: {
        if (binance_options()) {
          // Oldest first; every symbol, or the one named; from fromId (the `id`), else from
          // startTime, else the most recent ones; limit default 100, at most 1000.
          const std::string symbol = q.contains("symbol") ? q.at("symbol") : "";
          const std::int64_t from_id = int_param(q, "fromId", -1);
          const std::int64_t start = int_param(q, "startTime", -1);
          const std::int64_t end = int_param(q, "endTime", now);
          const std::size_t limit = page_limit(c::kBinanceUserTradesMaxLimit, int_param(q, "limit", 100));
          std::vector<std::size_t> picked;
          for (std::size_t i = 0; i < happened; ++i) {
            if (!symbol.empty() && history_group(opt().venue, stream[i]) != symbol) continue;
            if (from_id >= 0 ? binance_options_history_id(stream[i].trade_id) < from_id
                             : (time_of(i) > end || (start >= 0 && time_of(i) < start)))
              continue;
            picked.push_back(i);
          }
          // Neither fromId nor startTime: the most recent ones.
          std::size_t first = 0;
          if (from_id < 0 && start < 0 && picked.size() > limit) first = picked.size() - limit;
          body = "[";
          for (std::size_t k = first; k < picked.size() && records < limit; ++k) add(picked[k]);
          body += "]";
          break;
        }
        // Oldest first, one symbol, from startTime (≤ 7 days on) or from fromId, limit ≤ 1000.
        const std::string symbol = q.contains("symbol") ? q.at("symbol") : "";
        if (symbol.empty())
          return respond(
              req, http::status::bad_request,
              R"({"code":-1102,"msg":"Mandatory parameter 'symbol' was not sent, was empty/null, or malformed."})",
              false);
        const std::int64_t from_id = int_param(q, "fromId", -1);
        const std::int64_t start = int_param(q, "startTime", now - 7LL * 24 * 3600 * 1000);
        const std::int64_t end = int_param(q, "endTime", start + 7LL * 24 * 3600 * 1000);
        const std::size_t limit = page_limit(c::kBinanceUserTradesMaxLimit, int_param(q, "limit", 500));
        body = "[";
        for (std::size_t i = 0; i < happened && records < limit; ++i) {
          if (history_group(opt().venue, stream[i]) != symbol) continue;
          if (from_id >= 0 ? std::strtoll(stream[i].trade_id.c_str(), nullptr, 10) < from_id
                           : (time_of(i) < start || time_of(i) > end))
            continue;
          add(i);
        }
        body += "]";
        break;
      }
      default: return respond(req, http::status::not_found, "{}", false);
    }
    stats().history_requests.fetch_add(1);
    stats().history_records.fetch_add(records);
    respond(req, http::status::ok, std::move(body), false);
  }

  //! OKX's billId of fill i of account a: ascending with the fill, as the venue's are.
  static std::int64_t okx_bill_id(std::size_t a, std::size_t i) {
    return 600'000'000'000LL + static_cast<std::int64_t>(a) * 1'000'000 + static_cast<std::int64_t>(i);
  }

  //! A well-formed empty page, which the truncated-body fault cuts in half.
  std::string_view header_ok_body() const {
    switch (opt().venue) {
      case Venue::kDeribit: return R"({"jsonrpc":"2.0","result":{"trades":[],"has_more":false}})";
      case Venue::kOkx: return R"({"code":"0","msg":"","data":[]})";
      case Venue::kBybit:
        return R"({"retCode":0,"retMsg":"OK","result":{"category":"linear","list":[],"nextPageCursor":""},"retExtInfo":{},"time":0})";
      default: return "[]";
    }
  }

  template <class Request>
  void respond(const Request& req, http::status status, std::string body, bool) {
    auto res = std::make_shared<http::response<http::string_body>>(status, req.version());
    res->set(http::field::content_type, "application/json");
    res->body() = std::move(body);
    res->keep_alive(false);
    res->prepare_payload();
    beast_ops::write_response(ws_.next_layer(), *res, [self = this->shared_from_this(), res](error_code, std::size_t) {
      error_code ignored;
      beast::get_lowest_layer(self->ws_).socket().shutdown(Tcp::socket::shutdown_both, ignored);
    });
  }

  // --- websocket -----------------------------------------------------------------------------

  void on_open() {
    stats().connections.fetch_add(1);
    last_heard_ms_ = now_ms();
    if (opt().venue == Venue::kBinance && !public_stream_) subscribe();  // the listenKey is the subscription
    do_read();
    do_tick();
  }

  void do_read() {
    beast_ops::read(ws_, in_, [self = this->shared_from_this()](error_code ec, std::size_t) { self->on_read(ec); });
  }

  void on_read(error_code ec) {
    if (ec) {
      closed_ = true;
      leave();
      return fail(ec, "read");
    }
    const auto data = in_.data();
    const std::string_view text(static_cast<const char*>(data.data()), data.size());
    last_heard_ms_ = now_ms();
    ControlResult r = handle_client_message(opt().venue, text, opt().accounts, last_heard_ms_, control_);
    in_.consume(in_.size());
    if (r.auth_ok) stats().auth_ok.fetch_add(1);
    if (r.auth_rejected) stats().auth_rejected.fetch_add(1);
    if (r.ping) stats().pings.fetch_add(1);
    for (auto& reply : r.replies) send(std::move(reply));
    if (r.newly_subscribed) subscribe();
    if (r.positions_subscribed || r.positions_request_id >= 0) send_position_snapshot(r.positions_request_id);
    do_read();
  }

  std::vector<SimPosition> positions_after(std::size_t upto) const {
    return sh_->positions_after(static_cast<std::size_t>(control_.account), upto);
  }

  //! The venue's snapshot of the account's positions: every fill that happened so far is in it.
  void send_position_snapshot(std::int64_t request_id) {
    if (control_.account < 0) return;
    const std::size_t account = static_cast<std::size_t>(control_.account);
    const std::int64_t now = now_ms();
    sh_->advance(account, now);
    for (std::string& m : encode_positions(opt().venue, positions_after(sh_->happened[account].load()),
                                           opt().accounts[account].name, now, true, request_id)) {
      send(std::move(m));
      stats().position_messages.fetch_add(1);
    }
  }

  //! The position update that goes with a fill message: the positions after its fills, as of
  //! its last fill's time.
  void send_position_update(const std::vector<VenueFill>& stream, std::size_t from, std::size_t count) {
    if (!control_.positions || count == 0) return;
    const std::size_t account = static_cast<std::size_t>(control_.account);
    std::vector<SimPosition> all = positions_after(from + count);
    std::vector<SimPosition> changed;
    for (const SimPosition& p : all)
      for (std::size_t i = from; i < from + count; ++i)
        if (stream[i].symbol == p.sample->symbol) {
          changed.push_back(p);
          break;
        }
    const bool whole = opt().venue == Venue::kHyperliquid;  // Hyperliquid pushes the whole state
    for (std::string& m : encode_positions(opt().venue, whole ? all : changed, opt().accounts[account].name,
                                           stream[from + count - 1].fill.venue_ns / 1'000'000, false, -1,
                                           std::span<const VenueFill>(stream.data() + from, count))) {
      send(std::move(m));
      stats().position_messages.fetch_add(1);
    }
  }

  void subscribe() {
    if (control_.account < 0 || subscribed_) return;
    stats().subscriptions.fetch_add(1);
    subscribed_ = true;
    const std::size_t account = static_cast<std::size_t>(control_.account);
    const std::int64_t now = now_ms();
    // The account's fills start to run at its first subscribe, and run on from then on.
    if (sh_->start_ms[account] < 0) sh_->start_ms[account] = now;
    // Binance's user-data streams carry the account's position changes (futures ACCOUNT_UPDATE,
    // options BALANCE_POSITION_UPDATE).
    if (opt().venue == Venue::kBinance) control_.positions = true;
    sh_->advance(account, now);
    ++sh_->live[account];
    live_ = true;
    // From here on: what happens while this connection is subscribed. What happened before is
    // not pushed (the REST history has it)...
    const std::size_t happened = sh_->happened[account].load();
    position_ = happened;
    if (opt().venue == Venue::kHyperliquid) {
      // ...except Hyperliquid's userFills, whose first push is a bounded snapshot of recent fills.
      const std::size_t from = happened > opt().snapshot_fills ? happened - opt().snapshot_fills : 0;
      const auto& stream = sh_->streams[account];
      std::span<const VenueFill> recent(stream.data() + from, happened - from);
      send(encode_fill_message(Venue::kHyperliquid, recent, opt().accounts[account].name, true));
    }
  }

  //! This connection no longer takes its account's fills.
  void leave() {
    if (!live_) return;
    live_ = false;
    --sh_->live[static_cast<std::size_t>(control_.account)];
  }

  void do_tick() {
    const double mps = std::max(1.0, opt().messages_per_second);
    timer_.expires_after(std::chrono::microseconds(static_cast<std::int64_t>(1e6 / mps)));
    timer_.async_wait([self = this->shared_from_this()](error_code ec) {
      if (ec || self->closed_ || self->sh_->stopping) return self->close_now();
      self->on_tick();
    });
  }

  void on_tick() {
    const std::int64_t now = now_ms();
    if (closing_) return;  // the last message is on its way; the write completion closes
    if (now < stalled_until_ms_) return do_tick();
    // Binance: the stream of an expired listenKey gets listenKeyExpired, then is closed.
    if (opt().venue == Venue::kBinance && !listen_key_.empty() &&
        (sh_->listen_keys[static_cast<std::size_t>(control_.account)].key != listen_key_ ||
         !sh_->listen_key_live(control_.account, now))) {
      stats().listen_key_expired.fetch_add(1);
      send(str_cat(R"({"e":"listenKeyExpired","E":)", now, R"(,"listenKey":")", listen_key_, "\"}"));
      closing_ = true;
      return;
    }
    // Heartbeats: Deribit asks with test_request and closes when the last one went unanswered;
    // the others close a client that has been silent too long.
    if (opt().venue == Venue::kDeribit && control_.heartbeat_interval_ms > 0 && now >= next_test_ms_) {
      if (!control_.test_answered && next_test_ms_ != 0) {
        stats().heartbeat_closes.fetch_add(1);
        return close_now();
      }
      send(deribit_test_request());
      stats().test_requests.fetch_add(1);
      control_.test_answered = false;
      next_test_ms_ = now + control_.heartbeat_interval_ms / 1000 * opt().deribit_heartbeat_second_ms;
    }
    if (opt().venue != Venue::kDeribit && opt().venue != Venue::kBinance &&
        now - last_heard_ms_ > opt().heartbeat_timeout_ms) {
      stats().heartbeat_closes.fetch_add(1);
      return close_now();
    }
    if (subscribed_) send_fills();
    if (!control_.market_data.empty()) send_market_data();
    if (!closed_) do_tick();
  }

  //! Public market data: every account's fills that happened since the last tick, as public
  //! trades, mark prices and index prices on the channels this client subscribed to (Deribit's
  //! channels; Hyperliquid's trades and activeAssetCtx, which need no userFills subscription;
  //! OKX's, Bybit's and Binance's public channels, on a connection without a login).
  void send_market_data() {
    const std::size_t accounts = sh_->streams.size();
    if (market_pos_.size() != accounts) {
      // First time: each account's latest fill, then what happens from now on. A venue answers a
      // subscription with the current state (Bybit's tickers snapshot, OKX's first mark push), so a
      // client that subscribed after the last trade still learns the prices.
      stats().market_data_connections.fetch_add(1);
      market_pos_.resize(accounts);
      for (std::size_t a = 0; a < accounts; ++a) {
        const std::size_t happened = sh_->happened[a].load();
        market_pos_[a] = happened > 0 ? happened - 1 : 0;
      }
    }
    std::vector<std::pair<const VenueFill*, std::size_t>> happened_fills;
    for (std::size_t a = 0; a < accounts; ++a) {
      const std::size_t happened = sh_->happened[a].load();
      for (std::size_t i = market_pos_[a]; i < happened && happened_fills.size() < 4096; ++i)
        happened_fills.emplace_back(&sh_->streams[a][i], a);
      market_pos_[a] = happened;
    }
    if (happened_fills.empty()) return;
    std::stable_sort(happened_fills.begin(), happened_fills.end(),
                     [](const auto& x, const auto& y) { return x.first->fill.venue_ns < y.first->fill.venue_ns; });
    // A ticker or an asset context states the symbol's open interest as the venue holds it now.
    const OpenInterestOf open_interest = [this](std::string_view symbol) { return sh_->open_interest(symbol); };
    std::vector<const VenueFill*> fresh;
    std::vector<std::string_view> users;
    for (const auto& [vf, a] : happened_fills) {
      fresh.push_back(vf);
      users.push_back(opt().accounts[a].name);
    }
    for (const std::string& channel : control_.market_data) {
      std::vector<std::string> messages;
      if (opt().venue == Venue::kBinance) {  // the raw stream: one event per message
        messages = encode_binance_market_data(channel, fresh);
      } else {
        std::string m = opt().venue == Venue::kHyperliquid
                            ? encode_hyperliquid_market_data(channel, fresh, users, open_interest)
                        : opt().venue == Venue::kOkx   ? encode_okx_market_data(channel, fresh)
                        : opt().venue == Venue::kBybit ? encode_bybit_market_data(channel, fresh, open_interest)
                                                       : encode_deribit_market_data(channel, fresh);
        if (!m.empty()) messages.push_back(std::move(m));
      }
      for (std::string& m : messages) {
        send(std::move(m));
        stats().market_data_messages.fetch_add(1);
      }
    }
  }

  void send_fills() {
    const std::size_t account = static_cast<std::size_t>(control_.account);
    const auto& stream = sh_->streams[account];
    sh_->advance(account, now_ms());
    // What happened since the last tick, a message of `batch` at a time (a bounded burst per tick,
    // after a stall).
    for (int k = 0; k < 64 && !closed_ && stalled_until_ms_ <= now_ms() && position_ < sh_->happened[account].load();
         ++k)
      send_fill_message(stream);
  }

  void send_fill_message(const std::vector<VenueFill>& stream) {
    const std::size_t account = static_cast<std::size_t>(control_.account);
    const VenueFaults& f = opt().faults;
    if (f.stall_after > 0 && sent_ == static_cast<std::uint64_t>(f.stall_after) && !stalled_once_) {
      stalled_once_ = true;
      stats().stalls.fetch_add(1);
      stalled_until_ms_ = now_ms() + f.stall_ms;
      return;
    }
    if (f.drop_after > 0 && sent_ >= static_cast<std::uint64_t>(f.drop_after) && sh_->drops < f.max_drops) {
      ++sh_->drops;
      stats().drops.fetch_add(1);
      if (f.away_fills > 0) {
        sh_->away_account = static_cast<int>(account);
        sh_->away_until = sh_->happened[account].load() + f.away_fills;
      }
      return close_now();
    }
    const std::uint64_t n = sent_ + 1;
    if (f.bad_every > 0 && n % static_cast<std::uint64_t>(f.bad_every) == 0) {
      send(encode_bad_message(opt().venue, static_cast<int>(n / f.bad_every), stream[position_]));
      stats().bad_frames.fetch_add(1);
    }
    if (f.oversized_every > 0 && n % static_cast<std::uint64_t>(f.oversized_every) == 0) {
      std::string big = R"({"pad":")";
      big.append(f.oversized_bytes, 'x');
      big += "\"}";
      send(std::move(big));
      stats().oversized_frames.fetch_add(1);
    }
    const std::size_t batch = opt().venue == Venue::kBinance ? 1 : std::max<std::size_t>(1, opt().batch);
    const std::size_t count = std::min(batch, sh_->happened[account].load() - position_);
    // Binance pushes the position (ACCOUNT_UPDATE) before the trade (ORDER_TRADE_UPDATE); the
    // others after it.
    if (opt().venue == Venue::kBinance) send_position_update(stream, position_, count);
    send(encode_fill_message(opt().venue, std::span<const VenueFill>(stream.data() + position_, count),
                             opt().accounts[account].name));
    if (opt().venue != Venue::kBinance) send_position_update(stream, position_, count);
    position_ += count;
    ++sent_;
    stats().fill_messages.fetch_add(1);
    stats().fills_sent.fetch_add(count);
  }

  void send(std::string text) {
    if (closed_) return;
    if (out_.size() >= 4096) return close_now();  // a client that does not read: drop it
    out_.push_back(std::make_shared<const std::string>(std::move(text)));
    if (out_.size() == 1) do_write();
  }

  void do_write() {
    ws_.text(true);
    beast_ops::write(ws_, asio::buffer(*out_.front()), [self = this->shared_from_this()](error_code ec, std::size_t) {
      if (ec) {
        self->closed_ = true;
        self->leave();
        return fail(ec, "write");
      }
      self->out_.pop_front();
      if (!self->out_.empty()) return self->do_write();
      if (self->closing_) self->close_now();
    });
  }

  //! An abrupt close, as a venue that drops a connection: no close frame.
  void close_now() {
    leave();
    if (closed_) return;
    closed_ = true;
    timer_.cancel();
    error_code ignored;
    beast::get_lowest_layer(ws_).socket().shutdown(Tcp::socket::shutdown_both, ignored);
    beast::get_lowest_layer(ws_).socket().close(ignored);
  }

  std::shared_ptr<VenueServer::Shared> sh_;
  websocket::stream<Next> ws_;
  asio::steady_timer timer_;
  beast::flat_buffer http_buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  beast::flat_buffer in_;
  std::deque<std::shared_ptr<const std::string>> out_;
  ControlState control_;
  bool subscribed_ = false;
  std::vector<std::size_t> market_pos_;  //!< per account: its fills already sent as market data
  bool live_ = false;                    //!< counted in Shared::live
  bool closed_ = false;
  bool closing_ = false;        //!< close once the queued messages are written
  std::string listen_key_;      //!< Binance: the key this stream was opened with
  bool public_stream_ = false;  //!< Binance: a connection to the raw market streams (kBinancePublicStreamPath)
  std::size_t position_ = 0;
  std::uint64_t sent_ = 0;  //!< fill messages on this connection
  std::int64_t last_heard_ms_ = 0;
  std::int64_t next_test_ms_ = 0;
  std::int64_t stalled_until_ms_ = 0;
  bool stalled_once_ = false;
};

//! The venue's clock: every few ms each account's fills run on, whether a client is there or not.
void run_clock(std::shared_ptr<VenueServer::Shared> sh) {
  sh->clock->expires_after(std::chrono::milliseconds(5));
  sh->clock->async_wait([sh](error_code ec) {
    if (ec || sh->stopping) return;
    const std::int64_t now = now_ms();
    for (std::size_t a = 0; a < sh->streams.size(); ++a) sh->advance(a, now);
    run_clock(sh);
  });
}

void do_accept(std::shared_ptr<VenueServer::Shared> sh) {
  sh->acceptor.async_accept(asio::make_strand(sh->ioc), [sh](error_code ec, Tcp::socket socket) {
    if (ec || sh->stopping) return;
    if (sh->tls)
      std::make_shared<VenueSession<beast::ssl_stream<beast::tcp_stream>>>(sh, std::move(socket), *sh->tls)->run();
    else
      std::make_shared<VenueSession<beast::tcp_stream>>(sh, std::move(socket))->run();
    do_accept(sh);
  });
}

//! Venue trade ids: decimal for most venues, a UUID-shaped string for Bybit's execId.
std::string trade_id_text(Venue venue, std::size_t account, std::size_t index) {
  const std::uint64_t n = 500'000'000ULL + account * 1'000'000ULL + index;
  if (venue == Venue::kBybit) return str_cat("0ab1bdf7-4219-438b-b30a-", 100'000'000'000ULL + n);
  return str_cat(n);
}

}  // namespace

VenueServer::VenueServer(VenueServerOptions options) : options_(std::move(options)) {}

VenueServer::~VenueServer() {
  stop();
  shared_.reset();
  io_.reset();  // destroys what is left of the sessions, which hold the last Shared references
}

std::size_t VenueServer::happened(std::size_t account) const { return shared_ ? shared_->happened[account].load() : 0; }

std::size_t VenueServer::missed(std::size_t account) const { return shared_ ? shared_->missed[account].load() : 0; }

std::vector<std::string> VenueServer::symbols() const {
  std::vector<std::string> out;
  if (!shared_) return out;
  for (const auto& stream : shared_->streams)
    for (const VenueFill& f : stream) {
      std::string s = venue_symbol(options_.venue, f);
      if (std::find(out.begin(), out.end(), s) == out.end()) out.push_back(std::move(s));
    }
  return out;
}

double VenueServer::open_interest(std::string_view symbol) const {
  return shared_ ? shared_->open_interest(symbol) : 0.0;
}

std::vector<std::pair<std::string, double>> VenueServer::venue_positions(std::size_t account) const {
  std::vector<std::pair<std::string, double>> out;
  if (!shared_) return out;
  for (const SimPosition& p : shared_->positions_after(account, shared_->happened[account].load()))
    out.emplace_back(venue_symbol(options_.venue, *p.sample), position_base(options_.venue, p));
  return out;
}

absl::Status VenueServer::start() {
  if (shared_) return absl::OkStatus();
  if (options_.accounts.empty()) return absl::InvalidArgumentError("the venue server needs at least one account");
  if (auto s = validate(options_.sim); !s.ok()) return s;
  io_ = std::make_unique<Io>();
  auto sh = std::make_shared<Shared>(io_->ioc, options_, stats_);
  const std::size_t n = options_.accounts.size();
  sh->streams.resize(n);
  sh->start_ms.assign(n, -1);
  sh->live.assign(n, 0);
  sh->buckets.resize(n);
  sh->listen_keys.resize(n);
  sh->happened = std::make_unique<std::atomic<std::size_t>[]>(n);
  sh->missed = std::make_unique<std::atomic<std::size_t>[]>(n);
  expected_.assign(n, {});

  // The streams: simulated fills the venue lists, dealt to the accounts in turn; each must be
  // accepted by the venue's own adapter, and its expected trade id is read from its frame. The
  // market is today's (listed expiries ahead of the wall clock), since fills are stamped with the
  // time they happen.
  Config sim_config = options_.sim;
  sim_config.start_ns = now_ms() / 1000 * 1'000'000'000;
  Simulator sim(sim_config);
  SimFill f;
  segmentd::AccountInterner interner;
  segmentd::InstrumentRegistry registry{segmentd::parse_symbol};
  std::size_t next = 0, filled = 0, guard = 0;
  std::vector<std::unique_ptr<segmentd::VenueAdapter>> adapters(n);
  for (std::size_t a = 0; a < n; ++a) {
    segmentd::AdapterContext ctx;
    ctx.accounts = &interner;
    ctx.instruments = &registry;
    ctx.account = options_.accounts[a].name;
    adapters[a] = segmentd::make_venue_adapter(options_.venue, std::move(ctx));
  }
  std::vector<segmentd::Fill> out;
  std::vector<std::string> keys;
  segmentd::DecodeOutcome outcome;
  segmentd::ParseError err;
  while (filled < n && sim.next(&f) && ++guard < 100'000'000) {
    if (!venue_supports(options_.venue, f.fill, options_.binance_market)) continue;
    std::size_t a = next++ % n;
    for (std::size_t k = 0; k < n && sh->streams[a].size() >= options_.fills_per_account; ++k) a = (a + 1) % n;
    auto& stream = sh->streams[a];
    if (stream.size() >= options_.fills_per_account) continue;
    VenueFill vf;
    vf.fill = f.fill;
    vf.symbol = std::string(f.symbol);
    vf.seq = stream.size() + 1;
    vf.trade_id = trade_id_text(options_.venue, a, stream.size());
    const std::string one =
        encode_fill_message(options_.venue, std::span<const VenueFill>(&vf, 1), options_.accounts[a].name);
    out.clear();
    outcome.reset();
    if (!adapters[a]->decode_unpadded(one, 1, out, outcome, err) || out.size() != 1)
      return absl::InternalError(str_cat("the ", segmentd::to_string(options_.venue),
                                         " adapter refuses a simulated fill (", err.detail, "): ", one.substr(0, 400)));
    // The expected id comes from the frame itself (frame_trade_ids.h), never from the adapter
    // that just accepted it: the client's ids are what the tests hold against it.
    if (!frame_dedup_keys(options_.venue, one, keys) || keys.size() != 1)
      return absl::InternalError(str_cat("cannot read the trade id of a simulated ",
                                         segmentd::to_string(options_.venue), " fill: ", one.substr(0, 400)));
    expected_[a].push_back(dedup_key_hash(keys.front()));
    stream.push_back(std::move(vf));
    if (stream.size() == options_.fills_per_account) ++filled;
  }
  if (filled < n) return absl::InternalError("the simulation ended before every account's stream was full");

  if (!options_.tls_cert_file.empty()) {
    sh->tls.emplace(ssl::context::tls_server);
    error_code ec;
    sh->tls->use_certificate_chain_file(options_.tls_cert_file, ec);
    if (!ec) sh->tls->use_private_key_file(options_.tls_key_file, ssl::context::pem, ec);
    if (ec) return absl::FailedPreconditionError(str_cat("cannot load the TLS certificate or key: ", ec.message()));
  }
  const auto colon = options_.listen.rfind(':');
  if (colon == std::string::npos) return absl::InvalidArgumentError("listen must be host:port");
  error_code ec;
  const auto address = asio::ip::make_address(options_.listen.substr(0, colon), ec);
  if (ec) return absl::InvalidArgumentError(str_cat("bad listen address ", options_.listen));
  const Tcp::endpoint endpoint(address, static_cast<std::uint16_t>(std::stoi(options_.listen.substr(colon + 1))));
  sh->acceptor.open(endpoint.protocol(), ec);
  if (!ec) sh->acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) sh->acceptor.bind(endpoint, ec);
  if (!ec) sh->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return absl::UnavailableError(str_cat("cannot listen on ", options_.listen, ": ", ec.message()));
  port_.store(sh->acceptor.local_endpoint().port(), std::memory_order_release);
  shared_ = sh;
  sh->clock.emplace(sh->acceptor.get_executor());
  do_accept(sh);
  run_clock(sh);
  io_->thread = std::thread([io = io_.get()] { io->ioc.run(); });
  return absl::OkStatus();
}

void VenueServer::stop() {
  if (!shared_) return;
  auto sh = shared_;
  asio::post(sh->acceptor.get_executor(), [sh] {
    sh->stopping = true;
    error_code ignored;
    sh->acceptor.close(ignored);
    if (sh->clock) sh->clock->cancel();
  });
  // Sessions notice `stopping` at their next tick and close; then nothing is left to run.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  while (!sh->ioc.stopped() && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  sh->ioc.stop();
  if (io_->thread.joinable()) io_->thread.join();
}

}  // namespace fillsim
