// What `ipusim compare` reports: the terminal table and the --json document (docs/cli.md,
// docs/compare.md).
#pragma once
#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include "popef/json_writer.h"
#include "sim/runtime/executable_pairing.h"
#include "sim/runtime/serving_simulation.h"
#include "sim/runtime/strategy_timeline.h"

namespace ipusim::cli {

// How the request stream was made.
struct StreamDescription {
  std::string pattern;                 // "alternate", "random", "burst" or "file"
  std::optional<uint64_t> burstLength; // burst only
  std::vector<double> mix;             // random only
  std::string requestsFile;            // file only
  std::string arrivals;                // "closed-loop", "poisson" or "file"
  std::optional<double> rateRps;       // poisson only
  uint64_t seed = 0;
  uint64_t requests = 0;
};

struct CompareResult {
  const ExecutablePairing* pairing = nullptr;
  std::vector<ModelCosts> costs;
  StreamDescription stream;
  uint64_t outputsCompared = 0;
  StrategyComparison main;                 // at the executables' own fixed load overhead
  std::vector<StrategyComparison> sweep;   // --sweep-load-overhead, in the order given
  double serveHostSeconds = 0;             // running every request under both strategies
  double totalHostSeconds = 0;             // the whole command, compiling or reading included
};

void printCompareReport(std::ostream& out, const CompareResult& result);
// The whole --json document.
std::string compareJson(const CompareResult& result);

}  // namespace ipusim::cli
