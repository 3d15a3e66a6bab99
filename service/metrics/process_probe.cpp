#include "service/metrics/process_probe.h"

#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <vector>

#include "service/base/log.h"

namespace segmentd {
namespace {

prometheus::Gauge& gauge(Metrics& m, const std::string& name, const std::string& help) {
  return gauge_family(m, name, help).Add({});
}

std::string read_file(const char* path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Boot time from /proc/stat ("btime N"): start_time in /proc/self/stat counts from boot.
double boot_time_seconds() {
  std::istringstream in(read_file("/proc/stat"));
  std::string key;
  while (in >> key) {
    if (key == "btime") {
      double t = 0;
      in >> t;
      return t;
    }
    in.ignore(1 << 20, '\n');
  }
  return 0;
}

}  // namespace

ProcessStats read_process_stats() {
  ProcessStats s;
  const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  const double page = static_cast<double>(sysconf(_SC_PAGESIZE));
  // /proc/self/stat: "pid (comm) state ..."; comm may hold spaces, so fields count after ')'.
  std::string stat = read_file("/proc/self/stat");
  std::size_t close = stat.rfind(')');
  if (close != std::string::npos) {
    std::istringstream in(stat.substr(close + 2));
    std::vector<std::string> f;
    std::string x;
    while (in >> x) f.push_back(x);
    // f[0] is field 3 (state): field n is f[n - 3].
    if (f.size() > 21) {
      s.cpu_seconds = (std::stod(f[14 - 3]) + std::stod(f[15 - 3])) / ticks;
      s.threads = std::stoull(f[20 - 3]);
      s.start_time_seconds = boot_time_seconds() + std::stod(f[22 - 3]) / ticks;
      s.virtual_bytes = std::stoull(f[23 - 3]);
      s.resident_bytes = static_cast<std::uint64_t>(std::stod(f[24 - 3]) * page);
    }
  }
  if (DIR* d = opendir("/proc/self/fd")) {
    std::uint64_t n = 0;
    while (dirent* e = readdir(d)) {
      if (e->d_name[0] != '.') ++n;
    }
    closedir(d);
    s.open_fds = n > 0 ? n - 1 : 0;  // not the descriptor of the listing itself
  }
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0) s.max_fds = rl.rlim_cur;
  return s;
}

ProcessProbe::ProcessProbe(Metrics& m, const std::string& version)
    : cpu_(counter_family(m, "process_cpu_seconds_total", "Total user and system CPU time spent in seconds.").Add({})),
      resident_(gauge(m, "process_resident_memory_bytes", "Resident memory size in bytes.")),
      virtual_(gauge(m, "process_virtual_memory_bytes", "Virtual memory size in bytes.")),
      open_fds_(gauge(m, "process_open_fds", "Number of open file descriptors.")),
      max_fds_(gauge(m, "process_max_fds", "Maximum number of open file descriptors.")),
      threads_(gauge(m, "process_threads", "Number of OS threads in the process.")),
      start_time_(gauge(m, "process_start_time_seconds", "Start time of the process since unix epoch in seconds.")),
      log_suppressed_(
          counter_family(m, "segmentd_log_suppressed_lines_total", "Log lines dropped by the repeat rate limit.")
              .Add({})),
      hook_(m.on_collect([this] { collect(); })) {
  gauge_family(m, "segmentd_build_info", "Always 1; the version is a label.").Add({{"version", version}}).Set(1);
}

void ProcessProbe::collect() {
  ProcessStats s = read_process_stats();
  if (s.cpu_seconds > cpu_exported_) {
    cpu_.Increment(s.cpu_seconds - cpu_exported_);
    cpu_exported_ = s.cpu_seconds;
  }
  resident_.Set(static_cast<double>(s.resident_bytes));
  virtual_.Set(static_cast<double>(s.virtual_bytes));
  open_fds_.Set(static_cast<double>(s.open_fds));
  max_fds_.Set(static_cast<double>(s.max_fds));
  threads_.Set(static_cast<double>(s.threads));
  start_time_.Set(s.start_time_seconds);
  log_suppressed_.sync(default_logger().suppressed_total());
}

}  // namespace segmentd
