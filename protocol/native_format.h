#pragma once
// The native fill format: NDJSON, one fill per line (documented field by field in
// protocol/README.md). The parser is strict: unknown or duplicate fields, wrong types and
// out-of-range values are errors that name the field; a bad line never stops the stream.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "absl/container/flat_hash_map.h"
#include "core/account_interner.h"
#include "core/fill.h"
#include "core/instrument_registry.h"
#include "protocol/parse_error.h"

namespace segmentd {

//! Bytes that must be readable after a line handed to NativeFillParser::parse (simdjson padding).
inline constexpr std::size_t kJsonPadding = 64;

//! What a native line holds (protocol/README.md): a fill (the default), a price record
//! ("record":"price"), a venue position ("record":"position": a Fill with RecordKind::kPosition)
//! or the end of a complete positions snapshot ("record":"positions_end": RecordKind::kPositionsEnd).
enum class NativeLine : std::uint8_t { kFill, kPrice, kPosition, kPositionsEnd };

//! Parses native lines into Fills and PriceRecords. One per thread (owns a simdjson parser and a
//! symbol cache).
class NativeFillParser {
 public:
  NativeFillParser(AccountInterner& accounts, InstrumentRegistry& instruments);
  ~NativeFillParser();
  NativeFillParser(const NativeFillParser&) = delete;
  NativeFillParser& operator=(const NativeFillParser&) = delete;

  //! Parses one line (no newline). `line` must be followed by kJsonPadding readable bytes.
  //! Returns false and fills `err` on a bad line; `out` is then unspecified.
  bool parse(std::string_view line, Fill* out, ParseError* err);
  //! Same, for a line with no padding guarantee (copies it into a padded buffer).
  bool parse_unpadded(std::string_view line, Fill* out, ParseError* err);
  //! Any native line: *kind says which of *fill and *price holds it (a position record and the
  //! end of a snapshot are in *fill, Fill::record set). The two above take fills only (any other
  //! record is then a kBadValue error naming 'record').
  bool parse_line(std::string_view line, NativeLine* kind, Fill* fill, PriceRecord* price, ParseError* err);
  bool parse_line_unpadded(std::string_view line, NativeLine* kind, Fill* fill, PriceRecord* price, ParseError* err);

 private:
  void classify_error(std::string_view line, ParseError* err);
  bool finish_price_record(std::uint32_t seen, Venue venue, std::string_view symbol, const Fill& fields,
                           double open_interest, PriceRecord* out, ParseError* err);
  bool finish_position_record(std::uint32_t seen, Venue venue, std::string_view account, std::string_view symbol,
                              NativeLine kind, Fill* out, ParseError* err);
  bool parse_document(const char* data, std::size_t len, std::size_t capacity, NativeLine* kind, Fill* out,
                      PriceRecord* price, ParseError* err);

  AccountInterner& accounts_;
  InstrumentRegistry& instruments_;
  struct Json;  //!< simdjson state, kept out of this header
  std::unique_ptr<Json> json_;
  std::string scratch_;
  struct CachedInstrument {
    InstrumentId id = 0;
    UnderlyingId underlying = 0;
    InstrumentKind kind = InstrumentKind::kSpot;
    OptionType option_type = OptionType::kNone;
    std::int64_t expiry_ns = 0;
    double strike = 0.0;
    bool usd_quoted = false;  //!< price is in USD (or a USD stablecoin): notional = qty × price
  };
  bool lookup_instrument(Venue venue, std::string_view symbol, const CachedInstrument** out, ParseError* err);
  absl::flat_hash_map<std::string, CachedInstrument> symbol_cache_;  //!< key: venue byte + symbol
  std::string key_scratch_;
};

//! Appends one native position record or end of a positions snapshot (with '\n'), by
//! rec.record (RecordKind::kPosition or kPositionsEnd; `symbol` unused for the end).
void append_native_position(std::string& out, const Fill& rec, std::string_view account, std::string_view symbol);
//! Appends one native price record (with '\n'): the fields of `price` that are present.
void append_native_price(std::string& out, const PriceRecord& price, std::string_view symbol);

//! Appends one native line (with '\n') for `fill`. Numbers use the shortest round-trip form,
//! so encoding then parsing gives back the same Fill. `trade_id` is written as the 64-bit hash.
void append_native_fill(std::string& out, const Fill& fill, std::string_view account, std::string_view symbol);

//! The partition of an account in a partitioned feed (NATS subjects segmentd.fills.<partition>,
//! protocol/README.md): FNV-1a (64-bit) of the account's name, modulo `partitions` (≥ 1). Every
//! producer and every instance must agree on it, so it is defined here, once.
int partition_of_account(std::string_view account, int partitions);

struct NativeReadStats {
  std::uint64_t lines = 0;      //!< non-empty lines seen
  std::uint64_t fills = 0;      //!< lines turned into fills
  std::uint64_t prices = 0;     //!< price records (handed to on_price, or skipped without one)
  std::uint64_t positions = 0;  //!< position records and ends of snapshots (handed to on_fill, Fill::record set)
  std::uint64_t bytes = 0;
  ParseErrorCounts errors;
};

//! Streams a native NDJSON file: calls on_fill for each good line (a fill, or a venue position
//! record with Fill::record set) and on_error (1-based line
//! number) for each bad one, then goes on. Returns an error only when the file cannot be read.
//! Lines longer than max_line_bytes are reported as kOversized and skipped.
absl::Status read_native_file(const std::string& path, NativeFillParser& parser, std::size_t max_line_bytes,
                              const std::function<void(const Fill&)>& on_fill,
                              const std::function<void(std::uint64_t line, const ParseError&)>& on_error,
                              NativeReadStats* stats);

//! Where a line starts: its byte offset in the file and the number of lines before it.
struct NativeReadPosition {
  std::uint64_t offset = 0;
  std::uint64_t line = 0;
};
//! As above, starting at `start` (a position an earlier read reported: a line start), and
//! keeping *current at the start of the line being handled while on_fill/on_price/on_error run (a
//! checkpoint taken in on_fill before using the fill resumes there). Price records go to
//! on_price; an empty on_price skips them (counted in stats->prices either way).
absl::Status read_native_file(const std::string& path, NativeFillParser& parser, std::size_t max_line_bytes,
                              const std::function<void(const Fill&)>& on_fill,
                              const std::function<void(const PriceRecord&)>& on_price,
                              const std::function<void(std::uint64_t line, const ParseError&)>& on_error,
                              NativeReadStats* stats, NativeReadPosition start, NativeReadPosition* current);

}  // namespace segmentd
