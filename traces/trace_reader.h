// Reads a trace file back into the structs the writer wrote (docs/trace-schema.md).
#pragma once
#include <string>

#include "traces/trace_schema.h"

namespace ipusim {

// Reads every dataset and attribute. A missing file, a file that is not HDF5, an HDF5 file
// that is not an ipusim trace, a trace of another schema version, or a malformed trace:
// TraceError with one line that names the file and the problem.
Trace readTrace(const std::string& path);

// The root attributes only, with the same checks of what the file is.
TraceInfo readTraceInfo(const std::string& path);

}  // namespace ipusim
