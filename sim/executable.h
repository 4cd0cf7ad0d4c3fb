// The Executable IR: the contract between the compiler (which emits it), the .popef
// file (which stores it) and the engine (which runs it). Modelled on Poplar's graph and
// program model; see DESIGN.md section 3.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "sim/dtype.h"
#include "sim/target.h"

namespace ipusim {

// Elements [firstElement, firstElement + elementCount) of a variable (row-major) live on
// `tile` at byte `tileOffset`.
struct TileInterval {
  uint32_t tile = 0;
  uint32_t tileOffset = 0;
  uint64_t firstElement = 0;
  uint64_t elementCount = 0;
};

enum class VariableKind : uint8_t {
  Constant,  // part of the load image; `data` holds its row-major bytes
  Variable,  // written by the program (streams, temporaries)
};

struct Variable {
  uint32_t id = 0;
  std::string name;
  DType dtype = DType::Float32;
  Shape shape;
  VariableKind kind = VariableKind::Variable;
  std::vector<TileInterval> mapping;  // covers every element exactly once
  std::vector<uint8_t> data;          // Constant only
};

// Bytes [offset, offset + bytes) of the memory of the tile the vertex runs on.
struct Region {
  uint32_t offset = 0;
  uint32_t bytes = 0;
};

struct Vertex {
  uint32_t codelet = 0;  // index into Executable::codelets
  uint32_t tile = 0;
  std::vector<std::vector<Region>> fields;  // per field, its tile-local regions
  std::vector<int64_t> scalars;             // scalar parameters
};

struct ComputeSet {
  std::string name;
  std::vector<Vertex> vertices;
};

struct Copy {
  uint32_t srcTile = 0;
  uint32_t srcOffset = 0;
  uint32_t dstTile = 0;
  uint32_t dstOffset = 0;
  uint32_t bytes = 0;
};

// One exchange superstep: every copy reads before any copy writes.
struct Exchange {
  std::string name;
  std::vector<Copy> copies;
};

enum class StreamDirection : uint8_t { HostToDevice, DeviceToHost };

// A host stream fills (or drains) a whole variable with the bytes of an anchor. The
// anchor's shape may differ from the variable's (a reshaped output aliases the variable
// it views) but its element count and dtype are the variable's.
struct HostStream {
  std::string anchor;
  StreamDirection direction = StreamDirection::HostToDevice;
  uint32_t variable = 0;
  Shape shape;  // the anchor's shape, as the user sees it
};

enum class ProgramKind : uint8_t { Sequence, Execute, Exchange, StreamCopy, Switch, Repeat, Sync };

struct Program {
  ProgramKind kind = ProgramKind::Sequence;
  // Execute: compute set; Exchange: exchange; StreamCopy: stream; Switch: control variable.
  uint32_t ref = 0;
  // Sequence: children in order. Repeat: one body. Switch: one body per entry of
  // caseValues, then the default body when hasDefault.
  std::vector<Program> body;
  std::vector<int64_t> caseValues;
  bool hasDefault = false;
  uint64_t count = 0;  // Repeat

  static Program sequence(std::vector<Program> children = {});
  static Program execute(uint32_t computeSet);
  static Program exchange(uint32_t exchange);
  static Program streamCopy(uint32_t stream);
  static Program sync();
  static Program repeat(uint64_t count, Program body);
  static Program switchOn(uint32_t controlVariable, std::vector<int64_t> values,
                          std::vector<Program> cases);
};

// What one tile's memory holds, in bytes. The load image is code + vertexState + constants;
// variables is the tile's variable area after liveness sharing.
struct TileMemoryUsage {
  uint32_t tile = 0;
  uint32_t code = 0;
  uint32_t vertexState = 0;
  uint32_t constants = 0;
  uint32_t variables = 0;
  uint32_t total() const { return code + vertexState + constants + variables; }
};

// How a fused executable's anchors belong to its subgraphs (empty for a single model).
struct SubgraphInfo {
  uint32_t index = 0;                 // the `index` value that selects it
  std::string sourceModel;
  std::string precision;              // "fp32" or "fp16"
  std::vector<std::string> inputs;    // anchors, in the model's input order
  std::vector<std::string> outputs;
  std::vector<std::pair<std::string, std::string>> aliases;  // alias -> anchor
};

struct FusionInfo {
  std::string indexAnchor;  // "index" when fused
  std::vector<SubgraphInfo> subgraphs;
  bool fused() const { return !subgraphs.empty(); }
};

struct Executable {
  Target target;
  std::vector<std::string> codelets;
  std::vector<Variable> variables;
  std::vector<ComputeSet> computeSets;
  std::vector<Exchange> exchanges;
  std::vector<HostStream> streams;
  Program load;  // run once after the load image is in place
  Program main;
  std::vector<TileMemoryUsage> tileMemory;  // only tiles that hold something
  FusionInfo fusion;

  uint64_t loadImageBytes() const;
  const HostStream* findStream(const std::string& anchor) const;
};

// Checks every index, region and interval against the target; throws SimError naming the
// first fault. The reader of untrusted files and the engine both call it.
void verifyExecutable(const Executable& exe);

}  // namespace ipusim
