#include "sim/executable.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <unordered_set>

#include "sim/codelet.h"
#include "sim/error.h"

namespace ipusim {

Program Program::sequence(std::vector<Program> children) {
  Program program;
  program.kind = ProgramKind::Sequence;
  program.body = std::move(children);
  return program;
}

Program Program::execute(uint32_t computeSet) {
  Program program;
  program.kind = ProgramKind::Execute;
  program.ref = computeSet;
  return program;
}

Program Program::exchange(uint32_t exchange) {
  Program program;
  program.kind = ProgramKind::Exchange;
  program.ref = exchange;
  return program;
}

Program Program::streamCopy(uint32_t stream) {
  Program program;
  program.kind = ProgramKind::StreamCopy;
  program.ref = stream;
  return program;
}

Program Program::sync() {
  Program program;
  program.kind = ProgramKind::Sync;
  return program;
}

Program Program::repeat(uint64_t count, Program body) {
  Program program;
  program.kind = ProgramKind::Repeat;
  program.count = count;
  program.body.push_back(std::move(body));
  return program;
}

Program Program::switchOn(uint32_t controlVariable, std::vector<int64_t> values,
                          std::vector<Program> cases) {
  if (cases.size() != values.size() && cases.size() != values.size() + 1) {
    throw SimError("switch: " + std::to_string(cases.size()) + " bodies for " +
                   std::to_string(values.size()) +
                   " case values (expected one per value, plus an optional default)");
  }
  Program program;
  program.kind = ProgramKind::Switch;
  program.ref = controlVariable;
  program.hasDefault = cases.size() == values.size() + 1;
  program.caseValues = std::move(values);
  program.body = std::move(cases);
  return program;
}

uint64_t Executable::loadImageBytes() const {
  uint64_t bytes = 0;
  for (const TileMemoryUsage& usage : tileMemory) {
    bytes += uint64_t{usage.code} + usage.vertexState + usage.constants;
  }
  return bytes;
}

const HostStream* Executable::findStream(const std::string& anchor) const {
  for (const HostStream& stream : streams) {
    if (stream.anchor == anchor) return &stream;
  }
  return nullptr;
}

namespace {

// Bounds that keep a hostile executable from exhausting the host: see docs/cost-model.md.
constexpr uint32_t kMaxTiles = 1u << 16;
constexpr uint32_t kMaxBytesPerTile = 64u << 20;
constexpr uint32_t kMaxWorkerContexts = 64;
constexpr uint32_t kMaxProgramDepth = 64;
constexpr uint64_t kMaxRepeatIterations = 1'000'000'000;

std::string quoted(const std::string& name) { return "'" + name + "'"; }

void checkPositiveFinite(double value, const char* field) {
  if (!(value > 0) || !std::isfinite(value)) {
    throw SimError(std::string("target: ") + field + " must be positive and finite");
  }
}

void checkNonNegativeFinite(double value, const char* field) {
  if (!(value >= 0) || !std::isfinite(value)) {
    throw SimError(std::string("target: ") + field + " must be non-negative and finite");
  }
}

void checkTarget(const Target& target) {
  if (target.tiles == 0 || target.tiles > kMaxTiles) {
    throw SimError("target: tiles must be between 1 and " + std::to_string(kMaxTiles) +
                   ", not " + std::to_string(target.tiles));
  }
  if (target.bytesPerTile == 0 || target.bytesPerTile > kMaxBytesPerTile) {
    throw SimError("target: bytesPerTile must be between 1 and " +
                   std::to_string(kMaxBytesPerTile) + ", not " +
                   std::to_string(target.bytesPerTile));
  }
  if (target.workerContexts == 0 || target.workerContexts > kMaxWorkerContexts) {
    throw SimError("target: workerContexts must be between 1 and " +
                   std::to_string(kMaxWorkerContexts));
  }
  if (target.vectorFp32Lanes == 0 || target.vectorFp16Lanes == 0) {
    throw SimError("target: vector lanes must be positive");
  }
  if (target.exchangeBytesPerCycle == 0) {
    throw SimError("target: exchangeBytesPerCycle must be positive");
  }
  if (target.ampFp16Fp16MacsPerCycle == 0 || target.ampFp16Fp32MacsPerCycle == 0 ||
      target.ampFp32MacsPerCycle == 0) {
    throw SimError("target: AMP rates must be positive");
  }
  checkPositiveFinite(target.clockHz, "clockHz");
  checkPositiveFinite(target.hostLinkBytesPerSecond, "hostLinkBytesPerSecond");
  checkNonNegativeFinite(target.hostTransferLatencySeconds, "hostTransferLatencySeconds");
  checkNonNegativeFinite(target.loadFixedSeconds, "loadFixedSeconds");
}

// A byte range [offset, offset + bytes) must lie inside one tile's memory.
bool fitsTile(const Target& target, uint64_t offset, uint64_t bytes) {
  return offset <= target.bytesPerTile && bytes <= target.bytesPerTile - offset;
}

void checkVariable(const Executable& exe, size_t index) {
  const Target& target = exe.target;
  const Variable& variable = exe.variables[index];
  const std::string where = "variable " + quoted(variable.name) + " (id " +
                            std::to_string(index) + ")";
  if (variable.id != index) {
    throw SimError(where + ": id " + std::to_string(variable.id) +
                   " differs from its position " + std::to_string(index));
  }
  if (static_cast<uint8_t>(variable.dtype) > static_cast<uint8_t>(DType::Bool)) {
    throw SimError(where + ": unknown dtype code " +
                   std::to_string(static_cast<int>(variable.dtype)));
  }
  const uint64_t elementBytes = dtypeSize(variable.dtype);
  int64_t count = 0;
  try {
    count = elementCount(variable.shape);
  } catch (const SimError& error) {
    throw SimError(where + ": " + error.what());
  }
  // Every element lives in some tile's memory, so the variable cannot exceed the machine.
  const uint64_t machineBytes = uint64_t{target.tiles} * target.bytesPerTile;
  const uint64_t elements = static_cast<uint64_t>(count);
  if (elements > machineBytes / elementBytes) {
    throw SimError(where + ": shape " + shapeString(variable.shape) +
                   " does not fit in the machine's memory");
  }

  std::vector<const TileInterval*> byElement;
  byElement.reserve(variable.mapping.size());
  for (const TileInterval& interval : variable.mapping) {
    if (interval.tile >= target.tiles) {
      throw SimError(where + ": mapped to tile " + std::to_string(interval.tile) +
                     " of a target with " + std::to_string(target.tiles) + " tiles");
    }
    if (interval.elementCount > target.bytesPerTile / elementBytes ||
        !fitsTile(target, interval.tileOffset, interval.elementCount * elementBytes)) {
      throw SimError(where + ": interval at offset " + std::to_string(interval.tileOffset) +
                     " on tile " + std::to_string(interval.tile) + " runs past the tile's " +
                     std::to_string(target.bytesPerTile) + " bytes");
    }
    if (interval.firstElement > elements || interval.elementCount > elements - interval.firstElement) {
      throw SimError(where + ": interval of elements [" + std::to_string(interval.firstElement) +
                     ", +" + std::to_string(interval.elementCount) + ") lies outside its " +
                     std::to_string(elements) + " elements");
    }
    // An empty interval holds nothing: harmless, and left out of the coverage checks.
    if (interval.elementCount != 0) byElement.push_back(&interval);
  }
  // Every element exactly once: sorted by first element, the intervals must tile [0, count).
  std::sort(byElement.begin(), byElement.end(), [](const TileInterval* a, const TileInterval* b) {
    return a->firstElement < b->firstElement;
  });
  uint64_t next = 0;
  for (const TileInterval* interval : byElement) {
    if (interval->firstElement < next) {
      throw SimError(where + ": element " + std::to_string(interval->firstElement) +
                     " is mapped more than once");
    }
    if (interval->firstElement > next) {
      throw SimError(where + ": element " + std::to_string(next) + " is not mapped");
    }
    next = interval->firstElement + interval->elementCount;
  }
  if (next != elements) {
    throw SimError(where + ": element " + std::to_string(next) + " is not mapped");
  }
  // Two elements of one variable must not share bytes of a tile.
  std::sort(byElement.begin(), byElement.end(), [](const TileInterval* a, const TileInterval* b) {
    return a->tile != b->tile ? a->tile < b->tile : a->tileOffset < b->tileOffset;
  });
  for (size_t i = 1; i < byElement.size(); ++i) {
    const TileInterval& before = *byElement[i - 1];
    const TileInterval& after = *byElement[i];
    if (before.tile == after.tile &&
        uint64_t{before.tileOffset} + before.elementCount * elementBytes > after.tileOffset) {
      throw SimError(where + ": two of its intervals overlap on tile " +
                     std::to_string(after.tile) + " at offset " +
                     std::to_string(after.tileOffset));
    }
  }

  if (variable.kind == VariableKind::Constant) {
    if (variable.data.size() != elements * elementBytes) {
      throw SimError(where + ": constant holds " + std::to_string(variable.data.size()) +
                     " bytes of data, expected " + std::to_string(elements * elementBytes));
    }
  } else if (variable.kind == VariableKind::Variable) {
    if (!variable.data.empty()) throw SimError(where + ": only constants carry data");
  } else {
    throw SimError(where + ": unknown kind code " +
                   std::to_string(static_cast<int>(variable.kind)));
  }
}

void checkCodelets(const Executable& exe) {
  const CodeletRegistry& registry = CodeletRegistry::instance();
  for (size_t i = 0; i < exe.codelets.size(); ++i) {
    if (registry.find(exe.codelets[i]) == nullptr) {
      throw SimError("codelet " + std::to_string(i) + " " + quoted(exe.codelets[i]) +
                     " is not a known codelet");
    }
  }
}

void checkComputeSet(const Executable& exe, size_t index) {
  const ComputeSet& computeSet = exe.computeSets[index];
  for (size_t v = 0; v < computeSet.vertices.size(); ++v) {
    const Vertex& vertex = computeSet.vertices[v];
    // Built only for an error: an executable has millions of vertices and copies.
    const auto where = [&] { return "compute set " + quoted(computeSet.name) + " vertex " + std::to_string(v); };
    if (vertex.codelet >= exe.codelets.size()) {
      throw SimError(where() + ": codelet index " + std::to_string(vertex.codelet) +
                     " out of range (" + std::to_string(exe.codelets.size()) + " codelets)");
    }
    if (vertex.tile >= exe.target.tiles) {
      throw SimError(where() + ": tile " + std::to_string(vertex.tile) + " out of range");
    }
    for (size_t f = 0; f < vertex.fields.size(); ++f) {
      for (const Region& region : vertex.fields[f]) {
        if (!fitsTile(exe.target, region.offset, region.bytes)) {
          throw SimError(where() + " field " + std::to_string(f) + ": region [" +
                         std::to_string(region.offset) + ", +" + std::to_string(region.bytes) +
                         ") runs past the tile's " + std::to_string(exe.target.bytesPerTile) +
                         " bytes");
        }
      }
    }
  }
}

// `received` is all zeros on entry and is left all zeros, so one buffer serves every exchange.
void checkExchange(const Executable& exe, size_t index, std::vector<uint64_t>& received) {
  const Exchange& exchange = exe.exchanges[index];
  const Target& target = exe.target;
  std::vector<uint32_t> receivers;
  struct ResetReceived {
    std::vector<uint64_t>& received;
    std::vector<uint32_t>& receivers;
    ~ResetReceived() {
      for (uint32_t tile : receivers) received[tile] = 0;
    }
  } reset{received, receivers};
  for (size_t c = 0; c < exchange.copies.size(); ++c) {
    const Copy& copy = exchange.copies[c];
    const auto where = [&] { return "exchange " + quoted(exchange.name) + " copy " + std::to_string(c); };
    if (copy.srcTile >= target.tiles || copy.dstTile >= target.tiles) {
      throw SimError(where() + ": tile out of range");
    }
    if (!fitsTile(target, copy.srcOffset, copy.bytes)) {
      throw SimError(where() + ": source [" + std::to_string(copy.srcOffset) + ", +" +
                     std::to_string(copy.bytes) + ") runs past the tile's memory");
    }
    if (!fitsTile(target, copy.dstOffset, copy.bytes)) {
      throw SimError(where() + ": destination [" + std::to_string(copy.dstOffset) + ", +" +
                     std::to_string(copy.bytes) + ") runs past the tile's memory");
    }
    // A tile cannot take in more than its memory in one superstep; this also bounds the
    // engine's staging buffer.
    if (received[copy.dstTile] == 0) receivers.push_back(copy.dstTile);
    received[copy.dstTile] += copy.bytes;
    if (received[copy.dstTile] > target.bytesPerTile) {
      throw SimError(where() + ": tile " + std::to_string(copy.dstTile) +
                     " receives more than its memory in one exchange");
    }
  }
}

void checkStreams(const Executable& exe) {
  for (size_t s = 0; s < exe.streams.size(); ++s) {
    const HostStream& stream = exe.streams[s];
    const std::string where = "stream " + std::to_string(s) + " " + quoted(stream.anchor);
    if (stream.anchor.empty()) throw SimError("stream " + std::to_string(s) + ": empty anchor");
    if (stream.direction != StreamDirection::HostToDevice &&
        stream.direction != StreamDirection::DeviceToHost) {
      throw SimError(where + ": unknown direction code " +
                     std::to_string(static_cast<int>(stream.direction)));
    }
    if (stream.variable >= exe.variables.size()) {
      throw SimError(where + ": variable " + std::to_string(stream.variable) + " out of range");
    }
    // The anchor may view the variable in another shape, never with other elements.
    const Variable& variable = exe.variables[stream.variable];
    int64_t anchorElements = 0;
    try {
      anchorElements = elementCount(stream.shape);
    } catch (const SimError& error) {
      throw SimError(where + ": " + error.what());
    }
    if (anchorElements != elementCount(variable.shape)) {
      throw SimError(where + ": anchor shape " + shapeString(stream.shape) + " has " +
                     std::to_string(anchorElements) + " elements, its variable " +
                     quoted(variable.name) + " " + shapeString(variable.shape) + " has " +
                     std::to_string(elementCount(variable.shape)));
    }
  }
}

bool isSwitchableDType(DType t) {
  return t == DType::Int8 || t == DType::UInt8 || t == DType::Int32 || t == DType::UInt32 ||
         t == DType::Int64 || t == DType::Bool;
}

void checkProgram(const Executable& exe, const Program& program, const std::string& entry,
                  uint32_t depth, uint64_t iterations) {
  const std::string where = "program " + entry;
  if (depth > kMaxProgramDepth) {
    throw SimError(where + ": nested deeper than " + std::to_string(kMaxProgramDepth));
  }
  auto expectNoBody = [&](const char* kind) {
    if (!program.body.empty()) throw SimError(where + ": " + kind + " has a body");
  };
  auto checkRef = [&](size_t size, const char* what) {
    if (program.ref >= size) {
      throw SimError(where + ": " + what + " " + std::to_string(program.ref) +
                     " out of range (" + std::to_string(size) + ")");
    }
  };
  switch (program.kind) {
    case ProgramKind::Sequence:
      break;
    case ProgramKind::Execute:
      expectNoBody("Execute");
      checkRef(exe.computeSets.size(), "compute set");
      break;
    case ProgramKind::Exchange:
      expectNoBody("Exchange");
      checkRef(exe.exchanges.size(), "exchange");
      break;
    case ProgramKind::StreamCopy:
      expectNoBody("StreamCopy");
      checkRef(exe.streams.size(), "stream");
      break;
    case ProgramKind::Sync:
      expectNoBody("Sync");
      break;
    case ProgramKind::Repeat:
      if (program.body.size() != 1) throw SimError(where + ": Repeat needs exactly one body");
      // Bounded over the whole nest, so that no file can keep the engine busy for ever.
      if (program.count > kMaxRepeatIterations ||
          (program.count != 0 && iterations > kMaxRepeatIterations / program.count)) {
        throw SimError(where + ": Repeat runs more than " +
                       std::to_string(kMaxRepeatIterations) + " iterations");
      }
      iterations *= std::max<uint64_t>(program.count, 1);
      break;
    case ProgramKind::Switch: {
      checkRef(exe.variables.size(), "switch variable");
      const Variable& control = exe.variables[program.ref];
      if (!isSwitchableDType(control.dtype) || elementCount(control.shape) != 1) {
        throw SimError(where + ": switch variable " + quoted(control.name) +
                       " must be a single-element integer variable, not " +
                       std::string(dtypeName(control.dtype)) + shapeString(control.shape));
      }
      if (program.body.size() != program.caseValues.size() + (program.hasDefault ? 1 : 0)) {
        throw SimError(where + ": switch on " + quoted(control.name) + " has " +
                       std::to_string(program.body.size()) + " bodies for " +
                       std::to_string(program.caseValues.size()) + " case values" +
                       (program.hasDefault ? " and a default" : ""));
      }
      std::unordered_set<int64_t> seen;
      for (int64_t value : program.caseValues) {
        if (!seen.insert(value).second) {
          throw SimError(where + ": switch on " + quoted(control.name) + " repeats case " +
                         std::to_string(value));
        }
      }
      break;
    }
    default:
      throw SimError(where + ": unknown program kind code " +
                     std::to_string(static_cast<int>(program.kind)));
  }
  for (const Program& child : program.body) {
    checkProgram(exe, child, entry, depth + 1, iterations);
  }
}

void checkTileMemory(const Executable& exe) {
  for (const TileMemoryUsage& usage : exe.tileMemory) {
    if (usage.tile >= exe.target.tiles) {
      throw SimError("tile memory: tile " + std::to_string(usage.tile) + " out of range");
    }
    const uint64_t total = uint64_t{usage.code} + usage.vertexState + usage.constants +
                           usage.variables;
    if (total > exe.target.bytesPerTile) {
      throw SimError("tile memory: tile " + std::to_string(usage.tile) + " uses " +
                     std::to_string(total) + " bytes of its " +
                     std::to_string(exe.target.bytesPerTile));
    }
  }
}

}  // namespace

void verifyExecutable(const Executable& exe) {
  checkTarget(exe.target);
  for (size_t i = 0; i < exe.variables.size(); ++i) checkVariable(exe, i);
  checkCodelets(exe);
  for (size_t i = 0; i < exe.computeSets.size(); ++i) checkComputeSet(exe, i);
  std::vector<uint64_t> received(exe.target.tiles, 0);
  for (size_t i = 0; i < exe.exchanges.size(); ++i) checkExchange(exe, i, received);
  checkStreams(exe);
  checkProgram(exe, exe.load, "load", 0, 1);
  checkProgram(exe, exe.main, "main", 0, 1);
  checkTileMemory(exe);
}

}  // namespace ipusim
