// `ipusim trace summary TRACE.h5`: where the cycles of a trace went, which tiles carry the
// compute, how much memory each tile has left.
#include <iostream>

#include "tools/command.h"
#include "traces/trace_reader.h"
#include "traces/trace_summary.h"

namespace po = boost::program_options;

namespace ipusim::cli {

int traceSummaryCommand(const std::vector<std::string>& args) {
  const CommandHelp help{
      "trace summary", "ipusim trace summary TRACE.h5 [--top N] [--json FILE]",
      "Summarises a trace written by `ipusim run --trace`: the runs; the cycles of all steps\n"
      "split by kind (compute, exchange, sync, stream, switch, load); the top steps by cycles;\n"
      "the busiest and idlest tiles by compute cycles and the tile balance (mean/max); memory\n"
      "headroom per tile against the tile limit. Times are at the target's clock. The JSON\n"
      "keys are in docs/trace-schema.md."};
  std::string path, jsonPath;
  int64_t top = 10;
  po::options_description options("options");
  options.add_options()
      ("trace", po::value(&path)->required()->value_name("FILE"), "the trace (.h5)")
      ("top", po::value(&top)->default_value(10)->value_name("N"),
       "how many steps and tiles each list shows")
      ("json", po::value(&jsonPath)->value_name("FILE"),
       "also write the summary as JSON ('-': standard output, instead of the text)");
  po::positional_options_description positional;
  positional.add("trace", 1);
  po::variables_map values;
  if (!parseCommandLine(help, args, options, positional, values)) return 0;
  if (top < 1 || top > 100000) throw UsageError("--top must be between 1 and 100000");

  const TraceSummary summary = summarizeTrace(readTrace(path), static_cast<size_t>(top));
  if (jsonPath != "-") std::cout << summaryText(summary, path) << std::flush;
  if (!jsonPath.empty()) writeResult(jsonPath, summaryJson(summary, path));
  return 0;
}

}  // namespace ipusim::cli
