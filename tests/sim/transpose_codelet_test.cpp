// Transpose2d on known values (float16 and float32, one matrix and several, destination in
// several regions) and its cycle model against poplibs' Transpose2d estimator worked by hand.
#include <doctest/doctest.h>

#include <memory>
#include <string>

#include "sim/codelet.h"
#include "sim/codelets/transpose_cost.h"
#include "sim/engine.h"
#include "sim/error.h"
#include "sim_test_support.h"

using namespace ipusim;
using namespace ipusim::test;

namespace {

// One Transpose2d vertex on tile 0: src one region, dst cut into `dstRegions` equal regions.
OneVertexRun runTranspose(const std::string& codelet, const std::vector<uint8_t>& src, int64_t rows, int64_t cols,
                          uint32_t dstRegions = 1) {
  ExecutableBuilder b(targetPreset("ipu2"));
  const auto bytes = static_cast<uint32_t>(src.size());
  b.constant("src", DType::UInt8, {bytes}, 0, 0, src);
  const uint32_t outOffset = (bytes + 7) / 8 * 8;
  b.variable("out", DType::UInt8, {bytes}, 0, outOffset);
  Vertex vertex;
  vertex.codelet = b.codelet(codelet);
  vertex.fields.push_back({{0, bytes}});
  std::vector<Region> dst;
  for (uint32_t r = 0; r < dstRegions; ++r) dst.push_back({outOffset + r * bytes / dstRegions, bytes / dstRegions});
  vertex.fields.push_back(dst);
  vertex.scalars = {rows, cols};
  return runVertexOnTile0(b, vertex, outOffset, bytes);
}

}  // namespace

TEST_CASE("Transpose2d<float16>: a 4 x 8 matrix on the fast path") {
  std::vector<float> src;
  for (int i = 0; i < 32; ++i) src.push_back(static_cast<float>(i));
  const OneVertexRun run = runTranspose("Transpose2d<float16>", halfBytes(src), 4, 8);
  std::vector<float> expected;
  for (int c = 0; c < 8; ++c)
    for (int r = 0; r < 4; ++r) expected.push_back(static_cast<float>(r * 8 + c));
  CHECK(halfValues(run.out) == expected);
  // poplibs, half fast path: 37 + matrices x (12 + rows / 4 x (15 + 4 x (cols / 4 - 2)))
  // = 37 + 12 + 15 = 64 worker cycles; one launch and six worker slots: 11 + 6 x 64.
  CHECK(transpose2dWorkerCycles(DType::Float16, 4, 8, 1) == 64);
  CHECK(run.cycles == 11 + 6 * 64);
}

TEST_CASE("Transpose2d<float32>: two 2 x 4 matrices, the destination in two regions") {
  const std::vector<float> src{1, 2, 3, 4, 5, 6, 7, 8, 10, 20, 30, 40, 50, 60, 70, 80};
  const OneVertexRun run = runTranspose("Transpose2d<float32>", toBytes(src), 2, 4, 2);
  CHECK(fromBytes<float>(run.out) == std::vector<float>{1, 5, 2, 6, 3, 7, 4, 8, 10, 50, 20, 60, 30, 70, 40, 80});
  // Float fast path (even sizes, 2 x (4 - 2) / 2 < 512): 25 + 2 x (11 + 1 x (6 + 3 x 1)) = 65.
  CHECK(transpose2dWorkerCycles(DType::Float32, 2, 4, 2) == 65);
  CHECK(run.cycles == 11 + 6 * 65);
}

TEST_CASE("Transpose2d: the slow paths and the float fast path's row limit") {
  const std::vector<float> src{1, 2, 3, 4, 5, 6};
  const OneVertexRun run = runTranspose("Transpose2d<float32>", toBytes(src), 2, 3);
  CHECK(fromBytes<float>(run.out) == std::vector<float>{1, 4, 2, 5, 3, 6});
  // Odd columns: 13 + (8 + 3 x (5 + 2 x 4 / 2)) = 48.
  CHECK(run.cycles == 11 + 6 * 48);
  // Half rows not a multiple of 4: 15 + (8 + 8 x (5 + 6 x 5 / 2)) = 183.
  CHECK(transpose2dWorkerCycles(DType::Float16, 6, 8, 1) == 183);
  // Float: rows x (cols - 2) / 2 must stay under 512: 64 columns allow 16 rows, not 18.
  CHECK(transpose2dFastRowLimit(DType::Float32, 64) == 16);
  CHECK(transpose2dWorkerCycles(DType::Float32, 16, 64, 1) == 25 + 11 + 8 * (6 + 3 * 31));
  CHECK(transpose2dWorkerCycles(DType::Float32, 18, 64, 1) == 13 + 8 + 64 * (5 + 36));
  CHECK(transpose2dFastRowLimit(DType::Float16, 64) == 0);
}

TEST_CASE("Transpose2d: fields that do not hold whole matrices are an error") {
  CHECK_THROWS_AS(runTranspose("Transpose2d<float32>", toBytes(std::vector<float>{1, 2, 3, 4, 5}), 2, 2), SimError);
}
