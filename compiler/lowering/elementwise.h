// Shared machinery of elementwise lowerings: an output mapped like its operands, operands
// brought into the output's layout (by exchange, or expanded at compile time when
// constant), and per-worker vertices of one codelet.
#pragma once
#include <string>
#include <vector>

#include "compiler/lowering/lowering_context.h"

namespace ipusim {

// Lowers a node whose output element e is codelet(operands at e), operands broadcast per
// numpy. `operands` inputs of the node are used, in order, then the output.
void lowerElementwise(LoweringContext& ctx, const std::string& codelet, size_t operands);

// The same over the node inputs `inputs` (in that order; any count, types may differ from
// the output's, e.g. a comparison's bool output), with `scalars` on every vertex (an op's
// attributes). Throws CompileError naming the node if the codelet does not exist.
void lowerElementwise(LoweringContext& ctx, const std::string& codelet, const std::vector<size_t>& inputs,
                      const std::vector<int64_t>& scalars = {});

// Element-type sets of ONNX type constraints, restricted to the types the IPU has.
inline const std::vector<DType> kFloatDTypes = {DType::Float32, DType::Float16};
inline const std::vector<DType> kNumericDTypes = {DType::Float32, DType::Float16, DType::Int8,  DType::UInt8,
                                                  DType::Int32,   DType::UInt32,  DType::Int64};
inline const std::vector<DType> kBoolDTypes = {DType::Bool};

// How lowerElementwise maps onto tiles, for docs/ops.md.
inline constexpr const char* kElementwiseTileMapping =
    "output mapped like its full-size operand (else linearly over tiles); broadcast operands exchanged into "
    "that layout; one vertex per worker chunk";

// A float attribute of the node, or `fallback` when absent.
double floatAttribute(const LoweringContext& ctx, const std::string& name, double fallback);

// Codelet names of the table in sim/codelets/: "Op<dtype>", "Cast<from,to>".
std::string codeletName(const std::string& op, DType dtype);
std::string castCodeletName(DType from, DType to);

}  // namespace ipusim
