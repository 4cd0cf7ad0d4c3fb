// libFuzzer target: the HDF5 trace reader (readTrace), then `ipusim trace summary` and
// `trace export-perfetto` of what it accepts. The reader takes a path, so each input is
// written to a file in a scratch folder in memory (/dev/shm). Only a TraceError naming the
// file may come out of the reader, and nothing out of the summary or the export.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "tests/fuzz/fuzz_support.h"
#include "traces/perfetto_export.h"
#include "traces/trace_reader.h"
#include "traces/trace_summary.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = ipusim::fuzz::writeScratchFile(
      "fuzz.h5", std::string_view(reinterpret_cast<const char*>(data), size));
  try {
    const ipusim::Trace trace = ipusim::readTrace(path);
    const ipusim::TraceSummary summary = ipusim::summarizeTrace(trace, 5);
    if (ipusim::summaryText(summary, path).empty() || ipusim::summaryJson(summary, path).empty() ||
        ipusim::perfettoJson(trace).empty())
      __builtin_trap();
  } catch (const ipusim::TraceError& e) {
    ipusim::fuzz::checkMessage("trace", e.what(), path);
  }
  return 0;
}
