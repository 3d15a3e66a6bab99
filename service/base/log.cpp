#include "service/base/log.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>

#include "core/str_cat.h"

namespace segmentd {
namespace {

// A runaway caller building messages at run time must not grow the table without bound; when
// full, keys whose window has passed are dropped (their summaries emitted first).
constexpr std::size_t kMaxRateKeys = 4096;

constexpr std::array<std::string_view, 5> kSensitive = {"secret", "token", "password", "signature", "key"};

std::int64_t system_now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

void append_timestamp(std::string& out, std::int64_t ts_ns) {
  std::time_t secs = static_cast<std::time_t>(ts_ns / 1'000'000'000);
  std::int64_t micros = (ts_ns % 1'000'000'000) / 1000;
  if (micros < 0) {
    micros += 1'000'000;
    --secs;
  }
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[40];
  int n = std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                        tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(micros));
  out.append(buf, static_cast<std::size_t>(n));
}

void append_hex_escape(std::string& out, unsigned char c) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.append("\\u00");
  out.push_back(kHex[c >> 4]);
  out.push_back(kHex[c & 0xf]);
}

// JSON string body escaping (also used for quoted text values: same rules, readable).
void append_escaped(std::string& out, std::string_view s) {
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    switch (ch) {
      case '"': out.append("\\\""); break;
      case '\\': out.append("\\\\"); break;
      case '\n': out.append("\\n"); break;
      case '\r': out.append("\\r"); break;
      case '\t': out.append("\\t"); break;
      default:
        if (c < 0x20 || c == 0x7f) {
          append_hex_escape(out, c);
        } else {
          out.push_back(ch);
        }
    }
  }
}

bool needs_quotes(std::string_view s) {
  if (s.empty()) return true;
  return std::any_of(s.begin(), s.end(), [](char ch) {
    auto c = static_cast<unsigned char>(ch);
    return c <= 0x20 || c == 0x7f || ch == '"' || ch == '=' || ch == '\\';
  });
}

void append_text_string(std::string& out, std::string_view s) {
  if (!needs_quotes(s)) {
    out.append(s);
    return;
  }
  out.push_back('"');
  append_escaped(out, s);
  out.push_back('"');
}

void append_json_string(std::string& out, std::string_view s) {
  out.push_back('"');
  append_escaped(out, s);
  out.push_back('"');
}

// A key is an identifier we write in code; still, keep the line well-formed whatever it is.
void append_key(std::string& out, std::string_view key, bool json) {
  if (json) {
    append_json_string(out, key);
    return;
  }
  for (char ch : key) {
    auto c = static_cast<unsigned char>(ch);
    out.push_back(c <= 0x20 || c == 0x7f || ch == '=' || ch == '"' ? '_' : ch);
  }
}

template <class T>
void append_number(std::string& out, T v) {
  char buf[40];
  auto [p, ec] = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, p);
}

void append_value(std::string& out, std::string_view key, const LogValue& v, bool json) {
  if (v.kind() == LogValue::Kind::kSecret || is_sensitive_key(key)) {
    if (json) {
      append_json_string(out, "***");
    } else {
      out.append("***");
    }
    return;
  }
  switch (v.kind()) {
    case LogValue::Kind::kString:
      if (json) {
        append_json_string(out, v.str());
      } else {
        append_text_string(out, v.str());
      }
      break;
    case LogValue::Kind::kInt: append_number(out, v.i()); break;
    case LogValue::Kind::kUint: append_number(out, v.u()); break;
    case LogValue::Kind::kBool: out.append(v.u() ? "true" : "false"); break;
    case LogValue::Kind::kDouble:
      if (std::isfinite(v.d())) {
        append_number(out, v.d());
      } else {
        std::string_view s = std::isnan(v.d()) ? "NaN" : (v.d() > 0 ? "+Inf" : "-Inf");
        if (json) {
          append_json_string(out, s);
        } else {
          out.append(s);
        }
      }
      break;
    case LogValue::Kind::kSecret: break;  // handled above
  }
}

std::string rate_key(std::string_view component, std::string_view msg) {
  std::string k;
  k.reserve(component.size() + 1 + msg.size());
  k.append(component);
  k.push_back('\0');
  k.append(msg);
  return k;
}

}  // namespace

std::string_view to_string(LogLevel level) {
  switch (level) {
    case LogLevel::kTrace: return "trace";
    case LogLevel::kDebug: return "debug";
    case LogLevel::kInfo: return "info";
    case LogLevel::kWarn: return "warn";
    case LogLevel::kError: return "error";
    case LogLevel::kOff: return "off";
  }
  return "unknown";
}

std::optional<LogLevel> parse_log_level(std::string_view name) {
  for (LogLevel l :
       {LogLevel::kTrace, LogLevel::kDebug, LogLevel::kInfo, LogLevel::kWarn, LogLevel::kError, LogLevel::kOff}) {
    if (to_string(l) == name) return l;
  }
  return std::nullopt;
}

bool is_sensitive_key(std::string_view key) {
  std::string lower(key);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c); });
  return std::any_of(kSensitive.begin(), kSensitive.end(),
                     [&](std::string_view w) { return lower.find(w) != std::string::npos; });
}

Logger::Logger()
    : Logger(
          LogOptions{},
          [](std::string_view line) {
            // Our mutex already orders our lines; the stream lock keeps other stderr writers out.
            flockfile(stderr);
            std::fwrite(line.data(), 1, line.size(), stderr);
            std::fputc('\n', stderr);
            funlockfile(stderr);
          },
          system_now_ns) {}

Logger::Logger(LogOptions options, Sink sink, Clock clock) : sink_(std::move(sink)), clock_(std::move(clock)) {
  configure(options);
}

void Logger::configure(const LogOptions& options) {
  std::lock_guard<std::mutex> lock(mu_);
  options_ = options;
  json_.store(options.format == LogFormat::kJson, std::memory_order_relaxed);
  level_.store(static_cast<std::uint8_t>(options.level), std::memory_order_relaxed);
}

std::string Logger::format_line(std::int64_t ts_ns, LogLevel level, std::string_view component, std::string_view msg,
                                std::initializer_list<LogField> fields) const {
  const bool json = json_.load(std::memory_order_relaxed);
  std::string out;
  out.reserve(128);
  if (json) {
    out.append("{\"ts\":\"");
    append_timestamp(out, ts_ns);
    out.append("\",\"level\":\"");
    out.append(to_string(level));
    out.append("\",\"component\":");
    append_json_string(out, component);
    out.append(",\"msg\":");
    append_json_string(out, msg);
    for (const LogField& f : fields) {
      out.push_back(',');
      append_key(out, f.key, true);
      out.push_back(':');
      append_value(out, f.key, f.value, true);
    }
    out.push_back('}');
  } else {
    append_timestamp(out, ts_ns);
    out.push_back(' ');
    out.append(to_string(level));
    out.push_back(' ');
    append_text_string(out, component);
    out.push_back(' ');
    append_text_string(out, msg);
    for (const LogField& f : fields) {
      out.push_back(' ');
      append_key(out, f.key, false);
      out.push_back('=');
      append_value(out, f.key, f.value, false);
    }
  }
  return out;
}

void Logger::emit_summary_locked(std::int64_t now_ns, std::string_view key, const RateState& st) {
  std::size_t zero = key.find('\0');
  std::string_view component = key.substr(0, zero);
  std::string_view msg = key.substr(zero + 1);
  std::string text = str_cat("suppressed ", st.suppressed, " repeats");
  std::string line = format_line(now_ns, st.level, component, text,
                                 {{"of", msg},
                                  {"suppressed", st.suppressed},
                                  {"interval_s", static_cast<double>(options_.rate_limit_interval_ns) / 1e9}});
  sink_(line);
}

void Logger::write(LogLevel level, std::string_view component, std::string_view msg,
                   std::initializer_list<LogField> fields) {
  if (!enabled(level)) return;
  const std::int64_t now = clock_();
  std::string line = format_line(now, level, component, msg, fields);
  std::lock_guard<std::mutex> lock(mu_);
  if (options_.rate_limit_burst > 0) {
    std::string key = rate_key(component, msg);
    auto it = rate_.find(key);
    if (it == rate_.end()) {
      if (rate_.size() >= kMaxRateKeys) {
        // Drop finished windows (reporting what they suppressed) to make room.
        for (auto jt = rate_.begin(); jt != rate_.end();) {
          if (now - jt->second.window_start_ns >= options_.rate_limit_interval_ns) {
            if (jt->second.suppressed > 0) emit_summary_locked(now, jt->first, jt->second);
            rate_.erase(jt++);
          } else {
            ++jt;
          }
        }
      }
      it = rate_.emplace(std::move(key), RateState{now, 0, 0, level}).first;
    }
    RateState& st = it->second;
    if (now - st.window_start_ns >= options_.rate_limit_interval_ns) {
      if (st.suppressed > 0) emit_summary_locked(now, it->first, st);
      st = RateState{now, 0, 0, level};
    }
    if (st.count >= static_cast<std::uint32_t>(options_.rate_limit_burst)) {
      ++st.suppressed;
      suppressed_total_.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    ++st.count;
    st.level = level;
  }
  sink_(line);
}

void Logger::flush_suppressed() {
  const std::int64_t now = clock_();
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& [key, st] : rate_) {
    if (st.suppressed > 0 && now - st.window_start_ns >= options_.rate_limit_interval_ns) {
      emit_summary_locked(now, key, st);
      st = RateState{now, 0, 0, st.level};
    }
  }
}

Logger::Sink Logger::set_sink(Sink sink) {
  std::lock_guard<std::mutex> lock(mu_);
  std::swap(sink_, sink);
  return sink;
}

Logger& default_logger() {
  static Logger logger;
  return logger;
}

}  // namespace segmentd
