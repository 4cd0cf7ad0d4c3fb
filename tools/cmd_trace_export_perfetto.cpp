// `ipusim trace export-perfetto TRACE.h5 -o OUT.json`: the trace as Chrome trace-event JSON.
#include <iostream>

#include "tools/command.h"
#include "traces/perfetto_export.h"
#include "traces/trace_reader.h"

namespace po = boost::program_options;

namespace ipusim::cli {

int traceExportPerfettoCommand(const std::vector<std::string>& args) {
  const CommandHelp help{
      "trace export-perfetto", "ipusim trace export-perfetto TRACE.h5 -o OUT.json",
      "Writes the trace as Chrome trace-event JSON, which opens in https://ui.perfetto.dev and\n"
      "chrome://tracing: one track per step kind with each step as a slice (microseconds at\n"
      "the target's clock, runs end to end), a track of runs, and the requests of\n"
      "`ipusim compare` on a track per strategy. Format: docs/trace-schema.md."};
  std::string path, outPath;
  po::options_description options("options");
  options.add_options()
      ("trace", po::value(&path)->required()->value_name("FILE"), "the trace (.h5)")
      ("output,o", po::value(&outPath)->required()->value_name("FILE"),
       "the JSON to write ('-': standard output)");
  po::positional_options_description positional;
  positional.add("trace", 1);
  po::variables_map values;
  if (!parseCommandLine(help, args, options, positional, values)) return 0;

  const Trace trace = readTrace(path);
  writeResult(outPath, perfettoJson(trace));
  if (outPath != "-")
    std::cout << "wrote " << outPath << ": " << trace.steps.size() << " steps, " << trace.runs.size()
              << " runs, " << trace.requests.size() << " requests; open it in https://ui.perfetto.dev\n";
  return 0;
}

}  // namespace ipusim::cli
