#include "core/price_tape.h"

#include <cmath>

namespace segmentd {

PriceTape::PriceTape(std::size_t instruments, std::size_t underlyings, int writers, std::int64_t market_data_hold_ns)
    : instruments_(instruments),
      underlyings_(underlyings),
      writers_(writers < 1 ? 1 : writers),
      hold_ns_(market_data_hold_ns < 0 ? 0 : market_data_hold_ns),
      prices_(new Slot[instruments_ * static_cast<std::size_t>(writers_)]),
      market_(new Slot[instruments_ * static_cast<std::size_t>(writers_)]),
      indices_(new Slot[underlyings_ * static_cast<std::size_t>(writers_)]) {}

void PriceTape::write(Slot& s, std::int64_t ts_ns, double price, AccountId set_by) {
  // Single writer per slot: plain load of its own seq, then the classic seqlock sequence.
  if (s.seq.load(std::memory_order_relaxed) != 0 && ts_ns < s.ts_ns.load(std::memory_order_relaxed)) return;
  const std::uint64_t seq = s.seq.load(std::memory_order_relaxed);
  s.seq.store(seq + 1, std::memory_order_relaxed);
  std::atomic_thread_fence(std::memory_order_release);
  s.ts_ns.store(ts_ns, std::memory_order_relaxed);
  s.price.store(price, std::memory_order_relaxed);
  s.set_by.store(set_by, std::memory_order_relaxed);
  s.seq.store(seq + 2, std::memory_order_release);
}

std::optional<TapePrice> PriceTape::read(const Slot& s) {
  for (;;) {
    const std::uint64_t before = s.seq.load(std::memory_order_acquire);
    if (before == 0) return std::nullopt;  // never written
    if (before & 1) continue;              // a write is in progress: it is a few stores long
    TapePrice p;
    p.ts_ns = s.ts_ns.load(std::memory_order_relaxed);
    p.price = s.price.load(std::memory_order_relaxed);
    p.set_by = s.set_by.load(std::memory_order_relaxed);
    std::atomic_thread_fence(std::memory_order_acquire);
    if (s.seq.load(std::memory_order_relaxed) == before) return p;
  }
}

std::optional<TapePrice> PriceTape::newest(const Slot* rows, std::size_t stride, std::size_t id) const {
  std::optional<TapePrice> best;
  for (int w = 0; w < writers_; ++w) {
    auto p = read(rows[static_cast<std::size_t>(w) * stride + id]);
    if (p && (!best || p->ts_ns > best->ts_ns)) best = p;
  }
  return best;
}

void PriceTape::record_instrument(int writer, InstrumentId id, std::int64_t ts_ns, double price, AccountId set_by) {
  if (id >= instruments_) {
    out_of_range_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  if (!(price > 0.0) || !std::isfinite(price)) return;
  write(prices_[static_cast<std::size_t>(writer) * instruments_ + id], ts_ns, price, set_by);
}

void PriceTape::record_market(int writer, InstrumentId id, std::int64_t ts_ns, double price) {
  if (id >= instruments_) {
    out_of_range_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  if (!(price > 0.0) || !std::isfinite(price)) return;
  write(market_[static_cast<std::size_t>(writer) * instruments_ + id], ts_ns, price, kMarketData);
}

void PriceTape::record_index(int writer, UnderlyingId id, std::int64_t ts_ns, double usd) {
  if (id >= underlyings_) {
    out_of_range_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  if (!(usd > 0.0) || !std::isfinite(usd)) return;
  write(indices_[static_cast<std::size_t>(writer) * underlyings_ + id], ts_ns, usd);
}

void PriceTape::record(int writer, const Fill& fill) {
  const double p = std::isfinite(fill.mark_price) && fill.mark_price > 0 ? fill.mark_price : fill.price;
  record_instrument(writer, fill.instrument, fill.recv_ns, p, fill.account);
  if (std::isfinite(fill.underlying_price)) record_index(writer, fill.underlying, fill.recv_ns, fill.underlying_price);
}

void PriceTape::record(int writer, const PriceRecord& observed) {
  const double p = std::isfinite(observed.mark_price) && observed.mark_price > 0 ? observed.mark_price : observed.price;
  if (std::isfinite(p)) record_market(writer, observed.instrument, observed.recv_ns, p);
  if (std::isfinite(observed.underlying_price))
    record_index(writer, observed.underlying, observed.recv_ns, observed.underlying_price);
}

std::optional<TapePrice> PriceTape::instrument(InstrumentId id) const {
  if (id >= instruments_) return std::nullopt;
  std::optional<TapePrice> fill = newest(prices_.get(), instruments_, id);
  std::optional<TapePrice> market = newest(market_.get(), instruments_, id);
  if (market && (!fill || market->ts_ns >= fill->ts_ns - hold_ns_)) return market;
  return fill;
}

std::optional<TapePrice> PriceTape::fill_price(InstrumentId id) const {
  if (id >= instruments_) return std::nullopt;
  return newest(prices_.get(), instruments_, id);
}

std::optional<TapePrice> PriceTape::market_price(InstrumentId id) const {
  if (id >= instruments_) return std::nullopt;
  return newest(market_.get(), instruments_, id);
}

std::optional<TapePrice> PriceTape::index(UnderlyingId id) const {
  if (id >= underlyings_) return std::nullopt;
  return newest(indices_.get(), underlyings_, id);
}

}  // namespace segmentd
