#include "compiler/memory/memory_planner.h"

#include <algorithm>
#include <limits>
#include <map>

#include "compiler/compiler.h"
#include "sim/codelet.h"

namespace ipusim {

namespace {

uint64_t alignUp(uint64_t bytes) { return (bytes + kTileAlignment - 1) / kTileAlignment * kTileAlignment; }

// A variable's bytes on one tile: its spans there, laid out in element order.
struct Block {
  uint32_t var = 0;
  uint64_t bytes = 0;
  int64_t first = 0;  // live steps
  int64_t last = 0;
  uint64_t offset = 0;
};

// Places blocks whose live ranges overlap at disjoint offsets, lowest offset first.
// Returns the bytes the area needs.
uint64_t placeByLiveness(std::vector<Block*>& blocks) {
  std::sort(blocks.begin(), blocks.end(), [](const Block* a, const Block* b) {
    return a->first != b->first ? a->first < b->first : a->bytes > b->bytes;
  });
  std::vector<Block*> placed;
  uint64_t size = 0;
  for (Block* block : blocks) {
    std::vector<const Block*> live;
    for (const Block* p : placed)
      if (p->first <= block->last && block->first <= p->last) live.push_back(p);
    std::sort(live.begin(), live.end(), [](const Block* a, const Block* b) { return a->offset < b->offset; });
    uint64_t offset = 0;
    for (const Block* p : live) {
      if (offset + block->bytes <= p->offset) break;
      offset = std::max(offset, p->offset + alignUp(p->bytes));
    }
    block->offset = offset;
    size = std::max(size, offset + alignUp(block->bytes));
    placed.push_back(block);
  }
  return size;
}

Vertex vertexShape(const VertexDesc& v) {
  Vertex shape;
  shape.codelet = v.codelet;
  shape.tile = v.tile;
  for (const auto& field : v.fields) shape.fields.emplace_back(field.size());
  shape.scalars = v.scalars;
  return shape;
}

}  // namespace

MemoryPlan planMemory(const BuiltGraph& graph) {
  const Target& target = graph.target;
  const uint32_t tiles = target.tiles;
  const auto& registry = CodeletRegistry::instance();

  std::vector<uint64_t> code(tiles, 0), vertexState(tiles, 0);
  std::vector<std::vector<uint32_t>> codeletsOnTile(tiles);
  for (const auto& cs : graph.computeSets) {
    for (const auto& v : cs.vertices) {
      codeletsOnTile[v.tile].push_back(v.codelet);
      vertexState[v.tile] += vertexStateBytes(vertexShape(v));
    }
  }
  // One copy of each codelet's code per tile, whichever subgraph uses it.
  for (uint32_t tile = 0; tile < tiles; ++tile) {
    auto& ids = codeletsOnTile[tile];
    std::sort(ids.begin(), ids.end());
    ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
    for (uint32_t id : ids) {
      const Codelet* codelet = registry.find(graph.codelets[id]);
      if (!codelet) throw CompileError("internal: codelet '" + graph.codelets[id] + "' is not registered");
      code[tile] += codelet->codeBytes;
    }
  }
  for (const auto& ex : graph.exchanges) {
    std::map<uint32_t, uint32_t> copiesOnTile;
    for (const auto& c : ex.copies) {
      ++copiesOnTile[spanContaining(graph.variables[c.src.var], c.src.first).tile];
      ++copiesOnTile[spanContaining(graph.variables[c.dstVar], c.dstFirst).tile];
    }
    for (auto [tile, n] : copiesOnTile) code[tile] += kExchangeCodeBytesPerStep + kExchangeCodeBytesPerCopy * n;
  }

  // Blocks of every variable on every tile, by area: constants, globals, scoped.
  std::vector<std::vector<Block>> blocksOnTile(tiles);
  for (uint32_t var = 0; var < graph.variables.size(); ++var) {
    const auto& v = graph.variables[var];
    std::map<uint32_t, uint64_t> bytesOnTile;
    for (const auto& span : v.mapping) bytesOnTile[span.tile] += span.count * dtypeSize(v.dtype);
    const bool untouched = v.firstStep < 0;
    for (auto [tile, bytes] : bytesOnTile) {
      blocksOnTile[tile].push_back({var, bytes, untouched ? 0 : v.firstStep,
                                    untouched ? std::numeric_limits<int64_t>::max() : v.lastStep, 0});
    }
  }

  MemoryPlan plan;
  plan.spanOffsets.resize(graph.variables.size());
  for (uint32_t var = 0; var < graph.variables.size(); ++var)
    plan.spanOffsets[var].resize(graph.variables[var].mapping.size());

  for (uint32_t tile = 0; tile < tiles; ++tile) {
    auto& blocks = blocksOnTile[tile];
    if (blocks.empty() && code[tile] == 0 && vertexState[tile] == 0) continue;
    uint64_t offset = alignUp(code[tile]) + alignUp(vertexState[tile]);
    const uint64_t constantsStart = offset;
    for (auto& b : blocks) {
      if (graph.variables[b.var].kind != VariableKind::Constant) continue;
      b.offset = offset;
      offset += alignUp(b.bytes);
    }
    const uint64_t variablesStart = offset;
    for (auto& b : blocks) {
      const auto& v = graph.variables[b.var];
      if (v.kind == VariableKind::Constant || v.scope >= 0) continue;
      b.offset = offset;
      offset += alignUp(b.bytes);
    }
    // Each scope's variables start at the same address: only one scope runs at a time.
    const uint64_t scopesStart = offset;
    uint64_t scopesSize = 0;
    for (int scope = 0; scope < graph.scopes; ++scope) {
      std::vector<Block*> scoped;
      for (auto& b : blocks) {
        const auto& v = graph.variables[b.var];
        if (v.kind != VariableKind::Constant && v.scope == scope) scoped.push_back(&b);
      }
      if (scoped.empty()) continue;
      scopesSize = std::max(scopesSize, placeByLiveness(scoped));
      for (Block* b : scoped) b->offset += scopesStart;
    }
    const uint64_t end = scopesStart + scopesSize;

    TileMemoryUsage usage;
    usage.tile = tile;
    usage.code = static_cast<uint32_t>(code[tile]);
    usage.vertexState = static_cast<uint32_t>(vertexState[tile]);
    usage.constants = static_cast<uint32_t>(variablesStart - constantsStart);
    usage.variables = static_cast<uint32_t>(end - variablesStart);
    if (end > target.bytesPerTile || code[tile] > target.bytesPerTile) {
      const Block* largest = nullptr;
      for (const auto& b : blocks)
        if (!largest || b.bytes > largest->bytes) largest = &b;
      throw CompileError("out of tile memory: tile " + std::to_string(tile) + " needs " + std::to_string(end) +
                         " bytes (code " + std::to_string(code[tile]) + ", vertex state " +
                         std::to_string(vertexState[tile]) + ", constants " + std::to_string(usage.constants) +
                         ", variables " + std::to_string(usage.variables) + ") but has " +
                         std::to_string(target.bytesPerTile) + " (" + std::to_string(end - target.bytesPerTile) +
                         " short)" +
                         (largest ? "; its largest tensor is '" + graph.variables[largest->var].name + "' (" +
                                        std::to_string(largest->bytes) + " bytes)"
                                  : std::string()));
    }
    plan.tiles.push_back(usage);

    // Spans of a variable on this tile follow each other in its block, in element order.
    for (const auto& b : blocks) {
      const auto& v = graph.variables[b.var];
      uint64_t at = b.offset;
      for (size_t s = 0; s < v.mapping.size(); ++s) {
        if (v.mapping[s].tile != tile) continue;
        plan.spanOffsets[b.var][s] = static_cast<uint32_t>(at);
        at += v.mapping[s].count * dtypeSize(v.dtype);
      }
    }
  }
  return plan;
}

namespace {

struct Location {
  uint32_t tile = 0;
  uint32_t offset = 0;
  uint64_t spanEnd = 0;  // first element past the span
};

Location locate(const BuiltGraph& graph, const MemoryPlan& plan, uint32_t var, uint64_t element) {
  const auto& v = graph.variables[var];
  const TileSpan& span = spanContaining(v, element);
  const size_t index = static_cast<size_t>(&span - v.mapping.data());
  uint64_t offset = plan.spanOffsets[var][index] + (element - span.first) * dtypeSize(v.dtype);
  return {span.tile, static_cast<uint32_t>(offset), span.first + span.count};
}

}  // namespace

Executable finalizeExecutable(const BuiltGraph& graph, const MemoryPlan& plan, Program main, FusionInfo fusion) {
  Executable exe;
  exe.target = graph.target;
  exe.codelets = graph.codelets;
  for (uint32_t var = 0; var < graph.variables.size(); ++var) {
    const auto& d = graph.variables[var];
    Variable v;
    v.id = var;
    v.name = d.name;
    v.dtype = d.dtype;
    v.shape = d.shape;
    v.kind = d.kind;
    v.data = d.data;
    for (size_t s = 0; s < d.mapping.size(); ++s) {
      v.mapping.push_back({d.mapping[s].tile, plan.spanOffsets[var][s], d.mapping[s].first, d.mapping[s].count});
    }
    exe.variables.push_back(std::move(v));
  }
  for (const auto& csd : graph.computeSets) {
    ComputeSet cs;
    cs.name = csd.name;
    for (const auto& vd : csd.vertices) {
      Vertex v;
      v.codelet = vd.codelet;
      v.tile = vd.tile;
      v.scalars = vd.scalars;
      for (const auto& field : vd.fields) {
        std::vector<Region> regions;
        for (const auto& slice : field) {
          if (slice.count == 0) continue;
          Location at = locate(graph, plan, slice.var, slice.first);
          const auto& var = graph.variables[slice.var];
          if (at.tile != vd.tile) {
            throw CompileError("vertex '" + graph.codelets[vd.codelet] + "' on tile " + std::to_string(vd.tile) +
                               " would touch '" + var.name + "' on tile " + std::to_string(at.tile) +
                               " (in compute set '" + csd.name + "')");
          }
          if (slice.first + slice.count > at.spanEnd) {
            throw CompileError("internal: a field of '" + csd.name + "' crosses a span of '" + var.name + "'");
          }
          regions.push_back({at.offset, static_cast<uint32_t>(slice.count * dtypeSize(var.dtype))});
        }
        v.fields.push_back(std::move(regions));
      }
      cs.vertices.push_back(std::move(v));
    }
    exe.computeSets.push_back(std::move(cs));
  }
  for (const auto& exd : graph.exchanges) {
    Exchange ex;
    ex.name = exd.name;
    for (const auto& c : exd.copies) {
      Location src = locate(graph, plan, c.src.var, c.src.first);
      Location dst = locate(graph, plan, c.dstVar, c.dstFirst);
      ex.copies.push_back({src.tile, src.offset, dst.tile, dst.offset,
                           static_cast<uint32_t>(c.src.count * dtypeSize(graph.variables[c.src.var].dtype))});
    }
    exe.exchanges.push_back(std::move(ex));
  }
  exe.streams = graph.streams;
  exe.load = Program::sequence();
  exe.main = std::move(main);
  exe.tileMemory = plan.tiles;
  exe.fusion = std::move(fusion);
  return exe;
}

}  // namespace ipusim
