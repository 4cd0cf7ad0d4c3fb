// Helpers shared by the machine-core tests: byte packing and a small Executable builder.
#pragma once
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <memory>
#include <string>
#include <vector>

#include "sim/engine.h"
#include "sim/executable.h"
#include "sim/half.h"

namespace ipusim::test {

template <typename T>
std::vector<uint8_t> toBytes(const std::vector<T>& values) {
  std::vector<uint8_t> bytes(values.size() * sizeof(T));
  if (!values.empty()) std::memcpy(bytes.data(), values.data(), bytes.size());
  return bytes;
}

template <typename T>
std::vector<T> fromBytes(const std::vector<uint8_t>& bytes) {
  std::vector<T> values(bytes.size() / sizeof(T));
  if (!values.empty()) std::memcpy(values.data(), bytes.data(), values.size() * sizeof(T));
  return values;
}

inline std::vector<uint8_t> halfBytes(const std::vector<float>& values) {
  std::vector<uint16_t> bits;
  for (float value : values) bits.push_back(floatToHalf(value));
  return toBytes(bits);
}

inline std::vector<float> halfValues(const std::vector<uint8_t>& bytes) {
  std::vector<float> values;
  for (uint16_t bits : fromBytes<uint16_t>(bytes)) values.push_back(halfToFloat(bits));
  return values;
}

// Builds an Executable step by step; every index it returns is the position in its list.
class ExecutableBuilder {
 public:
  explicit ExecutableBuilder(Target target) { exe.target = std::move(target); }

  // A variable laid out contiguously on one tile at `offset`.
  uint32_t variable(const std::string& name, DType dtype, Shape shape, uint32_t tile,
                    uint32_t offset) {
    Variable variable;
    variable.id = static_cast<uint32_t>(exe.variables.size());
    variable.name = name;
    variable.dtype = dtype;
    variable.shape = std::move(shape);
    const auto count = static_cast<uint64_t>(elementCount(variable.shape));
    if (count > 0) variable.mapping.push_back({tile, offset, 0, count});
    exe.variables.push_back(std::move(variable));
    return exe.variables.back().id;
  }

  uint32_t constant(const std::string& name, DType dtype, Shape shape, uint32_t tile,
                    uint32_t offset, std::vector<uint8_t> data) {
    const uint32_t id = variable(name, dtype, std::move(shape), tile, offset);
    exe.variables[id].kind = VariableKind::Constant;
    exe.variables[id].data = std::move(data);
    return id;
  }

  uint32_t codelet(const std::string& name) {
    for (uint32_t i = 0; i < exe.codelets.size(); ++i) {
      if (exe.codelets[i] == name) return i;
    }
    exe.codelets.push_back(name);
    return static_cast<uint32_t>(exe.codelets.size() - 1);
  }

  uint32_t computeSet(const std::string& name) {
    exe.computeSets.push_back({name, {}});
    return static_cast<uint32_t>(exe.computeSets.size() - 1);
  }

  // A vertex whose fields are single regions {offset, bytes}.
  void vertex(uint32_t computeSet, const std::string& codeletName, uint32_t tile,
              std::initializer_list<Region> fieldRegions) {
    Vertex vertex;
    vertex.codelet = codelet(codeletName);
    vertex.tile = tile;
    for (const Region& region : fieldRegions) vertex.fields.push_back({region});
    exe.computeSets[computeSet].vertices.push_back(std::move(vertex));
  }

  uint32_t exchange(const std::string& name, std::vector<Copy> copies) {
    exe.exchanges.push_back({name, std::move(copies)});
    return static_cast<uint32_t>(exe.exchanges.size() - 1);
  }

  uint32_t stream(const std::string& anchor, StreamDirection direction, uint32_t variable) {
    exe.streams.push_back({anchor, direction, variable, exe.variables.at(variable).shape});
    return static_cast<uint32_t>(exe.streams.size() - 1);
  }

  Executable exe;
};

// Records every step the engine reports, names copied.
class StepLog : public StepObserver {
 public:
  struct Entry {
    StepKind kind;
    std::string name;
    uint64_t startCycle;
    uint64_t cycles;
    uint64_t bytes;
    std::vector<uint64_t> tileCycles;
    std::vector<uint64_t> sent;
    std::vector<uint64_t> received;
  };
  explicit StepLog(bool detail = false) : detail_(detail) {}
  bool wantsTileDetail() const override { return detail_; }
  void onStep(const StepRecord& step) override {
    steps.push_back({step.kind, std::string(step.name), step.startCycle, step.cycles, step.bytes,
                     {step.tileCycles.begin(), step.tileCycles.end()},
                     {step.tileBytesSent.begin(), step.tileBytesSent.end()},
                     {step.tileBytesReceived.begin(), step.tileBytesReceived.end()}});
  }
  std::vector<Entry> steps;

 private:
  bool detail_;
};

// What one vertex, run alone on tile 0, wrote and how long its compute step took.
struct OneVertexRun {
  std::vector<uint8_t> out;
  uint64_t cycles = 0;  // the compute step: the vertex launch and its cycles
};

// Runs `vertex` as the only vertex of main on one thread; returns `outBytes` at `outOffset` of
// tile 0 and the compute step's cycles.
inline OneVertexRun runVertexOnTile0(ExecutableBuilder& b, const Vertex& vertex, uint32_t outOffset, uint32_t outBytes) {
  const uint32_t cs = b.computeSet("cs");
  b.exe.computeSets[cs].vertices.push_back(vertex);
  b.exe.main = Program::execute(cs);
  Engine engine(1);
  engine.load(std::make_shared<Executable>(b.exe));
  StepLog log;
  engine.setObserver(&log);
  HostBuffers inputs, outputs;
  engine.run(inputs, outputs);
  return {engine.readTile(0, outOffset, outBytes), log.steps.at(0).cycles};
}

}  // namespace ipusim::test
