#pragma once
// The section tags of a segmentd checkpoint (core/checkpoint.md describes each one's layout).

#include "core/checkpoint_io.h"

namespace segmentd {

inline constexpr std::uint32_t kSectionInfo = section_tag("INFO");         //!< what wrote it, when
inline constexpr std::uint32_t kSectionAccounts = section_tag("ACCT");     //!< the interner
inline constexpr std::uint32_t kSectionInstruments = section_tag("INST");  //!< the instrument registry
inline constexpr std::uint32_t kSectionTape = section_tag("TAPE");         //!< the price tape
inline constexpr std::uint32_t kSectionShards = section_tag("SHRD");       //!< every account's state
inline constexpr std::uint32_t kSectionClusterer = section_tag("CLUS");    //!< the whole clusterer
inline constexpr std::uint32_t kSectionModel = section_tag("MODL");        //!< the last published model
inline constexpr std::uint32_t kSectionPublisher = section_tag("PUBL");    //!< seq, replay ring, assignments
inline constexpr std::uint32_t kSectionSources = section_tag("SRCS");      //!< each source's resume position
inline constexpr std::uint32_t kSectionPipeline = section_tag("PIPE");     //!< live totals
inline constexpr std::uint32_t kSectionReplay = section_tag("RPLY");       //!< `segmentd replay`'s driver
inline constexpr std::uint32_t kSectionOpenBatch = section_tag("BTCH");    //!< `segmentd run`'s open mini-batch
inline constexpr std::uint32_t kSectionChangeLog = section_tag("CHLG");    //!< the recent segment changes

}  // namespace segmentd
