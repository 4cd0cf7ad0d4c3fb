// `ipusim trace <action>`: reads an HDF5 trace written by `ipusim run --trace`. Each action
// is its own file (cmd_trace_summary.cpp, cmd_trace_export_perfetto.cpp); this one picks it.
#include <array>
#include <iostream>

#include "tools/command.h"

namespace ipusim::cli {

namespace {

struct TraceAction {
  std::string_view name;
  std::string_view summary;
  int (*run)(const std::vector<std::string>& args);
};

constexpr std::array kActions = {
    TraceAction{"summary", "top steps, cycles by kind, tile balance, memory headroom (text or JSON)",
                traceSummaryCommand},
    TraceAction{"export-perfetto", "Chrome trace-event JSON for ui.perfetto.dev and chrome://tracing",
                traceExportPerfettoCommand},
};

void printUsage(std::ostream& out) {
  out << "usage: ipusim trace <action> TRACE.h5 [options]\n\n"
         "Reads a trace written by `ipusim run --trace` (the schema: docs/trace-schema.md).\n"
         "The Python scripts in scripts/analysis/ draw it: timeline.py, tiles.py, latency.py.\n\n"
         "actions:\n";
  for (const TraceAction& a : kActions)
    out << "  " << a.name << std::string(18 - a.name.size(), ' ') << a.summary << "\n";
  out << "\n`ipusim trace <action> --help` describes an action.\n";
}

}  // namespace

int traceCommand(const std::vector<std::string>& args) {
  if (args.empty()) throw UsageError("which action? summary or export-perfetto (see ipusim trace --help)");
  if (args[0] == "--help" || args[0] == "-h") {
    printUsage(std::cout);
    return 0;
  }
  for (const TraceAction& a : kActions)
    if (args[0] == a.name) return a.run(std::vector<std::string>(args.begin() + 1, args.end()));
  throw UsageError("unknown action '" + args[0] + "': expected summary or export-perfetto (see ipusim trace --help)");
}

}  // namespace ipusim::cli
