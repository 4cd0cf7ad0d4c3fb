#include <doctest/doctest.h>

#include "compiler/lowering/tile_mapping.h"

using namespace ipusim;

TEST_CASE("linear mapping covers every element once, in grains, from tile 0") {
  const Target target = targetPreset("ipu2");
  for (uint64_t n : {1ull, 2ull, 31ull, 4096ull, 1000003ull}) {
    auto spans = linearMapping(n, DType::Float32, target);
    uint64_t next = 0;
    for (size_t i = 0; i < spans.size(); ++i) {
      CHECK(spans[i].tile == i);
      CHECK(spans[i].first == next);
      if (i + 1 < spans.size()) CHECK(spans[i].count % 2 == 0);  // fp32 grain: 2 lanes
      next += spans[i].count;
    }
    CHECK(next == n);
  }
}

TEST_CASE("small tensors stay on one tile; big ones use every tile") {
  const Target target = targetPreset("ipu2");
  CHECK(linearMapping(2, DType::Float32, target).size() == 1);
  // 128 bytes per tile minimum: 4096 fp32 elements -> 128 tiles of 32.
  auto spans = linearMapping(4096, DType::Float32, target);
  CHECK(spans.size() == 128);
  CHECK(spans[0].count == 32);
  CHECK(linearMapping(10'000'000, DType::Float16, target).size() == 1472);
  CHECK(linearMapping(0, DType::Int8, target).empty());
}

TEST_CASE("a tile's span splits over at most six workers in whole grains") {
  const Target target = targetPreset("ipu21");
  auto chunks = splitForWorkers({7, 100, 26}, DType::Float16, target);  // 7 grains of 4
  REQUIRE(chunks.size() == 4);  // ceil(7/6) = 2 grains each -> 8, 8, 8, 2
  CHECK(chunks[0].first == 100);
  CHECK(chunks[0].count == 8);
  CHECK(chunks[3].count == 2);
  for (const auto& c : chunks) CHECK(c.tile == 7);
  CHECK(splitForWorkers({0, 0, 1}, DType::Float32, target).size() == 1);
}
