#include "sim/engine.h"

#include <algorithm>
#include <cstring>
#include <functional>
#include <thread>
#include <unordered_map>

#include "sim/codelet.h"
#include "sim/engine_plan.h"
#include "sim/error.h"
#include "sim/fused_step.h"
#include "sim/tile_memory.h"
#include "sim/worker_pool.h"

namespace ipusim {

std::string_view stepKindName(StepKind kind) {
  switch (kind) {
    case StepKind::Compute: return "compute";
    case StepKind::Exchange: return "exchange";
    case StepKind::Sync: return "sync";
    case StepKind::Stream: return "stream";
    case StepKind::Switch: return "switch";
    case StepKind::Load: return "load";
  }
  return "unknown";
}

namespace {

// One copy of an exchange that needs no staging (an untouched source tile reads as zeros).
inline void copyDirect(TileMemories& memory, const Copy& copy) {
  if (copy.bytes == 0) return;
  uint8_t* destination = memory.touch(copy.dstTile) + copy.dstOffset;
  const uint8_t* source = memory.find(copy.srcTile);
  if (source == nullptr) {
    std::memset(destination, 0, copy.bytes);
  } else {
    std::memcpy(destination, source + copy.srcOffset, copy.bytes);
  }
}

int64_t readInteger(const uint8_t* bytes, DType dtype) {
  switch (dtype) {
    case DType::Int8: return static_cast<int8_t>(bytes[0]);
    case DType::UInt8: return bytes[0];
    case DType::Bool: return bytes[0] != 0 ? 1 : 0;
    case DType::Int32: {
      int32_t value;
      std::memcpy(&value, bytes, sizeof value);
      return value;
    }
    case DType::UInt32: {
      uint32_t value;
      std::memcpy(&value, bytes, sizeof value);
      return value;
    }
    case DType::Int64: {
      int64_t value;
      std::memcpy(&value, bytes, sizeof value);
      return value;
    }
    case DType::Float32:
    case DType::Float16: break;
  }
  throw SimError("switch control variable is not an integer");  // excluded by verification
}

const HostBuffers kNoInputs;

}  // namespace

struct Engine::Impl {
  unsigned threads = 1;
  std::unique_ptr<WorkerPool> pool;  // none when running on one thread
  StepObserver* observer = nullptr;
  uint64_t maxCycles = kDefaultMaxCycles;  // per program run; 0: none

  std::shared_ptr<const Executable> exe;
  TileMemories memory;
  std::vector<ComputePlan> computePlans;
  std::vector<ExchangePlan> exchangePlans;
  // Exchange-then-compute pairs run tile by tile (sim/fused_step.h), keyed by fusedKey.
  std::vector<FusedStepPlan> fusedPlans;
  std::unordered_map<uint64_t, size_t> fusedIndex;
  // Exchanges run tile by tile on their own (or nullopt: copied in order by copyExchange).
  std::vector<std::optional<FusedStepPlan>> exchangeTilePlans;
  std::vector<uint64_t> streamBytes;
  std::vector<uint64_t> streamCycles;
  std::vector<uint8_t> staging;  // exchange sources when reads and writes overlap
  // Dense per-tile figures for an observer that wants tile detail.
  std::vector<uint64_t> detailCycles;
  std::vector<uint64_t> detailSent;
  std::vector<uint64_t> detailReceived;

  // The current run.
  uint64_t now = 0;
  uint64_t budgetStart = 0;   // `now` where the program's own steps began
  const char* program = "";   // "load" or "main", for the budget's message
  const HostBuffers* inputs = &kNoInputs;
  HostBuffers* outputs = nullptr;

  void clear() {
    exe.reset();
    memory.reset(0, 0);
    computePlans.clear();
    exchangePlans.clear();
    fusedPlans.clear();
    fusedIndex.clear();
    exchangeTilePlans.clear();
    streamBytes.clear();
    streamCycles.clear();
    staging = {};
    detailCycles = {};
    detailSent = {};
    detailReceived = {};
  }

  bool wantsDetail() const { return observer != nullptr && observer->wantsTileDetail(); }

  void report(StepKind kind, std::string_view name, uint64_t cycles, uint64_t bytes = 0,
              std::span<const uint64_t> tileCycles = {}, std::span<const uint64_t> sent = {},
              std::span<const uint64_t> received = {}) {
    if (observer != nullptr) {
      StepRecord step;
      step.kind = kind;
      step.name = name;
      step.startCycle = now;
      step.cycles = cycles;
      step.bytes = bytes;
      step.tileCycles = tileCycles;
      step.tileBytesSent = sent;
      step.tileBytesReceived = received;
      observer->onStep(step);
    }
    now += cycles;
    // The load step (fixed overhead and image transfer) is the host's, not the program's.
    if (maxCycles != 0 && kind != StepKind::Load && now - budgetStart > maxCycles) {
      throw SimError("program " + std::string(program) + " ran past its budget of " +
                     std::to_string(maxCycles) + " cycles (--max-cycles) at " +
                     std::string(stepKindName(kind)) + " step '" + std::string(name) +
                     "': a runaway program, or raise the budget");
    }
  }

  static uint64_t fusedKey(uint32_t exchange, uint32_t computeSet) {
    return uint64_t{exchange} << 32 | computeSet;
  }

  void prepare(std::shared_ptr<const Executable> executable);
  void planSteps(const Program& program, std::vector<bool>& standalone);
  bool planFused(uint32_t exchange, uint32_t computeSet);
  void writeConstants();
  void runProgram(const Program& program);
  void runCompute(uint32_t index);
  void reportCompute(uint32_t index);
  template <class Task>
  void runEach(size_t count, bool parallel, std::vector<std::exception_ptr>& errors, const std::string& computeSet,
               const std::function<uint32_t(size_t)>& tileOf, Task task);
  void runTiles(ComputePlan& plan, const ComputeSet& computeSet);
  void runExchange(uint32_t index);
  void copyTile(const FusedStepPlan& plan, size_t tile, const std::vector<Copy>& copies);
  void copyExchange(uint32_t index);
  void reportExchange(uint32_t index);
  bool runFused(uint32_t exchange, uint32_t computeSet);
  void runStream(uint32_t index);
  void runSwitch(const Program& program);
};

void Engine::Impl::prepare(std::shared_ptr<const Executable> executable) {
  verifyExecutable(*executable);
  exe = std::move(executable);
  const Target& target = exe->target;
  memory.reset(target.tiles, target.bytesPerTile);

  std::vector<const Codelet*> codelets;
  codelets.reserve(exe->codelets.size());
  const CodeletRegistry& registry = CodeletRegistry::instance();
  for (const std::string& name : exe->codelets) codelets.push_back(registry.find(name));

  computePlans.reserve(exe->computeSets.size());
  for (const ComputeSet& computeSet : exe->computeSets) {
    computePlans.push_back(planComputeSet(*exe, computeSet, codelets));
  }
  exchangePlans.reserve(exe->exchanges.size());
  for (const Exchange& exchange : exe->exchanges) {
    exchangePlans.push_back(planExchange(target, exchange));
  }
  std::vector<bool> standalone(exe->exchanges.size(), false);
  planSteps(exe->load, standalone);
  planSteps(exe->main, standalone);
  // Exchanges run on their own whose copies are many times fewer as strided runs, or that are
  // big enough to share between the host threads, run tile by tile.
  exchangeTilePlans.resize(exe->exchanges.size());
  for (size_t i = 0; i < exe->exchanges.size(); ++i) {
    const ExchangePlan& plan = exchangePlans[i];
    if (!standalone[i] || plan.traffic.size() < 2) continue;
    std::optional<FusedStepPlan> byTile = planExchangeByTile(exe->exchanges[i], plan);
    if (byTile && (!byTile->runs.empty() || (pool && worthSharing(byTile->tiles.size(), plan.bytes)))) {
      exchangeTilePlans[i] = std::move(byTile);
    }
  }
  for (const HostStream& stream : exe->streams) {
    const Variable& variable = exe->variables[stream.variable];
    const uint64_t bytes = static_cast<uint64_t>(elementCount(variable.shape)) *
                           dtypeSize(variable.dtype);
    streamBytes.push_back(bytes);
    streamCycles.push_back(target.hostTransferCycles(bytes) + target.syncCycles);
  }
  detailCycles.assign(target.tiles, 0);
  detailSent.assign(target.tiles, 0);
  detailReceived.assign(target.tiles, 0);
}

// Plans the exchange-then-compute pairs that run tile by tile, as runProgram meets them, and
// marks the exchanges that run on their own.
void Engine::Impl::planSteps(const Program& program, std::vector<bool>& standalone) {
  if (program.kind == ProgramKind::Exchange) standalone[program.ref] = true;
  const std::vector<Program>& body = program.body;
  for (size_t i = 0; i < body.size(); ++i) {
    if (program.kind == ProgramKind::Sequence && body[i].kind == ProgramKind::Exchange && i + 1 < body.size() &&
        body[i + 1].kind == ProgramKind::Execute && planFused(body[i].ref, body[i + 1].ref)) {
      ++i;
      continue;
    }
    planSteps(body[i], standalone);
  }
}

bool Engine::Impl::planFused(uint32_t exchange, uint32_t computeSet) {
  // On one host thread, running the pairs tile by tile measured slower than step by step
  // (docs/conv-planner.md "Benchmarks"): they are fused only when threads share them.
  if (!pool) return false;
  if (fusedIndex.count(fusedKey(exchange, computeSet)) != 0) return true;
  std::optional<FusedStepPlan> fused = planFusedStep(exe->exchanges[exchange], exchangePlans[exchange],
                                                     exe->computeSets[computeSet], computePlans[computeSet]);
  if (!fused) return false;
  fusedIndex.emplace(fusedKey(exchange, computeSet), fusedPlans.size());
  fusedPlans.push_back(std::move(*fused));
  return true;
}

void Engine::Impl::writeConstants() {
  for (const Variable& variable : exe->variables) {
    if (variable.kind != VariableKind::Constant) continue;
    const size_t elementBytes = dtypeSize(variable.dtype);
    for (const TileInterval& interval : variable.mapping) {
      memory.write(interval.tile, interval.tileOffset,
                   variable.data.data() + interval.firstElement * elementBytes,
                   interval.elementCount * elementBytes);
    }
  }
}

void Engine::Impl::runProgram(const Program& program) {
  switch (program.kind) {
    case ProgramKind::Sequence:
      for (size_t i = 0; i < program.body.size(); ++i) {
        const Program& child = program.body[i];
        if (child.kind == ProgramKind::Exchange && i + 1 < program.body.size() &&
            program.body[i + 1].kind == ProgramKind::Execute && runFused(child.ref, program.body[i + 1].ref)) {
          ++i;
          continue;
        }
        runProgram(child);
      }
      return;
    case ProgramKind::Execute:
      runCompute(program.ref);
      return;
    case ProgramKind::Exchange:
      runExchange(program.ref);
      return;
    case ProgramKind::StreamCopy:
      runStream(program.ref);
      return;
    case ProgramKind::Sync:
      report(StepKind::Sync, "sync", exe->target.syncCycles);
      return;
    case ProgramKind::Repeat:
      for (uint64_t i = 0; i < program.count; ++i) runProgram(program.body.front());
      return;
    case ProgramKind::Switch:
      runSwitch(program);
      return;
  }
}

template <class Task>
void Engine::Impl::runEach(size_t count, bool parallel, std::vector<std::exception_ptr>& errors,
                           const std::string& computeSet, const std::function<uint32_t(size_t)>& tileOf, Task task) {
  // Every item runs even when one throws, so that the lowest failing tile reports whatever
  // the thread count. On the pool (sim/worker_pool.h) the threads share the items; each item writes
  // only its own tile's memory and its own error slot.
  std::fill(errors.begin(), errors.end(), nullptr);
  const std::function<void(size_t)> item = [&](size_t i) {
    try {
      task(i);
    } catch (...) {
      errors[i] = std::current_exception();
    }
  };
  if (pool && parallel && count > 1) {
    pool->run(count, item);
  } else {
    for (size_t i = 0; i < count; ++i) item(i);
  }
  for (size_t i = 0; i < count; ++i) {
    if (!errors[i]) continue;
    try {
      std::rethrow_exception(errors[i]);
    } catch (const SimError& error) {
      throw SimError("compute set '" + computeSet + "' on tile " + std::to_string(tileOf(i)) + ": " + error.what());
    }
  }
}

void Engine::Impl::runTiles(ComputePlan& plan, const ComputeSet& computeSet) {
  runEach(
      plan.tiles.size(), plan.parallel, plan.errors, computeSet.name, [&](size_t i) { return plan.tiles[i].tile; },
      [&](size_t i) { plan.tiles[i].run(memory); });
}

void Engine::Impl::runCompute(uint32_t index) {
  runTiles(computePlans[index], exe->computeSets[index]);
  reportCompute(index);
}

void Engine::Impl::reportCompute(uint32_t index) {
  const ComputePlan& plan = computePlans[index];
  const ComputeSet& computeSet = exe->computeSets[index];
  if (wantsDetail()) {
    std::fill(detailCycles.begin(), detailCycles.end(), 0);
    for (const TileWork& work : plan.tiles) detailCycles[work.tile] = work.cycles;
    report(StepKind::Compute, computeSet.name, plan.cycles, 0, detailCycles);
  } else {
    report(StepKind::Compute, computeSet.name, plan.cycles);
  }
  report(StepKind::Sync, computeSet.name, exe->target.syncCycles);
}

void Engine::Impl::runExchange(uint32_t index) {
  if (exchangeTilePlans[index]) {
    FusedStepPlan& plan = *exchangeTilePlans[index];
    const std::vector<Copy>& copies = exe->exchanges[index].copies;
    // Every receiving tile is allocated before the threads copy (see runFused).
    for (const FusedTile& tile : plan.tiles) memory.touch(tile.tile);
    runEach(
        plan.tiles.size(), worthSharing(plan.tiles.size(), exchangePlans[index].bytes), plan.errors,
        exe->exchanges[index].name, [&](size_t i) { return plan.tiles[i].tile; },
        [&](size_t i) { copyTile(plan, i, copies); });
  } else {
    copyExchange(index);
  }
  reportExchange(index);
}

void Engine::Impl::copyTile(const FusedStepPlan& plan, size_t tile, const std::vector<Copy>& copies) {
  const FusedTile& fusedTile = plan.tiles[tile];
  const uint32_t segmentsEnd = fusedTile.firstSegment + fusedTile.segmentCount;
  if (plan.runs.empty()) {
    for (uint32_t s = fusedTile.firstSegment; s < segmentsEnd; ++s) {
      for (uint32_t c = plan.segments[s].begin; c < plan.segments[s].end; ++c) copyDirect(memory, copies[c]);
    }
    return;
  }
  uint8_t* destination = memory.touch(fusedTile.tile);
  for (uint32_t s = fusedTile.firstSegment; s < segmentsEnd; ++s) {
    for (uint32_t r = plan.segments[s].begin; r < plan.segments[s].end; ++r) {
      performCopyRun(plan.runs[r], destination, memory.find(plan.runs[r].srcTile));
    }
  }
}

void Engine::Impl::copyExchange(uint32_t index) {
  const ExchangePlan& plan = exchangePlans[index];
  const Exchange& exchange = exe->exchanges[index];
  if (plan.needsStaging) {
    if (staging.size() < plan.bytes) staging.resize(plan.bytes);
    size_t position = 0;
    for (const Copy& copy : exchange.copies) {
      memory.read(copy.srcTile, copy.srcOffset, staging.data() + position, copy.bytes);
      position += copy.bytes;
    }
    position = 0;
    for (const Copy& copy : exchange.copies) {
      memory.write(copy.dstTile, copy.dstOffset, staging.data() + position, copy.bytes);
      position += copy.bytes;
    }
  } else {
    // No copy writes bytes that another reads, so copying in order is the same superstep.
    for (const Copy& copy : exchange.copies) copyDirect(memory, copy);
  }
}

void Engine::Impl::reportExchange(uint32_t index) {
  const ExchangePlan& plan = exchangePlans[index];
  const Exchange& exchange = exe->exchanges[index];
  if (wantsDetail()) {
    std::fill(detailSent.begin(), detailSent.end(), 0);
    std::fill(detailReceived.begin(), detailReceived.end(), 0);
    for (const TileTraffic& tile : plan.traffic) {
      detailSent[tile.tile] = tile.sent;
      detailReceived[tile.tile] = tile.received;
    }
    report(StepKind::Exchange, exchange.name, plan.cycles, plan.bytes, {}, detailSent,
           detailReceived);
  } else {
    report(StepKind::Exchange, exchange.name, plan.cycles, plan.bytes);
  }
  report(StepKind::Sync, exchange.name, exe->target.syncCycles);
}

bool Engine::Impl::runFused(uint32_t exchangeIndex, uint32_t computeIndex) {
  const auto found = fusedIndex.find(fusedKey(exchangeIndex, computeIndex));
  if (found == fusedIndex.end()) return false;
  // A pair that would run past the cycle budget runs unfused, so that the budget stops it
  // at the same step with the same memory as always.
  const ExchangePlan& exchangePlan = exchangePlans[exchangeIndex];
  ComputePlan& computePlan = computePlans[computeIndex];
  const uint64_t pairCycles = exchangePlan.cycles + computePlan.cycles + 2 * uint64_t{exe->target.syncCycles};
  if (maxCycles != 0 && now - budgetStart + pairCycles > maxCycles) return false;

  FusedStepPlan& fused = fusedPlans[found->second];
  const std::vector<Copy>& copies = exe->exchanges[exchangeIndex].copies;
  // Every tile that receives or computes is allocated before any thread copies: a tile's
  // memory pointer is then only read while the threads run.
  for (const FusedTile& tile : fused.tiles) memory.touch(tile.tile);
  runEach(
      fused.tiles.size(), computePlan.parallel || fused.tiles.size() >= kParallelTiles, fused.errors,
      exe->computeSets[computeIndex].name, [&](size_t i) { return fused.tiles[i].tile; },
      [&](size_t i) {
        copyTile(fused, i, copies);
        const int64_t work = fused.tiles[i].work;
        if (work >= 0) computePlan.tiles[static_cast<size_t>(work)].run(memory);
      });
  reportExchange(exchangeIndex);
  reportCompute(computeIndex);
  return true;
}

void Engine::Impl::runStream(uint32_t index) {
  const HostStream& stream = exe->streams[index];
  const Variable& variable = exe->variables[stream.variable];
  const uint64_t bytes = streamBytes[index];
  const size_t elementBytes = dtypeSize(variable.dtype);
  if (stream.direction == StreamDirection::HostToDevice) {
    const auto input = inputs->find(stream.anchor);
    if (input == inputs->end()) {
      throw SimError("missing input '" + stream.anchor + "' (" +
                     std::string(dtypeName(variable.dtype)) + shapeString(stream.shape) + ")");
    }
    if (input->second.size() != bytes) {
      throw SimError("input '" + stream.anchor + "' has " + std::to_string(input->second.size()) +
                     " bytes, expected " + std::to_string(bytes) + " (" +
                     std::string(dtypeName(variable.dtype)) + shapeString(stream.shape) + ")");
    }
    for (const TileInterval& interval : variable.mapping) {
      memory.write(interval.tile, interval.tileOffset,
                   input->second.data() + interval.firstElement * elementBytes,
                   interval.elementCount * elementBytes);
    }
  } else {
    if (outputs == nullptr) {
      throw SimError("stream '" + stream.anchor + "' drains to the host during load");
    }
    auto output = outputs->find(stream.anchor);
    if (output == outputs->end()) output = outputs->emplace(stream.anchor, std::vector<uint8_t>{}).first;
    output->second.resize(bytes);
    for (const TileInterval& interval : variable.mapping) {
      memory.read(interval.tile, interval.tileOffset,
                  output->second.data() + interval.firstElement * elementBytes,
                  interval.elementCount * elementBytes);
    }
  }
  report(StepKind::Stream, stream.anchor, streamCycles[index], bytes);
}

void Engine::Impl::runSwitch(const Program& program) {
  const Variable& control = exe->variables[program.ref];
  const TileInterval& interval = control.mapping.front();  // one element, verified
  uint8_t bytes[8] = {};
  const size_t elementBytes = dtypeSize(control.dtype);
  memory.read(interval.tile, interval.tileOffset, bytes, elementBytes);
  const int64_t value = readInteger(bytes, control.dtype);

  // A sync, then the value broadcast from the tile holding it to every tile.
  const Target& target = exe->target;
  const uint64_t cycles = uint64_t{target.syncCycles} + target.exchangeFixedCycles +
                          (elementBytes + target.exchangeBytesPerCycle - 1) /
                              target.exchangeBytesPerCycle;
  report(StepKind::Switch, control.name, cycles, elementBytes);

  for (size_t i = 0; i < program.caseValues.size(); ++i) {
    if (program.caseValues[i] == value) {
      runProgram(program.body[i]);
      return;
    }
  }
  if (program.hasDefault) {
    runProgram(program.body.back());
    return;
  }
  throw SimError("switch on '" + control.name + "': value " + std::to_string(value) +
                 " has no case");
}

Engine::Engine(unsigned hostThreads) : impl_(std::make_unique<Impl>()) {
  impl_->threads = hostThreads != 0 ? hostThreads : std::max(1u, std::thread::hardware_concurrency());
  if (impl_->threads > 1) impl_->pool = std::make_unique<WorkerPool>(impl_->threads);
}

Engine::~Engine() = default;

uint64_t Engine::load(std::shared_ptr<const Executable> exe) {
  Impl& impl = *impl_;
  impl.clear();  // the previous executable and its memories are gone, whatever happens next
  if (!exe) throw SimError("load: no executable");
  try {
    impl.prepare(std::move(exe));
    impl.writeConstants();
    const Target& target = impl.exe->target;
    const uint64_t imageBytes = impl.exe->loadImageBytes();
    impl.now = 0;
    impl.budgetStart = 0;
    impl.inputs = &kNoInputs;
    impl.outputs = nullptr;
    impl.program = "load";
    impl.report(StepKind::Load, "load",
                target.cyclesForSeconds(target.loadFixedSeconds) + target.hostTransferCycles(imageBytes),
                imageBytes);
    impl.budgetStart = impl.now;  // the fixed overhead and the image are not the program's
    impl.runProgram(impl.exe->load);
    return impl.now;
  } catch (...) {
    impl.clear();
    throw;
  }
}

uint64_t Engine::run(const HostBuffers& inputs, HostBuffers& outputs) {
  Impl& impl = *impl_;
  if (!impl.exe) throw SimError("run: no executable is loaded");
  impl.now = 0;
  impl.budgetStart = 0;
  impl.program = "main";
  impl.inputs = &inputs;
  impl.outputs = &outputs;
  try {
    impl.runProgram(impl.exe->main);
  } catch (...) {
    impl.outputs = nullptr;
    throw;
  }
  impl.outputs = nullptr;
  return impl.now;
}

void Engine::setMaxCycles(uint64_t cycles) { impl_->maxCycles = cycles; }

uint64_t Engine::maxCycles() const { return impl_->maxCycles; }

void Engine::setObserver(StepObserver* observer) { impl_->observer = observer; }

const Executable* Engine::loaded() const { return impl_->exe.get(); }

unsigned Engine::hostThreads() const { return impl_->threads; }

std::vector<uint8_t> Engine::readTile(uint32_t tile, uint32_t offset, uint32_t bytes) const {
  const Impl& impl = *impl_;
  if (!impl.exe) throw SimError("readTile: no executable is loaded");
  const TileMemories& memory = impl.memory;
  if (tile >= memory.tileCount() || offset > memory.bytesPerTile() ||
      bytes > memory.bytesPerTile() - offset) {
    throw SimError("readTile: tile " + std::to_string(tile) + " bytes [" + std::to_string(offset) +
                   ", +" + std::to_string(bytes) + ") outside the target's memory");
  }
  std::vector<uint8_t> result(bytes);
  memory.read(tile, offset, result.data(), bytes);
  return result;
}

}  // namespace ipusim
