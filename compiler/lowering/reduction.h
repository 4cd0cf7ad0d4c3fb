// Reductions spread over tiles the way poplibs' popops::reduce does them:
//  1. every tile reduces the input elements it holds, split among its workers, into
//     partials: one per output range a worker touches (scatter vertices; whole rows of an
//     innermost reduced axis use the continuous form);
//  2. if no output element has partials from two vertices, stage 1 writes the output
//     itself, mapped where its inputs are (no exchange at all);
//  3. otherwise partials are exchanged to the tile that owns each output element (linearly
//     mapped) and reduced there; when an output would have more than 2 x sqrt(tiles)
//     partials, intermediate stages first cut the output into column chunks and reduce
//     each chunk's partials in groups of about sqrt(depth), dealt round-robin over all
//     tiles (poplibs' calculateNextStep/calculateSplit).
// The final stage applies the divisor (mean) and the finishing function (sqrt, log).
#pragma once
#include <string>
#include <vector>

#include "compiler/lowering/lowering_context.h"
#include "sim/codelets/reduce_ops.h"

namespace ipusim {

struct ReduceSpec {
  codelets::ReduceOp op = codelets::ReduceOp::Add;
  std::vector<int64_t> axes;  // dimensions reduced, each in [0, rank)
  double divisor = 1;         // the final result is finish(reduction / divisor)
  codelets::ReduceFinish finish = codelets::ReduceFinish::None;
  DType outDtype = DType::Float32;  // the input's type, or float32 for a float16 input
};

struct ArgReduceSpec {
  bool isMax = true;
  std::vector<int64_t> axes;  // one axis, or adjacent axes reduced as one (coerced Hardmax)
  bool selectLast = false;
};

// What a reduction's plan did, for tests and docs.
struct ReducePlanInfo {
  size_t stages = 0;                // compute stages (1: written by the first stage)
  size_t firstStagePartials = 0;    // partial ranges the first stage produced
  size_t maxPartialsPerOutput = 0;  // the deepest output element after the first stage
  size_t inputTiles = 0;            // tiles holding input elements
};

// Emits the reduction of `in` and returns the result viewed with `outShape` (the kept
// dimensions, with or without the reduced ones as 1: the element order is the same).
TensorValue reduceTensor(GraphBuilder& builder, const std::string& name, const TensorValue& in,
                         const ReduceSpec& spec, const Shape& outShape, ReducePlanInfo* info = nullptr);

// ArgMax/ArgMin: int64 positions along the reduced axis (or axes, flattened).
TensorValue argReduceTensor(GraphBuilder& builder, const std::string& name, const TensorValue& in,
                            const ArgReduceSpec& spec, const Shape& outShape, ReducePlanInfo* info = nullptr);

// Normalises ONNX axes (negative counts from the end) against `rank`; throws CompileError
// naming `where` on an axis out of range or repeated.
std::vector<int64_t> normaliseAxes(const std::vector<int64_t>& axes, int64_t rank, const std::string& where);

// The shape of a reduction's result: reduced dimensions become 1 or are dropped.
Shape reducedShape(const Shape& shape, const std::vector<int64_t>& axes, bool keepDims);

// Attribute helpers of the reduction family's lowerings.
std::vector<int64_t> intsAttribute(const LoweringContext& ctx, const std::string& name);
double realAttribute(const LoweringContext& ctx, const std::string& name, double fallback);
// An input that must be known at compile time (axes, k): its integer values.
std::vector<int64_t> constantInts(const LoweringContext& ctx, size_t input, const std::string& what);

}  // namespace ipusim
