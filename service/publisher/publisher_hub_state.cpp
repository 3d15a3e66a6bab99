// PublisherHub's durable state (core/checkpoint.md, section PUBL): the seq, the replay ring as
// the exact text subscribers were sent, the published copy of every assignment and the segment
// table. A subscriber that resumes with since_seq after a restart gets the messages it missed from
// the restored ring, byte for byte, then the live stream from seq + 1.

#include "core/checkpoint_io.h"
#include "core/str_cat.h"
#include "service/publisher/publisher_hub.h"

namespace segmentd {

void PublisherHub::save_state(ByteWriter& w) const {
  {
    std::lock_guard<std::mutex> lock(mu_);
    w.u64(seq_);
    w.u64(ring_.size());
    for (const PublishedEntry& e : ring_) {
      w.u8(static_cast<std::uint8_t>(e.kind));
      w.u64(e.seq);
      w.u32(e.account);
      w.u32(e.from);
      w.u32(e.to);
      w.str(e.text());
    }
    w.u64(accounts_);
    for (std::size_t a = 0; a < accounts_; ++a) {
      const std::size_t page = a / kAssignmentPage;
      const PublishedAssignment row =
          page < pages_.size() && pages_[page] ? pages_[page]->rows[a % kAssignmentPage] : PublishedAssignment{};
      w.u32(row.segment);
      w.pod(row.confidence);
      w.i64(row.ts_ns);
      w.u64(row.seq);
    }
    w.u64(segments_->size());
    for (const auto& [id, seg] : *segments_) {
      w.u32(id);
      w.str(seg.label);
      w.f64(seg.policy.margin_multiplier);
      w.f64(seg.policy.quote_width_bps);
      w.f64(seg.policy.max_order_notional_usd);
    }
    // Since the market regimes: the regime in force, then each segment's stressed and extreme
    // policies (absent from an older checkpoint: calm, and the calm policy in every regime).
    w.u8(static_cast<std::uint8_t>(regime_));
    for (const auto& [id, seg] : *segments_) {
      w.u32(id);
      for (const SegmentPolicy* p : {&seg.stressed_policy, &seg.extreme_policy}) {
        w.f64(p->margin_multiplier);
        w.f64(p->quote_width_bps);
        w.f64(p->max_order_notional_usd);
      }
    }
  }
}

absl::Status PublisherHub::load_state(std::string_view bytes, ModelPtr model) {
  ByteReader r(bytes, "PUBL");
  const std::uint64_t seq = r.u64();
  const std::uint64_t ring_n = r.count(1 + 8 + 12 + 4);
  std::deque<PublishedEntry> ring;
  for (std::uint64_t i = 0; i < ring_n && r.ok(); ++i) {
    PublishedEntry e;
    const std::uint8_t kind = r.u8();
    if (kind > static_cast<std::uint8_t>(PublishedEntry::Kind::kRisk) ||
        kind == static_cast<std::uint8_t>(PublishedEntry::Kind::kHeartbeat))
      r.fail("bad message kind");
    e.kind = static_cast<PublishedEntry::Kind>(kind);
    e.seq = r.u64();
    e.account = r.u32();
    e.from = r.u32();
    e.to = r.u32();
    auto text = std::make_shared<const std::string>(r.str());
    e.offset = 0;
    e.size = static_cast<std::uint32_t>(text->size());
    e.chunk = std::move(text);
    if (!ring.empty() && e.seq != ring.back().seq + 1) r.fail("replay ring seqs are not consecutive");
    ring.push_back(std::move(e));
  }
  if (r.ok() && !ring.empty() && ring.back().seq != seq) r.fail("replay ring does not end at the seq");
  const std::uint64_t accounts = r.count(4 + 4 + 8 + 8);
  std::vector<std::shared_ptr<AssignmentPage>> pages((accounts + kAssignmentPage - 1) / kAssignmentPage);
  for (std::uint64_t a = 0; a < accounts && r.ok(); ++a) {
    PublishedAssignment row;
    row.segment = r.u32();
    row.confidence = r.pod<float>();
    row.ts_ns = r.i64();
    row.seq = r.u64();
    if (row.segment == kNoSegment && row.seq == 0) continue;
    auto& p = pages[a / kAssignmentPage];
    if (!p) p = std::make_shared<AssignmentPage>();
    p->rows[a % kAssignmentPage] = row;
  }
  auto table = std::make_shared<SegmentTable>();
  const std::uint64_t segs = r.count(4 + 4 + 24);
  for (std::uint64_t i = 0; i < segs && r.ok(); ++i) {
    const SegmentId id = r.u32();
    PublishedSegment seg;
    seg.label = r.str();
    seg.policy.margin_multiplier = r.f64();
    seg.policy.quote_width_bps = r.f64();
    seg.policy.max_order_notional_usd = r.f64();
    seg.stressed_policy = seg.policy;
    seg.extreme_policy = seg.policy;
    (*table)[id] = std::move(seg);
  }
  Regime regime = Regime::kCalm;
  if (r.ok() && !r.at_end()) {
    const std::uint8_t v = r.u8();
    if (v >= kRegimeCount) r.fail("bad market regime");
    regime = static_cast<Regime>(v);
    for (std::uint64_t i = 0; i < segs && r.ok(); ++i) {
      const SegmentId id = r.u32();
      auto it = table->find(id);
      if (it == table->end()) {
        r.fail("regime policies of a segment not in the table");
        break;
      }
      for (SegmentPolicy* p : {&it->second.stressed_policy, &it->second.extreme_policy}) {
        p->margin_multiplier = r.f64();
        p->quote_width_bps = r.f64();
        p->max_order_notional_usd = r.f64();
      }
    }
  }
  if (r.ok() && !r.at_end()) r.fail("bytes after the segment table");
  if (!r.ok()) return r.status();

  std::lock_guard<std::mutex> lock(mu_);
  if (seq_ != 0 || !sessions_.empty())
    return absl::FailedPreconditionError("publisher state must be loaded before anything is published");
  seq_ = seq;
  while (ring.size() > options_.replay_ring) ring.pop_front();  // a smaller ring than before
  ring_ = std::move(ring);
  pages_ = std::move(pages);
  accounts_ = accounts;
  segments_ = std::move(table);
  model_ = std::move(model);
  regime_ = regime;
  regime_now_.store(static_cast<std::uint8_t>(regime), std::memory_order_relaxed);
  last_seq_.store(seq_, std::memory_order_relaxed);
  ring_first_seq_.store(ring_.empty() ? 0 : ring_.front().seq, std::memory_order_relaxed);
  ring_size_.store(ring_.size(), std::memory_order_relaxed);
  if (model_) model_version_.store(model_->version, std::memory_order_relaxed);
  return absl::OkStatus();
}

}  // namespace segmentd
