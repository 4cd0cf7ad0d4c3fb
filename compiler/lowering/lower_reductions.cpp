// Reduce* and ArgMax/ArgMin: the reduction plan of compiler/lowering/reduction.h.
#include <algorithm>

#include "compiler/compiler.h"
#include "compiler/lowering/lowering_registry.h"
#include "compiler/lowering/opset.h"
#include "compiler/lowering/reduction.h"

namespace ipusim {

namespace {

using codelets::ReduceFinish;
using codelets::ReduceOp;

const std::vector<DType> kReduceTypes = {DType::Float32, DType::Float16, DType::Int32, DType::UInt32, DType::Int64};
const std::vector<DType> kReduceMinMaxTypes = {DType::Float32, DType::Float16, DType::Int8, DType::UInt8,
                                               DType::Int32,   DType::UInt32,  DType::Int64};
// Results that are not integers (a root, a logarithm) are float-only here: onnxruntime's
// integer variants truncate through different intermediate types.
const std::vector<DType> kFloatTypes = {DType::Float32, DType::Float16};

const char* const kReduceMapping =
    "each tile reduces the elements it holds (split among workers) into partials; output mapped where its "
    "inputs are when one stage suffices, else linearly, partials exchanged to it and reduced (intermediate "
    "stages of about sqrt(fan-in) partials when an output has more than 2 x sqrt(tiles))";
const char* const kArgMapping =
    "as the Reduce ops: (value, position) partials per tile, exchanged and merged on the output's tile";

// One Reduce op: how it combines and finishes.
struct ReduceDef {
  const char* op;
  ReduceOp reduce;
  ReduceFinish finish;
  bool mean;
  const std::vector<DType>* dtypes;
};

const ReduceDef kReduceDefs[] = {
    {"ReduceSum", ReduceOp::Add, ReduceFinish::None, false, &kReduceTypes},
    {"ReduceMean", ReduceOp::Add, ReduceFinish::None, true, &kReduceTypes},
    {"ReduceMax", ReduceOp::Max, ReduceFinish::None, false, &kReduceMinMaxTypes},
    {"ReduceMin", ReduceOp::Min, ReduceFinish::None, false, &kReduceMinMaxTypes},
    {"ReduceProd", ReduceOp::Mul, ReduceFinish::None, false, &kReduceTypes},
    {"ReduceL1", ReduceOp::AbsAdd, ReduceFinish::None, false, &kReduceTypes},
    {"ReduceL2", ReduceOp::SquareAdd, ReduceFinish::Sqrt, false, &kFloatTypes},
    {"ReduceLogSum", ReduceOp::Add, ReduceFinish::Log, false, &kFloatTypes},
    {"ReduceLogSumExp", ReduceOp::LogAdd, ReduceFinish::None, false, &kFloatTypes},
    {"ReduceSumSquare", ReduceOp::SquareAdd, ReduceFinish::None, false, &kReduceTypes},
};

// Axes known only at run time: the model's static output shape fixes them when reduced
// dimensions are kept (a reduced dimension is 1, and reducing a size-1 dimension changes
// nothing), so the computation is the same for every axes value valid for that shape.
std::vector<int64_t> axesFromOutputShape(const LoweringContext& ctx, const Shape& in, const Shape& out) {
  if (ctx.intAttribute("keepdims", 1) == 0 || out.size() != in.size()) {
    throw CompileError(ctx.where() + ": " + ctx.node().op_type() +
                       " with run-time axes needs keepdims=1 (or constant axes)");
  }
  std::vector<int64_t> axes;
  for (size_t d = 0; d < in.size(); ++d) {
    if (out[d] == in[d]) continue;
    if (out[d] != 1) throw CompileError(ctx.where() + ": output shape " + shapeString(out) + " does not match the input's");
    axes.push_back(static_cast<int64_t>(d));
  }
  return axes;
}

void lowerReduce(LoweringContext& ctx, const ReduceDef& def, bool axesFromInput) {
  const TensorInfo& in = ctx.inputInfo(0);
  const TensorInfo& out = ctx.outputInfo(0);
  const int64_t rank = static_cast<int64_t>(in.shape.size());
  const bool runTimeAxes = axesFromInput && ctx.hasInput(1) && !ctx.constantInput(1);
  std::vector<int64_t> axes;
  if (runTimeAxes) {
    axes = axesFromOutputShape(ctx, in.shape, out.shape);
  } else if (axesFromInput) {
    if (ctx.hasInput(1)) axes = constantInts(ctx, 1, "axes");
  } else {
    axes = intsAttribute(ctx, "axes");
  }
  if (axes.empty()) {
    if (ctx.intAttribute("noop_with_empty_axes", 0) != 0) {  // the input unchanged
      TensorValue value = ctx.input(0);
      value.shape = out.shape;
      ctx.setOutput(0, value);
      return;
    }
    if (!runTimeAxes)
      for (int64_t d = 0; d < rank; ++d) axes.push_back(d);
  }
  axes = normaliseAxes(axes, rank, ctx.where());
  if (elementCount(out.shape) != elementCount(reducedShape(in.shape, axes, true))) {
    throw CompileError(ctx.where() + ": output shape " + shapeString(out.shape) + " does not match the reduction");
  }
  ReduceSpec spec;
  spec.op = def.reduce;
  spec.axes = axes;
  spec.finish = def.finish;
  spec.outDtype = out.dtype;
  if (def.mean) {
    for (int64_t a : axes) spec.divisor *= static_cast<double>(in.shape[static_cast<size_t>(a)]);
  }
  ctx.setOutput(0, reduceTensor(ctx.builder(), ctx.outputVariableName(0), ctx.input(0), spec, out.shape));
}

void lowerArgReduce(LoweringContext& ctx, bool isMax) {
  const TensorInfo& in = ctx.inputInfo(0);
  const TensorInfo& out = ctx.outputInfo(0);
  const int64_t rank = static_cast<int64_t>(in.shape.size());
  if (rank == 0) throw CompileError(ctx.where() + ": the input must have at least one dimension");
  ArgReduceSpec spec;
  spec.isMax = isMax;
  spec.axes = normaliseAxes({ctx.intAttribute("axis", 0)}, rank, ctx.where());
  spec.selectLast = ctx.intAttribute("select_last_index", 0) != 0;
  if (in.shape[static_cast<size_t>(spec.axes[0])] == 0) {
    throw CompileError(ctx.where() + ": the reduced axis is empty, so there is no position to return");
  }
  ctx.setOutput(0, argReduceTensor(ctx.builder(), ctx.outputVariableName(0), ctx.input(0), spec, out.shape));
}

}  // namespace

void registerReductionLowerings(LoweringRegistry& registry) {
  // Axes are an attribute until ReduceSum-13 (the others: until opset 18) and an input after.
  constexpr int kAxesInputSum = 13, kAxesInputOthers = 18;
  for (const ReduceDef& def : kReduceDefs) {
    const int axesInput = std::string(def.op) == "ReduceSum" ? kAxesInputSum : kAxesInputOthers;
    const ReduceDef* d = &def;
    registry.add({def.op, 1, std::min(axesInput - 1, kNewestOpset), *def.dtypes, kReduceMapping,
                  [d](LoweringContext& ctx) { lowerReduce(ctx, *d, false); }});
    if (kNewestOpset >= axesInput) {
      registry.add({def.op, axesInput, kNewestOpset, *def.dtypes, kReduceMapping,
                    [d](LoweringContext& ctx) { lowerReduce(ctx, *d, true); }});
    }
  }
  registry.add({"ArgMax", 1, kNewestOpset, kReduceMinMaxTypes, kArgMapping,
                [](LoweringContext& ctx) { lowerArgReduce(ctx, true); }});
  registry.add({"ArgMin", 1, kNewestOpset, kReduceMinMaxTypes, kArgMapping,
                [](LoweringContext& ctx) { lowerArgReduce(ctx, false); }});
}

}  // namespace ipusim
