#include "service/config/source_config.h"

#include <set>

#include <boost/asio/ip/address.hpp>
#include "core/str_cat.h"
#include "protocol/venues/hyperliquid/control.h"
#include "protocol/venues/okx/control.h"

#include "service/config/config_reader.h"
#include "service/config/publisher_config.h"
#include "service/net/url.h"
#include "sim/market.h"

namespace segmentd {
namespace {

constexpr std::int64_t kMs = 1'000'000;
constexpr std::int64_t kSecond = 1'000'000'000;

void read_secret_ref(ConfigSection& s, std::string_view prefix, SecretRef* ref) {
  s.string(str_cat(prefix, "_env"), &ref->env, false);
  s.string(str_cat(prefix, "_file"), &ref->file, false);
  if (!ref->env.empty() && !ref->file.empty())
    s.error(str_cat(prefix, "_env"), str_cat("set either ", prefix, "_env or ", prefix, "_file, not both"));
  // The file is read when the source starts; a file that cannot be read, or holds nothing, would
  // fail that start. Said here, with the line. (An environment variable is the environment's
  // business at start-up, not the file's: it is not checked here.)
  if (ref->file.empty()) return;
  const std::string key = str_cat(prefix, "_file");
  if (auto problem = file_problem(ref->file)) return s.error(key, *problem);
  if (auto secret = load_secret(*ref, key); !secret.ok()) s.error(key, str_cat("\"", ref->file, "\" is empty"));
}

bool url_scheme_ok(const std::string& url, bool http) {
  if (http) return url.rfind("http://", 0) == 0 || url.rfind("https://", 0) == 0;
  return url.rfind("ws://", 0) == 0 || url.rfind("wss://", 0) == 0;
}

void read_account(ConfigSection& s, Venue venue, SourceAccount* a) {
  s.string("name", &a->name, false);
  if (!s.has("name")) s.error("name", "is required");
  read_secret_ref(s, "key", &a->key);
  read_secret_ref(s, "secret", &a->secret);
  read_secret_ref(s, "passphrase", &a->passphrase);
  switch (venue) {
    case Venue::kHyperliquid:
      if (a->key.configured() || a->secret.configured()) s.error("key_env", "Hyperliquid streams need no credentials");
      break;
    case Venue::kBinance:
      if (!a->key.configured()) s.error("key_env", "Binance needs key_env or key_file (the listenKey API key)");
      break;
    default:
      if (!a->key.configured()) s.error("key_env", "key_env or key_file is required");
      if (!a->secret.configured()) s.error("secret_env", "secret_env or secret_file is required");
      break;
  }
  if (venue == Venue::kOkx && !a->passphrase.configured())
    s.error("passphrase_env", "OKX needs passphrase_env or passphrase_file");
  if (venue != Venue::kOkx && a->passphrase.configured()) s.error("passphrase_env", "only OKX uses a passphrase");
}

void read_venue(ConfigSection& s, SourceConfig* c) {
  std::string venue;
  s.choice("venue", &venue, {"deribit", "binance", "okx", "bybit", "hyperliquid"});
  if (!s.has("venue")) s.error("venue", "is required for kind = \"venue\"");
  c->venue = parse_venue(venue).value_or(Venue::kNative);
  s.string("url", &c->url, false);
  if (!s.has("url"))
    s.error("url", "is required for kind = \"venue\"");
  else if (!url_scheme_ok(c->url, false))
    s.error("url", "must start with ws:// or wss://");
  std::string market;
  s.choice("market", &market, {"usdm", "options"});
  if (s.has("market") && c->venue != Venue::kBinance)
    s.error("market", "only Binance sources choose a market (usdm or options)");
  if (market == "options") c->binance_market = control::BinanceMarket::kOptions;
  s.string("rest_url", &c->rest_url, false);
  if (c->venue == Venue::kBinance && !s.has("rest_url"))
    s.error("rest_url", "Binance needs the REST base for its listenKey");
  if (!c->rest_url.empty() && !url_scheme_ok(c->rest_url, true))
    s.error("rest_url", "must start with http:// or https://");
  s.strings("coins", &c->coins);
  if (!c->coins.empty() && c->venue != Venue::kHyperliquid)
    s.error("coins", "only Hyperliquid sources follow public trades");
  s.strings("market_data", &c->market_data);
  if (!c->market_data.empty() && c->venue == Venue::kBinance && c->binance_market != control::BinanceMarket::kUsdM)
    s.error("market_data", "Binance options sources do not subscribe to market data yet (USD-M sources do)");
  const bool separate_public = market_data_on_own_connection(c->venue);
  s.string("market_data_url", &c->market_data_url, false);
  if (s.has("market_data_url") && !separate_public)
    s.error("market_data_url", "only OKX, Bybit and Binance sources read market data on a connection of its own");
  if (!c->market_data_url.empty() && !url_scheme_ok(c->market_data_url, false))
    s.error("market_data_url", "must start with ws:// or wss://");
  if (separate_public && !c->market_data.empty() && c->market_data_url.empty())
    s.error("market_data",
            c->venue == Venue::kOkx ? "OKX public channels need market_data_url (wss://ws.okx.com:8443/ws/v5/public)"
            : c->venue == Venue::kBybit ? "Bybit public topics need market_data_url "
                                          "(wss://stream.bybit.com/v5/public/linear, or .../option)"
                                        : "Binance market streams need market_data_url (wss://fstream.binance.com/ws)");
  for (const std::string& ch : c->market_data) {
    control::HyperliquidMarketChannel hl;
    control::OkxMarketChannel okx;
    if (c->venue == Venue::kBinance && !control::binance_market_stream_ok(ch))
      s.error("market_data", str_cat("'", ch,
                                     "' is not a Binance USD-M market stream (<symbol>@aggTrade, <symbol>@markPrice, "
                                     "<symbol>@markPrice@1s; symbol in lower case)"));
    if (c->venue == Venue::kBybit && !(ch.starts_with("publicTrade.") || ch.starts_with("tickers.")))
      s.error("market_data",
              str_cat("'", ch, "' is not a Bybit market-data topic (publicTrade.SYMBOL, tickers.SYMBOL)"));
    if (c->venue == Venue::kOkx && !control::parse_okx_market_channel(ch, okx))
      s.error("market_data", str_cat("'", ch,
                                     "' is not an OKX market-data subscription (trades:INSTID, mark-price:INSTID, "
                                     "index-tickers:INDEX)"));
    if (c->venue == Venue::kDeribit &&
        !(ch.starts_with("trades.") || ch.starts_with("markprice.options.") || ch.starts_with("deribit_price_index.")))
      s.error("market_data", str_cat("'", ch,
                                     "' is not a Deribit market-data channel (trades.*, markprice.options.*, "
                                     "deribit_price_index.*)"));
    if (c->venue == Venue::kHyperliquid && !control::parse_hyperliquid_market_channel(ch, hl))
      s.error("market_data",
              str_cat("'", ch, "' is not a Hyperliquid market-data subscription (trades:COIN, activeAssetCtx:COIN)"));
  }
  s.boolean("gap_fill", &c->gap_fill);
  s.boolean("positions", &c->positions);
  s.duration_ns("gap_fill_lookback", &c->gap_fill_lookback_ns, 0, 3600 * kSecond);
  s.strings("history_currencies", &c->history_currencies);
  s.strings("history_symbols", &c->history_symbols);
  if (!c->history_symbols.empty() && c->binance_market == control::BinanceMarket::kOptions)
    s.error("history_symbols", "Binance options fetch every symbol's trades at once: leave it out");
  s.duration_ns("connect_timeout", &c->connect_timeout_ns, 10 * kMs, 600 * kSecond);
  s.duration_ns("handshake_timeout", &c->handshake_timeout_ns, 10 * kMs, 600 * kSecond);
  s.duration_ns("idle_timeout", &c->idle_timeout_ns, 100 * kMs, 3600 * kSecond);
  s.duration_ns("heartbeat_interval", &c->heartbeat_interval_ns, 100 * kMs, 3600 * kSecond);
  s.duration_ns("auth_timeout", &c->auth_timeout_ns, 10 * kMs, 600 * kSecond);
  s.duration_ns("listen_key_keepalive", &c->listen_key_keepalive_ns, 100 * kMs, 60 * 60 * kSecond);
  s.duration_ns("backoff_initial", &c->backoff.initial_ns, kMs, 600 * kSecond);
  s.duration_ns("backoff_max", &c->backoff.max_ns, kMs, 3600 * kSecond);
  s.number("backoff_factor", &c->backoff.factor, 1.0, 10.0);
  if (c->backoff.max_ns < c->backoff.initial_ns) s.error("backoff_max", "must not be less than backoff_initial");
  std::int64_t max_frame = static_cast<std::int64_t>(c->max_frame_bytes);
  s.integer("max_frame_bytes", &max_frame, 1024, 1LL << 28);
  c->max_frame_bytes = static_cast<std::size_t>(max_frame);
  s.boolean("tls_verify", &c->tls_verify);
  s.string("ca_file", &c->ca_file, false);
  s.readable_file("ca_file", c->ca_file);
  std::set<std::string> names;
  for (const toml::table* t : s.tables("accounts")) {
    ConfigSection a(t, str_cat(s.path(), ".accounts[]"), s.errors());
    SourceAccount account;
    read_account(a, c->venue, &account);
    if (!account.name.empty() && !names.insert(account.name).second) a.error("name", "is used twice in this source");
    c->accounts.push_back(std::move(account));
  }
  if (c->accounts.empty() && !(c->venue == Venue::kHyperliquid && !c->coins.empty()))
    s.error("accounts", "a venue source needs at least one account");
}

void read_ingest(ConfigSection& s, SourceConfig* c) {
  s.string("listen", &c->listen, false);
  // Parsed as IngestServer::start() parses it: an IP address and a port in 0..65535.
  if (auto where = parse_host_port(c->listen); !where.ok()) {
    s.error("listen", str_cat("must be host:port: \"", c->listen, "\": ", std::string(where.status().message())));
  } else {
    boost::system::error_code ec;
    boost::asio::ip::make_address(where->first, ec);
    if (ec) s.error("listen", str_cat("\"", where->first, "\" is not an IP address (", ec.message(), ")"));
  }
  read_secret_ref(s, "token", &c->token);
  if (!c->token.configured()) s.error("token_env", "token_env or token_file is required (bearer token of the feed)");
  s.integer("max_connections", &c->max_connections, 1, 100'000);
  std::int64_t max_frame = static_cast<std::int64_t>(c->max_frame_bytes);
  s.integer("max_frame_bytes", &max_frame, 1024, 1LL << 28);
  c->max_frame_bytes = static_cast<std::size_t>(max_frame);
  s.duration_ns("handshake_timeout", &c->handshake_timeout_ns, 10 * kMs, 600 * kSecond);
  s.duration_ns("idle_timeout", &c->idle_timeout_ns, 100 * kMs, 3600 * kSecond);
  s.string("tls_cert_file", &c->tls_cert_file, false);
  s.string("tls_key_file", &c->tls_key_file, false);
  if (c->tls_cert_file.empty() != c->tls_key_file.empty())
    s.error("tls_cert_file", "set both tls_cert_file and tls_key_file, or neither");
  check_tls_pair(s, "tls_cert_file", c->tls_cert_file, "tls_key_file", c->tls_key_file);
}

void read_replay_source(ConfigSection& s, SourceConfig* c) {
  s.string("path", &c->path, false);
  if (!s.has("path")) s.error("path", "is required for kind = \"replay\"");
  s.readable_file("path", c->path);
  std::int64_t max = static_cast<std::int64_t>(c->max_line_bytes);
  s.integer("max_line_bytes", &max, 256, 1LL << 26);
  c->max_line_bytes = static_cast<std::size_t>(max);
}

void read_simulator(ConfigSection& s, SourceConfig* c) {
  std::int64_t seed = static_cast<std::int64_t>(c->seed);
  s.integer("seed", &seed, 0, INT64_MAX);
  c->seed = static_cast<std::uint64_t>(seed);
  std::int64_t accounts = c->sim_accounts;
  s.integer("accounts", &accounts, 1, 10'000'000);
  c->sim_accounts = static_cast<std::uint32_t>(accounts);
  s.number("rate", &c->rate, 1e-3, 1e8);
  s.number("duration_s", &c->duration_s, 0, 1e9);
  s.string("market_events", &c->market_events);
  if (auto events = fillsim::parse_market_events(c->market_events); !events.ok())
    s.error("market_events", std::string(events.status().message()));
}

void read_nats_source(ConfigSection& s, SourceConfig* c) {
  c->url.clear();
  s.string("url", &c->url, false);
  if (!s.has("url"))
    s.error("url", "is required for kind = \"nats\"");
  else if (!c->url.starts_with("nats://") && !c->url.starts_with("tls://"))
    s.error("url", str_cat("\"", c->url, "\" is not a NATS URL (nats://host:port or tls://host:port)"));
  read_secret_ref(s, "token", &c->token);
  s.string("stream", &c->stream, false);
  s.string("subject", &c->subject, false);
  s.string("durable", &c->durable, false);
  // JetStream's names: no whitespace, '.', '*', '>' (they are tokens of API subjects).
  for (auto [key, value] :
       {std::pair<std::string_view, const std::string*>{"stream", &c->stream}, {"durable", &c->durable}}) {
    if (value->empty() || value->find_first_of(" \t\r\n.*>/\\") != std::string::npos)
      s.error(key, str_cat("\"", *value, "\" is not a JetStream name (no spaces, '.', '*', '>', '/')"));
  }
  if (c->subject.empty() || c->subject.find_first_of(" \t\r\n") != std::string::npos || c->subject.front() == '.' ||
      c->subject.back() == '.' || c->subject.find("..") != std::string::npos)
    s.error("subject", str_cat("\"", c->subject, "\" is not a NATS subject"));
  s.boolean("create_stream", &c->create_stream);
  std::int64_t batch = c->batch;
  s.integer("batch", &batch, 1, 10'000);
  c->batch = static_cast<int>(batch);
  s.duration_ns("ack_wait", &c->ack_wait_ns, 1 * kSecond, 7 * 24 * 3600 * kSecond);
  s.duration_ns("retry_interval", &c->retry_interval_ns, 10 * kMs, 600 * kSecond);
  std::int64_t max_message = static_cast<std::int64_t>(c->max_frame_bytes);
  s.integer("max_message_bytes", &max_message, 1024, 1LL << 26);
  c->max_frame_bytes = static_cast<std::size_t>(max_message);
}

}  // namespace

std::string_view to_string(SourceKind k) {
  switch (k) {
    case SourceKind::kVenue: return "venue";
    case SourceKind::kIngest: return "ingest";
    case SourceKind::kReplay: return "replay";
    case SourceKind::kSimulator: return "simulator";
    case SourceKind::kNats: return "nats";
  }
  return "?";
}

void read_sources(ConfigSection& root, std::vector<SourceConfig>* out) {
  std::set<std::string> names;
  int index = 0;
  for (const toml::table* t : root.tables("sources")) {
    ConfigSection s(t, str_cat("sources[", index, "]"), root.errors());
    SourceConfig c;
    std::string kind = "venue";
    s.choice("kind", &kind, {"venue", "ingest", "replay", "simulator", "nats"});
    if (kind == "venue") c.kind = SourceKind::kVenue;
    if (kind == "ingest") c.kind = SourceKind::kIngest;
    if (kind == "replay") c.kind = SourceKind::kReplay;
    if (kind == "simulator") c.kind = SourceKind::kSimulator;
    if (kind == "nats") c.kind = SourceKind::kNats;
    switch (c.kind) {
      case SourceKind::kVenue: read_venue(s, &c); break;
      case SourceKind::kIngest: read_ingest(s, &c); break;
      case SourceKind::kReplay: read_replay_source(s, &c); break;
      case SourceKind::kSimulator: read_simulator(s, &c); break;
      case SourceKind::kNats: read_nats_source(s, &c); break;
    }
    s.string("name", &c.name, false);
    if (c.name.empty()) {
      c.name = c.kind == SourceKind::kVenue ? str_cat("venue-", to_string(c.venue), "-", index)
                                            : str_cat(to_string(c.kind), "-", index);
    }
    if (!names.insert(c.name).second) s.error("name", "is used by another source");
    out->push_back(std::move(c));
    ++index;
  }
}

}  // namespace segmentd
