// Generator and shape ops. Their results are usually known at compile time: Shape and Size
// from the static shapes, ConstantOfShape and EyeLike from attributes and shapes, Range and
// NonZero when their inputs are constant. Those become constants (which is what makes
// Shape-driven subgraphs static); only Range with run-time bounds runs on the device.
#include <cmath>

#include "compiler/import/onnx_import.h"
#include "compiler/lowering/dynamic_layout.h"
#include "compiler/lowering/elementwise.h"
#include "compiler/lowering/index_map.h"
#include "compiler/lowering/lowering_registry.h"
#include "compiler/lowering/opset.h"

namespace ipusim {

namespace {

ConstTensor int64Tensor(const Shape& shape, const std::vector<int64_t>& values) {
  ConstTensor t{DType::Int64, shape, std::vector<uint8_t>(values.size() * sizeof(int64_t))};
  std::memcpy(t.bytes.data(), values.data(), t.bytes.size());
  return t;
}

void lowerShape(LoweringContext& ctx) {
  const Shape& shape = ctx.inputInfo(0).shape;
  const int64_t rank = static_cast<int64_t>(shape.size());
  // Opset 15's start/end: negative counts from the end, both clamped into [0, rank].
  auto clampAxis = [rank](int64_t axis) { return std::clamp<int64_t>(axis < 0 ? axis + rank : axis, 0, rank); };
  const int64_t start = clampAxis(ctx.intAttribute("start", 0));
  const int64_t end = ctx.attribute("end") ? clampAxis(ctx.intAttribute("end", rank)) : rank;
  std::vector<int64_t> dims;
  for (int64_t d = start; d < end; ++d) dims.push_back(shape[static_cast<size_t>(d)]);
  ctx.setConstantOutput(0, int64Tensor({static_cast<int64_t>(dims.size())}, dims));
}

void lowerSize(LoweringContext& ctx) {
  ctx.setConstantOutput(0, int64Tensor({}, {elementCount(ctx.inputInfo(0).shape)}));
}

void lowerConstantOfShape(LoweringContext& ctx) {
  const TensorInfo& out = ctx.outputInfo(0);
  ConstTensor value = scalarConstant(out.dtype, 0.0);
  if (const auto* attr = ctx.attribute("value")) {
    value = constTensorFromProto(attr->t(), ctx.where() + ": value");
    if (value.elements() != 1 || value.dtype != out.dtype) {
      throw CompileError(ctx.where() + ": value must be one element of the output's type");
    }
  }
  ConstTensor result{out.dtype, out.shape, {}};
  result.bytes.reserve(static_cast<size_t>(elementCount(out.shape)) * value.bytes.size());
  for (int64_t i = 0; i < elementCount(out.shape); ++i)
    result.bytes.insert(result.bytes.end(), value.bytes.begin(), value.bytes.end());
  ctx.setConstantOutput(0, std::move(result));
}

void lowerEyeLike(LoweringContext& ctx) {
  const TensorInfo& out = ctx.outputInfo(0);
  if (out.shape.size() != 2) throw CompileError(ctx.where() + ": the input must be 2-d");
  const int64_t rows = out.shape[0], cols = out.shape[1], k = ctx.intAttribute("k", 0);
  ConstTensor result{out.dtype, out.shape, std::vector<uint8_t>(static_cast<size_t>(rows * cols) * dtypeSize(out.dtype), 0)};
  for (int64_t r = 0; r < rows; ++r)
    if (r + k >= 0 && r + k < cols) setConstElement(result, r * cols + r + k, int64_t{1});
  ctx.setConstantOutput(0, std::move(result));
}

// Range: a constant when the bounds are, else the Range codelet (which checks that the
// run-time bounds give the statically inferred length).
void lowerRange(LoweringContext& ctx) {
  const TensorInfo& out = ctx.outputInfo(0);
  const int64_t total = elementCount(out.shape);
  const ConstTensor *start = ctx.constantInput(0), *limit = ctx.constantInput(1), *delta = ctx.constantInput(2);
  if (start && limit && delta) {
    ConstTensor result{out.dtype, out.shape, std::vector<uint8_t>(static_cast<size_t>(total) * dtypeSize(out.dtype))};
    if (isFloat(out.dtype)) {
      const double a = constantRealAt(*start), b = constantRealAt(*limit), d = constantRealAt(*delta);
      if (d == 0) throw CompileError(ctx.where() + ": delta is 0");
      if (std::max<int64_t>(0, static_cast<int64_t>(std::ceil((b - a) / d))) != total) {
        throw CompileError(ctx.where() + ": the range's length disagrees with the inferred output shape");
      }
      for (int64_t i = 0; i < total; ++i) setConstElement(result, i, a + static_cast<double>(i) * d);
    } else {
      const int64_t a = start->intAt(0), d = delta->intAt(0), span = limit->intAt(0) - a;
      if (d == 0) throw CompileError(ctx.where() + ": delta is 0");
      const int64_t n = std::max<int64_t>(0, span / d + (span % d != 0 && (span < 0) == (d < 0) ? 1 : 0));
      if (n != total) throw CompileError(ctx.where() + ": the range's length disagrees with the inferred output shape");
      for (int64_t i = 0; i < total; ++i) setConstElement(result, i, a + i * d);
    }
    ctx.setConstantOutput(0, std::move(result));
    return;
  }
  DynamicLowering dynamic;
  dynamic.place = [&ctx](uint32_t exchange, const std::vector<TileSpan>& spans) {
    return std::vector<TileOperand>{placeWholeNearOutput(ctx, exchange, "start", ctx.input(0), spans),
                                    placeWholeNearOutput(ctx, exchange, "limit", ctx.input(1), spans),
                                    placeWholeNearOutput(ctx, exchange, "delta", ctx.input(2), spans)};
  };
  dynamic.scalarsOf = [total](const TileSpan& chunk, const TileSpan&) {
    return std::vector<int64_t>{static_cast<int64_t>(chunk.first), total};
  };
  lowerDynamic(ctx, codeletName("Range", out.dtype), std::move(dynamic));
}

// NonZero: only when its input is known at compile time (the output's length is the count
// of non-zero elements).
void lowerNonZero(LoweringContext& ctx) {
  const ConstTensor* input = ctx.constantInput(0);
  if (!input) {
    throw CompileError(ctx.where() + ": NonZero of a run-time tensor has a data-dependent output shape; only a "
                       "constant input is supported");
  }
  const Shape& shape = input->shape;
  const std::vector<int64_t> strides = stridesOf(shape);
  std::vector<int64_t> flat;
  const size_t size = dtypeSize(input->dtype);
  for (int64_t i = 0; i < input->elements(); ++i) {
    const uint8_t* p = input->bytes.data() + static_cast<size_t>(i) * size;
    bool nonZero = false;
    if (input->dtype == DType::Float32 || input->dtype == DType::Float16) {
      nonZero = constantRealAt(*input, i) != 0;  // -0.0 is zero, NaN is not
    } else {
      for (size_t k = 0; k < size; ++k) nonZero = nonZero || p[k] != 0;
    }
    if (nonZero) flat.push_back(i);
  }
  const int64_t count = static_cast<int64_t>(flat.size()), rank = static_cast<int64_t>(shape.size());
  if (ctx.outputInfo(0).shape != Shape{rank, count}) {
    throw CompileError(ctx.where() + ": " + std::to_string(count) + " non-zero elements disagree with the inferred shape " +
                       shapeString(ctx.outputInfo(0).shape));
  }
  std::vector<int64_t> coordinates(static_cast<size_t>(rank * count));
  for (int64_t n = 0; n < count; ++n)
    for (int64_t d = 0; d < rank; ++d)
      coordinates[static_cast<size_t>(d * count + n)] = flat[static_cast<size_t>(n)] / strides[static_cast<size_t>(d)] %
                                                       shape[static_cast<size_t>(d)];
  ctx.setConstantOutput(0, int64Tensor({rank, count}, coordinates));
}

const char* const kConstantMapping = "compile-time constant (no device work)";

}  // namespace

void registerGeneratorLowerings(LoweringRegistry& registry) {
  const std::vector<DType> all = allDTypes();
  registry.add({"Shape", 1, kNewestOpset, all, kConstantMapping, lowerShape});
  registry.add({"Size", 1, kNewestOpset, all, kConstantMapping, lowerSize});
  registry.add({"ConstantOfShape", 9, kNewestOpset, {DType::Int64}, kConstantMapping, lowerConstantOfShape});
  registry.add({"EyeLike", 9, kNewestOpset, all, kConstantMapping, lowerEyeLike});
  registry.add({"Range", 11, kNewestOpset, {DType::Float32, DType::Float16, DType::Int32, DType::Int64},
                "constant bounds: a compile-time constant; run-time bounds: output mapped linearly, Range vertices",
                lowerRange});
  registry.add({"NonZero", 9, kNewestOpset, all, "constant input only: a compile-time constant", lowerNonZero});
}

}  // namespace ipusim
