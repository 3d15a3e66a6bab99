#pragma once
// The text of a NATS C client (libnats) failure, for logs and errors: the status, the library's
// last error on this thread when it has one, and the JetStream error code when there is one.
// Shared by the JetStream sink, the NATS source and fillsim's publisher.

#include <nats/nats.h>

#include <string>

#include "core/str_cat.h"

namespace segmentd {

inline std::string nats_error(natsStatus s, jsErrCode jerr = static_cast<jsErrCode>(0)) {
  const char* last = nats_GetLastError(nullptr);
  return str_cat(natsStatus_GetText(s), last != nullptr && *last != '\0' ? str_cat(" (", last, ")") : std::string(),
                 jerr != 0 ? str_cat(" [JetStream error ", static_cast<int>(jerr), "]") : std::string());
}

}  // namespace segmentd
