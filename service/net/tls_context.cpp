#include "service/net/tls_context.h"

#include "core/str_cat.h"

namespace segmentd {

absl::StatusOr<std::shared_ptr<boost::asio::ssl::context>> make_server_tls_context(const std::string& cert_file,
                                                                                   const std::string& key_file) {
  namespace ssl = boost::asio::ssl;
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_server);
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                   ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 | ssl::context::single_dh_use);
  boost::system::error_code ec;
  ctx->use_certificate_chain_file(cert_file, ec);
  if (ec) return absl::InvalidArgumentError(str_cat("tls_cert ", cert_file, ": ", ec.message()));
  ctx->use_private_key_file(key_file, ssl::context::pem, ec);
  if (ec) return absl::InvalidArgumentError(str_cat("tls_key ", key_file, ": ", ec.message()));
  return ctx;
}

}  // namespace segmentd
