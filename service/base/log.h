#pragma once
// Structured logs: one line per event, either text
//   2026-11-22T04:47:25.123456Z warn ingest "source disconnected" source=deribit attempt=3
// or JSON lines
//   {"ts":"2026-11-22T04:47:25.123456Z","level":"warn","component":"ingest","msg":"source
//   disconnected","source":"deribit","attempt":3}
//
// Use the macros: they test the level before evaluating any argument, so a disabled
// SEGMENTD_LOG_DEBUG costs one relaxed atomic load.
//   SEGMENTD_LOG_WARN("ingest", "source disconnected", {"source", name}, {"attempt", n});
//
// Never a secret: a value wrapped in Secret always prints "***", and so does the value of any
// key whose name contains secret, token, password, signature or key (case-insensitive).
// Values are escaped, so a venue string cannot forge a line (no raw newline ever reaches the sink).
//
// Rate limit: the same (component, msg) logged more than `rate_limit_burst` times within
// `rate_limit_interval` is suppressed; when the interval has passed, one line
// "suppressed N repeats" (fields of=<msg>, suppressed=N) reports what was dropped. The summary
// comes with the next line of that key, or from flush_suppressed() (call it from a timer and at
// shutdown).
//
// Threads: every method may be called from any thread. Formatting runs on the caller's thread;
// a mutex serializes the rate-limit table and the write, so lines never interleave.

#include <atomic>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>

#include <mutex>  // std::mutex: Debian's Abseil is not TSan-instrumented
#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"

namespace segmentd {

enum class LogLevel : std::uint8_t { kTrace = 0, kDebug, kInfo, kWarn, kError, kOff };
enum class LogFormat : std::uint8_t { kText, kJson };

std::string_view to_string(LogLevel level);
std::optional<LogLevel> parse_log_level(std::string_view name);

//! A value that must never be printed (service/config/credentials.h): a Secret field always logs "***".
class Secret;

//! One value of a log field. Holds views: valid for the duration of the log call only.
class LogValue {
 public:
  enum class Kind : std::uint8_t { kString, kInt, kUint, kDouble, kBool, kSecret };

  LogValue(std::string_view s) : kind_(Kind::kString), s_(s) {}
  LogValue(const char* s) : kind_(Kind::kString), s_(s) {}
  LogValue(const std::string& s) : kind_(Kind::kString), s_(s) {}
  LogValue(bool b) : kind_(Kind::kBool), u_(b ? 1 : 0) {}
  LogValue(double d) : kind_(Kind::kDouble), d_(d) {}
  LogValue(float d) : kind_(Kind::kDouble), d_(d) {}
  LogValue(const Secret&) : kind_(Kind::kSecret) {}
  template <class T>
  requires(std::is_integral_v<T>&& std::is_signed_v<T> && !std::is_same_v<T, bool> && !std::is_same_v<T, char>)
      LogValue(T v)
      : kind_(Kind::kInt), i_(v) {}
  template <class T>
  requires(std::is_integral_v<T>&& std::is_unsigned_v<T> && !std::is_same_v<T, bool>) LogValue(T v)
      : kind_(Kind::kUint), u_(v) {}

  Kind kind() const { return kind_; }
  std::string_view str() const { return s_; }
  std::int64_t i() const { return i_; }
  std::uint64_t u() const { return u_; }
  double d() const { return d_; }

 private:
  Kind kind_;
  std::string_view s_;
  std::int64_t i_ = 0;
  std::uint64_t u_ = 0;
  double d_ = 0;
};

struct LogField {
  std::string_view key;
  LogValue value;
};

//! True when a key's value must be redacted (its name contains secret, token, password,
//! signature or key, in any case).
bool is_sensitive_key(std::string_view key);

struct LogOptions {
  LogLevel level = LogLevel::kInfo;
  LogFormat format = LogFormat::kText;
  int rate_limit_burst = 20;                             //!< lines per key per interval; 0 = no limit
  std::int64_t rate_limit_interval_ns = 10'000'000'000;  //!< the rate-limit window
};

class Logger {
 public:
  using Sink = std::function<void(std::string_view line)>;  //!< line without its '\n'
  using Clock = std::function<std::int64_t()>;              //!< wall-clock ns since the epoch

  //! Writes to stderr, timestamps from the system clock.
  Logger();
  //! For tests: any sink, any clock (the clock drives both timestamps and rate limiting).
  Logger(LogOptions options, Sink sink, Clock clock);
  Logger(const Logger&) = delete;
  Logger& operator=(const Logger&) = delete;

  void configure(const LogOptions& options);
  //! Replaces where lines go and returns the previous sink: tests capture what a server writes to
  //! the process-wide logger (a failed login's line, say) and put the sink back after.
  Sink set_sink(Sink sink);
  bool enabled(LogLevel level) const {
    return static_cast<std::uint8_t>(level) >= level_.load(std::memory_order_relaxed);
  }
  void write(LogLevel level, std::string_view component, std::string_view msg,
             std::initializer_list<LogField> fields = {});
  //! Emits the "suppressed N repeats" line of every key whose window has passed.
  void flush_suppressed();
  //! Lines suppressed so far (all keys), for a metric.
  std::uint64_t suppressed_total() const { return suppressed_total_.load(std::memory_order_relaxed); }

 private:
  struct RateState {
    std::int64_t window_start_ns = 0;
    std::uint32_t count = 0;       //!< lines of this key in the current window
    std::uint64_t suppressed = 0;  //!< dropped in the current window, not yet reported
    LogLevel level = LogLevel::kInfo;
  };
  std::string format_line(std::int64_t ts_ns, LogLevel level, std::string_view component, std::string_view msg,
                          std::initializer_list<LogField> fields) const;
  void emit_summary_locked(std::int64_t now_ns, std::string_view key, const RateState& st)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  std::atomic<std::uint8_t> level_{static_cast<std::uint8_t>(LogLevel::kInfo)};
  std::atomic<bool> json_{false};
  std::atomic<std::uint64_t> suppressed_total_{0};
  Sink sink_ ABSL_GUARDED_BY(mu_);
  Clock clock_;
  mutable std::mutex mu_;
  LogOptions options_ ABSL_GUARDED_BY(mu_);
  //! Key: component + '\0' + msg. Bounded: messages are literals; see kMaxRateKeys.
  absl::flat_hash_map<std::string, RateState> rate_ ABSL_GUARDED_BY(mu_);
};

//! The process-wide logger (stderr until configured otherwise).
Logger& default_logger();

}  // namespace segmentd

// The level is tested before any argument is evaluated.
#define SEGMENTD_LOG(level, component, msg, ...)                                                     \
  do {                                                                                               \
    ::segmentd::Logger& segmentd_log_l_ = ::segmentd::default_logger();                              \
    if (segmentd_log_l_.enabled(level)) segmentd_log_l_.write(level, component, msg, {__VA_ARGS__}); \
  } while (0)
#define SEGMENTD_LOG_TRACE(component, msg, ...) SEGMENTD_LOG(::segmentd::LogLevel::kTrace, component, msg, __VA_ARGS__)
#define SEGMENTD_LOG_DEBUG(component, msg, ...) SEGMENTD_LOG(::segmentd::LogLevel::kDebug, component, msg, __VA_ARGS__)
#define SEGMENTD_LOG_INFO(component, msg, ...) SEGMENTD_LOG(::segmentd::LogLevel::kInfo, component, msg, __VA_ARGS__)
#define SEGMENTD_LOG_WARN(component, msg, ...) SEGMENTD_LOG(::segmentd::LogLevel::kWarn, component, msg, __VA_ARGS__)
#define SEGMENTD_LOG_ERROR(component, msg, ...) SEGMENTD_LOG(::segmentd::LogLevel::kError, component, msg, __VA_ARGS__)
