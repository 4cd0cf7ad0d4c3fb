// An elementwise step whose operands are read through index patterns (broadcast,
// transposed or diagonal views; sim/codelets/indexed_operands.h). The output is split into
// worker chunks of its tile mapping; each chunk's slice of every operand is read in place
// when the operand already holds it on that tile in one span, otherwise one exchange copies
// the range the tile needs into a buffer there. Broadcast operands thus move only the
// elements a tile uses (a row statistic, a channel's scale), never an expanded copy.
#pragma once
#include <string>
#include <utility>
#include <vector>

#include "compiler/lowering/lowering_context.h"

namespace ipusim {

struct IndexedOperand {
  TensorValue value;
  // (size, stride) groups over the output's flat index, innermost first.
  std::vector<std::pair<uint64_t, uint64_t>> groups;
  // Extra operand elements a chunk may read before and after its pattern's range (LRN's
  // channel window).
  uint64_t widenBefore = 0, widenAfter = 0;
};

// `value` broadcast to `outShape` (numpy rules).
IndexedOperand broadcastOperand(const TensorValue& value, const Shape& outShape);

// Output element with coordinates c reads value element sum_d c[d] * strides[d].
IndexedOperand viewOperand(const TensorValue& value, const Shape& outShape, const std::vector<uint64_t>& strides);

// Emits out[e] = codelet(params, operands at their index of e) over an output of
// `outShape` mapped by `mapping`, and returns it.
TensorValue indexedStep(GraphBuilder& builder, const std::string& name, const std::string& codelet,
                        const std::vector<IndexedOperand>& operands, DType outDtype, const Shape& outShape,
                        const std::vector<TileSpan>& mapping, const std::vector<int64_t>& params = {});

// The codelet "op" of these operand types and output type: "op<T>" when all are T, else
// "op<t_0,...,t_{K-1},out>" (sim/codelets/indexed_codelets.cpp registers the mixes in use).
std::string indexedCodeletName(const std::string& op, const std::vector<IndexedOperand>& operands, DType out);

// A mapping for a new tensor shaped like `like`: `like`'s own mapping when it has the same
// element count, else a linear one.
std::vector<TileSpan> mappingLike(const GraphBuilder& builder, const TensorValue& like, DType dtype);

}  // namespace ipusim
