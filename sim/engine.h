// The machine: runs an Executable's programs bulk-synchronously on per-tile memories and
// times every superstep (DESIGN.md section 4).
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "sim/executable.h"

namespace ipusim {

enum class StepKind : uint8_t { Compute, Exchange, Sync, Stream, Switch, Load };
std::string_view stepKindName(StepKind kind);

// One timed step. Per-tile figures are filled only for an observer that asks for them.
struct StepRecord {
  StepKind kind = StepKind::Compute;
  std::string_view name;
  uint64_t startCycle = 0;
  uint64_t cycles = 0;
  uint64_t bytes = 0;
  std::span<const uint64_t> tileCycles;     // Compute: cycles of each tile
  std::span<const uint64_t> tileBytesSent;  // Exchange: bytes each tile sent
  std::span<const uint64_t> tileBytesReceived;
};

class StepObserver {
 public:
  virtual ~StepObserver() = default;
  virtual bool wantsTileDetail() const { return false; }
  virtual void onStep(const StepRecord& step) = 0;
};

// Host-side bytes of each anchor: inputs are read by host-to-device streams, outputs
// are written by device-to-host streams.
using HostBuffers = std::map<std::string, std::vector<uint8_t>, std::less<>>;

// The default step budget of a program run (Engine::setMaxCycles): 10^10 cycles, over 6 s of
// simulated time on either preset and far beyond any model the compiler emits, yet small
// enough that a runaway program (a huge Repeat) ends in minutes, not days.
inline constexpr uint64_t kDefaultMaxCycles = 10'000'000'000;

class Engine {
 public:
  explicit Engine(unsigned hostThreads = 0);  // 0: one per hardware thread
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Replaces whatever was loaded (its memories are gone), writes the load image, runs the
  // `load` program. Returns the cycles the load took.
  uint64_t load(std::shared_ptr<const Executable> exe);
  // Runs `main` once. Returns its cycles.
  uint64_t run(const HostBuffers& inputs, HostBuffers& outputs);

  // Each run of `load` and of `main` ends with a SimError once its steps add up to more than
  // `cycles` (the load's fixed overhead and image transfer not counted): a runaway program
  // stops with a clear error instead of simulating for ever. 0: no budget. Independent of
  // the Target: it bounds the simulation, not the machine.
  void setMaxCycles(uint64_t cycles);
  uint64_t maxCycles() const;

  void setObserver(StepObserver* observer);
  const Executable* loaded() const;
  unsigned hostThreads() const;
  // Reads bytes of a tile's memory (tests and debugging).
  std::vector<uint8_t> readTile(uint32_t tile, uint32_t offset, uint32_t bytes) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace ipusim
