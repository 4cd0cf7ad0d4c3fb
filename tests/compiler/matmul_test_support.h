// Runs a planned matrix product (planMatMul + emitMatMul) on the engine, without ONNX:
// operands streamed in from linearly mapped variables (or laid out as constants), the
// product's own steps timed apart from the streams.
#pragma once
#include <array>
#include <cmath>
#include <cstring>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "compiler/lowering/matmul_lowering.h"
#include "compiler/memory/memory_planner.h"
#include "compiler/planning/matmul_planner.h"
#include "sim/codelets/matmul_cost.h"
#include "sim/engine.h"
#include "sim/half.h"

namespace ipusim::test {

// Values as the bytes of `dtype` (float16 rounded; integers truncated).
inline std::vector<uint8_t> encode(const std::vector<double>& values, DType dtype) {
  std::vector<uint8_t> bytes(values.size() * dtypeSize(dtype));
  for (size_t i = 0; i < values.size(); ++i) {
    uint8_t* at = bytes.data() + i * dtypeSize(dtype);
    switch (dtype) {
      case DType::Float32: { const float v = static_cast<float>(values[i]); std::memcpy(at, &v, 4); break; }
      case DType::Float16: { const uint16_t v = floatToHalf(static_cast<float>(values[i])); std::memcpy(at, &v, 2); break; }
      case DType::Int32: { const int32_t v = static_cast<int32_t>(values[i]); std::memcpy(at, &v, 4); break; }
      case DType::UInt32: { const uint32_t v = static_cast<uint32_t>(values[i]); std::memcpy(at, &v, 4); break; }
      case DType::Int64: { const int64_t v = static_cast<int64_t>(values[i]); std::memcpy(at, &v, 8); break; }
      case DType::Int8: { const int8_t v = static_cast<int8_t>(values[i]); std::memcpy(at, &v, 1); break; }
      case DType::UInt8: { const uint8_t v = static_cast<uint8_t>(values[i]); std::memcpy(at, &v, 1); break; }
      case DType::Bool: at[0] = values[i] != 0; break;
    }
  }
  return bytes;
}

inline std::vector<double> decode(const std::vector<uint8_t>& bytes, DType dtype) {
  std::vector<double> values(bytes.size() / dtypeSize(dtype));
  for (size_t i = 0; i < values.size(); ++i) {
    const uint8_t* at = bytes.data() + i * dtypeSize(dtype);
    switch (dtype) {
      case DType::Float32: { float v; std::memcpy(&v, at, 4); values[i] = v; break; }
      case DType::Float16: { uint16_t v; std::memcpy(&v, at, 2); values[i] = halfToFloat(v); break; }
      case DType::Int32: { int32_t v; std::memcpy(&v, at, 4); values[i] = v; break; }
      case DType::UInt32: { uint32_t v; std::memcpy(&v, at, 4); values[i] = v; break; }
      case DType::Int64: { int64_t v; std::memcpy(&v, at, 8); values[i] = static_cast<double>(v); break; }
      case DType::Int8: { int8_t v; std::memcpy(&v, at, 1); values[i] = v; break; }
      case DType::UInt8: values[i] = at[0]; break;
      case DType::Bool: values[i] = at[0]; break;
    }
  }
  return values;
}

// Small integers (exact in every type) or uniform floats in [-1, 1).
inline std::vector<double> randomValues(size_t count, DType dtype, unsigned seed) {
  std::mt19937 rng(seed);
  std::vector<double> values(count);
  for (double& v : values) {
    v = isFloat(dtype) ? std::uniform_real_distribution<double>(-1.0, 1.0)(rng)
                       : static_cast<double>(std::uniform_int_distribution<int>(-8, 8)(rng));
  }
  return values;
}

// out[g][i][j] = sum_k lhs[g][i][k] * rhs[g][k][j], in double.
inline std::vector<double> referenceProduct(const std::vector<double>& lhs, const std::vector<double>& rhs,
                                            uint64_t groups, uint64_t m, uint64_t k, uint64_t n) {
  std::vector<double> out(groups * m * n, 0.0);
  for (uint64_t g = 0; g < groups; ++g)
    for (uint64_t i = 0; i < m; ++i)
      for (uint64_t x = 0; x < k; ++x) {
        const double a = lhs[(g * m + i) * k + x];
        for (uint64_t j = 0; j < n; ++j) out[(g * m + i) * n + j] += a * rhs[(g * k + x) * n + j];
      }
  return out;
}

// Sums the cycles of the product's own steps (everything but streams).
class ProductCycles : public StepObserver {
 public:
  void onStep(const StepRecord& step) override {
    if (step.kind == StepKind::Stream) return;
    total += step.cycles;
  }
  uint64_t total = 0;
};

struct ProductRun {
  MatMulPlan plan;
  std::vector<double> out;
  uint64_t cycles = 0;  // measured by the engine, streams excluded
};

struct ProductInputs {
  std::vector<double> lhs, rhs;    // [groups][m][k], [groups][k][n]
  std::optional<std::vector<double>> bias;  // [groups][m][n]
  double alpha = 1.0, beta = 1.0;
};

// Plans (or takes `split`: group, m, n, k blocks, with swapped operands when `swapSplit`),
// emits and runs the product.
inline ProductRun runProduct(MatMulProblem problem, const ProductInputs& inputs, const Target& target,
                             std::optional<std::array<uint64_t, 4>> split = std::nullopt,
                             std::vector<int64_t> extraScalars = {}, std::string codelet = "",
                             bool swapSplit = false) {
  const Shape lhsShape{static_cast<int64_t>(problem.groups), static_cast<int64_t>(problem.m),
                       static_cast<int64_t>(problem.k)};
  const Shape rhsShape{static_cast<int64_t>(problem.groups), static_cast<int64_t>(problem.k),
                       static_cast<int64_t>(problem.n)};
  const Shape outShape{static_cast<int64_t>(problem.groups), static_cast<int64_t>(problem.m),
                       static_cast<int64_t>(problem.n)};
  problem.lhsGroups = problem.rhsGroups = problem.groups;
  problem.hasBias = inputs.bias.has_value();
  problem.biasConstant = problem.hasBias;
  problem.biasElements = problem.groups * problem.m * problem.n;
  problem.scaled = inputs.alpha != 1.0 || (problem.hasBias && inputs.beta != 1.0);

  GraphBuilder b(target);
  b.beginScope();
  HostBuffers hostInputs;
  ConstTensor lhsConst{problem.lhsType, lhsShape, encode(inputs.lhs, problem.lhsType)};
  ConstTensor rhsConst{problem.rhsType, rhsShape, encode(inputs.rhs, problem.rhsType)};
  ConstTensor biasConst;
  MatMulEmission e;
  e.name = "product";
  e.outputName = "out";
  e.outputShape = outShape;
  auto view = [&](DType dtype, bool constant, const ConstTensor& value, const Shape& shape, const char* name,
                  uint64_t rows, uint64_t cols) {
    MatMulOperandView v;
    v.dtype = dtype;
    if (constant) {
      v.constant = &value;
    } else {
      v.var = b.addVariable(name, dtype, shape);
      b.streamCopy(b.addStream(name, StreamDirection::HostToDevice, v.var, shape));
      hostInputs[name] = value.bytes;
    }
    for (uint64_t g = 0; g < problem.groups; ++g) v.groupOffset.push_back(g * rows * cols);
    v.rowStride = cols;
    v.colStride = 1;
    return v;
  };
  e.lhs = view(problem.lhsType, problem.lhsConstant, lhsConst, lhsShape, "lhs", problem.m, problem.k);
  e.rhs = view(problem.rhsType, problem.rhsConstant, rhsConst, rhsShape, "rhs", problem.k, problem.n);
  if (inputs.bias) {
    biasConst = ConstTensor{problem.outputType, outShape, encode(*inputs.bias, problem.outputType)};
    e.epilogue.bias = view(problem.outputType, true, biasConst, outShape, "bias", problem.m, problem.n);
  }
  e.epilogue.alpha = inputs.alpha;
  e.epilogue.beta = inputs.beta;
  e.productCodelet = !codelet.empty() ? codelet
                     : problem.unit == MatMulUnit::Amp ? ampMatMulCodeletName(problem.lhsType, problem.partialsType)
                                                       : vectorMatMulCodeletName(problem.lhsType);
  e.productExtraScalars = std::move(extraScalars);
  if (!problem.lhsConstant) problem.lhsSourceElementsPerTile = mostElementsOnATile(b.variable(e.lhs.var));
  if (!problem.rhsConstant) problem.rhsSourceElementsPerTile = mostElementsOnATile(b.variable(e.rhs.var));

  ProductRun run;
  run.plan = split ? evaluateMatMulSplit(problem, target, (*split)[0], (*split)[1], (*split)[2], (*split)[3],
                                         UINT64_MAX, swapSplit)
                   : planMatMul(problem, target);
  const uint32_t out = emitMatMul(b, run.plan, e);
  b.streamCopy(b.addStream("out", StreamDirection::DeviceToHost, out, outShape));
  Program main = b.takeSequence();
  b.endScope();
  const BuiltGraph& graph = b.graph();
  auto exe = std::make_shared<const Executable>(finalizeExecutable(graph, planMemory(graph), std::move(main), {}));
  Engine engine(2);
  ProductCycles cycles;
  engine.setObserver(&cycles);
  engine.load(exe);
  cycles.total = 0;  // the load step is not the product's
  HostBuffers outputs;
  engine.run(hostInputs, outputs);
  run.cycles = cycles.total;
  run.out = decode(outputs.at("out"), problem.outputType);
  return run;
}

}  // namespace ipusim::test
