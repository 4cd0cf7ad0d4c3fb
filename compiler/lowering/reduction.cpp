#include "compiler/lowering/reduction.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>
#include <optional>

#include "compiler/compiler.h"
#include "sim/codelet.h"

namespace ipusim {

namespace {

using codelets::ReduceFinish;
using codelets::ReduceOp;

// A vertex gets at least this many input elements before a tile's work is split among
// more workers (assumption: below it, the extra partials' stage costs more than the
// split saves; docs/cost-model.md).
constexpr uint64_t kMinElementsPerVertex = 128;

// The input's shape as groups of adjacent dimensions that are all reduced or all kept
// (size-1 dimensions dropped), innermost first.
struct Layout {
  std::vector<uint64_t> sizes;
  std::vector<bool> reduced;
  std::vector<uint64_t> outStride;  // kept groups: stride in the output
  uint64_t inElements = 1, outElements = 1;

  uint64_t rowLength() const { return sizes.empty() ? 1 : sizes[0]; }
  // Whether a row (the innermost group) reduces to one output; a shape with no groups
  // (one element) is one row of one element.
  bool rowReduced() const { return sizes.empty() || reduced[0]; }

  uint64_t outIndex(uint64_t e) const {
    uint64_t out = 0;
    for (size_t g = 0; g < sizes.size(); ++g) {
      if (!reduced[g]) out += (e % sizes[g]) * outStride[g];
      e /= sizes[g];
    }
    return out;
  }
  // The coordinate of element e within the reduced group (arg reductions have one).
  uint64_t axisPosition(uint64_t e) const {
    for (size_t g = 0; g < sizes.size(); ++g) {
      if (reduced[g]) return e % sizes[g];
      e /= sizes[g];
    }
    return 0;
  }
  size_t reducedGroups() const { return static_cast<size_t>(std::count(reduced.begin(), reduced.end(), true)); }
};

Layout canonicalLayout(const Shape& shape, const std::vector<int64_t>& axes) {
  std::vector<bool> isReduced(shape.size(), false);
  for (int64_t a : axes) isReduced[static_cast<size_t>(a)] = true;
  Layout layout;
  for (size_t d = shape.size(); d-- > 0;) {
    const uint64_t size = static_cast<uint64_t>(shape[d]);
    layout.inElements *= size;
    if (!isReduced[d]) layout.outElements *= size;
    if (size == 1) continue;
    if (!layout.sizes.empty() && layout.reduced.back() == isReduced[d]) {
      layout.sizes.back() *= size;
    } else {
      layout.sizes.push_back(size);
      layout.reduced.push_back(isReduced[d]);
    }
  }
  uint64_t stride = 1;
  layout.outStride.resize(layout.sizes.size(), 0);
  for (size_t g = 0; g < layout.sizes.size(); ++g) {
    if (layout.reduced[g]) continue;
    layout.outStride[g] = stride;
    stride *= layout.sizes[g];
  }
  return layout;
}

// A piece of a tile's input and the outputs it reduces into.
struct Unit {
  bool rows = false;                 // whole rows, one output each (continuous form)
  uint64_t inFirst = 0, count = 0;   // input elements [inFirst, inFirst + count)
  uint64_t outFirst = 0, width = 0;  // scatter: outputs [outFirst, outFirst + width), count % width == 0
  uint64_t axisFirst = 0;            // arg reductions: axis position of the first row

  uint64_t outCount(uint64_t rowLength) const { return rows ? count / rowLength : width; }
};

struct Interval {
  uint64_t first = 0, count = 0;
  uint64_t end() const { return first + count; }
};

// Merges intervals into sorted disjoint ones.
std::vector<Interval> unionOf(std::vector<Interval> intervals) {
  std::sort(intervals.begin(), intervals.end(), [](const Interval& a, const Interval& b) { return a.first < b.first; });
  std::vector<Interval> merged;
  for (const Interval& i : intervals) {
    if (i.count == 0) continue;
    if (!merged.empty() && i.first <= merged.back().end()) {
      merged.back().count = std::max(merged.back().end(), i.end()) - merged.back().first;
    } else {
      merged.push_back(i);
    }
  }
  return merged;
}

// The units of one tile's input spans, in memory order.
std::vector<Unit> extractUnits(const std::vector<TileSpan>& spans, const Layout& layout) {
  std::vector<Unit> units;
  const uint64_t rowLength = layout.rowLength();
  for (const TileSpan& span : spans) {
    const size_t spanStart = units.size();  // units never merge across spans: a slice lies in one
    for (uint64_t e = span.first, end = span.first + span.count; e < end;) {
      const uint64_t rowStart = e - e % rowLength;
      const uint64_t pieceEnd = std::min(end, rowStart + rowLength);
      const uint64_t out = layout.outIndex(e);
      if (layout.rowReduced()) {
        if (e == rowStart && pieceEnd == rowStart + rowLength) {
          Unit* last = units.size() > spanStart ? &units.back() : nullptr;
          if (last && last->rows && last->inFirst + last->count == e && last->outFirst + last->count / rowLength == out) {
            last->count += rowLength;
          } else {
            units.push_back({true, e, rowLength, out, 0, 0});
          }
        } else {
          units.push_back({false, e, pieceEnd - e, out, 1, e - rowStart});
        }
      } else {
        const uint64_t n = pieceEnd - e;
        const uint64_t axis = layout.axisPosition(e);
        Unit* last = units.size() > spanStart ? &units.back() : nullptr;
        if (last && !last->rows && last->inFirst + last->count == e && last->outFirst == out && last->width == n &&
            last->axisFirst + last->count / n == axis) {
          last->count += n;
        } else {
          units.push_back({false, e, n, out, n, axis});
        }
      }
      e = pieceEnd;
    }
  }
  return units;
}

// Splits `u` after `take` input elements (a multiple of the unit's granule).
std::pair<Unit, Unit> splitUnit(const Unit& u, uint64_t take, uint64_t rowLength) {
  Unit head = u, rest = u;
  head.count = take;
  rest.inFirst += take;
  rest.count -= take;
  if (u.rows) {
    rest.outFirst += take / rowLength;
  } else if (u.count > u.width) {  // several rows of one output range: split between rows
    rest.axisFirst += take / u.width;
  } else {  // one row: split its columns
    head.width = take;
    rest.outFirst += take;
    rest.width -= take;
  }
  return {head, rest};
}

// A tile's units divided among up to `workers` vertices of about equal input size.
std::vector<std::vector<Unit>> divideForWorkers(const std::vector<Unit>& units, uint64_t rowLength, uint32_t workers) {
  uint64_t total = 0;
  for (const Unit& u : units) total += u.count;
  const uint64_t vertices = std::clamp<uint64_t>((total + kMinElementsPerVertex - 1) / kMinElementsPerVertex, 1, workers);
  const uint64_t target = (total + vertices - 1) / vertices;
  std::vector<std::vector<Unit>> groups;
  std::vector<Unit> current;
  uint64_t currentCount = 0;
  auto close = [&] {
    if (!current.empty()) groups.push_back(std::move(current));
    current.clear();
    currentCount = 0;
  };
  // Rows longer than a vertex's share are reduced piecewise, each row a scatter unit.
  std::vector<Unit> pieces;
  for (const Unit& u : units) {
    if (!u.rows || rowLength <= target) {
      pieces.push_back(u);
      continue;
    }
    for (uint64_t r = 0; r < u.count / rowLength; ++r) {
      pieces.push_back({false, u.inFirst + r * rowLength, rowLength, u.outFirst + r, 1, 0});
    }
  }
  for (Unit u : pieces) {
    while (u.count > 0) {
      if (groups.size() + 1 >= vertices || u.count <= target - currentCount) {  // the last vertex takes the rest
        currentCount += u.count;
        current.push_back(u);
        if (currentCount >= target && groups.size() + 1 < vertices) close();
        break;
      }
      const uint64_t granule = u.rows ? rowLength : (u.count > u.width ? u.width : 1);
      const uint64_t room = target - currentCount;
      if (room < granule && !current.empty()) {
        close();
        continue;
      }
      const uint64_t take = std::max(granule, room / granule * granule);
      if (take >= u.count) {
        current.push_back(u);
        currentCount += u.count;
        break;
      }
      auto [head, rest] = splitUnit(u, take, rowLength);
      current.push_back(head);
      currentCount += head.count;
      close();
      u = rest;
    }
  }
  close();
  return groups;
}

// A vertex of the first stage: rows units (continuous form) or scatter units, and the
// disjoint output intervals it writes.
struct FirstStageVertex {
  uint32_t tile = 0;
  bool rows = false;
  std::vector<Unit> units;
  std::vector<Interval> intervals;
  std::vector<uint64_t> concatenated;  // where each interval starts in the concatenation of all
  std::vector<uint64_t> base;          // where each interval is stored in the destination variable
};

// The first-stage vertices of one worker group. Rows units whose outputs meet another
// unit's outputs become scatter units (one per row) so that each output is written by one
// vertex only.
void addFirstStageVertices(uint32_t tile, const std::vector<Unit>& group, uint64_t rowLength,
                           std::vector<FirstStageVertex>& vertices) {
  std::vector<Interval> spans;
  for (const Unit& u : group) spans.push_back({u.outFirst, u.outCount(rowLength)});
  std::vector<size_t> order(group.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return spans[a].first < spans[b].first; });
  std::vector<bool> overlaps(group.size(), false);
  uint64_t reach = 0;
  size_t reachUnit = 0;
  for (size_t k = 0; k < order.size(); ++k) {
    const size_t i = order[k];
    if (k > 0 && spans[i].first < reach) {
      overlaps[i] = true;
      overlaps[reachUnit] = true;
    }
    if (spans[i].end() > reach) {
      reach = spans[i].end();
      reachUnit = i;
    }
  }
  FirstStageVertex rows, scatter;
  rows.tile = scatter.tile = tile;
  rows.rows = true;
  for (size_t i = 0; i < group.size(); ++i) {
    const Unit& u = group[i];
    if (u.rows && !overlaps[i]) {
      rows.units.push_back(u);
    } else if (u.rows) {
      for (uint64_t r = 0; r < u.count / rowLength; ++r) {
        scatter.units.push_back({false, u.inFirst + r * rowLength, rowLength, u.outFirst + r, 1, 0});
      }
    } else {
      scatter.units.push_back(u);
    }
  }
  for (FirstStageVertex* v : {&rows, &scatter}) {
    if (v->units.empty()) continue;
    std::vector<Interval> outs;
    for (const Unit& u : v->units) outs.push_back({u.outFirst, u.outCount(rowLength)});
    v->intervals = unionOf(outs);
    uint64_t at = 0;
    for (const Interval& i : v->intervals) {
      v->concatenated.push_back(at);
      at += i.count;
    }
    vertices.push_back(std::move(*v));
  }
}

// Position of output element `out` among a vertex's intervals: its index in their
// concatenation, and its place in the destination variable.
struct OutPosition {
  uint64_t concatenated = 0;
  uint64_t stored = 0;
};

OutPosition positionOf(const FirstStageVertex& v, uint64_t out) {
  auto it = std::upper_bound(v.intervals.begin(), v.intervals.end(), out,
                             [](uint64_t o, const Interval& i) { return o < i.end(); });
  if (it != v.intervals.end() && out >= it->first) {
    const size_t i = static_cast<size_t>(it - v.intervals.begin());
    return {v.concatenated[i] + out - it->first, v.base[i] + out - it->first};
  }
  throw CompileError("internal: reduction output " + std::to_string(out) + " is outside its vertex's intervals");
}

// Partial results between stages: values (and arg positions) of outputs
// [outFirst, outFirst + count), stored at `first` of the stage's variables on `tile`.
struct Partial {
  uint32_t tile = 0;
  uint64_t first = 0;
  uint64_t outFirst = 0, count = 0;
  uint64_t outEnd() const { return outFirst + count; }
};

// The variables a stage writes: values, and for arg reductions int64 positions mapped alike.
struct Store {
  uint32_t values = 0;
  std::optional<uint32_t> indices;
};

// What kind of reduction is being emitted: the codelets and scalars of each stage.
struct Reduction {
  std::string name;
  bool arg = false;
  ReduceOp op = ReduceOp::Add;
  bool isMax = true;
  bool selectLast = false;
  double divisor = 1;
  ReduceFinish finish = ReduceFinish::None;
  DType inType = DType::Float32, partialType = DType::Float32, outType = DType::Float32;

  static std::string typePair(DType in, DType out) {
    std::string pair(1, '<');
    pair += dtypeName(in);
    pair += ',';
    pair += dtypeName(out);
    pair += '>';
    return pair;
  }
  std::string firstStageCodelet(bool rows, DType out) const {
    if (arg) return std::string(rows ? "ArgReduceRows" : "ArgReduce") + (isMax ? "Max" : "Min") + "<" +
                    std::string(dtypeName(inType)) + ">";
    return std::string(rows ? "ReduceRows" : "Reduce") + std::string(codelets::reduceOpInfo(op).name) +
           typePair(inType, out);
  }
  std::string laterStageCodelet(DType out) const {
    if (arg) return std::string("ArgMerge") + (isMax ? "Max" : "Min") + "<" + std::string(dtypeName(inType)) + ">";
    return "Reduce" + std::string(codelets::reduceOpInfo(codelets::reduceOpInfo(op).laterStages).name) +
           typePair(partialType, out);
  }
  // Leading scalars of a vertex; `last`: the stage that writes the output.
  std::vector<int64_t> leadingScalars(bool last) const {
    if (arg) return {selectLast ? 1 : 0};
    return {scalarFromDouble(last ? divisor : 1.0), static_cast<int64_t>(last ? finish : ReduceFinish::None)};
  }
};

Store addStore(GraphBuilder& b, const Reduction& r, const std::string& name, DType valueType, const Shape& shape,
               const std::vector<TileSpan>& mapping) {
  Store store;
  store.values = b.addVariable(name + (r.arg ? "/values" : ""), valueType, shape, mapping);
  if (r.arg) store.indices = b.addVariable(name, DType::Int64, shape, mapping);
  return store;
}

// Spans of a variable laid out tile by tile from per-tile element counts (tile order).
std::vector<TileSpan> spansFromCounts(const std::map<uint32_t, uint64_t>& counts) {
  std::vector<TileSpan> spans;
  uint64_t first = 0;
  for (const auto& [tile, count] : counts) {
    if (count == 0) continue;
    spans.push_back({tile, first, count});
    first += count;
  }
  return spans;
}

// Emits the first stage into `store` (positions set in each vertex's `base`).
void emitFirstStage(GraphBuilder& b, const Reduction& r, uint32_t inVar, const std::vector<FirstStageVertex>& vertices,
                    const Store& store, DType storeType, uint64_t rowLength, bool last, uint32_t computeSet) {
  for (const FirstStageVertex& v : vertices) {
    std::vector<std::vector<Slice>> fields(r.arg ? 3 : 2);
    std::vector<int64_t> scalars = r.leadingScalars(last);
    for (const Unit& u : v.units) fields[0].push_back({inVar, u.inFirst, u.count});
    if (v.rows) {
      for (const Unit& u : v.units) {
        const uint64_t at = positionOf(v, u.outFirst).stored;
        fields[1].push_back({store.values, at, u.count / rowLength});
        if (r.arg) fields[2].push_back({*store.indices, at, u.count / rowLength});
      }
      scalars.push_back(static_cast<int64_t>(rowLength));
    } else {
      for (size_t i = 0; i < v.intervals.size(); ++i) {
        fields[1].push_back({store.values, v.base[i], v.intervals[i].count});
        if (r.arg) fields[2].push_back({*store.indices, v.base[i], v.intervals[i].count});
      }
      for (const Unit& u : v.units) {
        scalars.push_back(static_cast<int64_t>(positionOf(v, u.outFirst).concatenated));
        scalars.push_back(static_cast<int64_t>(u.width));
        if (r.arg) scalars.push_back(static_cast<int64_t>(u.axisFirst));
      }
    }
    b.addVertex(computeSet, r.firstStageCodelet(v.rows, storeType), v.tile, std::move(fields), std::move(scalars));
  }
}

// Where a later stage writes one output range, and the partials that feed it.
struct Destination {
  uint32_t tile = 0;
  uint64_t first = 0;  // position in the stage's store
  uint64_t outFirst = 0, count = 0;
  struct Feed {
    size_t partial;
    uint64_t outFirst, count;  // the overlap with the destination
  };
  std::vector<Feed> feeds;
};

size_t maxDepth(const std::vector<Partial>& partials) {
  std::vector<std::pair<uint64_t, int>> events;
  for (const Partial& p : partials) {
    events.emplace_back(p.outFirst, 1);
    events.emplace_back(p.outEnd(), -1);
  }
  std::sort(events.begin(), events.end());  // ends (-1) sort before starts at the same point
  size_t depth = 0, deepest = 0;
  for (const auto& [at, delta] : events) {
    depth = static_cast<size_t>(static_cast<int64_t>(depth) + delta);
    deepest = std::max(deepest, depth);
  }
  return deepest;
}

// Gives each destination the overlapping parts of `partials` (destinations sorted by
// outFirst and disjoint).
void feedDestinations(std::vector<Destination>& destinations, const std::vector<Partial>& partials,
                      const std::vector<size_t>& which) {
  for (size_t p : which) {
    const Partial& partial = partials[p];
    auto it = std::upper_bound(destinations.begin(), destinations.end(), partial.outFirst,
                               [](uint64_t o, const Destination& d) { return o < d.outFirst + d.count; });
    for (; it != destinations.end() && it->outFirst < partial.outEnd(); ++it) {
      const uint64_t lo = std::max(it->outFirst, partial.outFirst);
      const uint64_t hi = std::min(it->outFirst + it->count, partial.outEnd());
      if (lo < hi) it->feeds.push_back({p, lo, hi - lo});
    }
  }
}

// Emits a later stage: every feed that lives on another tile is exchanged into a receive
// buffer on the destination's tile, then each destination's columns are split among
// workers and reduced into `store`.
void emitLaterStage(GraphBuilder& b, const Reduction& r, const std::string& stageName, const Store& partialStore,
                    const std::vector<Partial>& partials, std::vector<Destination>& destinations, const Store& store,
                    DType storeType, bool last) {
  const Target& target = b.target();
  // Receive buffers, tile by tile.
  std::map<uint32_t, uint64_t> receiveCount;
  for (const Destination& d : destinations)
    for (const auto& f : d.feeds)
      if (partials[f.partial].tile != d.tile) receiveCount[d.tile] += f.count;
  const std::vector<TileSpan> receiveSpans = spansFromCounts(receiveCount);
  std::map<uint32_t, uint64_t> receiveNext;
  for (const TileSpan& s : receiveSpans) receiveNext[s.tile] = s.first;
  uint64_t received = 0;
  for (const TileSpan& s : receiveSpans) received += s.count;
  Store receive;
  if (received > 0) {
    const DType partialValueType = b.variable(partialStore.values).dtype;
    receive.values = b.addVariable(stageName + "/received", partialValueType, {static_cast<int64_t>(received)}, receiveSpans);
    if (r.arg) {
      receive.indices =
          b.addVariable(stageName + "/receivedIndices", DType::Int64, {static_cast<int64_t>(received)}, receiveSpans);
    }
  }
  const uint32_t exchange = b.addExchange(stageName + "/gather");
  const uint32_t computeSet = b.addComputeSet(stageName);

  for (Destination& d : destinations) {
    // Where each feed is read from: in place, or from the receive buffer.
    struct Source {
      uint64_t outFirst, count;
      bool local;
      uint64_t at;  // position in the partial store or the receive buffer
    };
    std::vector<Source> sources;
    uint64_t work = 0;
    for (const auto& f : d.feeds) {
      const Partial& p = partials[f.partial];
      const uint64_t at = p.first + (f.outFirst - p.outFirst);
      work += f.count;
      if (p.tile == d.tile) {
        sources.push_back({f.outFirst, f.count, true, at});
        continue;
      }
      const uint64_t q = receiveNext[d.tile];
      receiveNext[d.tile] += f.count;
      b.addCopy(exchange, {partialStore.values, at, f.count}, receive.values, q);
      if (r.arg) b.addCopy(exchange, {*partialStore.indices, at, f.count}, *receive.indices, q);
      sources.push_back({f.outFirst, f.count, false, q});
    }
    // Columns split among workers when there is enough work.
    const uint64_t chunks = std::clamp<uint64_t>((work + kMinElementsPerVertex - 1) / kMinElementsPerVertex, 1,
                                                 std::min<uint64_t>(target.workerContexts, d.count));
    for (uint64_t c = 0; c < chunks; ++c) {
      const uint64_t lo = d.outFirst + d.count * c / chunks;
      const uint64_t hi = d.outFirst + d.count * (c + 1) / chunks;
      if (lo == hi) continue;
      std::vector<std::vector<Slice>> fields(r.arg ? 4 : 2);
      std::vector<int64_t> scalars = r.leadingScalars(last);
      for (const Source& s : sources) {
        const uint64_t a = std::max(lo, s.outFirst), z = std::min(hi, s.outFirst + s.count);
        if (a >= z) continue;
        const uint64_t at = s.at + (a - s.outFirst);
        fields[0].push_back({s.local ? partialStore.values : receive.values, at, z - a});
        if (r.arg) fields[1].push_back({s.local ? *partialStore.indices : *receive.indices, at, z - a});
        scalars.push_back(static_cast<int64_t>(a - lo));
        scalars.push_back(static_cast<int64_t>(z - a));
      }
      const uint64_t outAt = d.first + (lo - d.outFirst);
      fields[r.arg ? 2 : 1].push_back({store.values, outAt, hi - lo});
      if (r.arg) fields[3].push_back({*store.indices, outAt, hi - lo});
      b.addVertex(computeSet, r.laterStageCodelet(storeType), d.tile, std::move(fields), std::move(scalars));
    }
  }
  b.exchange(exchange);
  b.execute(computeSet);
}

// The whole plan: first stage, then intermediate stages while the fan-in is too wide, then
// the final stage. Returns the store holding the result (values, or arg positions).
Store emitReduction(GraphBuilder& b, const Reduction& r, const TensorValue& in, const Layout& layout,
                    const Shape& outShape, ReducePlanInfo& info) {
  const Target& target = b.target();
  const uint64_t rowLength = layout.rowLength();

  // First-stage vertices, tile by tile.
  std::map<uint32_t, std::vector<TileSpan>> spansByTile;
  if (layout.inElements > 0)
    for (const TileSpan& s : b.variable(in.var).mapping) spansByTile[s.tile].push_back(s);
  info.inputTiles = spansByTile.size();
  std::vector<FirstStageVertex> vertices;
  for (const auto& [tile, spans] : spansByTile) {
    const std::vector<Unit> units = extractUnits(spans, layout);
    for (const auto& group : divideForWorkers(units, rowLength, target.workerContexts)) {
      addFirstStageVertices(tile, group, rowLength, vertices);
    }
  }

  // One stage suffices when no output is written by two vertices.
  std::vector<std::pair<Interval, uint32_t>> written;
  for (const FirstStageVertex& v : vertices)
    for (const Interval& i : v.intervals) written.push_back({i, v.tile});
  std::sort(written.begin(), written.end(), [](const auto& a, const auto& c) { return a.first.first < c.first.first; });
  bool singleStage = layout.inElements > 0;
  uint64_t covered = 0;
  for (size_t i = 0; i < written.size() && singleStage; ++i) {
    if (i > 0 && written[i].first.first < written[i - 1].first.end()) singleStage = false;
    covered += written[i].first.count;
  }
  singleStage = singleStage && covered == layout.outElements;
  info.firstStagePartials = written.size();

  const std::string stageName = r.name + "/reduce";
  if (singleStage) {
    // The output is mapped where its inputs are reduced.
    std::vector<TileSpan> mapping;
    for (const auto& [interval, tile] : written) {
      if (!mapping.empty() && mapping.back().tile == tile && mapping.back().first + mapping.back().count == interval.first) {
        mapping.back().count += interval.count;
      } else {
        mapping.push_back({tile, interval.first, interval.count});
      }
    }
    for (FirstStageVertex& v : vertices) {
      v.base.clear();
      for (const Interval& i : v.intervals) v.base.push_back(i.first);
    }
    const Store store = addStore(b, r, r.name, r.arg ? r.inType : r.outType, outShape, mapping);
    const uint32_t cs = b.addComputeSet(stageName);
    emitFirstStage(b, r, in.var, vertices, store, r.arg ? r.inType : r.outType, rowLength, true, cs);
    b.execute(cs);
    info.stages = 1;
    info.maxPartialsPerOutput = 1;
    return store;
  }

  std::vector<Partial> partials;
  Store partialStore;
  size_t stage = 1;
  if (!vertices.empty()) {
    // Partials laid out tile by tile, in vertex order.
    std::map<uint32_t, uint64_t> counts;
    for (const FirstStageVertex& v : vertices)
      for (const Interval& i : v.intervals) counts[v.tile] += i.count;
    const std::vector<TileSpan> spans = spansFromCounts(counts);
    std::map<uint32_t, uint64_t> next;
    for (const TileSpan& s : spans) next[s.tile] = s.first;
    uint64_t total = 0;
    for (const TileSpan& s : spans) total += s.count;
    for (FirstStageVertex& v : vertices) {
      v.base.clear();
      for (const Interval& i : v.intervals) {
        v.base.push_back(next[v.tile]);
        partials.push_back({v.tile, next[v.tile], i.first, i.count});
        next[v.tile] += i.count;
      }
    }
    partialStore = addStore(b, r, stageName + "1/partials", r.partialType, {static_cast<int64_t>(total)}, spans);
    const uint32_t cs = b.addComputeSet(stageName + "1");
    emitFirstStage(b, r, in.var, vertices, partialStore, r.partialType, rowLength, false, cs);
    b.execute(cs);
  }
  info.maxPartialsPerOutput = maxDepth(partials);

  // Intermediate stages while an output has too many partials for one tile to gather. The
  // output is cut into column chunks; each chunk's partials (in tile order) are reduced in
  // groups of about sqrt(depth), the groups dealt round-robin over all tiles so that about
  // one group lands on each (poplibs spreads intermediate stages over the whole IPU).
  const size_t maxFanIn = static_cast<size_t>(2 * std::sqrt(static_cast<double>(target.tiles)));
  uint32_t nextTile = 0;
  for (size_t depth = info.maxPartialsPerOutput; depth > maxFanIn;) {
    const uint64_t groupSize = static_cast<uint64_t>(std::ceil(std::sqrt(static_cast<double>(depth))));
    const uint64_t groupsPerChunk = (depth + groupSize - 1) / groupSize;
    const uint64_t width = std::clamp<uint64_t>(
        (layout.outElements * groupsPerChunk + target.tiles - 1) / target.tiles, 1, layout.outElements);
    std::vector<std::vector<size_t>> chunkPartials((layout.outElements + width - 1) / width);
    std::vector<size_t> order(partials.size());
    std::iota(order.begin(), order.end(), size_t{0});
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t c) { return partials[a].tile < partials[c].tile; });
    for (size_t p : order)
      for (uint64_t c = partials[p].outFirst / width; c * width < partials[p].outEnd(); ++c) chunkPartials[c].push_back(p);
    std::vector<Destination> destinations;
    for (uint64_t c = 0; c < chunkPartials.size(); ++c) {
      const auto& members = chunkPartials[c];
      const uint64_t chunkFirst = c * width, chunkEnd = std::min(layout.outElements, chunkFirst + width);
      const size_t groups = (members.size() + groupSize - 1) / groupSize;
      for (size_t g = 0; g < groups; ++g) {
        // Groups of near-equal size: members [g * n / groups, (g + 1) * n / groups).
        const std::vector<size_t> group(members.begin() + static_cast<std::ptrdiff_t>(g * members.size() / groups),
                                        members.begin() + static_cast<std::ptrdiff_t>((g + 1) * members.size() / groups));
        std::vector<Interval> outs;
        for (size_t p : group) {
          const uint64_t lo = std::max(chunkFirst, partials[p].outFirst), hi = std::min(chunkEnd, partials[p].outEnd());
          outs.push_back({lo, hi - lo});
        }
        const uint32_t tile = nextTile;
        nextTile = (nextTile + 1) % target.tiles;
        std::vector<Destination> pieces;
        for (const Interval& i : unionOf(outs)) pieces.push_back({tile, 0, i.first, i.count, {}});
        feedDestinations(pieces, partials, group);
        destinations.insert(destinations.end(), pieces.begin(), pieces.end());
      }
    }
    std::map<uint32_t, uint64_t> counts;
    for (const Destination& d : destinations) counts[d.tile] += d.count;
    const std::vector<TileSpan> spans = spansFromCounts(counts);
    std::map<uint32_t, uint64_t> next;
    for (const TileSpan& s : spans) next[s.tile] = s.first;
    uint64_t total = 0;
    for (const TileSpan& s : spans) total += s.count;
    std::vector<Partial> reduced;
    for (Destination& d : destinations) {
      d.first = next[d.tile];
      next[d.tile] += d.count;
      reduced.push_back({d.tile, d.first, d.outFirst, d.count});
    }
    ++stage;
    const std::string name = stageName + std::to_string(stage);
    const Store store = addStore(b, r, name + "/partials", r.partialType, {static_cast<int64_t>(total)}, spans);
    emitLaterStage(b, r, name, partialStore, partials, destinations, store, r.partialType, false);
    const size_t newDepth = maxDepth(reduced);
    partials = std::move(reduced);
    partialStore = store;
    if (newDepth >= depth) break;  // grouping no longer narrows the fan-in
    depth = newDepth;
  }

  // The final stage: partials to the output's (linear) tiles.
  const std::vector<TileSpan> mapping = linearMapping(layout.outElements, r.arg ? DType::Int64 : r.outType, target);
  const Store store = addStore(b, r, r.name, r.arg ? r.inType : r.outType, outShape, mapping);
  std::vector<Destination> destinations;
  for (const TileSpan& s : mapping) destinations.push_back({s.tile, s.first, s.first, s.count, {}});
  std::vector<size_t> all(partials.size());
  std::iota(all.begin(), all.end(), size_t{0});
  feedDestinations(destinations, partials, all);
  ++stage;
  emitLaterStage(b, r, stageName + std::to_string(stage), partialStore, partials, destinations, store,
                 r.arg ? r.inType : r.outType, true);
  info.stages = vertices.empty() ? stage - 1 : stage;
  return store;
}

void checkAxes(const std::vector<int64_t>& axes, size_t rank) {
  for (int64_t a : axes)
    if (a < 0 || static_cast<size_t>(a) >= rank) throw CompileError("internal: reduction axis out of range");
}

}  // namespace

std::vector<int64_t> normaliseAxes(const std::vector<int64_t>& axes, int64_t rank, const std::string& where) {
  std::vector<int64_t> out;
  for (int64_t a : axes) {
    if (a < -rank || a >= rank) {
      throw CompileError(where + ": axis " + std::to_string(a) + " is out of range for rank " + std::to_string(rank));
    }
    const int64_t n = a < 0 ? a + rank : a;
    if (std::find(out.begin(), out.end(), n) != out.end()) {
      throw CompileError(where + ": axis " + std::to_string(a) + " is repeated");
    }
    out.push_back(n);
  }
  return out;
}

Shape reducedShape(const Shape& shape, const std::vector<int64_t>& axes, bool keepDims) {
  Shape out;
  for (size_t d = 0; d < shape.size(); ++d) {
    const bool reduced = std::find(axes.begin(), axes.end(), static_cast<int64_t>(d)) != axes.end();
    if (!reduced) out.push_back(shape[d]);
    else if (keepDims) out.push_back(1);
  }
  return out;
}

std::vector<int64_t> intsAttribute(const LoweringContext& ctx, const std::string& name) {
  const auto* attr = ctx.attribute(name);
  if (!attr) return {};
  return {attr->ints().begin(), attr->ints().end()};
}

double realAttribute(const LoweringContext& ctx, const std::string& name, double fallback) {
  const auto* attr = ctx.attribute(name);
  return attr ? static_cast<double>(attr->f()) : fallback;
}

std::vector<int64_t> constantInts(const LoweringContext& ctx, size_t input, const std::string& what) {
  const ConstTensor* value = ctx.constantInput(input);
  if (!value) {
    throw CompileError(ctx.where() + ": " + ctx.node().op_type() + "'s " + what +
                       " must be known at compile time (a constant or initializer)");
  }
  return value->toInts();
}

TensorValue reduceTensor(GraphBuilder& builder, const std::string& name, const TensorValue& in,
                         const ReduceSpec& spec, const Shape& outShape, ReducePlanInfo* info) {
  checkAxes(spec.axes, in.shape.size());
  Reduction r;
  r.name = name;
  r.op = spec.op;
  r.divisor = spec.divisor;
  r.finish = spec.finish;
  r.inType = in.dtype;
  r.partialType = in.dtype == DType::Float16 ? DType::Float32 : in.dtype;
  r.outType = spec.outDtype;
  const Layout layout = canonicalLayout(in.shape, spec.axes);
  if (static_cast<uint64_t>(elementCount(outShape)) != layout.outElements) {
    throw CompileError("internal: " + name + ": reduction output shape " + shapeString(outShape) + " does not match");
  }
  ReducePlanInfo local;
  const Store store = emitReduction(builder, r, in, layout, outShape, info ? *info : local);
  return {store.values, spec.outDtype, outShape};
}

TensorValue argReduceTensor(GraphBuilder& builder, const std::string& name, const TensorValue& in,
                            const ArgReduceSpec& spec, const Shape& outShape, ReducePlanInfo* info) {
  checkAxes(spec.axes, in.shape.size());
  Reduction r;
  r.name = name;
  r.arg = true;
  r.isMax = spec.isMax;
  r.selectLast = spec.selectLast;
  r.inType = r.partialType = r.outType = in.dtype;
  Layout layout = canonicalLayout(in.shape, spec.axes);
  if (layout.reducedGroups() > 1) {
    throw CompileError("internal: " + name + ": arg reduction axes must be adjacent");
  }
  if (static_cast<uint64_t>(elementCount(outShape)) != layout.outElements) {
    throw CompileError("internal: " + name + ": arg reduction output shape " + shapeString(outShape) + " does not match");
  }
  ReducePlanInfo local;
  const Store store = emitReduction(builder, r, in, layout, outShape, info ? *info : local);
  return {*store.indices, DType::Int64, outShape};
}

}  // namespace ipusim
