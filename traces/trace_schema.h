// The HDF5 trace schema (DESIGN.md section 7, spec in docs/trace-schema.md): the names of
// every group, dataset and attribute, the schema version, and the in-memory rows the
// writer writes and the reader reads back.
#pragma once
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "sim/engine.h"

namespace ipusim {

// The traces module's one exception type: a message a user can act on, one line.
class TraceError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

namespace trace_schema {

// Bump on any change a reader of version N could misread; the reader refuses other versions.
inline constexpr uint32_t kVersion = 1;
// The value of the root attribute `format`: what tells an ipusim trace from other HDF5 files.
inline constexpr std::string_view kFormat = "ipusim-trace";

// Root attributes.
inline constexpr const char* kAttrFormat = "format";
inline constexpr const char* kAttrSchemaVersion = "schema_version";
inline constexpr const char* kAttrIpusimVersion = "ipusim_version";
inline constexpr const char* kAttrExecutable = "executable";
inline constexpr const char* kAttrTarget = "target";
inline constexpr const char* kAttrClockHz = "clock_hz";
inline constexpr const char* kAttrTiles = "tiles";
inline constexpr const char* kAttrBytesPerTile = "bytes_per_tile";

// Datasets.
inline constexpr const char* kSteps = "/steps";
inline constexpr const char* kTilesGroup = "/tiles";
inline constexpr const char* kComputeCycles = "/tiles/compute_cycles";
inline constexpr const char* kExchangeBytes = "/tiles/exchange_bytes";
inline constexpr const char* kMemory = "/tiles/memory";
inline constexpr const char* kRuns = "/runs";
inline constexpr const char* kRequests = "/requests";

}  // namespace trace_schema

// Root attributes: what ran, where.
struct TraceInfo {
  uint32_t schemaVersion = trace_schema::kVersion;
  std::string ipusimVersion;
  std::string executable;  // the .popef path as the user gave it (or a description)
  std::string target;      // "ipu2", "ipu21", ...
  double clockHz = 0;
  uint32_t tiles = 0;
  uint32_t bytesPerTile = 0;
  bool operator==(const TraceInfo&) const = default;
};

// One row of /steps. startCycle counts from the start of its run.
struct StepRow {
  uint32_t run = 0;
  uint32_t step = 0;  // position within the run
  StepKind kind = StepKind::Compute;
  std::string name;
  uint64_t startCycle = 0;
  uint64_t cycles = 0;
  uint64_t bytes = 0;
  bool operator==(const StepRow&) const = default;
};

// One row of /tiles/memory, in bytes. peak = code + vertexState + constants + variables:
// the tile's footprint, as `ipusim dump` prints it.
struct TileMemoryRow {
  uint32_t tile = 0;
  uint32_t code = 0;
  uint32_t vertexState = 0;
  uint32_t constants = 0;
  uint32_t variables = 0;
  uint32_t peak = 0;
  bool operator==(const TileMemoryRow&) const = default;
};

// One row of /runs: one execution of `main`.
struct RunRow {
  uint32_t run = 0;
  int64_t index = -1;  // the subgraph that ran; -1 for a single (unfused) model
  uint64_t loadCycles = 0;  // the load that preceded this run, 0 when none did
  uint64_t execCycles = 0;
  uint64_t hostNs = 0;      // host wall time the simulation of the run took
  bool operator==(const RunRow&) const = default;
};

// One row of /requests (filled by `ipusim compare`): times in microseconds of simulated time.
struct RequestRow {
  uint64_t id = 0;
  uint32_t model = 0;     // which model the request asked for (its subgraph index)
  std::string strategy;   // "fused" or "separate"
  double arrivalUs = 0;
  double startUs = 0;
  double finishUs = 0;
  double latencyUs = 0;   // finish - arrival
  bool switched = false;  // serving it meant changing model (an index switch or a load)
  bool operator==(const RequestRow&) const = default;
};

// A whole trace file in memory.
struct Trace {
  TraceInfo info;
  std::vector<StepRow> steps;
  // Row-major [compute steps x tiles]: row i belongs to the i-th compute step of `steps`.
  // Empty when the trace was recorded without tile detail.
  std::vector<uint64_t> computeCycles;
  // Row-major [exchange steps x tiles x 2]: (bytes sent, bytes received) of each tile in
  // the i-th exchange step of `steps`. Empty when recorded without tile detail.
  std::vector<uint64_t> exchangeBytes;
  std::vector<TileMemoryRow> memory;  // one row per tile of the target
  std::vector<RunRow> runs;
  std::vector<RequestRow> requests;

  size_t countSteps(StepKind kind) const;
  bool hasTileDetail() const { return !computeCycles.empty() || !exchangeBytes.empty(); }
  bool operator==(const Trace&) const = default;
};

// The kind named `name` ("compute", ...); throws TraceError for an unknown name.
StepKind stepKindFromName(std::string_view name);
inline constexpr StepKind kAllStepKinds[] = {StepKind::Compute, StepKind::Exchange,
                                             StepKind::Sync,    StepKind::Stream,
                                             StepKind::Switch,  StepKind::Load};

// Checks the tables agree with each other (detail rows per compute/exchange step, one memory
// row per tile, runs numbered in order, steps of known runs); throws TraceError naming the
// first disagreement. The writer checks before writing and the reader after reading.
void checkTrace(const Trace& trace);

}  // namespace ipusim
