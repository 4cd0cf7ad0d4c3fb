#include "sim/fused_step.h"

#include <algorithm>
#include <limits>
#include <tuple>

namespace ipusim {

namespace {

// A byte range on one tile.
struct TileRange {
  uint32_t tile;
  uint64_t begin;
  uint64_t end;
};

// The compute set's vertex regions, per tile, sorted and merged.
class TileRanges {
 public:
  explicit TileRanges(const ComputeSet& computeSet) {
    for (const Vertex& vertex : computeSet.vertices) {
      for (const auto& field : vertex.fields) {
        for (const Region& region : field) {
          if (region.bytes != 0) ranges_.push_back({vertex.tile, region.offset, uint64_t{region.offset} + region.bytes});
        }
      }
    }
    std::sort(ranges_.begin(), ranges_.end(),
              [](const TileRange& a, const TileRange& b) { return std::tie(a.tile, a.begin) < std::tie(b.tile, b.begin); });
    std::vector<TileRange> merged;
    for (const TileRange& range : ranges_) {
      if (!merged.empty() && merged.back().tile == range.tile && range.begin <= merged.back().end) {
        merged.back().end = std::max(merged.back().end, range.end);
      } else {
        merged.push_back(range);
      }
    }
    ranges_ = std::move(merged);
  }

  bool overlaps(uint32_t tile, uint64_t begin, uint64_t end) const {
    // The first range on `tile` that ends after `begin`; merged ranges are disjoint and sorted.
    auto it = std::upper_bound(ranges_.begin(), ranges_.end(), std::make_pair(tile, begin),
                               [](const std::pair<uint32_t, uint64_t>& key, const TileRange& range) {
                                 return std::tie(key.first, key.second) < std::tie(range.tile, range.end);
                               });
    return it != ranges_.end() && it->tile == tile && it->begin < end;
  }

 private:
  std::vector<TileRange> ranges_;
};

// Copies per extra segment (a tile's second or later stretch) below which a plan is not worth
// it: a product's copies come grouped by destination; copies that alternate destinations
// would make the plan about as large as the copy list.
constexpr size_t kCopiesPerSegment = 4;
constexpr size_t kExtraSegments = 64;  // allowed to any exchange, however few its copies
// Strided runs are kept only where they make the copies at least this many times fewer.
constexpr size_t kCopiesPerRun = 4;

// The tile-by-tile plan of the exchange, followed by the compute set when there is one.
std::optional<FusedStepPlan> planByTile(const Exchange& exchange, const ExchangePlan& exchangePlan,
                                        const ComputeSet* computeSet, const ComputePlan* computePlan) {
  const std::vector<Copy>& copies = exchange.copies;
  const std::vector<TileWork> noWork;
  const std::vector<TileWork>& works = computePlan != nullptr ? computePlan->tiles : noWork;
  if (exchangePlan.needsStaging || copies.empty() || (computePlan != nullptr && works.empty()) ||
      copies.size() > std::numeric_limits<uint32_t>::max()) {
    return std::nullopt;
  }
  // Stretches of copies to one destination tile, in copy order.
  struct TileSegment {
    uint32_t tile;
    CopySegment copies;
  };
  std::vector<TileSegment> stretches;
  std::vector<bool> seen;
  size_t tiles = 0;
  for (uint32_t i = 0; i < copies.size(); ++i) {
    const uint32_t tile = copies[i].dstTile;
    if (stretches.empty() || stretches.back().tile != tile) {
      if (seen.size() <= tile) seen.resize(size_t{tile} + 1);
      if (!seen[tile]) {
        seen[tile] = true;
        ++tiles;
      }
      stretches.push_back({tile, {i, i}});
      // Second and later stretches to a tile cost a segment each (stretches >= tiles).
      if (stretches.size() - tiles > kExtraSegments + copies.size() / kCopiesPerSegment) return std::nullopt;
    }
    stretches.back().copies.end = i + 1;
  }
  if (computeSet != nullptr) {
    const TileRanges vertexRanges(*computeSet);
    for (const Copy& copy : copies) {
      if (copy.bytes != 0 && vertexRanges.overlaps(copy.srcTile, copy.srcOffset, uint64_t{copy.srcOffset} + copy.bytes)) {
        return std::nullopt;
      }
    }
  }
  std::stable_sort(stretches.begin(), stretches.end(), [](const TileSegment& a, const TileSegment& b) { return a.tile < b.tile; });

  FusedStepPlan plan;
  plan.segments.reserve(stretches.size());
  size_t stretch = 0;
  size_t work = 0;
  while (stretch < stretches.size() || work < works.size()) {
    const uint32_t stretchTile = stretch < stretches.size() ? stretches[stretch].tile : std::numeric_limits<uint32_t>::max();
    const uint32_t workTile = work < works.size() ? works[work].tile : std::numeric_limits<uint32_t>::max();
    FusedTile tile;
    tile.tile = std::min(stretchTile, workTile);
    tile.firstSegment = static_cast<uint32_t>(plan.segments.size());
    for (; stretch < stretches.size() && stretches[stretch].tile == tile.tile; ++stretch) plan.segments.push_back(stretches[stretch].copies);
    tile.segmentCount = static_cast<uint32_t>(plan.segments.size()) - tile.firstSegment;
    if (workTile == tile.tile) tile.work = static_cast<int64_t>(work++);
    plan.tiles.push_back(tile);
  }
  // Strided runs where they pay: each segment's copies become runs, segment by segment.
  std::vector<CopySegment> runSegments;
  runSegments.reserve(plan.segments.size());
  for (const CopySegment& segment : plan.segments) {
    const auto begin = static_cast<uint32_t>(plan.runs.size());
    appendCopyRuns(std::span<const Copy>(copies).subspan(segment.begin, segment.end - segment.begin), plan.runs);
    runSegments.push_back({begin, static_cast<uint32_t>(plan.runs.size())});
    if (plan.runs.size() * kCopiesPerRun > copies.size()) break;
  }
  if (plan.runs.size() * kCopiesPerRun <= copies.size()) {
    plan.segments = std::move(runSegments);
    plan.runs.shrink_to_fit();
  } else {
    plan.runs = {};
  }
  plan.errors.resize(plan.tiles.size());
  return plan;
}

}  // namespace

std::optional<FusedStepPlan> planFusedStep(const Exchange& exchange, const ExchangePlan& exchangePlan,
                                           const ComputeSet& computeSet, const ComputePlan& computePlan) {
  return planByTile(exchange, exchangePlan, &computeSet, &computePlan);
}

std::optional<FusedStepPlan> planExchangeByTile(const Exchange& exchange, const ExchangePlan& exchangePlan) {
  return planByTile(exchange, exchangePlan, nullptr, nullptr);
}

}  // namespace ipusim
