// The codelet table: name -> functional kernel + cycle estimate, like an op-kernel registry.
// Names are "Op<dtype>" or "Op<in,out>" (e.g. "Add<float16>", "Cast<float32,int32>").
// Adding an op adds entries (see sim/codelets/), it never edits the engine.
#pragma once
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "sim/executable.h"

namespace ipusim {

// A vertex's fields resolved to host memory: fields[f][r] is region r of field f.
struct VertexData {
  std::vector<std::vector<std::span<uint8_t>>> fields;
  std::span<const int64_t> scalars;
};

struct Codelet {
  std::string name;
  // Computes the outputs in place. Throws SimError if the fields do not fit the codelet.
  std::function<void(const VertexData&)> kernel;
  // Cycles on one worker context (or on the AMP for AMP codelets) for this vertex.
  std::function<uint64_t(const Vertex&, const Target&)> cycles;
  uint32_t codeBytes = 0;  // size of its machine code on a tile (assumption, see cost-model.md)
  bool usesAmp = false;
  // AMP codelets: the multiply-accumulates a vertex performs and the Target's peak rate for
  // them, so that the engine can refuse a vertex that claims to beat the peak.
  std::function<uint64_t(const Vertex&)> macs;
  std::function<uint64_t(const Target&)> peakMacsPerCycle;
  // The kernel treats region r of every field as one independent piece, in region order,
  // with nothing but the scalars shared (the elementwise codelets): on the host, consecutive
  // vertices of it on a tile with equal scalars run as one call over their regions in turn,
  // which computes exactly what running them one after another does.
  bool regionwise = false;
};

class CodeletRegistry {
 public:
  // The one registry, filled by the tables in sim/codelets/ on first use.
  static const CodeletRegistry& instance();

  void add(Codelet codelet);  // a duplicate name is a programming error (throws)
  const Codelet* find(std::string_view name) const;
  std::vector<std::string> names() const;

 private:
  std::unordered_map<std::string, Codelet> codelets_;
};

// Vertex scalars are int64; a real-valued parameter (an op's alpha, epsilon, ...) travels
// as the bit pattern of a double.
int64_t scalarFromDouble(double value);
double scalarAsDouble(int64_t scalar);

// Bytes of vertex state a vertex occupies on its tile: a header word, then a pointer and
// a size word per region, then a word per scalar (assumption, see cost-model.md).
uint32_t vertexStateBytes(const Vertex& vertex);

}  // namespace ipusim
