#include "sim/target.h"

#include <cmath>
#include <limits>

#include "sim/error.h"

namespace ipusim {

uint64_t Target::cyclesForSeconds(double seconds) const {
  const double cycles = seconds * clockHz;
  if (!(cycles > 0)) return 0;  // also catches NaN
  if (cycles >= static_cast<double>(std::numeric_limits<uint64_t>::max())) {
    return std::numeric_limits<uint64_t>::max();
  }
  return static_cast<uint64_t>(std::llround(cycles));
}

double Target::microseconds(uint64_t cycles) const {
  return static_cast<double>(cycles) / clockHz * 1e6;
}

uint64_t Target::hostTransferCycles(uint64_t bytes) const {
  return cyclesForSeconds(hostTransferLatencySeconds +
                          static_cast<double>(bytes) / hostLinkBytesPerSecond);
}

namespace {

// Shared figures of the Mk2 IPU (GC200) and the C600's IPU; sources in docs/cost-model.md.
Target mk2Ipu(std::string name) {
  Target target;
  target.name = std::move(name);
  target.tiles = 1472;
  target.bytesPerTile = 624 * 1024;
  target.workerContexts = 6;
  target.ampFp16Fp16MacsPerCycle = 64;
  target.ampFp16Fp32MacsPerCycle = 32;
  target.ampFp32MacsPerCycle = 16;
  target.vectorFp32Lanes = 2;
  target.vectorFp16Lanes = 4;
  target.localMemoryLatencyCycles = 6;
  target.exchangeBytesPerCycle = 4;
  target.exchangeFixedCycles = 100;
  target.syncCycles = 90;
  target.vertexLaunchCycles = 11;
  target.hostTransferLatencySeconds = 1e-6;
  target.loadFixedSeconds = 0.5;
  return target;
}

// fp16 FLOPs per cycle per tile: 64 AMP MACs, two FLOPs each.
constexpr double kFp16FlopsPerCyclePerTile = 128.0;

}  // namespace

Target targetPreset(std::string_view name) {
  if (name == "ipu2") {
    Target target = mk2Ipu("ipu2");
    target.clockHz = 1.325e9;               // GC200 in an IPU-M2000
    target.hostLinkBytesPerSecond = 5.5e9;  // M2000 through its gateway, measured
    return target;
  }
  if (name == "ipu21") {
    Target target = mk2Ipu("ipu21");
    // Derived: the C600's 280 TFLOPS fp16 peak over 1472 tiles x 128 FLOPs per cycle.
    target.clockHz = 280e12 / (target.tiles * kFp16FlopsPerCyclePerTile);
    target.hostLinkBytesPerSecond = 31.5e9;  // PCIe Gen4 x16, theoretical, each way
    return target;
  }
  std::string known;
  for (const std::string& preset : targetPresetNames()) {
    known += known.empty() ? preset : ", " + preset;
  }
  throw SimError("unknown target '" + std::string(name) + "' (known: " + known + ")");
}

std::vector<std::string> targetPresetNames() { return {"ipu2", "ipu21"}; }

}  // namespace ipusim
