// BatchNormalization (inference), InstanceNormalization, LayerNormalization and LRN.
// Statistics come from the reduction plan; every elementwise part is an indexed step
// mapped like the input, so per-channel parameters and per-row statistics are read through
// broadcast patterns and only the elements a tile uses move to it (popnn's normalisations:
// statistics by reduction, then one scale-and-shift pass).
#include <algorithm>
#include <optional>

#include "compiler/compiler.h"
#include "compiler/lowering/indexed_step.h"
#include "compiler/lowering/lowering_registry.h"
#include "compiler/lowering/opset.h"
#include "compiler/lowering/reduction.h"
#include "sim/codelet.h"

namespace ipusim {

namespace {

using codelets::ReduceOp;

const std::vector<DType> kNormTypes = {DType::Float32, DType::Float16};

std::string typed(const std::string& op, DType dtype) { return op + "<" + std::string(dtypeName(dtype)) + ">"; }

// Every input of the node has the first input's element type.
void requireOneType(const LoweringContext& ctx) {
  const DType t = ctx.inputInfo(0).dtype;
  for (size_t i = 1; i < ctx.inputCount(); ++i) {
    if (ctx.hasInput(i) && ctx.inputInfo(i).dtype != t) {
      throw CompileError(ctx.where() + ": " + ctx.node().op_type() + " with inputs of different element types (" +
                         std::string(dtypeName(t)) + " and " + std::string(dtypeName(ctx.inputInfo(i).dtype)) +
                         ") is not supported");
    }
  }
}

// A per-channel parameter of shape [C] viewed as [C, 1, ..., 1] against an input of
// `rank`, so that it broadcasts along the channel axis (1); other shapes broadcast as is.
TensorValue channelView(TensorValue value, size_t rank) {
  if (value.shape.size() == 1 && rank > 2) value.shape.resize(rank - 1, 1);
  return value;
}

// x cast elementwise to `to`, mapped like x (one Cast vertex per worker chunk).
TensorValue castTensor(GraphBuilder& b, const std::string& name, const TensorValue& x, DType to) {
  const std::vector<TileSpan> mapping = mappingLike(b, x, to);
  const uint32_t out = b.addVariable(name, to, x.shape, mapping);
  const uint32_t cs = b.addComputeSet(name);
  const std::string codelet =
      "Cast<" + std::string(dtypeName(x.dtype)) + "," + std::string(dtypeName(to)) + ">";
  for (const TileSpan& span : mapping)
    for (const TileSpan& chunk : splitForWorkers(span, to, b.target()))
      b.addVertex(cs, codelet, chunk.tile, {{{x.var, chunk.first, chunk.count}}, {{out, chunk.first, chunk.count}}});
  b.execute(cs);
  return {out, to, x.shape};
}

// The type statistics and intermediates are kept in: float32 for float16 data (popnn keeps
// float statistics for half activations), else the data's own.
DType statTypeFor(DType data) { return data == DType::Float16 ? DType::Float32 : data; }

// An indexed step whose codelet name follows its operand and output types.
TensorValue step(GraphBuilder& b, const std::string& name, const std::string& op,
                 const std::vector<IndexedOperand>& operands, DType outType, const Shape& shape,
                 const std::vector<TileSpan>& mapping, const std::vector<int64_t>& params = {}) {
  return indexedStep(b, name, indexedCodeletName(op, operands, outType), operands, outType, shape, mapping, params);
}

// Mean, x - mean and 1/sqrt(variance + eps) of x over `axes` (kept as 1s), in `statType`.
struct Moments {
  TensorValue mean, centred, invStdDev;
};

Moments moments(GraphBuilder& b, const std::string& name, const TensorValue& x, const std::vector<int64_t>& axes,
                double epsilon, DType statType) {
  const Shape statShape = reducedShape(x.shape, axes, true);
  double count = 1;
  for (int64_t a : axes) count *= static_cast<double>(x.shape[static_cast<size_t>(a)]);
  ReduceSpec meanSpec;
  meanSpec.axes = axes;
  meanSpec.divisor = count;
  meanSpec.outDtype = statType;
  Moments m;
  m.mean = reduceTensor(b, name + "/mean", x, meanSpec, statShape);
  m.centred = step(b, name + "/centred", "IndexedSub", {broadcastOperand(x, x.shape), broadcastOperand(m.mean, x.shape)},
                   statType, x.shape, mappingLike(b, x, statType));
  ReduceSpec varSpec = meanSpec;
  varSpec.op = ReduceOp::SquareAdd;
  const TensorValue variance = reduceTensor(b, name + "/variance", m.centred, varSpec, statShape);
  m.invStdDev = step(b, name + "/invStdDev", "InvStdDev", {broadcastOperand(variance, statShape)}, statType, statShape,
                     mappingLike(b, variance, statType), {scalarFromDouble(epsilon), 0});
  return m;
}

// y = centred * invStdDev * scale (+ bias), in `outType`, mapped like the input.
TensorValue scaleAndShift(GraphBuilder& b, const std::string& name, const Moments& m, const TensorValue& scale,
                          const TensorValue* bias, DType outType) {
  const Shape& shape = m.centred.shape;
  std::vector<IndexedOperand> operands{broadcastOperand(m.centred, shape), broadcastOperand(m.invStdDev, shape),
                                       broadcastOperand(scale, shape)};
  if (bias) operands.push_back(broadcastOperand(*bias, shape));
  return step(b, name, bias ? "NormAffine" : "NormScale", operands, outType, shape,
              mappingLike(b, m.centred, outType));
}

void lowerBatchNormalization(LoweringContext& ctx, bool hasTrainingMode) {
  if (hasTrainingMode && ctx.intAttribute("training_mode", 0) != 0) {
    throw CompileError(ctx.where() + ": BatchNormalization with training_mode=1 is not supported (ipusim lowers "
                       "inference: running statistics are not updated)");
  }
  for (int o = 1; o < ctx.node().output_size(); ++o) {
    if (!ctx.node().output(o).empty()) {
      throw CompileError(ctx.where() + ": BatchNormalization's training outputs (mean, variance, saved statistics) "
                         "are not supported; ipusim lowers inference only");
    }
  }
  requireOneType(ctx);
  GraphBuilder& b = ctx.builder();
  const TensorValue x = ctx.input(0);
  if (x.shape.size() < 2) throw CompileError(ctx.where() + ": the input needs a channel dimension");
  const TensorValue scale = ctx.input(1), bias = ctx.input(2), mean = ctx.input(3), var = ctx.input(4);
  const double epsilon = realAttribute(ctx, "epsilon", 1e-5);
  const std::string name = ctx.outputVariableName(0);
  const DType statType = statTypeFor(x.dtype);
  // coefficient = scale / sqrt(var + eps), once per channel; then (x - mean) * coefficient + bias.
  const TensorValue coefficient =
      step(b, name + "/coefficient", "BatchNormScale",
           {broadcastOperand(scale, scale.shape), broadcastOperand(var, scale.shape)}, statType, scale.shape,
           mappingLike(b, scale, statType), {scalarFromDouble(epsilon)});
  const size_t rank = x.shape.size();
  ctx.setOutput(0, step(b, name, "BatchNormApply",
                        {broadcastOperand(x, x.shape), broadcastOperand(channelView(mean, rank), x.shape),
                         broadcastOperand(channelView(coefficient, rank), x.shape),
                         broadcastOperand(channelView(bias, rank), x.shape)},
                        x.dtype, x.shape, mappingLike(b, x, x.dtype)));
}

void lowerInstanceNormalization(LoweringContext& ctx) {
  requireOneType(ctx);
  GraphBuilder& b = ctx.builder();
  const TensorValue x = ctx.input(0);
  if (x.shape.size() < 2) throw CompileError(ctx.where() + ": the input needs a channel dimension");
  std::vector<int64_t> axes;
  for (int64_t d = 2; d < static_cast<int64_t>(x.shape.size()); ++d) axes.push_back(d);
  const std::string name = ctx.outputVariableName(0);
  const Moments m = moments(b, name, x, axes, realAttribute(ctx, "epsilon", 1e-5), statTypeFor(x.dtype));
  const TensorValue bias = channelView(ctx.input(2), x.shape.size());
  ctx.setOutput(0, scaleAndShift(b, name, m, channelView(ctx.input(1), x.shape.size()), &bias, x.dtype));
}

// LayerNormalization-17: normalised over dimensions axis..rank-1; Scale and B broadcast to
// those; optional outputs Mean and InvStdDev (reduced dimensions kept as 1, float32).
// stash_type=1 (the default) keeps the statistics in float32 whatever the data type.
void lowerLayerNormalization(LoweringContext& ctx) {
  GraphBuilder& b = ctx.builder();
  const TensorValue x = ctx.input(0);
  const int64_t rank = static_cast<int64_t>(x.shape.size());
  if (rank == 0) throw CompileError(ctx.where() + ": the input must have at least one dimension");
  const int64_t axis = normaliseAxes({ctx.intAttribute("axis", -1)}, rank, ctx.where())[0];
  std::vector<int64_t> axes;
  for (int64_t d = axis; d < rank; ++d) axes.push_back(d);
  if (ctx.inputInfo(1).dtype != x.dtype || (ctx.hasInput(2) && ctx.inputInfo(2).dtype != x.dtype)) {
    throw CompileError(ctx.where() + ": LayerNormalization with Scale or B of another element type is not supported");
  }
  const DType statType = ctx.intAttribute("stash_type", 1) == 1 ? DType::Float32 : x.dtype;
  const std::string name = ctx.outputVariableName(0);
  const Moments m = moments(b, name, x, axes, realAttribute(ctx, "epsilon", 1e-5), statType);
  const TensorValue scale = ctx.input(1);
  std::optional<TensorValue> bias;
  if (ctx.hasInput(2)) bias = ctx.input(2);
  ctx.setOutput(0, scaleAndShift(b, name, m, scale, bias ? &*bias : nullptr, x.dtype));
  // The optional statistics, in their declared type.
  const TensorValue stats[] = {m.mean, m.invStdDev};
  for (size_t o = 1; o < 3 && static_cast<int>(o) < ctx.node().output_size(); ++o) {
    if (ctx.node().output(static_cast<int>(o)).empty()) continue;
    TensorValue s = stats[o - 1];
    s.shape = ctx.outputInfo(o).shape;
    if (s.dtype != ctx.outputInfo(o).dtype) s = castTensor(b, ctx.outputVariableName(o), s, ctx.outputInfo(o).dtype);
    ctx.setOutput(o, s);
  }
}

void lowerLrn(LoweringContext& ctx) {
  GraphBuilder& b = ctx.builder();
  const TensorValue x = ctx.input(0);
  if (x.shape.size() < 2) throw CompileError(ctx.where() + ": the input needs a channel dimension");
  const int64_t size = ctx.intAttribute("size", 0);
  if (size <= 0) throw CompileError(ctx.where() + ": LRN needs a positive size attribute");
  int64_t spatial = 1;
  for (size_t d = 2; d < x.shape.size(); ++d) spatial *= x.shape[d];
  const int64_t channels = x.shape[1];
  // Each chunk reads its own elements and the channel window around them: the elements up
  // to floor((size-1)/2) channels before and ceil((size-1)/2) after.
  IndexedOperand window = broadcastOperand(x, x.shape);
  window.widenBefore = static_cast<uint64_t>((size - 1) / 2 * spatial);
  window.widenAfter = static_cast<uint64_t>((size - 1 - (size - 1) / 2) * spatial);
  ctx.setOutput(0, indexedStep(b, ctx.outputVariableName(0), typed("LRN", x.dtype), {window}, x.dtype, x.shape,
                               mappingLike(b, x, x.dtype),
                               {scalarFromDouble(realAttribute(ctx, "alpha", 1e-4)),
                                scalarFromDouble(realAttribute(ctx, "beta", 0.75)),
                                scalarFromDouble(realAttribute(ctx, "bias", 1.0)), size, channels, spatial}));
}

const char* const kBatchNormMapping =
    "per-channel coefficient scale/sqrt(var+eps) computed where the parameters live; (x-mean)*coefficient+bias "
    "mapped like the input, each tile reading only its channels' parameters";
const char* const kMomentsMapping =
    "mean and variance by the reduction plan (see ReduceMean); centring and scale-and-shift mapped like the "
    "input, statistics and parameters read through broadcast patterns";
const char* const kLrnMapping =
    "mapped like the input; each worker chunk reads its elements and the channel window around them (in place, "
    "or copied to its tile by one exchange)";

}  // namespace

void registerNormalizationLowerings(LoweringRegistry& registry) {
  // BatchNormalization: opset 7 dropped is_test; 14 added training_mode.
  registry.add({"BatchNormalization", 7, 13, kNormTypes, kBatchNormMapping,
                [](LoweringContext& ctx) { lowerBatchNormalization(ctx, false); }});
  registry.add({"BatchNormalization", 14, kNewestOpset, kNormTypes, kBatchNormMapping,
                [](LoweringContext& ctx) { lowerBatchNormalization(ctx, true); }});
  registry.add({"InstanceNormalization", 6, kNewestOpset, kNormTypes, kMomentsMapping, lowerInstanceNormalization});
  registry.add({"LayerNormalization", 17, kNewestOpset, kNormTypes, kMomentsMapping, lowerLayerNormalization});
  registry.add({"LRN", 1, kNewestOpset, kNormTypes, kLrnMapping, lowerLrn});
}

}  // namespace ipusim
