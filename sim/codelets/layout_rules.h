// The index rules of ONNX layout ops, shared by the compiler and the codelets: when an op's
// parameters (Slice starts, Pad pads, Resize scales, ...) are known at compile time the
// compiler turns these rules into an exchange plan; when they arrive at run time a codelet
// applies the very same rules on the device. One definition, so both paths agree.
#pragma once
#include <cstdint>
#include <optional>
#include <string_view>

namespace ipusim::layout {

// Slice (opset 10+): the first index taken along an axis of length `dim`, after making a
// negative start relative to the end and clamping it as ONNX does for the step's sign.
int64_t sliceStart(int64_t start, int64_t step, int64_t dim);
// The number of elements Slice takes along that axis (0 when the range is empty).
int64_t sliceCount(int64_t start, int64_t end, int64_t step, int64_t dim);

enum class PadMode : int64_t { Constant, Reflect, Edge };
std::optional<PadMode> padModeFromName(std::string_view name);

// Pad: the source index along an axis of length `dim` of output index `i` when `before`
// elements are added in front (negative `before` crops); -1 when the output element is
// padding (constant mode only).
int64_t padSourceIndex(PadMode mode, int64_t i, int64_t before, int64_t dim);

// Resize (opset 11+), after onnx/backend/test/case/node/resize.py, computed in double.
enum class ResizeMode : int64_t { Nearest, Linear, Cubic };
enum class CoordinateMode : int64_t {
  HalfPixel,
  Asymmetric,
  PytorchHalfPixel,
  AlignCorners,
  TfHalfPixelForNn,
  TfCropAndResize
};
// Simple: Upsample's (onnxruntime before Resize-11): floor when upsampling, ceil when downsampling.
enum class NearestMode : int64_t { RoundPreferFloor, RoundPreferCeil, Floor, Ceil, Simple };

std::optional<ResizeMode> resizeModeFromName(std::string_view name);
std::optional<CoordinateMode> coordinateModeFromName(std::string_view name);
std::optional<NearestMode> nearestModeFromName(std::string_view name);

// How one axis of a Resize maps output indices to input coordinates.
struct ResizeAxis {
  int64_t inLength = 1;
  double scale = 1;       // output length / input length as the op defines it
  double roiStart = 0;    // tf_crop_and_resize only, as fractions of the input
  double roiEnd = 1;
};

struct ResizeOptions {
  ResizeMode mode = ResizeMode::Nearest;
  CoordinateMode coordinates = CoordinateMode::HalfPixel;
  NearestMode nearest = NearestMode::RoundPreferFloor;
  double cubicA = -0.75;
  bool excludeOutside = false;
};

// The input coordinate of output index x, or nothing when tf_crop_and_resize puts it
// outside the input (the output is then the extrapolation value).
std::optional<double> resizeCoordinate(const ResizeOptions& options, const ResizeAxis& axis, int64_t x);

// The input elements one output index reads along an axis and their weights: one tap for
// nearest, two for linear, four for cubic. Indices are already clamped into the input
// (edge padding); taps with zero weight are dropped.
struct ResizeTaps {
  int64_t index[4] = {0, 0, 0, 0};
  double weight[4] = {0, 0, 0, 0};
  int count = 0;
};
ResizeTaps resizeTaps(const ResizeOptions& options, const ResizeAxis& axis, double coordinate);

// ScatterElements / ScatterND (opset 16+): how an update combines with the element it hits.
enum class ScatterReduction : int64_t { None, Add, Mul };
std::optional<ScatterReduction> scatterReductionFromName(std::string_view name);

}  // namespace ipusim::layout
