// The index rules shared by the compiler's exchange plans and the run-time layout codelets
// (sim/codelets/layout_rules.h), against the ONNX reference implementations' numbers.
#include <doctest/doctest.h>

#include "sim/codelets/layout_rules.h"

using namespace ipusim::layout;

TEST_CASE("Slice clamps starts and ends by the step's sign") {
  CHECK(sliceStart(-2, 1, 10) == 8);
  CHECK(sliceStart(-100, 1, 10) == 0);
  CHECK(sliceStart(1000, 1, 10) == 10);
  CHECK(sliceStart(1000, -1, 10) == 9);  // a negative step starts at the last element
  CHECK(sliceCount(0, 3, 1, 10) == 3);
  CHECK(sliceCount(1000, 1000, 1, 10) == 0);
  CHECK(sliceCount(-1, -1000, -1, 10) == 10);  // all of it, reversed
  CHECK(sliceCount(20, 0, -3, 10) == 3);       // 9, 6, 3
  CHECK(sliceCount(0, INT64_MAX, 2, 7) == 4);
  CHECK(sliceCount(5, 2, 1, 10) == 0);
}

TEST_CASE("Pad source indices: reflect repeats, edge clamps, constant has none") {
  // numpy.pad([0, 1, 2, 3], 5, 'reflect') = [1 2 3 2 1 | 0 1 2 3 | 2 1 0 1 2]
  const int64_t reflect[] = {1, 2, 3, 2, 1, 0, 1, 2, 3, 2, 1, 0, 1, 2};
  for (int64_t i = 0; i < 14; ++i) CHECK(padSourceIndex(PadMode::Reflect, i, 5, 4) == reflect[i]);
  CHECK(padSourceIndex(PadMode::Edge, 0, 3, 4) == 0);
  CHECK(padSourceIndex(PadMode::Edge, 9, 3, 4) == 3);
  CHECK(padSourceIndex(PadMode::Constant, 2, 3, 4) == -1);
  CHECK(padSourceIndex(PadMode::Constant, 3, 3, 4) == 0);
  CHECK(padSourceIndex(PadMode::Constant, 0, -2, 4) == 2);  // a negative pad crops
}

TEST_CASE("Resize coordinates and taps follow the reference") {
  ResizeOptions nearest;
  const ResizeAxis up{2, 2.0};
  // half_pixel, round_prefer_floor: 0 0 1 1 for a doubling.
  const int64_t expected[] = {0, 0, 1, 1};
  for (int64_t x = 0; x < 4; ++x) {
    const auto taps = resizeTaps(nearest, up, *resizeCoordinate(nearest, up, x));
    REQUIRE(taps.count == 1);
    CHECK(taps.index[0] == expected[x]);
  }
  // Downsampling 4 -> 2 by 0.6 with asymmetric coordinates reads 0 and 2 (x / 0.6 rounded).
  ResizeOptions asymmetric;
  asymmetric.coordinates = CoordinateMode::Asymmetric;
  const ResizeAxis down{4, static_cast<double>(0.6f)};
  CHECK(resizeTaps(asymmetric, down, *resizeCoordinate(asymmetric, down, 1)).index[0] == 2);

  ResizeOptions linear;
  linear.mode = ResizeMode::Linear;
  const auto mid = resizeTaps(linear, up, 0.25);
  REQUIRE(mid.count == 2);
  CHECK(mid.index[0] == 0);
  CHECK(mid.index[1] == 1);
  CHECK(mid.weight[0] == doctest::Approx(0.75));
  const auto edge = resizeTaps(linear, up, -0.25);  // left of the first element: clamped
  double sum = 0;
  for (int k = 0; k < edge.count; ++k) {
    CHECK(edge.index[k] == 0);
    sum += edge.weight[k];
  }
  CHECK(sum == doctest::Approx(1.0));

  ResizeOptions cubic;
  cubic.mode = ResizeMode::Cubic;
  const auto c = resizeTaps(cubic, ResizeAxis{8, 2.0}, 2.5);
  REQUIRE(c.count == 4);
  CHECK(c.index[0] == 1);
  CHECK(c.index[3] == 4);
  CHECK(c.weight[1] == doctest::Approx(c.weight[2]));  // symmetric at the midpoint

  ResizeOptions crop;
  crop.coordinates = CoordinateMode::TfCropAndResize;
  ResizeAxis roi{4, 0.75, 0.4, 1.2};
  CHECK_FALSE(resizeCoordinate(crop, roi, 2).has_value());  // beyond the input: extrapolated
  CHECK(resizeCoordinate(crop, roi, 0).has_value());
}

TEST_CASE("mode names parse and unknown ones do not") {
  CHECK(padModeFromName("reflect") == PadMode::Reflect);
  CHECK_FALSE(padModeFromName("wrap").has_value());
  CHECK(coordinateModeFromName("tf_half_pixel_for_nn") == CoordinateMode::TfHalfPixelForNn);
  CHECK(nearestModeFromName("ceil") == NearestMode::Ceil);
  CHECK(scatterReductionFromName("mul") == ScatterReduction::Mul);
  CHECK_FALSE(scatterReductionFromName("max").has_value());
}
