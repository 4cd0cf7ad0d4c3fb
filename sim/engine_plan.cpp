#include "sim/engine_plan.h"

#include <algorithm>
#include <string>

#include "sim/error.h"

namespace ipusim {

void TileWork::run(TileMemories& memory) {
  uint8_t* base = memory.touch(tile);
  if (boundTo != base) {
    for (BoundVertex& bound : vertices) {
      for (size_t f = 0; f < bound.data.fields.size(); ++f) {
        size_t r = 0;
        for (const Vertex* vertex : bound.vertices) {
          for (const Region& region : vertex->fields[f]) {
            bound.data.fields[f][r++] = std::span<uint8_t>(base + region.offset, region.bytes);
          }
        }
      }
    }
    boundTo = base;
  }
  for (const BoundVertex& bound : vertices) bound.codelet->kernel(bound.data);
}

uint64_t tileComputeCycles(const Target& target, std::span<const uint64_t> workerVertexCycles,
                           uint64_t ampCycles, uint64_t vertexCount) {
  // Deterministic greedy assignment: each vertex, in order, to the least-loaded worker
  // (the lowest-numbered one on a tie).
  std::vector<uint64_t> workers(target.workerContexts, 0);
  for (uint64_t cycles : workerVertexCycles) {
    *std::min_element(workers.begin(), workers.end()) += cycles;
  }
  const uint64_t slowestWorker = workers.empty() ? 0 : *std::max_element(workers.begin(), workers.end());
  return uint64_t{target.vertexLaunchCycles} * vertexCount +
         uint64_t{target.workerContexts} * slowestWorker + ampCycles;
}

ComputePlan planComputeSet(const Executable& exe, const ComputeSet& computeSet,
                           std::span<const Codelet* const> codelets) {
  const auto& vertices = computeSet.vertices;
  std::vector<uint32_t> order(vertices.size());
  for (uint32_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(),
                   [&](uint32_t a, uint32_t b) { return vertices[a].tile < vertices[b].tile; });

  ComputePlan plan;
  uint64_t regionBytes = 0;
  std::vector<uint64_t> workerCycles;
  for (size_t begin = 0; begin < order.size();) {
    const uint32_t tile = vertices[order[begin]].tile;
    size_t end = begin;
    while (end < order.size() && vertices[order[end]].tile == tile) ++end;

    TileWork work;
    work.tile = tile;
    work.vertices.reserve(end - begin);
    workerCycles.clear();
    uint64_t ampCycles = 0;
    uint64_t ampMacs = 0;
    uint64_t ampMinimumCycles = 0;  // what the AMP vertices' MACs take at the peak rate
    uint64_t ampPeak = 0;
    for (size_t i = begin; i < end; ++i) {
      const Vertex& vertex = vertices[order[i]];
      const Codelet* codelet = codelets[vertex.codelet];
      for (const auto& field : vertex.fields) {
        for (const Region& region : field) regionBytes += region.bytes;
      }
      // A regionwise vertex joins the previous host call when it is of the same codelet
      // with the same scalars and field count; else it starts a host call of its own.
      BoundVertex* previous = work.vertices.empty() ? nullptr : &work.vertices.back();
      if (codelet->regionwise && previous != nullptr && previous->codelet == codelet &&
          previous->vertices.front()->scalars == vertex.scalars &&
          previous->data.fields.size() == vertex.fields.size()) {
        previous->vertices.push_back(&vertex);
        for (size_t f = 0; f < vertex.fields.size(); ++f) {
          previous->data.fields[f].resize(previous->data.fields[f].size() + vertex.fields[f].size());
        }
      } else {
        BoundVertex bound;
        bound.codelet = codelet;
        bound.vertices = {&vertex};
        bound.data.fields.resize(vertex.fields.size());
        for (size_t f = 0; f < vertex.fields.size(); ++f) bound.data.fields[f].resize(vertex.fields[f].size());
        bound.data.scalars = vertex.scalars;
        work.vertices.push_back(std::move(bound));
      }
      const uint64_t cycles = codelet->cycles(vertex, exe.target);
      if (codelet->usesAmp) {
        ampCycles += cycles;
        if (codelet->macs && codelet->peakMacsPerCycle) {
          const uint64_t macs = codelet->macs(vertex);
          const uint64_t peak = std::max<uint64_t>(1, codelet->peakMacsPerCycle(exe.target));
          ampMacs += macs;
          ampMinimumCycles += (macs + peak - 1) / peak;
          ampPeak = std::max(ampPeak, peak);
        }
      } else {
        workerCycles.push_back(cycles);
      }
    }
    // The AMP is one unit per tile: no step may have it do more MACs than its peak rate
    // allows in the cycles its vertices claim. A codelet that did would be a cost-model bug.
    if (ampCycles < ampMinimumCycles) {
      throw SimError("internal: tile " + std::to_string(tile) + " beat the peak rate in compute set '" +
                     computeSet.name + "': " + std::to_string(ampMacs) + " MACs in " +
                     std::to_string(ampCycles) + " AMP cycles (peak " + std::to_string(ampPeak) +
                     " MACs/cycle needs at least " + std::to_string(ampMinimumCycles) + ")");
    }
    work.cycles = tileComputeCycles(exe.target, workerCycles, ampCycles, end - begin);
    plan.cycles = std::max(plan.cycles, work.cycles);
    plan.tiles.push_back(std::move(work));
    begin = end;
  }
  plan.parallel = worthSharing(plan.tiles.size(), regionBytes);
  plan.errors.resize(plan.tiles.size());
  return plan;
}

namespace {

// Whether any copy reads bytes that any copy writes, on the same tile.
bool readsOverlapWrites(const Exchange& exchange, size_t tileCount) {
  struct Span {
    uint64_t begin;
    uint64_t end;
    bool isWrite;
  };
  // The spans bucketed by tile (a counting sort: an executable has millions of copies and a
  // target only 1472 tiles), then each tile's sorted by start.
  std::vector<uint32_t> first(tileCount + 1, 0);
  for (const Copy& copy : exchange.copies) {
    if (copy.bytes == 0) continue;
    ++first[copy.srcTile + 1];
    ++first[copy.dstTile + 1];
  }
  for (size_t t = 0; t < tileCount; ++t) first[t + 1] += first[t];
  std::vector<Span> spans(first[tileCount]);
  std::vector<uint32_t> next(first.begin(), first.end() - 1);
  for (const Copy& copy : exchange.copies) {
    if (copy.bytes == 0) continue;
    spans[next[copy.srcTile]++] = {copy.srcOffset, uint64_t{copy.srcOffset} + copy.bytes, false};
    spans[next[copy.dstTile]++] = {copy.dstOffset, uint64_t{copy.dstOffset} + copy.bytes, true};
  }
  for (size_t t = 0; t < tileCount; ++t) {
    const auto begin = spans.begin() + first[t], end = spans.begin() + first[t + 1];
    std::sort(begin, end, [](const Span& a, const Span& b) { return a.begin < b.begin; });
    // Sorted by start: a span meets an earlier one of the other kind iff it starts before the
    // furthest end seen of that kind on its tile.
    uint64_t readEnd = 0;
    uint64_t writeEnd = 0;
    for (auto span = begin; span != end; ++span) {
      if (span->begin < (span->isWrite ? readEnd : writeEnd)) return true;
      uint64_t& kindEnd = span->isWrite ? writeEnd : readEnd;
      kindEnd = std::max(kindEnd, span->end);
    }
  }
  return false;
}

}  // namespace

ExchangePlan planExchange(const Target& target, const Exchange& exchange) {
  ExchangePlan plan;
  // Per-tile sums in dense arrays over the tiles the copies name (at most the target's).
  size_t tileCount = 0;
  for (const Copy& copy : exchange.copies) tileCount = std::max<size_t>({tileCount, copy.srcTile + size_t{1}, copy.dstTile + size_t{1}});
  std::vector<uint64_t> sent(tileCount, 0), received(tileCount, 0);
  std::vector<bool> named(tileCount, false);
  for (const Copy& copy : exchange.copies) {
    plan.bytes += copy.bytes;
    sent[copy.srcTile] += copy.bytes;
    received[copy.dstTile] += copy.bytes;
    named[copy.srcTile] = true;
    named[copy.dstTile] = true;
  }
  uint64_t busiest = 0;
  for (uint32_t tile = 0; tile < tileCount; ++tile) {
    if (!named[tile]) continue;
    plan.traffic.push_back({tile, sent[tile], received[tile]});
    busiest = std::max({busiest, sent[tile], received[tile]});
  }
  const uint64_t perCycle = target.exchangeBytesPerCycle;
  plan.cycles = target.exchangeFixedCycles + (busiest + perCycle - 1) / perCycle;
  plan.needsStaging = readsOverlapWrites(exchange, tileCount);
  return plan;
}

}  // namespace ipusim
