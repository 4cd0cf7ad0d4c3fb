#include "sim/codelets/layout_rules.h"

#include <algorithm>
#include <cmath>
#include <utility>

namespace ipusim::layout {

namespace {

template <typename Enum, size_t N>
std::optional<Enum> lookup(const std::pair<std::string_view, Enum> (&table)[N], std::string_view name) {
  for (const auto& [key, value] : table)
    if (key == name) return value;
  return std::nullopt;
}

constexpr std::pair<std::string_view, PadMode> kPadModes[] = {
    {"constant", PadMode::Constant}, {"reflect", PadMode::Reflect}, {"edge", PadMode::Edge}};
constexpr std::pair<std::string_view, ResizeMode> kResizeModes[] = {
    {"nearest", ResizeMode::Nearest}, {"linear", ResizeMode::Linear}, {"cubic", ResizeMode::Cubic}};
constexpr std::pair<std::string_view, CoordinateMode> kCoordinateModes[] = {
    {"half_pixel", CoordinateMode::HalfPixel},
    {"asymmetric", CoordinateMode::Asymmetric},
    {"pytorch_half_pixel", CoordinateMode::PytorchHalfPixel},
    {"align_corners", CoordinateMode::AlignCorners},
    {"tf_half_pixel_for_nn", CoordinateMode::TfHalfPixelForNn},
    {"tf_crop_and_resize", CoordinateMode::TfCropAndResize}};
constexpr std::pair<std::string_view, NearestMode> kNearestModes[] = {
    {"round_prefer_floor", NearestMode::RoundPreferFloor},
    {"round_prefer_ceil", NearestMode::RoundPreferCeil},
    {"floor", NearestMode::Floor},
    {"ceil", NearestMode::Ceil}};
constexpr std::pair<std::string_view, ScatterReduction> kScatterReductions[] = {
    {"none", ScatterReduction::None}, {"add", ScatterReduction::Add}, {"mul", ScatterReduction::Mul}};

// Weights of the taps for a coordinate `ratio` past the left neighbour, in (0, 1].
int coefficients(const ResizeOptions& options, const ResizeAxis& axis, double ratio, double* out) {
  if (options.mode == ResizeMode::Cubic) {
    const double a = options.cubicA, r = ratio, s = 1 - ratio;
    out[0] = ((a * (r + 1) - 5 * a) * (r + 1) + 8 * a) * (r + 1) - 4 * a;
    out[1] = ((a + 2) * r - (a + 3)) * r * r + 1;
    out[2] = ((a + 2) * s - (a + 3)) * s * s + 1;
    out[3] = ((a * (s + 1) - 5 * a) * (s + 1) + 8 * a) * (s + 1) - 4 * a;
    return 4;
  }
  if (options.mode == ResizeMode::Linear) {
    out[0] = 1 - ratio;
    out[1] = ratio;
    return 2;
  }
  bool right = true;  // a whole coordinate (ratio 1) is its own right neighbour
  if (ratio != 1) {
    switch (options.nearest) {
      case NearestMode::RoundPreferFloor: right = ratio > 0.5; break;
      case NearestMode::RoundPreferCeil: right = ratio >= 0.5; break;
      case NearestMode::Floor: right = false; break;
      case NearestMode::Ceil: right = true; break;
      case NearestMode::Simple: right = axis.scale < 1; break;
    }
  }
  out[0] = right ? 0 : 1;
  out[1] = right ? 1 : 0;
  return 2;
}

}  // namespace

int64_t sliceStart(int64_t start, int64_t step, int64_t dim) {
  if (start < 0) start += dim;
  return step > 0 ? std::clamp<int64_t>(start, 0, dim) : std::clamp<int64_t>(start, 0, std::max<int64_t>(dim - 1, 0));
}

int64_t sliceCount(int64_t start, int64_t end, int64_t step, int64_t dim) {
  if (step == 0 || dim == 0) return 0;
  const int64_t first = sliceStart(start, step, dim);
  if (end < 0) end += dim;
  if (step > 0) {
    end = std::clamp<int64_t>(end, 0, dim);
    return end > first ? (end - first + step - 1) / step : 0;
  }
  end = std::clamp<int64_t>(end, -1, dim - 1);
  return first > end ? (first - end + (-step) - 1) / (-step) : 0;
}

std::optional<PadMode> padModeFromName(std::string_view name) { return lookup(kPadModes, name); }

int64_t padSourceIndex(PadMode mode, int64_t i, int64_t before, int64_t dim) {
  const int64_t j = i - before;
  if (j >= 0 && j < dim) return j;
  if (mode == PadMode::Constant || dim == 0) return -1;
  if (mode == PadMode::Edge || dim == 1) return j < 0 ? 0 : dim - 1;
  // Reflect about the first and last elements (numpy's 'reflect'), repeating as needed.
  const int64_t period = 2 * (dim - 1);
  int64_t k = j % period;
  if (k < 0) k += period;
  return k < dim ? k : period - k;
}

std::optional<ResizeMode> resizeModeFromName(std::string_view name) { return lookup(kResizeModes, name); }
std::optional<CoordinateMode> coordinateModeFromName(std::string_view name) {
  return lookup(kCoordinateModes, name);
}
std::optional<NearestMode> nearestModeFromName(std::string_view name) { return lookup(kNearestModes, name); }

std::optional<double> resizeCoordinate(const ResizeOptions& options, const ResizeAxis& axis, int64_t x) {
  const double in = static_cast<double>(axis.inLength);
  const double outWidth = axis.scale * in;  // as the reference computes it, not rounded
  const double xd = static_cast<double>(x);
  switch (options.coordinates) {
    case CoordinateMode::HalfPixel: return (xd + 0.5) / axis.scale - 0.5;
    case CoordinateMode::Asymmetric: return xd / axis.scale;
    case CoordinateMode::PytorchHalfPixel: return outWidth == 1 ? -0.5 : (xd + 0.5) / axis.scale - 0.5;
    case CoordinateMode::AlignCorners: return outWidth == 1 ? 0.0 : xd * (in - 1) / (outWidth - 1);
    case CoordinateMode::TfHalfPixelForNn: return (xd + 0.5) / axis.scale;
    case CoordinateMode::TfCropAndResize: {
      const double span = axis.roiEnd - axis.roiStart;
      double c = outWidth == 1 ? span * (in - 1) / 2 : xd * span * (in - 1) / (outWidth - 1);
      c += axis.roiStart * (in - 1);
      if (c < 0 || c > in - 1) return std::nullopt;
      return c;
    }
  }
  return std::nullopt;
}

std::optional<ScatterReduction> scatterReductionFromName(std::string_view name) {
  return lookup(kScatterReductions, name);
}

ResizeTaps resizeTaps(const ResizeOptions& options, const ResizeAxis& axis, double coordinate) {
  double weights[4];
  const double whole = std::floor(coordinate);
  const bool integral = whole == coordinate;
  const double ratio = integral ? 1.0 : coordinate - whole;
  const int n = coefficients(options, axis, ratio, weights);

  // The n nearest indices of the edge-padded input, preferring smaller ones: with the
  // coordinate `ratio` past its left neighbour, that is left - n/2 + 1 .. left + n/2,
  // kept inside the padding of n/2 on either side.
  const int64_t left = static_cast<int64_t>(whole) - (integral ? 1 : 0);
  const int64_t pad = n / 2;
  const int64_t first = std::clamp<int64_t>(left - n / 2 + 1, -pad, axis.inLength + pad - n);

  if (options.excludeOutside) {
    double sum = 0;
    for (int k = 0; k < n; ++k) {
      const int64_t index = first + k;
      if (index < 0 || index >= axis.inLength) weights[k] = 0;
      sum += weights[k];
    }
    if (sum != 0)
      for (int k = 0; k < n; ++k) weights[k] /= sum;
  }

  ResizeTaps taps;
  for (int k = 0; k < n; ++k) {
    if (weights[k] == 0) continue;
    taps.index[taps.count] = std::clamp<int64_t>(first + k, 0, axis.inLength - 1);
    taps.weight[taps.count] = weights[k];
    ++taps.count;
  }
  return taps;
}

}  // namespace ipusim::layout
