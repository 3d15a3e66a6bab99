// segmentd_metrics_catalog: every metric segmentd exports, from a registry fed by all probes
// (tests/integration/metrics_catalog.h), without running the pipeline.
//   segmentd_metrics_catalog            the text exposition (what GET /metrics returns)
//   segmentd_metrics_catalog --names    one exported series name per line (histograms give
//                                       their _bucket, _sum and _count names)
//   segmentd_metrics_catalog --serve --port-file F
//                                       serves the exposition at http://127.0.0.1:<port>/metrics
//                                       (port chosen by the kernel, written to F) until SIGTERM
// The tests use it to check the exposition with promtool, the names the dashboard and the rules
// query, and a real Prometheus scrape.

#include <csignal>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <set>
#include <sstream>
#include <string>
#include <thread>

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "service/metrics/metrics.h"
#include "tests/integration/metrics_catalog.h"

namespace {

namespace beast = boost::beast;
namespace http = beast::http;
using tcp = boost::asio::ip::tcp;

std::set<std::string> series_names(const std::string& exposition) {
  std::set<std::string> names;
  std::istringstream in(exposition);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    names.insert(line.substr(0, line.find_first_of("{ ")));
  }
  return names;
}

// One connection: answer requests until the peer closes (Prometheus keeps the connection alive).
void serve_connection(tcp::socket socket, segmentd::Metrics& metrics) {
  beast::error_code ec;
  beast::flat_buffer buffer;
  for (;;) {
    http::request<http::string_body> req;
    http::read(socket, buffer, req, ec);
    if (ec) break;
    http::response<http::string_body> res;
    res.version(req.version());
    res.keep_alive(req.keep_alive());
    if (req.method() == http::verb::get && req.target() == "/metrics") {
      res.result(http::status::ok);
      res.set(http::field::content_type, segmentd::kMetricsContentType);
      res.body() = metrics.render();
    } else {
      res.result(http::status::not_found);
      res.set(http::field::content_type, "text/plain");
      res.body() = "not found\n";
    }
    res.prepare_payload();
    http::write(socket, res, ec);
    if (ec || !res.keep_alive()) break;
  }
  socket.shutdown(tcp::socket::shutdown_both, ec);
}

int serve(segmentd::Metrics& metrics, const std::string& port_file) {
  boost::asio::io_context io;
  tcp::acceptor acceptor(io, tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0));
  {
    // Written to a temporary name and renamed, so a reader never sees a partial port number.
    std::ofstream(port_file + ".tmp") << acceptor.local_endpoint().port() << "\n";
    std::rename((port_file + ".tmp").c_str(), port_file.c_str());
  }
  for (;;) {
    tcp::socket socket(io);
    beast::error_code ec;
    acceptor.accept(socket, ec);
    if (ec) continue;
    std::thread(serve_connection, std::move(socket), std::ref(metrics)).detach();
  }
}

}  // namespace

int main(int argc, char** argv) {
  std::string mode = argc > 1 ? argv[1] : "";
  segmentd::Metrics metrics;
  segmentd::MetricsCatalog catalog(metrics);
  if (mode.empty()) {
    std::cout << metrics.render();
    return 0;
  }
  if (mode == "--names") {
    for (const std::string& n : series_names(metrics.render())) std::cout << n << "\n";
    return 0;
  }
  if (mode == "--serve" && argc == 4 && std::string(argv[2]) == "--port-file") {
    std::signal(SIGPIPE, SIG_IGN);
    return serve(metrics, argv[3]);
  }
  std::cerr << "usage: segmentd_metrics_catalog [--names | --serve --port-file FILE]\n";
  return 2;
}
