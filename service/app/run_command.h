#pragma once
// `segmentd run`: the live service. Starts the pipeline, prints a compact console summary every
// [run] summary_interval, and shuts down cleanly on SIGINT or SIGTERM (sources stop, shards
// drain every accepted fill, the clusterer closes its last batch, servers close).

#include <atomic>
#include <iosfwd>

#include "service/app/pipeline.h"
#include "service/config/config.h"

namespace segmentd {

//! With no [[sources]], adds the built-in simulator source from the [run] section.
void add_default_sources(Config& config);

//! Runs until *stop becomes true (the signal handler sets it) or every finite source finished.
//! Returns the process exit code.
int run_service(Config config, SourceMaker simulator, std::ostream& out, std::ostream& err,
                const std::atomic<bool>* stop);

//! One console summary block.
void print_pipeline_summary(const PipelineSummary& now, const PipelineSummary& before, std::ostream& out);

//! Installs SIGINT/SIGTERM handlers that set the returned flag.
const std::atomic<bool>* install_stop_signals();

}  // namespace segmentd
