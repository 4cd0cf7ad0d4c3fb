// Resize (opset 11+) and Upsample (opset 7 to 9). Nearest with compile-time scales is an
// index map (one exchange; tf_crop_and_resize's outside points filled with the extrapolation
// value). Linear and cubic, and anything with run-time scales or roi, run the Resize codelet
// next to each output chunk, with the coordinate rules of sim/codelets/layout_rules.h that the
// index map uses too.
#include <cmath>

#include "compiler/lowering/dynamic_layout.h"
#include "compiler/lowering/elementwise.h"
#include "compiler/lowering/index_map.h"
#include "compiler/lowering/lowering_registry.h"
#include "compiler/lowering/opset.h"
#include "sim/codelet.h"
#include "sim/codelets/layout_rules.h"

namespace ipusim {

namespace {

struct ResizePlan {
  layout::ResizeOptions options;
  std::vector<layout::ResizeAxis> axes;  // scales and roi where known at compile time
  std::optional<size_t> scalesInput;     // run-time scales
  std::optional<size_t> roiInput;        // roi given as an input (constant or not)
  bool roiKnown = true;
  double extrapolation = 0;
};

std::string stringAttribute(const LoweringContext& ctx, const std::string& name, const std::string& fallback) {
  const auto* attr = ctx.attribute(name);
  return attr ? attr->s() : fallback;
}

template <typename Enum>
Enum parseMode(const LoweringContext& ctx, const std::string& attribute, const std::string& fallback,
               std::optional<Enum> (*parse)(std::string_view)) {
  const std::string name = stringAttribute(ctx, attribute, fallback);
  const auto value = parse(name);
  if (!value) throw CompileError(ctx.where() + ": " + attribute + " '" + name + "' is not supported");
  return *value;
}

std::vector<double> constantReals(const ConstTensor& t) {
  std::vector<double> values;
  for (int64_t i = 0; i < t.elements(); ++i) values.push_back(constantRealAt(t, i));
  return values;
}

// Known scales must produce the inferred output shape (floor(scale * length)).
void checkScales(const LoweringContext& ctx, const ResizePlan& plan, const Shape& out) {
  for (size_t d = 0; d < plan.axes.size(); ++d) {
    const double length = std::floor(plan.axes[d].scale * static_cast<double>(plan.axes[d].inLength));
    if (length != static_cast<double>(out[d])) {
      throw CompileError(ctx.where() + ": the scales give axis " + std::to_string(d) + " length " +
                         std::to_string(static_cast<int64_t>(length)) + ", the inferred output has " +
                         std::to_string(out[d]));
    }
  }
}

void lowerPlanned(LoweringContext& ctx, const ResizePlan& plan) {
  const TensorInfo& data = ctx.inputInfo(0);
  const Shape& in = data.shape;
  const Shape& out = ctx.outputInfo(0).shape;
  if (plan.options.mode != layout::ResizeMode::Nearest && !isFloat(data.dtype)) {
    throw CompileError(ctx.where() + ": " + stringAttribute(ctx, "mode", "nearest") + " interpolation of " +
                       std::string(dtypeName(data.dtype)) + " is not supported (float types only)");
  }
  if (!plan.scalesInput) checkScales(ctx, plan, out);

  if (plan.options.mode == layout::ResizeMode::Nearest && !plan.scalesInput && plan.roiKnown) {
    const std::vector<int64_t> strides = stridesOf(in);
    SeparableIndexMap map{out, {}, 0};
    for (size_t d = 0; d < in.size(); ++d) {
      std::vector<int64_t> offsets;
      for (int64_t x = 0; x < out[d]; ++x) {
        const auto c = layout::resizeCoordinate(plan.options, plan.axes[d], x);
        offsets.push_back(c ? layout::resizeTaps(plan.options, plan.axes[d], *c).index[0] * strides[d] : kNoSource);
      }
      map.axisOffsets.push_back(std::move(offsets));
    }
    lowerIndexMapped(ctx, 0, map, FillValue{scalarConstant(data.dtype, plan.extrapolation), {}});
    return;
  }

  DynamicLowering dynamic;
  dynamic.place = [&](uint32_t exchange, const std::vector<TileSpan>& spans) {
    std::vector<TileOperand> operands{placeWholeNearOutput(ctx, exchange, "data", ctx.input(0), spans)};
    const TileOperand absent{std::vector<Slice>(spans.size()), false};
    operands.push_back(plan.scalesInput ? placeOptionalInput(ctx, exchange, *plan.scalesInput, "scales", spans) : absent);
    operands.push_back(plan.roiInput && !plan.roiKnown ? placeOptionalInput(ctx, exchange, *plan.roiInput, "roi", spans)
                                                       : absent);
    return operands;
  };
  std::vector<int64_t> common{plan.scalesInput ? dtypeScalar(ctx, *plan.scalesInput) : 0,
                              plan.roiInput ? dtypeScalar(ctx, *plan.roiInput) : 0,
                              static_cast<int64_t>(plan.options.mode),
                              static_cast<int64_t>(plan.options.coordinates),
                              static_cast<int64_t>(plan.options.nearest),
                              scalarFromDouble(plan.options.cubicA),
                              plan.options.excludeOutside ? 1 : 0,
                              scalarFromDouble(plan.extrapolation),
                              static_cast<int64_t>(in.size())};
  common.insert(common.end(), in.begin(), in.end());
  common.insert(common.end(), out.begin(), out.end());
  for (const auto& axis : plan.axes) common.push_back(scalarFromDouble(axis.scale));
  dynamic.scalarsOf = [common](const TileSpan& chunk, const TileSpan&) {
    std::vector<int64_t> scalars{static_cast<int64_t>(chunk.first), 0};
    scalars.insert(scalars.end(), common.begin(), common.end());
    return scalars;
  };
  lowerDynamic(ctx, codeletName("Resize", data.dtype), std::move(dynamic));
}

bool presentAndNonEmpty(const LoweringContext& ctx, size_t input) {
  return ctx.hasInput(input) && elementCount(ctx.inputInfo(input).shape) > 0;
}

void lowerResize(LoweringContext& ctx) {
  const Shape& in = ctx.inputInfo(0).shape;
  const Shape& out = ctx.outputInfo(0).shape;
  ResizePlan plan;
  plan.options.mode = parseMode(ctx, "mode", "nearest", &layout::resizeModeFromName);
  plan.options.coordinates = parseMode(ctx, "coordinate_transformation_mode", "half_pixel", &layout::coordinateModeFromName);
  plan.options.nearest = parseMode(ctx, "nearest_mode", "round_prefer_floor", &layout::nearestModeFromName);
  if (const auto* a = ctx.attribute("cubic_coeff_a")) plan.options.cubicA = a->f();
  plan.options.excludeOutside = ctx.intAttribute("exclude_outside", 0) != 0;
  if (const auto* e = ctx.attribute("extrapolation_value")) plan.extrapolation = e->f();

  plan.axes.resize(in.size());
  for (size_t d = 0; d < in.size(); ++d) plan.axes[d].inLength = in[d];
  if (presentAndNonEmpty(ctx, 3)) {
    // sizes: the output shape is static, so the scales are out / in.
    for (size_t d = 0; d < in.size(); ++d) {
      plan.axes[d].scale = static_cast<double>(out[d]) / static_cast<double>(in[d]);
    }
  } else if (presentAndNonEmpty(ctx, 2)) {
    if (const ConstTensor* scales = ctx.constantInput(2)) {
      const std::vector<double> values = constantReals(*scales);
      if (values.size() != in.size()) throw CompileError(ctx.where() + ": scales must hold one value per axis");
      for (size_t d = 0; d < in.size(); ++d) plan.axes[d].scale = values[d];
    } else {
      plan.scalesInput = 2;
    }
  } else {
    throw CompileError(ctx.where() + ": Resize needs scales or sizes");
  }
  if (plan.options.coordinates == layout::CoordinateMode::TfCropAndResize && presentAndNonEmpty(ctx, 1)) {
    plan.roiInput = 1;
    if (const ConstTensor* roi = ctx.constantInput(1)) {
      const std::vector<double> values = constantReals(*roi);
      if (values.size() != 2 * in.size()) throw CompileError(ctx.where() + ": roi must hold two values per axis");
      for (size_t d = 0; d < in.size(); ++d) {
        plan.axes[d].roiStart = values[d];
        plan.axes[d].roiEnd = values[d + in.size()];
      }
    } else {
      plan.roiKnown = false;
    }
  }
  lowerPlanned(ctx, plan);
}

// Upsample: Resize with asymmetric coordinates and onnxruntime's simple nearest rounding.
void lowerUpsample(LoweringContext& ctx, int64_t opset) {
  const Shape& in = ctx.inputInfo(0).shape;
  ResizePlan plan;
  const std::string mode = stringAttribute(ctx, "mode", "nearest");
  plan.options.mode = mode == "bilinear" ? layout::ResizeMode::Linear
                                         : parseMode(ctx, "mode", "nearest", &layout::resizeModeFromName);
  if (plan.options.mode == layout::ResizeMode::Cubic) throw CompileError(ctx.where() + ": Upsample has no cubic mode");
  plan.options.coordinates = layout::CoordinateMode::Asymmetric;
  plan.options.nearest = layout::NearestMode::Simple;
  plan.axes.resize(in.size());
  for (size_t d = 0; d < in.size(); ++d) plan.axes[d].inLength = in[d];
  std::vector<double> scales;
  if (opset < 9) {
    if (const auto* attr = ctx.attribute("scales")) scales.assign(attr->floats().begin(), attr->floats().end());
  } else if (const ConstTensor* c = ctx.constantInput(1)) {
    scales = constantReals(*c);
  } else {
    plan.scalesInput = 1;
  }
  if (!plan.scalesInput) {
    if (scales.size() != in.size()) throw CompileError(ctx.where() + ": scales must hold one value per axis");
    for (size_t d = 0; d < in.size(); ++d) plan.axes[d].scale = scales[d];
  }
  lowerPlanned(ctx, plan);
}

const char* const kResizeMapping =
    "nearest with known scales: output mapped linearly, runs copied by one exchange; linear, cubic or run-time "
    "scales: the input copied next to each output chunk, Resize vertices interpolate there";

}  // namespace

void registerResizeLowerings(LoweringRegistry& registry) {
  registry.add({"Resize", 11, kNewestOpset, allDTypes(), kResizeMapping, lowerResize});
  registry.add({"Upsample", 7, 8, allDTypes(), kResizeMapping, [](LoweringContext& ctx) { lowerUpsample(ctx, 7); }});
  registry.add({"Upsample", 9, 9, allDTypes(), kResizeMapping, [](LoweringContext& ctx) { lowerUpsample(ctx, 9); }});
}

}  // namespace ipusim
