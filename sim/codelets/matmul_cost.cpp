#include "sim/codelets/matmul_cost.h"

#include <algorithm>
#include <array>

#include "sim/error.h"

namespace ipusim {

namespace {

uint64_t ceilDiv(uint64_t a, uint64_t b) { return (a + b - 1) / b; }

// One row per supported AMP configuration. Figures from poplibs' 1x1 AMP estimator
// (lib/poplin/PerformanceEstimation.hpp): 16 weights per conv unit; a core loop of 4 worker
// cycles per output row for half inputs and 8 for float; per-partition worker overhead
// 38 + (n - 3) * 4 - 7 (retention) = 19 + 4n for half, 46 + (n - 3) * 8 = 22 + 8n for float.
struct AmpConfig {
  DType input;
  DType partials;
  uint32_t inputsPerPass;
  uint32_t rowCycles;
  uint32_t workerOverhead;
  uint32_t Target::*rate;
};

constexpr std::array<AmpConfig, 3> kAmpConfigs{{
    {DType::Float16, DType::Float16, 16, 4, 19, &Target::ampFp16Fp16MacsPerCycle},
    {DType::Float16, DType::Float32, 16, 4, 19, &Target::ampFp16Fp32MacsPerCycle},
    {DType::Float32, DType::Float32, 16, 8, 22, &Target::ampFp32MacsPerCycle},
}};

// Supervisor figures of the same estimator (getConvPartial1x1SupervisorOuterLoopCycleEstimate):
// 50 cycles outside the loops, 12 per group (poplibs' conv group), 15 + 1 per input-channel
// group, 19 + 6 per pass (output group and output pass).
constexpr uint64_t kAmpVertexCycles = 50;
constexpr uint64_t kAmpGroupCycles = 12;
constexpr uint64_t kAmpInGroupCycles = 16;
constexpr uint64_t kAmpPassCycles = 25;
// Weights reach the AMP 128 bits per cycle (poplibs' use128BitConvUnitLoad, the default;
// convUnitCoeffLoadBytesPerCycle).
constexpr uint64_t kWeightLoadBytesPerCycle = 16;

const AmpConfig* findAmp(DType input, DType partials) {
  for (const AmpConfig& config : kAmpConfigs)
    if (config.input == input && config.partials == partials) return &config;
  return nullptr;
}

// Integer multiply-accumulates on a worker, one element at a time: poplibs' per-element
// integer Mul figures (elementwise table, docs/cost-model.md section 3), 8-bit values
// computed in 32-bit registers.
struct VectorMacCost {
  DType input;
  uint32_t cyclesPerMac;
};
constexpr std::array<VectorMacCost, 5> kVectorMacCosts{{
    {DType::Int8, 7}, {DType::UInt8, 7}, {DType::Int32, 7}, {DType::UInt32, 7}, {DType::Int64, 30}}};
// Per vertex (like poplibs' 2D vertices) and per output (store and pointer updates):
// assumptions, docs/cost-model.md.
constexpr uint64_t kVectorMatMulVertexCycles = 5;
constexpr uint64_t kVectorMatMulOutputCycles = 4;

// poplibs' getReduceCycleEstimate, single-input path (the lowering lays each tile's
// partials out at a fixed stride, as poplibs' single-input ReduceAdd reads them): per worker,
// 20 cycles plus, per loop over an accumulator vector, its load cycles for each partial after
// the first (the first initialises the accumulators), and an outer-loop overhead by partials
// and output type.
constexpr uint64_t kReduceWorkerCycles = 20;
struct ReduceCost {
  DType partials;
  DType output;
  uint32_t loopOverhead;
};
constexpr std::array<ReduceCost, 4> kReduceCosts{{{DType::Float32, DType::Float32, 8},
                                                  {DType::Float32, DType::Float16, 7},
                                                  {DType::Float16, DType::Float32, 10},
                                                  {DType::Float16, DType::Float16, 9}}};
// Integer partials add one element per loop at the elementwise Add figure (int32 7,
// int64 11); their loop overhead is taken as fp32's 7 (assumption).
constexpr uint64_t kIntegerReduceLoopOverhead = 7;

}  // namespace

bool ampSupports(DType input, DType partials) { return findAmp(input, partials) != nullptr; }

AmpGeometry ampGeometry(DType input, DType partials, const Target& target) {
  const AmpConfig* config = findAmp(input, partials);
  if (config == nullptr) {
    throw SimError("the AMP does not multiply " + std::string(dtypeName(input)) + " into " +
                   std::string(dtypeName(partials)) + " partials");
  }
  AmpGeometry g;
  g.inputsPerPass = config->inputsPerPass;
  g.rowCycles = config->rowCycles;
  g.workerOverhead = config->workerOverhead;
  g.peakMacsPerCycle = target.*(config->rate);
  // As many conv units as the rate allows: a row of a pass (inputs x outputs MACs) takes
  // rowCycles tile cycles when all workers stream rows.
  g.outputsPerPass = std::max<uint32_t>(1, g.peakMacsPerCycle * g.rowCycles / g.inputsPerPass);
  g.weightLoadCycles = static_cast<uint32_t>(
      ceilDiv(uint64_t{g.outputsPerPass} * g.inputsPerPass * dtypeSize(input), kWeightLoadBytesPerCycle));
  return g;
}

uint64_t ampMatMulCycles(const Target& target, DType input, DType partials, uint64_t groups, uint64_t m,
                         uint64_t k, uint64_t n) {
  const AmpGeometry g = ampGeometry(input, partials, target);
  if (groups == 0 || m == 0 || k == 0 || n == 0) return kAmpVertexCycles + groups * kAmpGroupCycles;
  const uint64_t inGroups = ceilDiv(k, g.inputsPerPass);
  const uint64_t outGroups = ceilDiv(n, g.outputsPerPass);
  const uint64_t workers = std::max<uint32_t>(1, target.workerContexts);
  const uint64_t rowsPerWorker = ceilDiv(m, workers);
  const uint64_t workerPass = workers * (g.workerOverhead + uint64_t{g.rowCycles} * rowsPerWorker);
  const uint64_t pass = kAmpPassCycles + g.weightLoadCycles + workerPass;
  return kAmpVertexCycles + groups * (kAmpGroupCycles + inGroups * (kAmpInGroupCycles + outGroups * pass));
}

uint64_t vectorMatMulWorkerCycles(DType input, DType /*accumulator*/, uint64_t rows, uint64_t k, uint64_t n) {
  const auto it = std::find_if(kVectorMacCosts.begin(), kVectorMacCosts.end(),
                               [&](const VectorMacCost& c) { return c.input == input; });
  if (it == kVectorMacCosts.end()) {
    throw SimError("no vector matmul for " + std::string(dtypeName(input)));
  }
  return kVectorMatMulVertexCycles + rows * n * (kVectorMatMulOutputCycles + k * it->cyclesPerMac);
}

uint64_t reducePartialsWorkerCycles(const Target& target, DType partials, DType output, uint64_t elements,
                                    uint64_t partialCount, bool bias, bool scaled) {
  // The first partial initialises the accumulators; the others and a bias are added.
  const uint64_t inputs = (partialCount > 0 ? partialCount - 1 : 0) + (bias ? 1 : 0);
  uint64_t accumulatorWidth = 1;
  uint64_t cyclesPerInput = 0;
  uint64_t loopOverhead = kIntegerReduceLoopOverhead;
  if (isFloat(partials)) {
    const auto it = std::find_if(kReduceCosts.begin(), kReduceCosts.end(), [&](const ReduceCost& c) {
      return c.partials == partials && c.output == output;
    });
    if (it == kReduceCosts.end()) {
      throw SimError("no partials reduction from " + std::string(dtypeName(partials)) + " to " +
                     std::string(dtypeName(output)));
    }
    // poplibs: accumulators of 4 floats or 8 halves, loaded one 64-bit word per cycle.
    const uint64_t lanes = partials == DType::Float32 ? target.vectorFp32Lanes : target.vectorFp16Lanes;
    accumulatorWidth = 2 * lanes;
    cyclesPerInput = accumulatorWidth / std::min(accumulatorWidth, lanes);
    loopOverhead = it->loopOverhead;
  } else {
    cyclesPerInput = partials == DType::Int64 ? 11 : 7;
  }
  const uint64_t loops = ceilDiv(elements, accumulatorWidth);
  // Scaling by alpha and beta: one vector multiply per loop (assumption).
  const uint64_t scaleCycles = scaled ? 1 : 0;
  return kReduceWorkerCycles + loops * (cyclesPerInput * inputs + loopOverhead + scaleCycles);
}

std::string ampMatMulCodeletName(DType input, DType partials) {
  return "AmpMatMul<" + std::string(dtypeName(input)) + "," + std::string(dtypeName(partials)) + ">";
}

std::string vectorMatMulCodeletName(DType type) { return "MatMul<" + std::string(dtypeName(type)) + ">"; }

std::string matMulIntegerCodeletName(DType lhs, DType rhs) {
  return "MatMulInteger<" + std::string(dtypeName(lhs)) + "," + std::string(dtypeName(rhs)) + ">";
}

std::string reducePartialsCodeletName(DType partials, DType output) {
  return "ReducePartials<" + std::string(dtypeName(partials)) + "," + std::string(dtypeName(output)) + ">";
}

}  // namespace ipusim
