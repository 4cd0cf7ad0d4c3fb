// Conv, ConvTranspose and ConvInteger (1 to 3 spatial axes, groups, depthwise, strides,
// dilations, pads, auto_pad, output_padding, output_shape) as planned matrix products:
// compiler/planning/conv_planner.h turns the convolution into N x G products of the weights
// by a gathered im2col view of the prepared input, and emitMatMul (matmul_lowering.h) runs
// them like any MatMul. docs/conv-planner.md.
#include <algorithm>
#include <optional>

#include "compiler/compiler.h"
#include "compiler/lowering/index_map.h"
#include "compiler/lowering/lowering_registry.h"
#include "compiler/lowering/matmul_lowering.h"
#include "compiler/lowering/opset.h"
#include "compiler/planning/conv_planner.h"
#include "sim/codelets/matmul_cost.h"

namespace ipusim {

namespace {

const char* const kConvMapping =
    "N x groups products W x im2col (docs/conv-planner.md): input padded and split by stride phases by one "
    "exchange, im2col runs gathered into the planned per-tile blocks, partials reduced with the bias";

std::vector<int64_t> intsOr(const LoweringContext& ctx, const std::string& name, std::vector<int64_t> fallback) {
  const onnx::AttributeProto* attr = ctx.attribute(name);
  if (attr == nullptr) return fallback;
  return {attr->ints().begin(), attr->ints().end()};
}

std::string stringOr(const LoweringContext& ctx, const std::string& name, const std::string& fallback) {
  const onnx::AttributeProto* attr = ctx.attribute(name);
  return attr ? attr->s() : fallback;
}

// Checks a per-axis attribute's length; empty means "the default for every axis".
std::vector<int64_t> perAxis(const LoweringContext& ctx, const std::string& name, size_t rank, int64_t fallback) {
  std::vector<int64_t> values = intsOr(ctx, name, {});
  if (values.empty()) return std::vector<int64_t>(rank, fallback);
  if (values.size() != rank) {
    throw CompileError(ctx.where() + ": " + ctx.node().op_type() + "'s " + name + " has " +
                       std::to_string(values.size()) + " values for " + std::to_string(rank) + " spatial axes");
  }
  return values;
}

// The convolution's shapes and attributes, with pads resolved against the inferred output.
ConvSpec convSpec(const LoweringContext& ctx, bool transposed) {
  const std::string& op = ctx.node().op_type();
  const Shape& x = ctx.inputInfo(0).shape;
  const Shape& w = ctx.inputInfo(1).shape;
  const Shape& y = ctx.outputInfo(0).shape;
  if (x.size() < 3 || x.size() > 5 || w.size() != x.size() || y.size() != x.size()) {
    throw CompileError(ctx.where() + ": " + op + " over " + std::to_string(x.size() < 2 ? 0 : x.size() - 2) +
                       " spatial axes is not supported (1 to 3 are), input " + shapeString(x) + ", weights " +
                       shapeString(w));
  }
  const size_t rank = x.size() - 2;
  ConvSpec s;
  s.transposed = transposed;
  s.batch = x[0];
  s.inChannels = x[1];
  s.groups = ctx.intAttribute("group", 1);
  s.inSpatial.assign(x.begin() + 2, x.end());
  s.outSpatial.assign(y.begin() + 2, y.end());
  s.kernel = perAxis(ctx, "kernel_shape", rank, 0);
  for (size_t d = 0; d < rank; ++d) {
    if (s.kernel[d] == 0) s.kernel[d] = w[d + 2];
    if (s.kernel[d] != w[d + 2]) {
      throw CompileError(ctx.where() + ": kernel_shape disagrees with the weights " + shapeString(w));
    }
  }
  s.strides = perAxis(ctx, "strides", rank, 1);
  s.dilations = perAxis(ctx, "dilations", rank, 1);
  const std::vector<int64_t> pads = perAxis(ctx, "pads", 2 * rank, 0);
  const std::string autoPad = stringOr(ctx, "auto_pad", "NOTSET");
  if (s.groups <= 0 || s.inChannels % s.groups != 0) {
    throw CompileError(ctx.where() + ": " + std::to_string(s.inChannels) + " input channels do not split into " +
                       std::to_string(s.groups) + " groups");
  }
  if (transposed) {
    if (w[0] != s.inChannels) throw CompileError(ctx.where() + ": weights " + shapeString(w) + " do not match the input");
    s.outChannels = w[1] * s.groups;
    const std::vector<int64_t> outputPadding = perAxis(ctx, "output_padding", rank, 0);
    const bool outputShapeGiven = ctx.attribute("output_shape") != nullptr;
    for (size_t d = 0; d < rank; ++d) {
      const AxisPads p = resolveTransposePads(autoPad, outputShapeGiven, s.inSpatial[d], s.outSpatial[d], s.kernel[d],
                                              s.strides[d], s.dilations[d], outputPadding[d], pads[d], pads[rank + d]);
      s.padBegin.push_back(p.begin);
      s.padEnd.push_back(p.end);
    }
  } else {
    if (w[1] * s.groups != s.inChannels) {
      throw CompileError(ctx.where() + ": weights " + shapeString(w) + " do not match " +
                         std::to_string(s.inChannels) + " input channels in " + std::to_string(s.groups) + " groups");
    }
    s.outChannels = w[0];
    for (size_t d = 0; d < rank; ++d) {
      const AxisPads p = resolveAxisPads(autoPad, s.inSpatial[d], s.outSpatial[d], s.kernel[d], s.strides[d],
                                         s.dilations[d], pads[d], pads[rank + d]);
      s.padBegin.push_back(p.begin);
      s.padEnd.push_back(p.end);
      const int64_t expected =
          (s.inSpatial[d] + p.begin + p.end - (s.kernel[d] - 1) * s.dilations[d] - 1) / s.strides[d] + 1;
      if (expected != s.outSpatial[d]) {
        throw CompileError(ctx.where() + ": inferred output " + shapeString(y) + " disagrees with the attributes");
      }
    }
  }
  if (s.outChannels % s.groups != 0 || y[1] != s.outChannels || y[0] != s.batch) {
    throw CompileError(ctx.where() + ": output " + shapeString(y) + " disagrees with the weights " + shapeString(w));
  }
  for (size_t d = 0; d < rank; ++d) {
    if (s.strides[d] < 1 || s.dilations[d] < 1 || s.kernel[d] < 1) {
      throw CompileError(ctx.where() + ": strides, dilations and kernel sizes must be positive");
    }
  }
  return s;
}

// The prepared input (conv_planner.h): the input itself, or a copy padded, spread and split
// by stride phases by one exchange, zeros (or ConvInteger's zero point) written by Fill.
uint32_t prepareInput(LoweringContext& ctx, const ConvProduct& conv, const FillValue& padValue) {
  GraphBuilder& b = ctx.builder();
  const TensorValue x = ctx.input(0);
  if (conv.input.direct) return x.var;
  const int64_t plane = conv.input.planeElements();
  int64_t inPlane = 1;
  for (int64_t d : conv.spec.inSpatial) inPlane *= d;
  const int64_t total = conv.spec.batch * conv.spec.inChannels * plane;
  const uint32_t prepared = b.addVariable(ctx.name() + "/prepared", x.dtype, {total});
  const uint32_t exchange = b.addExchange(ctx.name() + "/prepare");
  const std::vector<IndexRun> gaps =
      copyByIndexMap(b, exchange, x.var, prepared, static_cast<uint64_t>(total), [&](uint64_t e) -> int64_t {
        const int64_t source = conv.input.sourceOf(static_cast<int64_t>(e) % plane);
        return source == kNoConvSource ? kNoSource : static_cast<int64_t>(e) / plane * inPlane + source;
      });
  std::optional<uint32_t> pad;
  if (!gaps.empty()) {
    pad = b.addComputeSet(ctx.name() + "/pad");
    fillGaps(b, ctx.name() + "/pad", prepared, gaps, padValue, exchange, *pad);
  }
  b.exchange(exchange);
  if (pad) b.execute(*pad);
  return prepared;
}

MatMulOperandView gatheredView(DType dtype, uint32_t var, const ConstTensor* constant, std::vector<uint64_t> groups,
                               std::vector<uint64_t> rows, std::vector<uint64_t> cols) {
  MatMulOperandView view;
  view.dtype = dtype;
  view.var = var;
  view.constant = constant;
  view.groupOffset = std::move(groups);
  view.rowOffsets = std::move(rows);
  view.colOffsets = std::move(cols);
  return view;
}

// How the product multiplies: the AMP for floats, worker code for ConvInteger.
struct ConvTypes {
  MatMulUnit unit = MatMulUnit::Amp;
  DType partials = DType::Float32;
  DType output = DType::Float32;
  std::string codelet;
};

void emitConv(LoweringContext& ctx, const ConvSpec& spec, const ConvTypes& types, const FillValue& padValue,
              MatMulEmission emission) {
  const TensorInfo& out = ctx.outputInfo(0);
  const DType inType = ctx.inputInfo(0).dtype;
  ConvProduct conv = convProduct(spec, inType, types.partials, types.output);
  MatMulProblem& problem = conv.problem;
  problem.unit = types.unit;
  problem.lhsType = ctx.inputInfo(1).dtype;
  if (elementCount(out.shape) == 0 || problem.k == 0) {
    ConstTensor zeros{out.dtype, out.shape,
                      std::vector<uint8_t>(static_cast<size_t>(elementCount(out.shape)) * dtypeSize(out.dtype))};
    if (problem.k == 0 && ctx.hasInput(2) && elementCount(out.shape) != 0 && types.unit == MatMulUnit::Amp) {
      throw CompileError(ctx.where() + ": a convolution over no input channels with a bias is not supported");
    }
    ctx.setConstantOutput(0, std::move(zeros));
    return;
  }
  GraphBuilder& b = ctx.builder();
  const uint32_t prepared = prepareInput(ctx, conv, padValue);

  // Weights: a constant is laid out per tile at compile time; a run-time one is gathered.
  const ConstTensor* weights = ctx.constantInput(1);
  const uint32_t weightVar = weights ? 0 : ctx.input(1).var;
  emission.lhs = gatheredView(problem.lhsType, weightVar, weights, conv.weightGroupOffset, conv.weightRow, conv.weightCol);
  emission.rhs = gatheredView(inType, prepared, nullptr, conv.inputGroupOffset, conv.inputRow, conv.inputCol);
  problem.lhsConstant = weights != nullptr;
  problem.rhsConstant = false;
  if (!weights) problem.lhsSourceElementsPerTile = mostElementsOnATile(b.variable(weightVar));
  problem.rhsSourceElementsPerTile = mostElementsOnATile(b.variable(prepared)) * conv.im2colReplication;
  if (types.unit == MatMulUnit::Amp && ctx.hasInput(2)) {
    MatMulOperandView bias;
    bias.dtype = ctx.inputInfo(2).dtype;
    bias.constant = ctx.constantInput(2);
    if (bias.constant == nullptr) bias.var = ctx.input(2).var;
    bias.groupOffset = conv.biasGroupOffset;
    bias.rowStride = 1;
    bias.colStride = 0;
    emission.epilogue.bias = bias;
    problem.hasBias = true;
    problem.biasConstant = bias.constant != nullptr;
    problem.biasElements = static_cast<uint64_t>(spec.outChannels);
    if (!problem.biasConstant) problem.biasSourceElementsPerTile = mostElementsOnATile(b.variable(bias.var));
  }

  MatMulPlan plan;
  try {
    plan = planMatMul(problem, ctx.target(), productOptions(ctx.model(), ctx.target(), weights ? weights->bytes.size() : 0));
  } catch (const CompileError& e) {
    throw CompileError(ctx.where() + ": " + spec.describe() + " with input '" + ctx.node().input(0) +
                       "' and weights '" + ctx.node().input(1) + "' does not fit the tile memory: " + e.what());
  }
  emission.name = ctx.name();
  emission.outputName = ctx.outputVariableName(0);
  emission.tidyOutput = true;
  emission.firstTile = firstTileAvoidingTileZero(plan, ctx.target());
  emission.outputShape = out.shape;
  emission.productCodelet = types.codelet;
  const uint32_t var = emitMatMul(b, plan, emission);
  ctx.setOutput(0, {var, out.dtype, out.shape});
}

ConvTypes floatTypes(const LoweringContext& ctx) {
  const DType input = ctx.inputInfo(0).dtype;
  if (ctx.inputInfo(1).dtype != input || (ctx.hasInput(2) && ctx.inputInfo(2).dtype != input)) {
    throw CompileError(ctx.where() + ": " + ctx.node().op_type() + " needs X, W and B of one element type");
  }
  ConvTypes types;
  types.partials = input == DType::Float16 ? ctx.model().matMulPartials : DType::Float32;
  types.output = ctx.outputInfo(0).dtype;
  types.codelet = ampMatMulCodeletName(input, types.partials);
  return types;
}

void lowerConv(LoweringContext& ctx) {
  emitConv(ctx, convSpec(ctx, false), floatTypes(ctx), zeroFill(ctx.inputInfo(0).dtype), {});
}

void lowerConvTranspose(LoweringContext& ctx) {
  emitConv(ctx, convSpec(ctx, true), floatTypes(ctx), zeroFill(ctx.inputInfo(0).dtype), {});
}

// ConvInteger: int8/uint8 products accumulated in int32 on the workers. Padding holds the
// input's zero point (so that it contributes nothing once the zero point is subtracted).
// Zero points are per tensor: uniform compile-time values, or one run-time element.
int64_t zeroPoint(const LoweringContext& ctx, size_t input) {
  if (!ctx.hasInput(input)) return 0;
  const ConstTensor* zero = ctx.constantInput(input);
  if (zero == nullptr) {
    if (elementCount(ctx.inputInfo(input).shape) != 1) {
      throw CompileError(ctx.where() + ": a per-channel zero point known only at run time is not supported");
    }
    return 0;
  }
  const std::vector<int64_t> values = zero->toInts();
  if (!values.empty() && std::any_of(values.begin(), values.end(), [&](int64_t v) { return v != values.front(); })) {
    throw CompileError(ctx.where() + ": per-channel zero points that differ are not supported");
  }
  return values.empty() ? 0 : values.front();
}

void lowerConvInteger(LoweringContext& ctx) {
  const DType x = ctx.inputInfo(0).dtype, w = ctx.inputInfo(1).dtype;
  ConvTypes types;
  types.unit = MatMulUnit::Vector;
  types.partials = types.output = DType::Int32;
  types.codelet = matMulIntegerCodeletName(w, x);  // the product is W x im2col(X)
  const int64_t xZero = zeroPoint(ctx, 2), wZero = zeroPoint(ctx, 3);
  MatMulEmission emission;
  emission.productExtraScalars = {wZero, xZero};
  auto field = [&](size_t input) -> std::optional<Slice> {
    if (!ctx.hasInput(input) || ctx.constantInput(input) != nullptr) return std::nullopt;
    return Slice{ctx.input(input).var, 0, 1};
  };
  emission.productBroadcastFields = {field(3), field(2)};
  FillValue pad;
  if (const std::optional<Slice> runTime = field(2)) {
    pad.element = *runTime;
  } else {
    pad.constant = scalarConstant(x, static_cast<double>(xZero));
  }
  ConvSpec spec = convSpec(ctx, false);
  emitConv(ctx, spec, types, pad, std::move(emission));
}

}  // namespace

void registerConvLowerings(LoweringRegistry& registry) {
  const std::vector<DType> floats = {DType::Float32, DType::Float16};
  registry.add({"Conv", 1, kNewestOpset, floats, kConvMapping, lowerConv});
  registry.add({"ConvTranspose", 1, kNewestOpset, floats, kConvMapping, lowerConvTranspose});
  registry.add({"ConvInteger", 10, kNewestOpset, {DType::Int8, DType::UInt8}, kConvMapping, lowerConvInteger});
}

}  // namespace ipusim
