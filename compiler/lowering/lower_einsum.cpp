// Einsum. A contraction of two operands (some label summed away) of a type the matrix
// product handles is a planned batch matrix product (compiler/lowering/matmul_lowering.h):
// labels in both operands and the output are batch groups, labels of one operand and the
// output are rows (lhs) or columns (rhs), summed labels are the inner dimension, each read
// through gathered offsets (diagonals and broadcasts included), then one indexed copy puts
// the [batch, rows, columns] result in the equation's output order when that differs.
// Everything else runs in a product space: every label (letter, or a dimension hidden in
// "...") is one dimension, output labels first, contracted labels after. Each operand is read as a
// strided view of that space (a repeated label adds its strides: a diagonal; a missing
// label has stride 0: a broadcast), operands are multiplied pairwise by indexed steps, and
// the contracted labels are summed by the reduction plan. A single operand with no
// contraction is one indexed copy (transpose, diagonal). This covers matmul-like and batch
// matmul contractions, transposes, traces and diagonals, reductions over a letter and outer
// products; the product space is materialised, so it is bounded (kMaxProductElements).
#include <algorithm>
#include <cctype>
#include <map>

#include "compiler/compiler.h"
#include "compiler/lowering/indexed_step.h"
#include "compiler/lowering/lowering_registry.h"
#include "compiler/lowering/matmul_lowering.h"
#include "compiler/lowering/opset.h"
#include "compiler/lowering/reduction.h"
#include "compiler/planning/matmul_planner.h"
#include "sim/codelets/matmul_cost.h"

namespace ipusim {

namespace {

const std::vector<DType> kEinsumTypes = {DType::Float32, DType::Float16, DType::Int8,  DType::UInt8,
                                         DType::Int32,   DType::UInt32,  DType::Int64};

// Bound on the materialised product space (assumption: 16 Mi elements, 64 MiB of fp32
// spread over the tiles; a bigger contraction is a MatMul's job).
constexpr uint64_t kMaxProductElements = uint64_t{1} << 24;

// Labels: letters as themselves; the k-th dimension covered by "..." (counted from the
// right) as -1 - k.
using Label = int;

struct Equation {
  std::vector<std::vector<Label>> inputs;  // per operand, its labels in dimension order
  std::vector<Label> output;
};

[[noreturn]] void fail(const LoweringContext& ctx, const std::string& why) {
  throw CompileError(ctx.where() + ": Einsum " + why);
}

// One term's labels; "..." expands to `rank - letters` ellipsis labels.
std::vector<Label> parseTerm(const LoweringContext& ctx, const std::string& term, int64_t rank, bool isOutput,
                             int64_t ellipsisRank) {
  std::vector<Label> letters;
  int64_t ellipsisAt = -1;
  for (size_t i = 0; i < term.size(); ++i) {
    const char c = term[i];
    if (std::isspace(static_cast<unsigned char>(c))) continue;
    if (c == '.') {
      if (term.compare(i, 3, "...") != 0 || ellipsisAt >= 0) fail(ctx, "equation has a malformed '...'");
      ellipsisAt = static_cast<int64_t>(letters.size());
      i += 2;
      continue;
    }
    if (!std::isalpha(static_cast<unsigned char>(c))) fail(ctx, std::string("equation has an invalid character '") + c + "'");
    letters.push_back(c);
  }
  const int64_t hidden = isOutput ? (ellipsisAt >= 0 ? ellipsisRank : 0) : rank - static_cast<int64_t>(letters.size());
  if (!isOutput && (hidden < 0 || (ellipsisAt < 0 && hidden != 0))) {
    fail(ctx, "term '" + term + "' does not match its operand's rank " + std::to_string(rank));
  }
  if (ellipsisAt < 0) return letters;
  std::vector<Label> labels(letters.begin(), letters.begin() + ellipsisAt);
  for (int64_t k = hidden; k-- > 0;) labels.push_back(static_cast<Label>(-1 - k));
  labels.insert(labels.end(), letters.begin() + ellipsisAt, letters.end());
  return labels;
}

Equation parseEquation(const LoweringContext& ctx, const std::string& text) {
  Equation eq;
  const auto arrow = text.find("->");
  const std::string lhs = text.substr(0, arrow);
  std::vector<std::string> terms;
  for (size_t start = 0;;) {
    const auto comma = lhs.find(',', start);
    terms.push_back(lhs.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  if (terms.size() != ctx.inputCount()) {
    fail(ctx, "equation has " + std::to_string(terms.size()) + " terms for " + std::to_string(ctx.inputCount()) +
                  " inputs");
  }
  int64_t ellipsisRank = 0;
  for (size_t i = 0; i < terms.size(); ++i) {
    eq.inputs.push_back(
        parseTerm(ctx, terms[i], static_cast<int64_t>(ctx.inputInfo(i).shape.size()), false, 0));
    for (Label l : eq.inputs.back()) ellipsisRank = std::max<int64_t>(ellipsisRank, l < 0 ? -l : 0);
  }
  if (arrow != std::string::npos) {
    eq.output = parseTerm(ctx, text.substr(arrow + 2), 0, true, ellipsisRank);
  } else {
    // Implicit output: the ellipsis dimensions, then the letters used once, alphabetically.
    std::map<Label, int> uses;
    for (const auto& labels : eq.inputs)
      for (Label l : labels) ++uses[l];
    for (int64_t k = ellipsisRank; k-- > 0;) eq.output.push_back(static_cast<Label>(-1 - k));
    for (const auto& [label, count] : uses)
      if (label >= 0 && count == 1) eq.output.push_back(label);
  }
  return eq;
}

std::string typed(const std::string& op, DType dtype) { return op + "<" + std::string(dtypeName(dtype)) + ">"; }

// Each operand's element stride per label: the sum over the label's occurrences (a
// diagonal), 0 when absent or a broadcast size-1 dimension.
std::map<Label, uint64_t> labelStrides(const std::vector<Label>& labels, const Shape& shape) {
  std::map<Label, uint64_t> strides;
  uint64_t stride = 1;
  for (size_t d = shape.size(); d-- > 0;) {
    if (shape[d] != 1) strides[labels[d]] += stride;
    stride *= static_cast<uint64_t>(shape[d]);
  }
  return strides;
}

// Offsets of every coordinate of `labels` (row-major in their order) through `strides`.
std::vector<uint64_t> offsetsOf(const std::vector<Label>& labels, std::map<Label, int64_t>& sizes,
                                const std::map<Label, uint64_t>& strides) {
  std::vector<uint64_t> offsets{0};
  for (Label l : labels) {
    const auto it = strides.find(l);
    const uint64_t stride = it == strides.end() ? 0 : it->second;
    std::vector<uint64_t> next;
    next.reserve(offsets.size() * static_cast<size_t>(sizes[l]));
    for (uint64_t base : offsets)
      for (int64_t c = 0; c < sizes[l]; ++c) next.push_back(base + static_cast<uint64_t>(c) * stride);
    offsets = std::move(next);
  }
  return offsets;
}

// The two-operand contraction as a batch matrix product; false when it is not one (or the
// element type has no matrix product), leaving it to the product space.
bool lowerAsMatMul(LoweringContext& ctx, const Equation& eq, std::map<Label, int64_t>& sizes) {
  const DType dtype = ctx.outputInfo(0).dtype;
  MatMulUnit unit;
  DType partials = dtype;
  std::string codelet;
  if (dtype == DType::Float32 || dtype == DType::Float16) {
    unit = MatMulUnit::Amp;
    partials = dtype == DType::Float16 ? ctx.model().matMulPartials : DType::Float32;
    codelet = ampMatMulCodeletName(dtype, partials);
  } else if (dtype == DType::Int32 || dtype == DType::UInt32 || dtype == DType::Int64) {
    unit = MatMulUnit::Vector;
    codelet = vectorMatMulCodeletName(dtype);
  } else {
    return false;
  }
  if (eq.inputs.size() != 2) return false;
  auto has = [](const std::vector<Label>& labels, Label l) {
    return std::find(labels.begin(), labels.end(), l) != labels.end();
  };
  std::vector<Label> batch, rows, cols, inner;
  for (Label l : eq.output) {
    const bool inA = has(eq.inputs[0], l), inB = has(eq.inputs[1], l);
    (inA && inB ? batch : inA ? rows : cols).push_back(l);
  }
  for (const auto& labels : eq.inputs)
    for (Label l : labels)
      if (!has(eq.output, l) && !has(inner, l)) inner.push_back(l);
  uint64_t groups = 1, m = 1, n = 1, k = 1;
  for (Label l : batch) groups *= static_cast<uint64_t>(sizes[l]);
  for (Label l : rows) m *= static_cast<uint64_t>(sizes[l]);
  for (Label l : cols) n *= static_cast<uint64_t>(sizes[l]);
  for (Label l : inner) k *= static_cast<uint64_t>(sizes[l]);
  if (inner.empty() || groups * m * n * k == 0) return false;

  MatMulEmission emission;
  MatMulOperandView* views[] = {&emission.lhs, &emission.rhs};
  for (size_t i = 0; i < 2; ++i) {
    const auto strides = labelStrides(eq.inputs[i], ctx.inputInfo(i).shape);
    MatMulOperandView& view = *views[i];
    view.dtype = dtype;
    view.constant = ctx.constantInput(i);
    if (!view.constant) view.var = ctx.input(i).var;
    view.groupOffset = offsetsOf(batch, sizes, strides);
    view.rowOffsets = offsetsOf(i == 0 ? rows : inner, sizes, strides);
    view.colOffsets = offsetsOf(i == 0 ? inner : cols, sizes, strides);
  }
  MatMulProblem problem;
  problem.groups = groups;
  problem.m = m;
  problem.k = k;
  problem.n = n;
  problem.lhsType = problem.rhsType = dtype;
  problem.partialsType = partials;
  problem.outputType = dtype;
  problem.unit = unit;
  problem.lhsConstant = emission.lhs.constant != nullptr;
  problem.rhsConstant = emission.rhs.constant != nullptr;
  auto distinct = [](std::vector<uint64_t> v) {
    std::sort(v.begin(), v.end());
    return static_cast<uint64_t>(std::unique(v.begin(), v.end()) - v.begin());
  };
  problem.lhsGroups = distinct(emission.lhs.groupOffset);
  problem.rhsGroups = distinct(emission.rhs.groupOffset);
  GraphBuilder& b = ctx.builder();
  if (!problem.lhsConstant) problem.lhsSourceElementsPerTile = mostElementsOnATile(b.variable(emission.lhs.var));
  if (!problem.rhsConstant) problem.rhsSourceElementsPerTile = mostElementsOnATile(b.variable(emission.rhs.var));
  MatMulPlan plan;
  try {
    plan = planMatMul(problem, ctx.target());
  } catch (const CompileError& e) {
    throw CompileError(ctx.where() + ": " + e.what());
  }
  // The product comes out as [batch, rows, cols]; the output's label order may differ.
  std::vector<Label> produced = batch;
  produced.insert(produced.end(), rows.begin(), rows.end());
  produced.insert(produced.end(), cols.begin(), cols.end());
  const TensorInfo& out = ctx.outputInfo(0);
  const bool inOrder = produced == eq.output;
  emission.name = ctx.name();
  emission.outputName = inOrder ? ctx.outputVariableName(0) : ctx.outputVariableName(0) + "/product";
  emission.outputShape = inOrder ? out.shape : Shape{static_cast<int64_t>(groups * m * n)};
  emission.productCodelet = codelet;
  const uint32_t product = emitMatMul(b, plan, emission);
  if (inOrder) {
    ctx.setOutput(0, {product, dtype, out.shape});
    return true;
  }
  // out[labels] reads product[batch, rows, cols]: each output label's stride there.
  std::map<Label, uint64_t> productStrides;
  uint64_t stride = 1;
  for (size_t i = produced.size(); i-- > 0;) {
    productStrides[produced[i]] = stride;
    stride *= static_cast<uint64_t>(sizes[produced[i]]);
  }
  Shape outShape;
  std::vector<uint64_t> strides;
  for (Label l : eq.output) {
    outShape.push_back(sizes[l]);
    strides.push_back(productStrides[l]);
  }
  const TensorValue productValue{product, dtype, {static_cast<int64_t>(groups * m * n)}};
  TensorValue y = indexedStep(b, ctx.outputVariableName(0), typed("IndexedCopy", dtype),
                              {viewOperand(productValue, outShape, strides)}, dtype, outShape,
                              linearMapping(groups * m * n, dtype, b.target()));
  y.shape = out.shape;
  ctx.setOutput(0, y);
  return true;
}

void lowerEinsum(LoweringContext& ctx) {
  GraphBuilder& b = ctx.builder();
  const auto* attr = ctx.attribute("equation");
  if (!attr) fail(ctx, "has no equation");
  const Equation eq = parseEquation(ctx, attr->s());
  const TensorInfo& out = ctx.outputInfo(0);
  const DType dtype = out.dtype;

  // Label sizes (ellipsis dimensions of size 1 broadcast, letters must agree).
  std::map<Label, int64_t> sizes;
  for (size_t i = 0; i < eq.inputs.size(); ++i) {
    const Shape& shape = ctx.inputInfo(i).shape;
    for (size_t d = 0; d < shape.size(); ++d) {
      const Label l = eq.inputs[i][d];
      auto [it, fresh] = sizes.try_emplace(l, shape[d]);
      if (fresh || it->second == shape[d]) continue;
      if (l < 0 && (it->second == 1 || shape[d] == 1)) {
        it->second = std::max(it->second, shape[d]);
        continue;
      }
      fail(ctx, "label has sizes " + std::to_string(it->second) + " and " + std::to_string(shape[d]));
    }
  }
  for (Label l : eq.output) {
    if (!sizes.count(l)) fail(ctx, "output label does not appear in any input");
    if (std::count(eq.output.begin(), eq.output.end(), l) > 1) fail(ctx, "output repeats a label");
  }
  if (lowerAsMatMul(ctx, eq, sizes)) return;

  // The product space: output labels, then the contracted ones in order of appearance.
  std::vector<Label> product = eq.output;
  for (const auto& labels : eq.inputs)
    for (Label l : labels)
      if (std::find(product.begin(), product.end(), l) == product.end()) product.push_back(l);
  Shape productShape;
  uint64_t productElements = 1;
  for (Label l : product) {
    productShape.push_back(sizes[l]);
    productElements *= static_cast<uint64_t>(sizes[l]);
  }
  if (productElements > kMaxProductElements) {
    fail(ctx, "needs a product space of " + std::to_string(productElements) + " elements, more than the " +
                  std::to_string(kMaxProductElements) + " ipusim materialises (use MatMul for large contractions)");
  }
  Shape outShape;
  for (Label l : eq.output) outShape.push_back(sizes[l]);
  if (elementCount(outShape) != elementCount(out.shape)) fail(ctx, "output shape does not match the equation");

  // Each operand as a strided view of the product space.
  std::vector<IndexedOperand> operands;
  for (size_t i = 0; i < eq.inputs.size(); ++i) {
    const TensorValue value = ctx.input(i);
    if (value.dtype != dtype) fail(ctx, "inputs must share the output's element type");
    std::vector<uint64_t> strides(product.size(), 0);
    uint64_t stride = 1;
    for (size_t d = value.shape.size(); d-- > 0;) {
      const size_t p = static_cast<size_t>(std::find(product.begin(), product.end(), eq.inputs[i][d]) - product.begin());
      if (value.shape[d] != 1) strides[p] += stride;  // a size-1 (broadcast) dimension reads element 0
      stride *= static_cast<uint64_t>(value.shape[d]);
    }
    operands.push_back(viewOperand(value, productShape, strides));
  }
  const std::string name = ctx.outputVariableName(0);
  const size_t contracted = product.size() - eq.output.size();
  const std::string productName = contracted > 0 ? name + "/product" : name;
  // float16 products are kept in float32 until the sum (as the AMP accumulates half
  // products in float); other types multiply in their own type.
  const DType productType = dtype == DType::Float16 && contracted > 0 ? DType::Float32 : dtype;
  const auto productMapping = linearMapping(productElements, productType, b.target());
  TensorValue acc;
  if (operands.size() == 1) {
    acc = indexedStep(b, productName, typed("IndexedCopy", dtype), operands, dtype, productShape, productMapping);
  } else {
    for (size_t i = 1; i < operands.size(); ++i) {
      const IndexedOperand left = i == 1 ? operands[0] : broadcastOperand(acc, productShape);
      const std::string stepName = i + 1 == operands.size() ? productName : name + "/product" + std::to_string(i);
      const DType stepType = i + 1 == operands.size() && contracted == 0 ? dtype : productType;
      const std::vector<IndexedOperand> pair{left, operands[i]};
      acc = indexedStep(b, stepName, indexedCodeletName("IndexedMul", pair, stepType), pair, stepType, productShape,
                        productMapping);
    }
  }
  if (contracted == 0) {
    acc.shape = out.shape;
    ctx.setOutput(0, acc);
    return;
  }
  ReduceSpec spec;
  spec.op = codelets::ReduceOp::Add;
  for (size_t d = eq.output.size(); d < product.size(); ++d) spec.axes.push_back(static_cast<int64_t>(d));
  spec.outDtype = dtype;
  ctx.setOutput(0, reduceTensor(b, name, acc, spec, out.shape));
}

}  // namespace

void registerEinsumLowerings(LoweringRegistry& registry) {
  registry.add({"Einsum", 12, kNewestOpset, kEinsumTypes,
                "two-operand contractions as a planned batch matrix product (see MatMul) of gathered operand views, "
                "then an indexed copy into the output's label order; otherwise operands read as strided views of "
                "the label product space (linearly mapped), multiplied by indexed steps, summed by the reduction plan",
                lowerEinsum});
}

}  // namespace ipusim
