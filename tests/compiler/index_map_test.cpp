// The index-map machinery of layout ops (compiler/lowering/index_map.h): maximal runs of a
// separable map, gaps, identity detection, copies split at both variables' tile boundaries,
// and gap filling on the tiles that hold the gaps.
#include <doctest/doctest.h>

#include <set>

#include "compiler/compiler.h"
#include "compiler/lowering/index_map.h"
#include "sim/target.h"

using namespace ipusim;

namespace {

std::vector<IndexRun> runsOf(const SeparableIndexMap& map, uint64_t first, uint64_t count) {
  std::vector<IndexRun> runs;
  forEachIndexRun(map, first, count, [&](const IndexRun& r) { runs.push_back(r); });
  return runs;
}

bool operator==(const IndexRun& a, const IndexRun& b) {
  return a.outFirst == b.outFirst && a.srcFirst == b.srcFirst && a.count == b.count;
}

}  // namespace

TEST_CASE("a strided map's runs follow contiguous sources across rows") {
  // Rows 1..3 of a 4x5 matrix: one run, since row ends meet the next row's start.
  const auto rows = runsOf(stridedIndexMap({3, 5}, {5, 1}, 5), 0, 15);
  REQUIRE(rows.size() == 1);
  CHECK(rows[0] == IndexRun{0, 5, 15});
  // Columns 1..3 of each row: a run per row.
  const auto cols = runsOf(stridedIndexMap({4, 3}, {5, 1}, 1), 0, 12);
  REQUIRE(cols.size() == 4);
  CHECK(cols[2] == IndexRun{6, 11, 3});
  // A transpose reads single elements; a sub-range starts mid-row.
  const auto transposed = runsOf(stridedIndexMap({3, 2}, {1, 3}), 1, 4);
  REQUIRE(transposed.size() == 4);
  CHECK(transposed[0] == IndexRun{1, 3, 1});
  CHECK(transposed[1] == IndexRun{2, 1, 1});
}

TEST_CASE("gaps merge into one run and split source runs") {
  // A 1-d pad: [-1, -1, 0, 1, 2, -1]
  SeparableIndexMap pad{{6}, {{kNoSource, kNoSource, 0, 1, 2, kNoSource}}, 0};
  const auto runs = runsOf(pad, 0, 6);
  REQUIRE(runs.size() == 3);
  CHECK(runs[0] == IndexRun{0, kNoSource, 2});
  CHECK(runs[1] == IndexRun{2, 0, 3});
  CHECK(runs[2] == IndexRun{5, kNoSource, 1});
  // A gap on an outer axis makes whole rows gaps, merged with the gaps around them.
  SeparableIndexMap rows{{3, 2}, {{kNoSource, 0, kNoSource}, {kNoSource, 1}}, 0};
  const auto r = runsOf(rows, 0, 6);
  REQUIRE(r.size() == 3);
  CHECK(r[0] == IndexRun{0, kNoSource, 3});
  CHECK(r[1] == IndexRun{3, 1, 1});
  CHECK(r[2] == IndexRun{4, kNoSource, 2});
}

TEST_CASE("identity maps are recognised, views and offsets included") {
  CHECK(isIdentityMap(stridedIndexMap({4, 5}, {5, 1})));
  CHECK(isIdentityMap(stridedIndexMap({2, 2, 5}, {10, 5, 1})));
  CHECK_FALSE(isIdentityMap(stridedIndexMap({4, 5}, {5, 1}, 1)));
  CHECK_FALSE(isIdentityMap(stridedIndexMap({5, 4}, {1, 5})));
  SeparableIndexMap shifted{{2, 3}, {{-3, 0}, {3, 4, 5}}, 0};  // offsets that cancel out
  CHECK(isIdentityMap(shifted));
}

TEST_CASE("copies split where either variable changes tile and merge otherwise") {
  GraphBuilder b(targetPreset("ipu21"));
  b.beginScope();
  const uint32_t src = b.addVariable("src", DType::Float32, {10}, {{0, 0, 4}, {1, 4, 4}, {2, 8, 2}});
  const uint32_t dst = b.addVariable("dst", DType::Float32, {10}, {{5, 0, 3}, {6, 3, 3}, {7, 6, 3}, {8, 9, 1}});
  const uint32_t exchange = b.addExchange("copy");
  const auto gaps = copyByIndexMap(b, exchange, src, dst, stridedIndexMap({10}, {1}));
  CHECK(gaps.empty());
  const auto& copies = b.graph().exchanges[exchange].copies;
  // Boundaries at 3, 4, 6, 8, 9: six copies.
  REQUIRE(copies.size() == 6);
  const std::vector<std::pair<uint64_t, uint64_t>> expected{{0, 3}, {3, 1}, {4, 2}, {6, 2}, {8, 1}, {9, 1}};
  for (size_t k = 0; k < copies.size(); ++k) {
    CHECK(copies[k].src.first == expected[k].first);
    CHECK(copies[k].src.count == expected[k].second);
    CHECK(copies[k].dstFirst == expected[k].first);
  }
  // Reversed: every element its own copy.
  const uint32_t reversed = b.addExchange("reverse");
  copyByIndexMap(b, reversed, src, dst, 10, [](uint64_t e) { return static_cast<int64_t>(9 - e); });
  CHECK(b.graph().exchanges[reversed].copies.size() == 10);
}

TEST_CASE("gaps are filled on their own tiles, split over the workers") {
  GraphBuilder b(targetPreset("ipu21"));
  b.beginScope();
  const uint32_t dst = b.addVariable("dst", DType::Float32, {100}, {{0, 0, 40}, {1, 40, 40}, {2, 80, 20}});
  const uint32_t exchange = b.addExchange("x");
  const uint32_t computeSet = b.addComputeSet("fill");
  // A gap across tiles 0 and 1, and one inside tile 2; tile 1 has 22 gap elements.
  fillGaps(b, "pad", dst, {{30, kNoSource, 32}, {90, kNoSource, 3}}, FillValue{scalarConstant(DType::Float32, 2.5), {}},
           exchange, computeSet);
  CHECK(b.graph().exchanges[exchange].copies.empty());  // a constant value needs no exchange
  std::set<uint32_t> tiles;
  uint64_t filled = 0;
  size_t onTile1 = 0;
  for (const auto& v : b.graph().computeSets[computeSet].vertices) {
    tiles.insert(v.tile);
    REQUIRE(v.fields.size() == 2);
    CHECK(v.fields[0].size() == 1);  // the value, on the vertex's tile
    CHECK(spanContaining(b.variable(v.fields[0][0].var), v.fields[0][0].first).tile == v.tile);
    for (const Slice& s : v.fields[1]) {
      CHECK(spanContaining(b.variable(dst), s.first).tile == v.tile);
      filled += s.count;
    }
    onTile1 += v.tile == 1;
  }
  CHECK(tiles == std::set<uint32_t>{0, 1, 2});
  CHECK(filled == 35);
  CHECK(onTile1 == 6);  // 22 elements over six workers
}

TEST_CASE("a run-time fill value is copied to each filling tile") {
  GraphBuilder b(targetPreset("ipu21"));
  b.beginScope();
  const uint32_t value = b.addVariable("value", DType::Float16, {}, {{7, 0, 1}});
  const uint32_t dst = b.addVariable("dst", DType::Float16, {8}, {{0, 0, 4}, {1, 4, 4}});
  const uint32_t exchange = b.addExchange("x");
  const uint32_t computeSet = b.addComputeSet("fill");
  FillValue fill;
  fill.element = {value, 0, 1};
  fillGaps(b, "pad", dst, {{2, kNoSource, 4}}, fill, exchange, computeSet);
  CHECK(b.graph().exchanges[exchange].copies.size() == 2);
  CHECK(b.graph().computeSets[computeSet].vertices.size() == 2);
}
