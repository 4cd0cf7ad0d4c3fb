// ArgMax/ArgMin codelets: a first stage that finds (value, axis position) partials in the
// input (scatter and continuous forms) and a merge stage that combines such partials, like
// popnn's ReduceMaxClassGather (first stage) and ReduceMaxClassSparse (merge). Fields and
// scalars: sim/codelets/reduce_ops.h. Cycle figures: docs/cost-model.md.
#include <cmath>
#include <string>
#include <vector>

#include "sim/codelet.h"
#include "sim/codelets/codelet_tables.h"
#include "sim/codelets/element_types.h"
#include "sim/codelets/reduce_ops.h"
#include "sim/codelets/vertex_checks.h"
#include "sim/error.h"

namespace ipusim::codelets {
namespace {

using Index = Element<DType::Int64>;

size_t elementsOf(const std::span<uint8_t>& region, size_t bytes, std::string_view codelet) {
  if (region.size() % bytes != 0) fail(codelet, "a region's size is not a whole number of elements");
  return region.size() / bytes;
}

// A candidate for the result: its value and axis position (-1: none yet).
template <typename V>
struct Candidate {
  V value{};
  int64_t index = -1;
};

// Whether `c` replaces `best`: a better value, or an equal one at the preferred position.
// NaN beats every number (numpy's argmax and argmin both return the first NaN).
template <bool IsMax, typename V>
bool beats(const Candidate<V>& c, const Candidate<V>& best, bool selectLast) {
  if (best.index < 0) return true;
  bool cNaN = false, bestNaN = false;
  if constexpr (std::is_floating_point_v<V>) {
    cNaN = std::isnan(c.value);
    bestNaN = std::isnan(best.value);
  }
  const bool tie = (cNaN && bestNaN) || (!cNaN && !bestNaN && c.value == best.value);
  if (tie) return selectLast ? c.index > best.index : c.index < best.index;
  if (cNaN) return true;
  if (bestNaN) return false;
  return IsMax ? c.value > best.value : c.value < best.value;
}

template <typename E>
void storeCandidates(const std::vector<std::span<uint8_t>>& values, const std::vector<std::span<uint8_t>>& indices,
                     const std::vector<Candidate<typename E::Value>>& best, std::string_view codelet) {
  size_t k = 0;
  if (values.size() != indices.size()) fail(codelet, "value and index outputs have different regions");
  for (size_t r = 0; r < values.size(); ++r) {
    const size_t n = elementsOf(values[r], E::bytes, codelet);
    if (elementsOf(indices[r], Index::bytes, codelet) != n) fail(codelet, "value and index regions differ in size");
    for (size_t i = 0; i < n; ++i, ++k) {
      E::store(values[r].data() + i * E::bytes, best[k].value);
      // An output with no candidate (an empty axis) gets position 0.
      Index::store(indices[r].data() + i * Index::bytes, best[k].index < 0 ? 0 : best[k].index);
    }
  }
}

size_t outputCount(const std::vector<std::span<uint8_t>>& values, size_t bytes, std::string_view codelet) {
  size_t total = 0;
  for (const auto& region : values) total += elementsOf(region, bytes, codelet);
  return total;
}

// Scatter form, first stage: fields [in, outValues, outIndices].
template <bool IsMax, DType D>
void argScatter(const VertexData& data, std::string_view codelet) {
  using E = Element<D>;
  using V = typename E::Value;
  if (data.fields.size() != 3) fail(codelet, "expects fields [in, outValues, outIndices]");
  const auto& in = data.fields[0];
  if (data.scalars.size() != kArgFirstRegionScalar + 3 * in.size()) {
    fail(codelet, "expects (offset, width, axisFirst) scalars per input region");
  }
  const bool selectLast = data.scalars[kArgSelectLastScalar] != 0;
  std::vector<Candidate<V>> best(outputCount(data.fields[1], E::bytes, codelet));
  for (size_t r = 0; r < in.size(); ++r) {
    const int64_t offset = data.scalars[kArgFirstRegionScalar + 3 * r];
    const int64_t width = data.scalars[kArgFirstRegionScalar + 3 * r + 1];
    const int64_t axisFirst = data.scalars[kArgFirstRegionScalar + 3 * r + 2];
    const size_t count = elementsOf(in[r], E::bytes, codelet);
    if (width <= 0 || offset < 0 || static_cast<size_t>(offset + width) > best.size() || count % width != 0) {
      fail(codelet, "input region " + std::to_string(r) + " does not fit its output range");
    }
    for (size_t i = 0; i < count; ++i) {
      const Candidate<V> c{E::load(in[r].data() + i * E::bytes), axisFirst + static_cast<int64_t>(i) / width};
      auto& b = best[static_cast<size_t>(offset) + i % static_cast<size_t>(width)];
      if (beats<IsMax>(c, b, selectLast)) b = c;
    }
  }
  storeCandidates<E>(data.fields[1], data.fields[2], best, codelet);
}

// Continuous form, first stage: paired regions of whole rows.
template <bool IsMax, DType D>
void argRows(const VertexData& data, std::string_view codelet) {
  using E = Element<D>;
  using V = typename E::Value;
  if (data.fields.size() != 3 || data.fields[0].size() != data.fields[1].size()) {
    fail(codelet, "expects fields [in, outValues, outIndices] with paired regions");
  }
  if (data.scalars.size() != kArgRowLengthScalar + 1) fail(codelet, "expects scalars [selectLast, rowLength]");
  const bool selectLast = data.scalars[kArgSelectLastScalar] != 0;
  const int64_t rowLength = data.scalars[kArgRowLengthScalar];
  if (rowLength <= 0) fail(codelet, "row length must be positive");
  std::vector<Candidate<V>> best;
  for (size_t r = 0; r < data.fields[0].size(); ++r) {
    const size_t rows = elementsOf(data.fields[1][r], E::bytes, codelet);
    if (elementsOf(data.fields[0][r], E::bytes, codelet) != rows * static_cast<size_t>(rowLength)) {
      fail(codelet, "input region " + std::to_string(r) + " is not whole rows");
    }
    for (size_t row = 0; row < rows; ++row) {
      Candidate<V> b;
      const uint8_t* p = data.fields[0][r].data() + row * static_cast<size_t>(rowLength) * E::bytes;
      for (int64_t i = 0; i < rowLength; ++i) {
        const Candidate<V> c{E::load(p + static_cast<size_t>(i) * E::bytes), i};
        if (beats<IsMax>(c, b, selectLast)) b = c;
      }
      best.push_back(b);
    }
  }
  storeCandidates<E>(data.fields[1], data.fields[2], best, codelet);
}

// Merge stage: fields [inValues, inIndices, outValues, outIndices], scatter form.
template <bool IsMax, DType D>
void argMerge(const VertexData& data, std::string_view codelet) {
  using E = Element<D>;
  using V = typename E::Value;
  if (data.fields.size() != 4 || data.fields[0].size() != data.fields[1].size()) {
    fail(codelet, "expects fields [inValues, inIndices, outValues, outIndices]");
  }
  const auto& values = data.fields[0];
  const auto& indices = data.fields[1];
  if (data.scalars.size() != kArgFirstRegionScalar + 2 * values.size()) {
    fail(codelet, "expects (offset, width) scalars per input region");
  }
  const bool selectLast = data.scalars[kArgSelectLastScalar] != 0;
  std::vector<Candidate<V>> best(outputCount(data.fields[2], E::bytes, codelet));
  for (size_t r = 0; r < values.size(); ++r) {
    const int64_t offset = data.scalars[kArgFirstRegionScalar + 2 * r];
    const int64_t width = data.scalars[kArgFirstRegionScalar + 2 * r + 1];
    const size_t count = elementsOf(values[r], E::bytes, codelet);
    if (elementsOf(indices[r], Index::bytes, codelet) != count) fail(codelet, "value and index regions differ");
    if (width <= 0 || offset < 0 || static_cast<size_t>(offset + width) > best.size() || count % width != 0) {
      fail(codelet, "input region " + std::to_string(r) + " does not fit its output range");
    }
    for (size_t i = 0; i < count; ++i) {
      const Candidate<V> c{E::load(values[r].data() + i * E::bytes), Index::load(indices[r].data() + i * Index::bytes)};
      auto& b = best[static_cast<size_t>(offset) + i % static_cast<size_t>(width)];
      if (beats<IsMax>(c, b, selectLast)) b = c;
    }
  }
  storeCandidates<E>(data.fields[2], data.fields[3], best, codelet);
}

// popnn ReduceMaxClassGather/Sparse: about 26 cycles of set-up and store, then 3 cycles an
// element for floats (assembly) or 6 for other types (compiled C++), 25 per output of the
// compiled loop. Per region we charge poplibs' reduce partials overhead of 11.
constexpr uint64_t kArgVertexCycles = 26;
constexpr uint64_t kArgRegionCycles = 11;
constexpr uint64_t kArgPerOutputCycles = 25;

uint64_t argElementCycles(DType d) { return isFloatDType(d) ? 3 : 6; }

template <DType D>
uint64_t argCycles(const Vertex& v, size_t inField, size_t outField) {
  uint64_t cycles = kArgVertexCycles;
  if (v.fields.size() <= outField) return cycles;
  for (const Region& r : v.fields[inField]) {
    cycles += kArgRegionCycles + r.bytes / dtypeSize(D) * argElementCycles(D);
  }
  for (const Region& r : v.fields[outField]) cycles += r.bytes / dtypeSize(D) * kArgPerOutputCycles;
  return cycles;
}

template <bool IsMax, DType D>
void addArgCodelets(CodeletRegistry& registry) {
  const std::string which = IsMax ? "Max" : "Min";
  const std::string type = "<" + std::string(dtypeName(D)) + ">";

  Codelet scatter;
  scatter.name = "ArgReduce" + which + type;
  scatter.kernel = [name = scatter.name](const VertexData& data) { argScatter<IsMax, D>(data, name); };
  scatter.cycles = [](const Vertex& v, const Target&) { return argCycles<D>(v, 0, 1); };
  scatter.codeBytes = kReduceCodeBytes;
  registry.add(std::move(scatter));

  Codelet rows;
  rows.name = "ArgReduceRows" + which + type;
  rows.kernel = [name = rows.name](const VertexData& data) { argRows<IsMax, D>(data, name); };
  rows.cycles = [](const Vertex& v, const Target&) { return argCycles<D>(v, 0, 1); };
  rows.codeBytes = kReduceCodeBytes;
  registry.add(std::move(rows));

  Codelet merge;
  merge.name = "ArgMerge" + which + type;
  merge.kernel = [name = merge.name](const VertexData& data) { argMerge<IsMax, D>(data, name); };
  merge.cycles = [](const Vertex& v, const Target&) { return argCycles<D>(v, 0, 2); };
  merge.codeBytes = kReduceCodeBytes;
  registry.add(std::move(merge));
}

}  // namespace

void registerArgReduceCodelets(CodeletRegistry& registry) {
  forEachDType([&]<DType D>() {
    if constexpr (D != DType::Bool) {
      addArgCodelets<true, D>(registry);
      addArgCodelets<false, D>(registry);
    }
  });
}

}  // namespace ipusim::codelets
