// What `fuse` and `compile` report about the executable they wrote: target, memory,
// anchors and subgraphs, as text or as JSON members.
#pragma once
#include <iosfwd>
#include <string>

#include "popef/json_writer.h"
#include "sim/executable.h"

namespace ipusim::cli {

void printExecutableSummary(std::ostream& out, const Executable& exe);
// Writes the members "target", "ipu_version", "fused", "tiles_used", "load_image_bytes",
// "anchors" and "subgraphs" into the object `writer` is inside.
void writeExecutableFields(json::Writer& writer, const Executable& exe);

}  // namespace ipusim::cli
