// Writes a Trace as an HDF5 file following docs/trace-schema.md.
#pragma once
#include <string>

#include "traces/trace_schema.h"

namespace ipusim {

// Checks `trace` (checkTrace), writes it to a temporary file in the folder of `path`, and
// renames that over `path` once it is complete and closed: a crash or an error never leaves
// a half-written file under the final name. Throws TraceError, one line, on failure.
void writeTrace(const std::string& path, const Trace& trace);

// Whether a trace could be written to `path` (its folder exists, it is not a folder): lets a
// command refuse a bad --trace before a long simulation rather than after. Throws TraceError.
void checkTracePath(const std::string& path);

}  // namespace ipusim
