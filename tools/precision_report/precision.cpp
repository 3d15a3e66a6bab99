#include "tools/precision_report/precision.h"

#include <algorithm>
#include <array>
#include <map>
#include <ostream>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_format.h"
#include "core/cluster_metrics.h"

namespace precision {

using segmentd::SegmentChange;
using segmentd::SegmentId;

Report evaluate(const segmentd::ReplaySummary& replay, const std::vector<fillsim::TruthEntry>& truth,
                std::int64_t half_life_ns) {
  Report r;
  r.half_life_s = half_life_ns / 1e9;
  r.hours = (replay.last_ns - replay.first_ns) / 3.6e12;
  absl::flat_hash_map<std::string, const fillsim::TruthEntry*> by_name;
  for (const auto& t : truth) by_name[t.account] = &t;

  // Final assignment against the archetype at the end of the run.
  std::vector<std::uint32_t> labels_truth, labels_seg;
  std::map<SegmentId, std::array<std::size_t, fillsim::kArchetypeCount>> composition;
  for (const auto& [name, seg] : replay.assignments) {
    auto it = by_name.find(name);
    if (it == by_name.end()) continue;
    if (seg == segmentd::kNoSegment) {
      ++r.unassigned;
      continue;
    }
    const auto arch = it->second->at(replay.last_ns);
    labels_truth.push_back(static_cast<std::uint32_t>(arch));
    labels_seg.push_back(seg);
    ++composition[seg][static_cast<std::size_t>(arch)];
  }
  r.accounts = labels_truth.size();
  if (r.accounts > 0) {
    r.purity =
        segmentd::purity(std::span<const std::uint32_t>(labels_truth), std::span<const std::uint32_t>(labels_seg));
    r.ari = segmentd::adjusted_rand_index(std::span<const std::uint32_t>(labels_truth),
                                          std::span<const std::uint32_t>(labels_seg));
    r.nmi = segmentd::normalized_mutual_information(std::span<const std::uint32_t>(labels_truth),
                                                    std::span<const std::uint32_t>(labels_seg));
  }
  std::map<SegmentId, fillsim::Archetype> majority;
  for (const auto& [seg, counts] : composition) {
    auto best = std::max_element(counts.begin(), counts.end()) - counts.begin();
    std::size_t total = 0;
    for (auto c : counts) total += c;
    SegmentRow row;
    row.id = seg;
    if (replay.model) {
      if (const auto* s = replay.model->find(seg)) row.label = s->label;
    }
    row.accounts = total;
    row.majority = std::string(fillsim::to_string(static_cast<fillsim::Archetype>(best)));
    row.majority_share = total ? double(counts[static_cast<std::size_t>(best)]) / total : 0.0;
    r.segments.push_back(row);
    majority[seg] = static_cast<fillsim::Archetype>(best);
  }

  // Churn over the second half of the run; re-segmentation of drifted accounts.
  const std::int64_t half = replay.first_ns + (replay.last_ns - replay.first_ns) / 2;
  std::size_t moves = 0;
  std::array<std::size_t, fillsim::kArchetypeCount> moves_by{};
  absl::flat_hash_map<std::string, std::int64_t> reseg_at;  // first move into the new archetype's segment
  absl::flat_hash_map<std::string, SegmentId> segment_at_switch;
  for (const SegmentChange& c : replay.change_log) {
    const std::string& name = replay.account_names[c.account];
    auto it = by_name.find(name);
    if (it == by_name.end()) continue;
    const fillsim::TruthEntry& t = *it->second;
    const bool switched = t.switch_ns != 0 && t.switch_ns <= replay.last_ns;
    if (switched && c.ts_ns >= t.switch_ns) {
      auto m = majority.find(c.to);
      if (!reseg_at.contains(name) && m != majority.end() && m->second == t.new_archetype) reseg_at[name] = c.ts_ns;
    } else if (switched) {
      segment_at_switch[name] = c.to;
    }
    if (c.cause == SegmentChange::Cause::kMoved && c.ts_ns >= half && !(switched && c.ts_ns >= t.switch_ns)) {
      ++moves;
      ++moves_by[static_cast<std::size_t>(t.at(c.ts_ns))];
    }
  }
  const double window_h = (replay.last_ns - half) / 3.6e12;
  if (r.accounts > 0 && window_h > 0) r.churn_per_hour = moves / double(r.accounts) / window_h;
  for (std::size_t a = 0; a < moves_by.size(); ++a)
    if (moves_by[a] > 0)
      r.moves_by_archetype.emplace_back(std::string(fillsim::to_string(static_cast<fillsim::Archetype>(a))),
                                        moves_by[a]);

  std::vector<double> times;
  std::array<Report::DriftRow, fillsim::kArchetypeCount> drift_by{};
  for (const auto& t : truth) {
    if (t.switch_ns == 0 || t.switch_ns > replay.last_ns || t.new_archetype == t.archetype) continue;
    ++r.drifted;
    Report::DriftRow& row = drift_by[static_cast<std::size_t>(t.new_archetype)];
    ++row.switched;
    double secs = -1;
    auto at = segment_at_switch.find(t.account);
    auto m = at == segment_at_switch.end() ? majority.end() : majority.find(at->second);
    if (m != majority.end() && m->second == t.new_archetype) secs = 0;  // already in the right segment
    if (auto it = reseg_at.find(t.account); it != reseg_at.end() && secs < 0) secs = (it->second - t.switch_ns) / 1e9;
    if (secs >= 0) {
      ++r.resegmented;
      times.push_back(secs);
      if (secs <= 2 * r.half_life_s) {
        ++r.resegmented_within_2_half_lives;
        ++row.within_2_half_lives;
      }
    }
  }
  for (std::size_t a = 0; a < drift_by.size(); ++a) {
    if (drift_by[a].switched == 0) continue;
    drift_by[a].into = std::string(fillsim::to_string(static_cast<fillsim::Archetype>(a)));
    r.drift_by_new_archetype.push_back(drift_by[a]);
  }
  if (!times.empty()) {
    std::sort(times.begin(), times.end());
    r.reseg_median_s = times[times.size() / 2];
    r.reseg_p90_s = times[std::min(times.size() - 1, times.size() * 9 / 10)];
  }
  return r;
}

void print(const Report& r, std::ostream& out) {
  out << absl::StrFormat("accounts %d (unassigned %d) over %.2f h of event time\n", r.accounts, r.unassigned, r.hours);
  out << absl::StrFormat("purity %.4f   adjusted Rand index %.4f   normalized mutual information %.4f\n", r.purity,
                         r.ari, r.nmi);
  out << absl::StrFormat("churn %.3f%% of accounts per hour (second half of the run)\n", r.churn_per_hour * 100);
  if (!r.moves_by_archetype.empty()) {
    out << "  moves by archetype:";
    for (const auto& [name, n] : r.moves_by_archetype) out << " " << name << " " << n;
    out << "\n";
  }
  if (r.drifted > 0) {
    out << absl::StrFormat(
        "drift: %d accounts switched; %d re-segmented (%d within 2 half-lives = %.0f s); median %.0f s, p90 %.0f s\n",
        r.drifted, r.resegmented, r.resegmented_within_2_half_lives, 2 * r.half_life_s, r.reseg_median_s,
        r.reseg_p90_s);
    out << "  within 2 half-lives, by the archetype switched into:";
    for (const auto& d : r.drift_by_new_archetype)
      out << " " << d.into << " " << d.within_2_half_lives << "/" << d.switched;
    out << "\n";
  }
  out << absl::StrFormat("%-8s %-26s %9s  %-16s %s\n", "segment", "label", "accounts", "majority", "share");
  for (const auto& s : r.segments) {
    out << absl::StrFormat("#%-7d %-26s %9d  %-16s %.3f\n", s.id, s.label, s.accounts, s.majority, s.majority_share);
  }
}

}  // namespace precision
