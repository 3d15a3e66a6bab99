#pragma once
// Small allocation-free helpers to append JSON tokens to a std::string. Doubles use the
// shortest form that round-trips (std::to_chars), so output is byte-identical across runs.

#include <cstdint>
#include <string>
#include <string_view>

namespace segmentd::json {

void append_string(std::string& out, std::string_view s);  //!< quoted and escaped
void append_double(std::string& out, double v);            //!< non-finite → null
void append_int(std::string& out, std::int64_t v);
void append_uint(std::string& out, std::uint64_t v);

}  // namespace segmentd::json
