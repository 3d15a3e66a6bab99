#pragma once
// Server TLS context from PEM files (publisher and admin API).

#include <memory>
#include <string>

#include <boost/asio/ssl/context.hpp>

#include "absl/status/statusor.h"

namespace segmentd {

//! TLS 1.2+ server context with the certificate chain and private key from PEM files. Errors
//! name the file and OpenSSL's reason.
absl::StatusOr<std::shared_ptr<boost::asio::ssl::context>> make_server_tls_context(const std::string& cert_file,
                                                                                   const std::string& key_file);

}  // namespace segmentd
