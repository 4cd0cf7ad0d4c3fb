// Builds the Executable IR the way poplar::Graph does: variables with tile mappings,
// compute sets of vertices, exchanges, host streams and a program sequence. Everything
// refers to variables symbolically (Slice); memory planning later gives each variable its
// tile offsets and finalizeExecutable() turns slices into tile-local regions.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "compiler/const_tensor.h"
#include "compiler/lowering/tile_mapping.h"
#include "sim/executable.h"

namespace ipusim {

// Elements [first, first + count) of variable `var`.
struct Slice {
  uint32_t var = 0;
  uint64_t first = 0;
  uint64_t count = 0;
};

struct VariableDesc {
  std::string name;
  DType dtype = DType::Float32;
  Shape shape;
  VariableKind kind = VariableKind::Variable;
  std::vector<TileSpan> mapping;  // sorted by first element, covering every element once
  std::vector<uint8_t> data;      // constants
  int scope = -1;                 // -1: global (lives for the whole program)
  int64_t firstStep = -1;         // liveness: the steps that touch it
  int64_t lastStep = -1;
};

struct VertexDesc {
  uint32_t codelet = 0;
  uint32_t tile = 0;
  std::vector<std::vector<Slice>> fields;
  std::vector<int64_t> scalars;
};

struct ComputeSetDesc {
  std::string name;
  std::vector<VertexDesc> vertices;
};

// The span of `var` that holds `element`; throws CompileError if none does.
const TileSpan& spanContaining(const VariableDesc& var, uint64_t element);

// Each side lies inside one tile span of its variable.
struct CopyDesc {
  Slice src;
  uint32_t dstVar = 0;
  uint64_t dstFirst = 0;
};

struct ExchangeDesc {
  std::string name;
  std::vector<CopyDesc> copies;
};

// What lowering produced, before memory planning.
struct BuiltGraph {
  Target target;
  std::vector<std::string> codelets;
  std::vector<VariableDesc> variables;
  std::vector<ComputeSetDesc> computeSets;
  std::vector<ExchangeDesc> exchanges;
  std::vector<HostStream> streams;
  int scopes = 0;
};

class GraphBuilder {
 public:
  explicit GraphBuilder(Target target);
  const Target& target() const { return graph_.target; }

  // Variables created and steps emitted inside a scope belong to it. Only one scope's
  // program runs at a time, so scopes may share their variables' bytes.
  int beginScope();
  void endScope();

  uint32_t addVariable(const std::string& name, DType dtype, const Shape& shape, std::vector<TileSpan> mapping);
  uint32_t addVariable(const std::string& name, DType dtype, const Shape& shape);  // mapped linearly
  uint32_t addConstant(const std::string& name, const ConstTensor& value, std::vector<TileSpan> mapping);
  uint32_t addConstant(const std::string& name, const ConstTensor& value);  // mapped linearly
  const VariableDesc& variable(uint32_t var) const { return graph_.variables.at(var); }

  uint32_t addComputeSet(const std::string& name);
  void addVertex(uint32_t computeSet, const std::string& codelet, uint32_t tile,
                 std::vector<std::vector<Slice>> fields, std::vector<int64_t> scalars = {});
  uint32_t addExchange(const std::string& name);
  // Copies src elements to dst elements [dstFirst, dstFirst + src.count), split wherever
  // either variable's mapping changes tile.
  void addCopy(uint32_t exchange, const Slice& src, uint32_t dstVar, uint64_t dstFirst);
  uint32_t addStream(const std::string& anchor, StreamDirection direction, uint32_t var, const Shape& shape);

  // Program steps, appended to the current sequence. Empty compute sets and exchanges
  // are dropped.
  void execute(uint32_t computeSet);
  void exchange(uint32_t exchange);
  void streamCopy(uint32_t stream);
  // Appends a Repeat of `count` iterations whose body is the steps `emitBody` appends. A
  // value carried from one iteration to the next must be touched before the loop and by the
  // body's last step, so that liveness (a range of steps) covers the whole body.
  void repeat(uint64_t count, const std::function<void()>& emitBody);
  Program takeSequence();  // the steps appended since the last call

  const BuiltGraph& graph() const { return graph_; }
  BuiltGraph release() { return std::move(graph_); }

 private:
  void touch(uint32_t var);
  uint32_t codeletIndex(const std::string& name);

  BuiltGraph graph_;
  std::vector<Program> sequence_;
  int currentScope_ = -1;
  int64_t step_ = 0;
};

}  // namespace ipusim
