#pragma once
// The [clusterer] config section: reads a ClustererConfig (core/clusterer.h), its label and
// policy rules and the hysteresis of the assigner.

#include "core/clusterer.h"
#include "service/config/config_reader.h"

namespace segmentd {

void read_clusterer(ConfigSection& root, ClustererConfig* config);

}  // namespace segmentd
