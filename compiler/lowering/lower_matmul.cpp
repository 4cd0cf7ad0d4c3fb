// MatMul (numpy semantics: batched, broadcast batch dimensions, 1-D operands), Gemm
// (transA/transB, alpha, beta, a broadcast C) and MatMulInteger: each becomes a planned
// matrix product (compiler/planning/matmul_planner.h) emitted by emitMatMul.
#include <algorithm>
#include <optional>

#include "compiler/compiler.h"
#include "compiler/lowering/lowering_registry.h"
#include "compiler/lowering/matmul_lowering.h"
#include "compiler/lowering/opset.h"
#include "compiler/planning/matmul_planner.h"
#include "sim/codelets/matmul_cost.h"

namespace ipusim {

namespace {

const char* const kMatMulMapping =
    "planned split of batch, M, N and K over tiles (docs/matmul-planner.md); output blocks on their reducer tiles";

// How each element type multiplies: on the AMP (floats) or on the workers (integers).
struct ProductTypes {
  MatMulUnit unit;
  DType partials;
  std::string codelet;
};

ProductTypes productTypes(const LoweringContext& ctx, DType input) {
  switch (input) {
    case DType::Float32: return {MatMulUnit::Amp, DType::Float32, ampMatMulCodeletName(input, DType::Float32)};
    case DType::Float16: {
      const DType partials = ctx.model().matMulPartials;
      return {MatMulUnit::Amp, partials, ampMatMulCodeletName(input, partials)};
    }
    case DType::Int32:
    case DType::UInt32:
    case DType::Int64: return {MatMulUnit::Vector, input, vectorMatMulCodeletName(input)};
    default: break;
  }
  throw CompileError(ctx.where() + ": no matrix product for " + std::string(dtypeName(input)));
}

// A [groups][m][k] x [groups][k][n] view of numpy matmul operands.
struct BatchedProduct {
  uint64_t groups = 1, m = 1, k = 1, n = 1;
  std::vector<uint64_t> lhsGroupOf, rhsGroupOf;  // operand batch element of each group
  uint64_t lhsGroups = 1, rhsGroups = 1;
};

BatchedProduct batchedProduct(const LoweringContext& ctx, Shape a, Shape b) {
  if (a.empty() || b.empty()) throw CompileError(ctx.where() + ": MatMul operands must have rank 1 or more");
  if (a.size() == 1) a.insert(a.begin(), 1);  // [K] -> [1, K]
  if (b.size() == 1) b.push_back(1);          // [K] -> [K, 1]
  BatchedProduct p;
  p.m = static_cast<uint64_t>(a[a.size() - 2]);
  p.k = static_cast<uint64_t>(a.back());
  p.n = static_cast<uint64_t>(b.back());
  if (static_cast<uint64_t>(b[b.size() - 2]) != p.k) {
    throw CompileError(ctx.where() + ": inner dimensions differ: " + shapeString(a) + " x " + shapeString(b));
  }
  const Shape aBatch(a.begin(), a.end() - 2), bBatch(b.begin(), b.end() - 2);
  const size_t rank = std::max(aBatch.size(), bBatch.size());
  auto dim = [rank](const Shape& batch, size_t d) {  // right-aligned, 1 where absent
    const size_t offset = rank - batch.size();
    return d < offset ? int64_t{1} : batch[d - offset];
  };
  Shape outBatch(rank);
  for (size_t d = 0; d < rank; ++d) {
    const int64_t x = dim(aBatch, d), y = dim(bBatch, d);
    if (x != y && x != 1 && y != 1) {
      throw CompileError(ctx.where() + ": batch dimensions do not broadcast: " + shapeString(a) + " x " +
                         shapeString(b));
    }
    outBatch[d] = std::max(x, y);
  }
  p.groups = static_cast<uint64_t>(elementCount(outBatch));
  p.lhsGroups = static_cast<uint64_t>(elementCount(aBatch));
  p.rhsGroups = static_cast<uint64_t>(elementCount(bBatch));
  p.lhsGroupOf.resize(p.groups);
  p.rhsGroupOf.resize(p.groups);
  for (uint64_t g = 0; g < p.groups; ++g) {
    uint64_t rest = g, lhs = 0, rhs = 0, lhsScale = 1, rhsScale = 1;
    for (size_t d = rank; d-- > 0;) {
      const uint64_t index = rest % static_cast<uint64_t>(outBatch[d]);
      rest /= static_cast<uint64_t>(outBatch[d]);
      const uint64_t x = static_cast<uint64_t>(dim(aBatch, d)), y = static_cast<uint64_t>(dim(bBatch, d));
      lhs += (x == 1 ? 0 : index) * lhsScale;
      rhs += (y == 1 ? 0 : index) * rhsScale;
      lhsScale *= x;
      rhsScale *= y;
    }
    p.lhsGroupOf[g] = lhs;
    p.rhsGroupOf[g] = rhs;
  }
  // One rhs for every group and a full lhs: the groups are just more rows of one product.
  if (p.rhsGroups == 1 && p.lhsGroups == p.groups && p.groups > 1) {
    p.m *= p.groups;
    p.groups = 1;
    p.lhsGroups = 1;
    p.lhsGroupOf = {0};
    p.rhsGroupOf = {0};
  }
  return p;
}

MatMulOperandView operandView(LoweringContext& ctx, size_t input, const std::vector<uint64_t>& groupOf,
                              uint64_t groupElements, uint64_t rowStride, uint64_t colStride) {
  MatMulOperandView view;
  view.dtype = ctx.inputInfo(input).dtype;
  view.constant = ctx.constantInput(input);
  if (view.constant == nullptr) view.var = ctx.input(input).var;
  for (uint64_t g : groupOf) view.groupOffset.push_back(g * groupElements);
  view.rowStride = rowStride;
  view.colStride = colStride;
  return view;
}

double floatAttributeOr(const LoweringContext& ctx, const std::string& name, double fallback) {
  const onnx::AttributeProto* attr = ctx.attribute(name);
  return attr ? static_cast<double>(attr->f()) : fallback;
}

// Plans and emits the product of `emission`'s operands; an empty product is a constant.
void lowerProduct(LoweringContext& ctx, MatMulProblem problem, MatMulEmission emission) {
  const TensorInfo& out = ctx.outputInfo(0);
  if (problem.groups * problem.m * problem.n == 0 || problem.k == 0) {
    // Sums over nothing: zeros (then alpha and beta do not matter for an empty K only if
    // there is no bias; a bias over an empty K is not worth a device program).
    if (emission.epilogue.bias && problem.groups * problem.m * problem.n != 0) {
      throw CompileError(ctx.where() + ": a Gemm with an empty inner dimension and a bias is not supported");
    }
    ConstTensor zeros{out.dtype, out.shape, std::vector<uint8_t>(static_cast<size_t>(elementCount(out.shape)) *
                                                                 dtypeSize(out.dtype))};
    ctx.setConstantOutput(0, std::move(zeros));
    return;
  }
  GraphBuilder& b = ctx.builder();
  if (!problem.lhsConstant) problem.lhsSourceElementsPerTile = mostElementsOnATile(b.variable(emission.lhs.var));
  if (!problem.rhsConstant) problem.rhsSourceElementsPerTile = mostElementsOnATile(b.variable(emission.rhs.var));
  if (emission.epilogue.bias && !problem.biasConstant) {
    problem.biasSourceElementsPerTile = mostElementsOnATile(b.variable(emission.epilogue.bias->var));
  }
  // Swapped operands (docs/matmul-planner.md): the AMP then streams rows of the rhs along k,
  // which is cheap to lay out when the rhs is a constant (any order at compile time) or a
  // run-time view contiguous along k (Gemm's transB); a run-time bias would have to be
  // gathered element by element in the transposed order, so it rules the swap out.
  problem.swapAllowed = problem.unit == MatMulUnit::Amp &&
                        (emission.rhs.constant != nullptr ||
                         (emission.rhs.rowStride == 1 && emission.rhs.rowOffsets.empty())) &&
                        !(problem.hasBias && !problem.biasConstant);
  MatMulPlan plan;
  try {
    const auto constantBytes = [](const MatMulOperandView& v) { return v.constant ? v.constant->bytes.size() : 0; };
    plan = planMatMul(problem, ctx.target(),
                      productOptions(ctx.model(), ctx.target(), constantBytes(emission.lhs) + constantBytes(emission.rhs)));
  } catch (const CompileError& e) {
    throw CompileError(ctx.where() + ": " + e.what());
  }
  emission.name = ctx.name();
  emission.outputName = ctx.outputVariableName(0);
  emission.tidyOutput = true;
  emission.firstTile = firstTileAvoidingTileZero(plan, ctx.target());
  emission.outputShape = out.shape;
  const uint32_t var = emitMatMul(b, plan, emission);
  ctx.setOutput(0, {var, out.dtype, out.shape});
}

MatMulProblem problemFor(const BatchedProduct& shape, DType lhs, DType rhs, const ProductTypes& types, DType output,
                         bool lhsConstant, bool rhsConstant) {
  MatMulProblem problem;
  problem.groups = shape.groups;
  problem.m = shape.m;
  problem.k = shape.k;
  problem.n = shape.n;
  problem.lhsType = lhs;
  problem.rhsType = rhs;
  problem.partialsType = types.partials;
  problem.outputType = output;
  problem.unit = types.unit;
  problem.lhsConstant = lhsConstant;
  problem.rhsConstant = rhsConstant;
  problem.lhsGroups = shape.lhsGroups;
  problem.rhsGroups = shape.rhsGroups;
  return problem;
}

void lowerMatMul(LoweringContext& ctx) {
  const BatchedProduct shape = batchedProduct(ctx, ctx.inputInfo(0).shape, ctx.inputInfo(1).shape);
  const DType input = ctx.inputInfo(0).dtype;
  const ProductTypes types = productTypes(ctx, input);
  MatMulEmission emission;
  emission.lhs = operandView(ctx, 0, shape.lhsGroupOf, shape.m * shape.k, shape.k, 1);
  emission.rhs = operandView(ctx, 1, shape.rhsGroupOf, shape.k * shape.n, shape.n, 1);
  emission.productCodelet = types.codelet;
  lowerProduct(ctx,
               problemFor(shape, input, ctx.inputInfo(1).dtype, types, ctx.outputInfo(0).dtype,
                          emission.lhs.constant != nullptr, emission.rhs.constant != nullptr),
               std::move(emission));
}

void lowerGemm(LoweringContext& ctx) {
  const Shape& a = ctx.inputInfo(0).shape;
  const Shape& b = ctx.inputInfo(1).shape;
  if (a.size() != 2 || b.size() != 2) throw CompileError(ctx.where() + ": Gemm operands must be matrices");
  const bool transA = ctx.intAttribute("transA", 0) != 0, transB = ctx.intAttribute("transB", 0) != 0;
  BatchedProduct shape;
  shape.m = static_cast<uint64_t>(transA ? a[1] : a[0]);
  shape.k = static_cast<uint64_t>(transA ? a[0] : a[1]);
  shape.n = static_cast<uint64_t>(transB ? b[0] : b[1]);
  if (static_cast<uint64_t>(transB ? b[1] : b[0]) != shape.k) {
    throw CompileError(ctx.where() + ": inner dimensions differ: " + shapeString(a) + " x " + shapeString(b));
  }
  shape.lhsGroupOf = shape.rhsGroupOf = {0};
  const DType input = ctx.inputInfo(0).dtype;
  const ProductTypes types = productTypes(ctx, input);
  MatMulEmission emission;
  emission.lhs = transA ? operandView(ctx, 0, {0}, 0, 1, shape.m) : operandView(ctx, 0, {0}, 0, shape.k, 1);
  emission.rhs = transB ? operandView(ctx, 1, {0}, 0, 1, shape.k) : operandView(ctx, 1, {0}, 0, shape.n, 1);
  emission.productCodelet = types.codelet;
  emission.epilogue.alpha = floatAttributeOr(ctx, "alpha", 1.0);
  emission.epilogue.beta = floatAttributeOr(ctx, "beta", 1.0);
  MatMulProblem problem = problemFor(shape, input, ctx.inputInfo(1).dtype, types, ctx.outputInfo(0).dtype,
                                     emission.lhs.constant != nullptr, emission.rhs.constant != nullptr);
  if (ctx.hasInput(2) && emission.epilogue.beta != 0.0) {
    const Shape& c = ctx.inputInfo(2).shape;
    if (c.size() > 2) throw CompileError(ctx.where() + ": C must have rank 2 or less, not " + shapeString(c));
    const int64_t cm = c.size() == 2 ? c[0] : 1, cn = c.empty() ? 1 : c.back();
    if ((cm != 1 && static_cast<uint64_t>(cm) != shape.m) || (cn != 1 && static_cast<uint64_t>(cn) != shape.n)) {
      throw CompileError(ctx.where() + ": C of shape " + shapeString(c) + " does not broadcast to [" +
                         std::to_string(shape.m) + "," + std::to_string(shape.n) + "]");
    }
    emission.epilogue.bias = operandView(ctx, 2, {0}, 0, cm == 1 ? 0 : static_cast<uint64_t>(cn), cn == 1 ? 0 : 1);
    problem.hasBias = true;
    problem.biasConstant = emission.epilogue.bias->constant != nullptr;
    problem.biasElements = static_cast<uint64_t>(elementCount(c));
  }
  problem.scaled = emission.epilogue.alpha != 1.0 || (problem.hasBias && emission.epilogue.beta != 1.0);
  lowerProduct(ctx, problem, std::move(emission));
}

// A zero point known at compile time, the same for every row (or column); 0 when absent
// or known only at run time (then zeroPointField brings it to the tiles).
int64_t uniformZeroPoint(const LoweringContext& ctx, size_t input) {
  if (!ctx.hasInput(input)) return 0;
  const ConstTensor* zero = ctx.constantInput(input);
  if (zero == nullptr) return 0;
  const std::vector<int64_t> values = zero->toInts();
  if (values.empty()) return 0;
  if (std::any_of(values.begin(), values.end(), [&](int64_t v) { return v != values.front(); })) {
    throw CompileError(ctx.where() + ": per-row or per-column zero points that differ are not supported");
  }
  return values.front();
}

// A run-time zero point: its single element, for the product vertices' zero-point field.
std::optional<Slice> zeroPointField(LoweringContext& ctx, size_t input) {
  if (!ctx.hasInput(input) || ctx.constantInput(input) != nullptr) return std::nullopt;
  if (elementCount(ctx.inputInfo(input).shape) != 1) {
    throw CompileError(ctx.where() + ": a per-row or per-column zero point known only at run time is not supported");
  }
  return Slice{ctx.input(input).var, 0, 1};
}

void lowerMatMulInteger(LoweringContext& ctx) {
  const BatchedProduct shape = batchedProduct(ctx, ctx.inputInfo(0).shape, ctx.inputInfo(1).shape);
  const DType lhs = ctx.inputInfo(0).dtype, rhs = ctx.inputInfo(1).dtype;
  const ProductTypes types{MatMulUnit::Vector, DType::Int32, matMulIntegerCodeletName(lhs, rhs)};
  MatMulEmission emission;
  emission.lhs = operandView(ctx, 0, shape.lhsGroupOf, shape.m * shape.k, shape.k, 1);
  emission.rhs = operandView(ctx, 1, shape.rhsGroupOf, shape.k * shape.n, shape.n, 1);
  emission.productCodelet = types.codelet;
  emission.productExtraScalars = {uniformZeroPoint(ctx, 2), uniformZeroPoint(ctx, 3)};
  emission.productBroadcastFields = {zeroPointField(ctx, 2), zeroPointField(ctx, 3)};
  lowerProduct(ctx,
               problemFor(shape, lhs, rhs, types, DType::Int32, emission.lhs.constant != nullptr,
                          emission.rhs.constant != nullptr),
               std::move(emission));
}

}  // namespace

void registerMatMulLowerings(LoweringRegistry& registry) {
  const std::vector<DType> productTypesList = {DType::Float32, DType::Float16, DType::Int32, DType::UInt32,
                                               DType::Int64};
  registry.add({"MatMul", 1, kNewestOpset, productTypesList, kMatMulMapping, lowerMatMul});
  registry.add({"Gemm", 1, kNewestOpset, productTypesList, kMatMulMapping, lowerGemm});
  registry.add({"MatMulInteger", 10, kNewestOpset, {DType::Int8, DType::UInt8}, kMatMulMapping, lowerMatMulInteger});
}

}  // namespace ipusim
