// Shared machinery of elementwise lowerings: an output mapped like its operands, operands
// brought into the output's layout (by exchange, or expanded at compile time when
// constant), and per-worker vertices of one codelet.
#pragma once
#include <string>

#include "compiler/lowering/lowering_context.h"

namespace ipusim {

// Lowers a node whose output element e is codelet(operands at e), operands broadcast per
// numpy. `operands` inputs of the node are used, in order, then the output.
void lowerElementwise(LoweringContext& ctx, const std::string& codelet, size_t operands);

// Codelet names of the table in sim/codelets/: "Op<dtype>", "Cast<from,to>".
std::string codeletName(const std::string& op, DType dtype);
std::string castCodeletName(DType from, DType to);

}  // namespace ipusim
