// The cycle model of matrix products on a tile, shared by the codelets (which the engine
// charges) and the compiler's matmul planner (which must predict the same numbers).
// Formulas and sources: docs/cost-model.md, section 9 "AMP and matrix products".
//
// AMP vertices follow poplibs' ConvPartial1x1Out estimator
// (getConvPartial1x1SupervisorCycleEstimate, lib/poplin/PerformanceEstimation.hpp): the AMP
// holds a pass of `inputsPerPass` x `outputsPerPass` weights; each output row streamed
// through it takes `rowCycles` worker cycles; the rows of a pass are split over the worker
// contexts and the slowest worker, times workerContexts (barrel scheduling), is the pass's
// tile time. The rate per tile therefore never exceeds the Target's AMP rate.
#pragma once
#include <cstdint>
#include <string>

#include "sim/dtype.h"
#include "sim/target.h"

namespace ipusim {

// How the AMP is configured for one pair of input and partials types.
struct AmpGeometry {
  uint32_t inputsPerPass = 0;    // K elements per pass (poplibs' weightsPerConvUnit)
  uint32_t outputsPerPass = 0;   // N outputs per pass (poplibs' conv units)
  uint32_t rowCycles = 0;        // worker cycles per output row of a pass (poplibs' coreCycles)
  uint32_t workerOverhead = 0;   // worker cycles per pass besides the rows
  uint32_t weightLoadCycles = 0; // supervisor cycles to load a pass's weights
  uint32_t peakMacsPerCycle = 0; // the Target's AMP rate for these types
};

// Whether the AMP multiplies `input` elements into `partials` (fp16->fp16, fp16->fp32,
// fp32->fp32).
bool ampSupports(DType input, DType partials);
// Throws SimError for a pair the AMP does not support.
AmpGeometry ampGeometry(DType input, DType partials, const Target& target);

// Tile cycles of one AMP vertex computing `groups` products of [m x k] by [k x n].
uint64_t ampMatMulCycles(const Target& target, DType input, DType partials, uint64_t groups, uint64_t m,
                         uint64_t k, uint64_t n);

// Worker cycles of one vector (non-AMP) matmul vertex: rows x n outputs, each a k-long
// dot product of `input` elements accumulated in `accumulator` (integer matmuls).
uint64_t vectorMatMulWorkerCycles(DType input, DType accumulator, uint64_t rows, uint64_t k, uint64_t n);

// Worker cycles of one partials-reduction vertex: `elements` outputs, each the sum of
// `partialCount` partial values (plus a bias when `bias`), scaled when `scaled`.
uint64_t reducePartialsWorkerCycles(const Target& target, DType partials, DType output, uint64_t elements,
                                    uint64_t partialCount, bool bias, bool scaled);

// Codelet names, one place for the compiler and the tables.
std::string ampMatMulCodeletName(DType input, DType partials);     // "AmpMatMul<float16,float32>"
std::string vectorMatMulCodeletName(DType type);                   // "MatMul<int32>"
std::string matMulIntegerCodeletName(DType lhs, DType rhs);        // "MatMulInteger<uint8,int8>"
std::string reducePartialsCodeletName(DType partials, DType output);  // "ReducePartials<float32,float16>"

}  // namespace ipusim
