#include "service/ingest/sim_source.h"

#include <climits>
#include <cstring>

#include "core/str_cat.h"
#include "sim/pacer.h"

namespace fillsim {
namespace {
constexpr segmentd::AccountId kUnseen = 0xFFFFFFFFu;
constexpr segmentd::InstrumentId kUnresolved = 0xFFFFFFFFu;
}  // namespace

SimSource::SimSource(SimSourceOptions options, segmentd::AccountInterner& accounts,
                     segmentd::InstrumentRegistry& instruments, segmentd::FillSink& sink)
    : options_(std::move(options)), accounts_(accounts), instruments_(instruments), sink_(sink) {}

SimSource::~SimSource() { stop(); }

absl::Status SimSource::start() {
  if (auto st = validate(options_.sim); !st.ok()) {
    return absl::InvalidArgumentError(segmentd::str_cat("simulator: ", st.message()));
  }
  if (resume_after_ns_ > 0 && options_.sim.start_ns <= resume_after_ns_) options_.sim.start_ns = resume_after_ns_ + 1;
  sim_ = std::make_unique<Simulator>(options_.sim);
  account_ids_.assign(sim_->account_count(), kUnseen);
  thread_ = std::thread([this] { run(); });
  return absl::OkStatus();
}

void SimSource::stop() {
  stop_.store(true, std::memory_order_release);
  if (thread_.joinable()) thread_.join();
}

void SimSource::run() {
  Pacer pacer(options_.sim.start_ns, options_.speedup > 0 ? options_.speedup : 1.0);
  const bool paced = options_.speedup > 0;
  SimFill sf;
  while (!stop_.load(std::memory_order_acquire) && sim_->next(&sf)) {
    segmentd::Fill f = sf.fill;
    if (paced && !pacer.wait_until(f.recv_ns, &stop_)) break;
    // Re-resolve the simulator's ids against the service's registries (first sight only).
    const std::uint32_t a = sf.fill.account;
    if (account_ids_[a] == kUnseen) account_ids_[a] = accounts_.intern(sf.account);
    f.account = account_ids_[a];
    const std::uint32_t ins = sf.fill.instrument;
    if (ins >= instrument_ids_.size()) {
      instrument_ids_.resize(ins + 1, kUnresolved);
      underlying_ids_.resize(ins + 1, 0);
    }
    if (instrument_ids_[ins] == kUnresolved) {
      auto id = instruments_.resolve(segmentd::Venue::kDeribit, sf.symbol);
      if (!id.ok()) {  // the simulator only lists instruments it can name; count, never crash
        stats_.add_error(segmentd::ParseErrorReason::kBadSymbol);
        continue;
      }
      instrument_ids_[ins] = *id;
      underlying_ids_[ins] = instruments_.underlying_of(*id);
    }
    f.instrument = instrument_ids_[ins];
    f.underlying = underlying_ids_[ins];
    f.venue = segmentd::Venue::kDeribit;
    segmentd::SourceStats::add(stats_.messages);
    segmentd::UnitGuard unit(sink_);
    if (sink_.push(f))
      segmentd::SourceStats::add(stats_.fills);
    else
      segmentd::SourceStats::add(stats_.sink_rejected);
    // The venue's open interest of the instrument, as a ticker would state it: at most once a
    // second of event time per instrument.
    const double oi = open_interest_.on_fill(a, ins, f.side == segmentd::Side::kBuy ? f.qty : -f.qty);
    if (ins >= next_open_interest_ns_.size()) next_open_interest_ns_.resize(ins + 1, INT64_MIN);
    if (f.recv_ns >= next_open_interest_ns_[ins]) {
      next_open_interest_ns_[ins] = f.recv_ns + kOpenInterestEveryNs;
      segmentd::PriceRecord p;
      p.recv_ns = f.recv_ns;
      p.venue = f.venue;
      p.instrument = f.instrument;
      p.underlying = f.underlying;
      p.open_interest = oi;
      if (sink_.push_price(p)) segmentd::SourceStats::add(stats_.prices);
    }
    event_ns_.store(f.recv_ns, std::memory_order_relaxed);
  }
  finished_.store(true, std::memory_order_release);
}

void SimSource::save_position(std::string& out) const {
  const std::int64_t t = event_ns_.load(std::memory_order_relaxed);
  out.assign(reinterpret_cast<const char*>(&t), sizeof(t));
}

absl::Status SimSource::check_position(std::string_view bytes) const {
  if (bytes.size() != sizeof(resume_after_ns_))
    return absl::DataLossError(segmentd::str_cat(options_.name, ": resume position is not an event time"));
  return absl::OkStatus();
}

absl::Status SimSource::restore_position(std::string_view bytes) {
  if (absl::Status st = check_position(bytes); !st.ok()) return st;
  std::memcpy(&resume_after_ns_, bytes.data(), sizeof(resume_after_ns_));
  return absl::OkStatus();
}

std::vector<std::pair<segmentd::AccountId, TruthRow>> SimSource::truth() const {
  std::vector<std::pair<segmentd::AccountId, TruthRow>> out;
  for (std::uint32_t a = 0; a < account_ids_.size(); ++a) {
    if (account_ids_[a] != kUnseen) out.emplace_back(account_ids_[a], sim_->truth(a));
  }
  return out;
}

}  // namespace fillsim
