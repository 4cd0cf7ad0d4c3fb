// A simulated IPU: the typed parameters every cost in the machine model comes from.
// Figures and their sources: docs/cost-model.md. Never hard-code one of these elsewhere.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ipusim {

struct Target {
  std::string name;                 // "ipu2" (Mk2 GC200) or "ipu21" (C600)
  uint32_t tiles = 1472;
  uint32_t bytesPerTile = 624 * 1024;
  double clockHz = 1.325e9;
  uint32_t workerContexts = 6;      // barrel-scheduled: each worker issues one slot in six
  // AMP multiply-accumulates per cycle per tile.
  uint32_t ampFp16Fp16MacsPerCycle = 64;
  uint32_t ampFp16Fp32MacsPerCycle = 32;
  uint32_t ampFp32MacsPerCycle = 16;
  // Vector unit lanes per worker instruction.
  uint32_t vectorFp32Lanes = 2;
  uint32_t vectorFp16Lanes = 4;
  uint32_t localMemoryLatencyCycles = 6;
  uint32_t exchangeBytesPerCycle = 4;     // per tile, each way
  uint32_t exchangeFixedCycles = 100;     // per exchange superstep
  uint32_t syncCycles = 90;               // per internal sync
  uint32_t vertexLaunchCycles = 11;       // supervisor cycles per vertex launch
  double hostLinkBytesPerSecond = 5.5e9;
  double hostTransferLatencySeconds = 1e-6;  // assumption, see docs/cost-model.md
  double loadFixedSeconds = 0.5;             // attach/reset part of an executable load

  uint64_t cyclesForSeconds(double seconds) const;
  double microseconds(uint64_t cycles) const;
  // Host-link time of one transfer of `bytes`, in cycles.
  uint64_t hostTransferCycles(uint64_t bytes) const;
};

// Throws SimError naming the preset when it is unknown.
Target targetPreset(std::string_view name);
std::vector<std::string> targetPresetNames();

}  // namespace ipusim
