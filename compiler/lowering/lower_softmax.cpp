// Softmax, LogSoftmax and Hardmax, composed like popnn's stable softmax: a max reduction,
// exp(x - max) in one indexed step (the max read through a broadcast pattern, never
// expanded), a sum reduction, and one more indexed step. Hardmax is an ArgMax and a one-hot
// indexed step.
//
// Before opset 13 the input is coerced to 2D at `axis` (default 1): the reduction runs over
// all dimensions from `axis` on. From opset 13 it runs over `axis` alone (default -1).
#include "compiler/compiler.h"
#include "compiler/lowering/indexed_step.h"
#include "compiler/lowering/lowering_registry.h"
#include "compiler/lowering/opset.h"
#include "compiler/lowering/reduction.h"

namespace ipusim {

namespace {

using codelets::ReduceOp;

const std::vector<DType> kSoftmaxTypes = {DType::Float32, DType::Float16};
const char* const kSoftmaxMapping =
    "max and sum reductions (see ReduceMax); exp(x - max) and the final step mapped like the input, each tile "
    "reading the statistics of its own rows";
const char* const kHardmaxMapping = "ArgMax reduction (see ArgMax); one-hot step mapped like the input";

enum class Kind { Softmax, LogSoftmax, Hardmax };

std::string typed(const std::string& op, DType dtype) { return op + "<" + std::string(dtypeName(dtype)) + ">"; }

// The reduced axes: `axis` alone (opset 13), or `axis` and every later one (coerced 2D).
std::vector<int64_t> softmaxAxes(const LoweringContext& ctx, bool coerced) {
  const int64_t rank = static_cast<int64_t>(ctx.inputInfo(0).shape.size());
  if (rank == 0) throw CompileError(ctx.where() + ": the input must have at least one dimension");
  const int64_t axis = normaliseAxes({ctx.intAttribute("axis", coerced ? 1 : -1)}, rank, ctx.where())[0];
  std::vector<int64_t> axes{axis};
  if (coerced)
    for (int64_t d = axis + 1; d < rank; ++d) axes.push_back(d);
  return axes;
}

void lowerSoftmax(LoweringContext& ctx, Kind kind, bool coerced) {
  GraphBuilder& b = ctx.builder();
  const TensorValue x = ctx.input(0);
  const std::vector<int64_t> axes = softmaxAxes(ctx, coerced);
  const Shape statShape = reducedShape(x.shape, axes, true);
  const std::string name = ctx.outputVariableName(0);
  const auto mapping = mappingLike(b, x, x.dtype);

  if (kind == Kind::Hardmax) {
    const TensorValue index = argReduceTensor(b, name + "/argmax", x, {true, axes, false}, statShape);
    int64_t axisSize = 1, inner = 1;
    for (int64_t a : axes) axisSize *= x.shape[static_cast<size_t>(a)];
    for (size_t d = static_cast<size_t>(axes.back()) + 1; d < x.shape.size(); ++d) inner *= x.shape[d];
    ctx.setOutput(0, indexedStep(b, name, typed("HardmaxOneHot", x.dtype), {broadcastOperand(index, x.shape)}, x.dtype,
                                 x.shape, mapping, {axisSize, inner}));
    return;
  }

  // float16 data keeps its max, exponentials and sums in float32 (popnn's float partials).
  const DType statType = x.dtype == DType::Float16 ? DType::Float32 : x.dtype;
  ReduceSpec maxSpec;
  maxSpec.op = ReduceOp::Max;
  maxSpec.axes = axes;
  maxSpec.outDtype = statType;
  const TensorValue max = reduceTensor(b, name + "/max", x, maxSpec, statShape);
  const std::vector<IndexedOperand> expOperands{broadcastOperand(x, x.shape), broadcastOperand(max, x.shape)};
  const TensorValue exp = indexedStep(b, name + "/exp", indexedCodeletName("SoftmaxExp", expOperands, statType),
                                      expOperands, statType, x.shape, mapping);
  ReduceSpec sumSpec;
  sumSpec.op = ReduceOp::Add;
  sumSpec.axes = axes;
  sumSpec.outDtype = statType;
  const TensorValue sum = reduceTensor(b, name + "/sum", exp, sumSpec, statShape);
  std::vector<IndexedOperand> operands;
  std::string op;
  if (kind == Kind::Softmax) {
    op = "IndexedDiv";
    operands = {broadcastOperand(exp, x.shape), broadcastOperand(sum, x.shape)};
  } else {
    op = "LogSoftmaxOut";
    operands = {broadcastOperand(x, x.shape), broadcastOperand(max, x.shape), broadcastOperand(sum, x.shape)};
  }
  ctx.setOutput(0, indexedStep(b, name, indexedCodeletName(op, operands, x.dtype), operands, x.dtype, x.shape, mapping));
}

}  // namespace

void registerSoftmaxLowerings(LoweringRegistry& registry) {
  // Opset 13 changed the semantics from "coerce to 2D at axis" to "along axis".
  constexpr int kAxisSemantics = 13;
  struct Op {
    const char* name;
    Kind kind;
    const char* mapping;
  };
  for (const Op& op : {Op{"Softmax", Kind::Softmax, kSoftmaxMapping}, Op{"LogSoftmax", Kind::LogSoftmax, kSoftmaxMapping},
                       Op{"Hardmax", Kind::Hardmax, kHardmaxMapping}}) {
    const Kind kind = op.kind;
    registry.add({op.name, 1, kAxisSemantics - 1, kSoftmaxTypes, op.mapping,
                  [kind](LoweringContext& ctx) { lowerSoftmax(ctx, kind, true); }});
    registry.add({op.name, kAxisSemantics, kNewestOpset, kSoftmaxTypes, op.mapping,
                  [kind](LoweringContext& ctx) { lowerSoftmax(ctx, kind, false); }});
  }
}

}  // namespace ipusim
