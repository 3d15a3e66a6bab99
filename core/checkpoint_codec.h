#pragma once
// How each core component is written into a checkpoint section and read back
// (core/checkpoint.md lists the sections and their layout). Readers leave failures in the
// ByteReader (check r.ok() / r.status() after a whole structure).

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "core/account_interner.h"
#include "core/checkpoint_io.h"
#include "core/clusterer.h"
#include "core/instrument_registry.h"
#include "core/model.h"
#include "core/price_tape.h"
#include "core/segment_change.h"

namespace segmentd {

void save_model(ByteWriter& w, const Model& m);
//! A model as save_model wrote it (null when r fails).
ModelPtr load_model(ByteReader& r);

void save_clusterer_state(ByteWriter& w, const ClustererState& s);
ClustererState load_clusterer_state(ByteReader& r);

//! Account names in id order (ids are dense from 0).
void save_interner(ByteWriter& w, const AccountInterner& names);
//! Reads through the saved names without interning them (validation); returns how many.
std::uint64_t check_interner(ByteReader& r);
//! Interns the saved names in order into an empty interner, so every id means the same account.
void load_interner(ByteReader& r, AccountInterner& names);

//! The registry's instrument keys in id order and its underlying names in id order.
void save_registry(ByteWriter& w, const InstrumentRegistry& registry);
//! Re-resolves the saved instruments into an empty registry, in order, so that ids match; fails
//! the reader when a symbol no longer parses or gets another id.
void load_registry(ByteReader& r, InstrumentRegistry& registry);

//! The newest price of every instrument and underlying the tape holds (any writer's row).
void save_tape(ByteWriter& w, const PriceTape& tape);
//! Records them into writer row 0 of a tape with no prices yet.
void load_tape(ByteReader& r, PriceTape& tape);

//! Segment changes, oldest first, field by field (not as in memory: the struct has padding).
void save_segment_changes(ByteWriter& w, std::span<const SegmentChange> changes);
//! Fails the reader on an account id >= `accounts`, an unknown cause or a feature out of range.
std::vector<SegmentChange> load_segment_changes(ByteReader& r, std::uint64_t accounts);

}  // namespace segmentd
