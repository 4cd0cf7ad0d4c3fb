#include "compiler/lowering/indexed_step.h"

#include <algorithm>
#include <map>
#include <optional>

#include "compiler/compiler.h"
#include "sim/codelets/indexed_operands.h"

namespace ipusim {

namespace {

using Groups = std::vector<std::pair<uint64_t, uint64_t>>;

// Dimensions innermost first, size-1 ones dropped, neighbours merged where the outer one's
// stride continues the inner one's (a broadcast run, or a contiguous run).
Groups groupsFrom(const Shape& outShape, const std::vector<uint64_t>& strides) {
  Groups groups;
  for (size_t d = outShape.size(); d-- > 0;) {
    const uint64_t size = static_cast<uint64_t>(outShape[d]);
    if (size == 1) continue;
    if (!groups.empty() && groups.back().second * groups.back().first == strides[d]) {
      groups.back().first *= size;
    } else {
      groups.emplace_back(size, strides[d]);
    }
  }
  return groups;
}

struct Range {
  uint64_t lo = 0, hi = 0;  // inclusive
};

// Bounds on the operand indices output elements [a, b] read: coordinates outside the
// outermost group where a and b differ are fixed; inside it everything may vary.
Range rangeOf(const Groups& groups, uint64_t a, uint64_t b) {
  std::vector<uint64_t> ca, cb;
  for (const auto& [size, stride] : groups) {
    ca.push_back(a % size);
    cb.push_back(b % size);
    a /= size;
    b /= size;
  }
  size_t differing = groups.size();
  for (size_t g = groups.size(); g-- > 0;) {
    if (ca[g] != cb[g]) {
      differing = g;
      break;
    }
  }
  uint64_t fixed = 0;
  for (size_t g = groups.size(); g-- > 0 && g > differing;) fixed += ca[g] * groups[g].second;
  if (differing == groups.size()) {
    for (size_t g = 0; g < groups.size(); ++g) fixed += ca[g] * groups[g].second;
    return {fixed, fixed};
  }
  Range r{fixed + ca[differing] * groups[differing].second, fixed + cb[differing] * groups[differing].second};
  for (size_t g = 0; g < differing; ++g) r.hi += (groups[g].first - 1) * groups[g].second;
  return r;
}

bool holdsInPlace(const VariableDesc& var, uint32_t tile, const Range& r) {
  const TileSpan& span = spanContaining(var, r.lo);
  return span.tile == tile && r.hi < span.first + span.count;
}

}  // namespace

IndexedOperand broadcastOperand(const TensorValue& value, const Shape& outShape) {
  if (value.shape.size() > outShape.size()) {
    throw CompileError("internal: cannot broadcast " + shapeString(value.shape) + " to " + shapeString(outShape));
  }
  const size_t pad = outShape.size() - value.shape.size();
  std::vector<uint64_t> strides(outShape.size(), 0);
  uint64_t stride = 1;
  for (size_t d = value.shape.size(); d-- > 0;) {
    const int64_t size = value.shape[d];
    if (size != 1 && size != outShape[pad + d]) {
      throw CompileError("internal: cannot broadcast " + shapeString(value.shape) + " to " + shapeString(outShape));
    }
    strides[pad + d] = size == 1 ? 0 : stride;
    stride *= static_cast<uint64_t>(size);
  }
  return viewOperand(value, outShape, strides);
}

IndexedOperand viewOperand(const TensorValue& value, const Shape& outShape, const std::vector<uint64_t>& strides) {
  IndexedOperand operand;
  operand.value = value;
  operand.groups = groupsFrom(outShape, strides);
  return operand;
}

std::string indexedCodeletName(const std::string& op, const std::vector<IndexedOperand>& operands, DType out) {
  std::string name = op + "<";
  const bool uniform =
      std::all_of(operands.begin(), operands.end(), [&](const IndexedOperand& o) { return o.value.dtype == out; });
  if (!uniform)
    for (const IndexedOperand& o : operands) name += std::string(dtypeName(o.value.dtype)) + ",";
  return name + std::string(dtypeName(out)) + ">";
}

std::vector<TileSpan> mappingLike(const GraphBuilder& builder, const TensorValue& like, DType dtype) {
  const uint64_t elements = static_cast<uint64_t>(elementCount(like.shape));
  const auto& var = builder.variable(like.var);
  if (static_cast<uint64_t>(elementCount(var.shape)) == elements) return var.mapping;
  return linearMapping(elements, dtype, builder.target());
}

TensorValue indexedStep(GraphBuilder& b, const std::string& name, const std::string& codelet,
                        const std::vector<IndexedOperand>& operands, DType outDtype, const Shape& outShape,
                        const std::vector<TileSpan>& mapping, const std::vector<int64_t>& params) {
  const uint32_t outVar = b.addVariable(name, outDtype, outShape, mapping);
  std::vector<TileSpan> chunks;
  for (const TileSpan& span : mapping)
    for (const TileSpan& chunk : splitForWorkers(span, outDtype, b.target())) chunks.push_back(chunk);

  // Per operand: each chunk's range, then per tile whether it is read in place.
  struct Source {
    uint32_t var;
    uint64_t at;  // element of `var` holding operand index `lo`
  };
  std::vector<std::vector<Range>> ranges(operands.size());
  std::vector<std::vector<Source>> sources(operands.size());
  std::optional<uint32_t> exchange;
  for (size_t k = 0; k < operands.size(); ++k) {
    const IndexedOperand& op = operands[k];
    const VariableDesc& var = b.variable(op.value.var);
    const uint64_t elements = static_cast<uint64_t>(elementCount(op.value.shape));
    std::map<uint32_t, Range> unionByTile;
    std::map<uint32_t, bool> inPlace;
    for (const TileSpan& chunk : chunks) {
      Range r = rangeOf(op.groups, chunk.first, chunk.first + chunk.count - 1);
      r.lo = r.lo >= op.widenBefore ? r.lo - op.widenBefore : 0;
      r.hi = std::min(r.hi + op.widenAfter, elements - 1);
      ranges[k].push_back(r);
      auto [it, fresh] = unionByTile.try_emplace(chunk.tile, r);
      if (!fresh) it->second = {std::min(it->second.lo, r.lo), std::max(it->second.hi, r.hi)};
      auto [place, first] = inPlace.try_emplace(chunk.tile, true);
      place->second = place->second && holdsInPlace(var, chunk.tile, r);
      (void)first;
    }
    std::map<uint32_t, uint64_t> bufferCounts;
    for (const auto& [tile, r] : unionByTile)
      if (!inPlace[tile]) bufferCounts[tile] = r.hi - r.lo + 1;
    std::map<uint32_t, uint64_t> bufferAt;
    uint32_t buffer = 0;
    if (!bufferCounts.empty()) {
      std::vector<TileSpan> spans;
      uint64_t total = 0;
      for (const auto& [tile, count] : bufferCounts) {
        spans.push_back({tile, total, count});
        bufferAt[tile] = total;
        total += count;
      }
      buffer = b.addVariable(name + "/operand" + std::to_string(k), op.value.dtype, {static_cast<int64_t>(total)}, spans);
      if (!exchange) exchange = b.addExchange(name + "/operands");
      for (const auto& [tile, count] : bufferCounts) {
        b.addCopy(*exchange, {op.value.var, unionByTile[tile].lo, count}, buffer, bufferAt[tile]);
      }
    }
    for (size_t c = 0; c < chunks.size(); ++c) {
      const uint32_t tile = chunks[c].tile;
      if (inPlace[tile]) {
        sources[k].push_back({op.value.var, ranges[k][c].lo});
      } else {
        sources[k].push_back({buffer, bufferAt[tile] + (ranges[k][c].lo - unionByTile[tile].lo)});
      }
    }
  }

  const uint32_t computeSet = b.addComputeSet(name);
  for (size_t c = 0; c < chunks.size(); ++c) {
    std::vector<std::vector<Slice>> fields;
    std::vector<int64_t> scalars = params;
    scalars.push_back(static_cast<int64_t>(chunks[c].first));
    for (size_t k = 0; k < operands.size(); ++k) {
      const Range& r = ranges[k][c];
      fields.push_back({{sources[k][c].var, sources[k][c].at, r.hi - r.lo + 1}});
      codelets::appendIndexPattern(scalars, {static_cast<int64_t>(r.lo), operands[k].groups});
    }
    fields.push_back({{outVar, chunks[c].first, chunks[c].count}});
    b.addVertex(computeSet, codelet, chunks[c].tile, std::move(fields), std::move(scalars));
  }
  if (exchange) b.exchange(*exchange);
  b.execute(computeSet);
  return {outVar, outDtype, outShape};
}

}  // namespace ipusim
