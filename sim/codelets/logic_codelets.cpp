// Comparison and logic codelets: Equal, Greater, GreaterOrEqual, Less, LessOrEqual (two
// inputs of one type -> bool; IEEE comparisons, so NaN compares unequal), And, Or, Xor on
// bools, and Where<T> [condition (bool), x, y, out]. Cycle figures: docs/cost-model.md.
#include "sim/codelets/mapped_codelets.h"

namespace ipusim::codelets {
namespace {

struct EqualOp {
  template <typename V>
  bool operator()(V a, V b) const { return a == b; }
};
struct GreaterOp {
  template <typename V>
  bool operator()(V a, V b) const { return a > b; }
};
struct GreaterOrEqualOp {
  template <typename V>
  bool operator()(V a, V b) const { return a >= b; }
};
struct LessOp {
  template <typename V>
  bool operator()(V a, V b) const { return a < b; }
};
struct LessOrEqualOp {
  template <typename V>
  bool operator()(V a, V b) const { return a <= b; }
};
struct AndOp {
  bool operator()(bool a, bool b) const { return a && b; }
};
struct OrOp {
  bool operator()(bool a, bool b) const { return a || b; }
};
struct XorOp {
  bool operator()(bool a, bool b) const { return a != b; }
};
struct WhereOp {
  template <typename V>
  V operator()(bool condition, V x, V y) const { return condition ? x : y; }
};

// poplibs' binaryOpPerfInfo: comparisons are unrolled 4 elements per loop.
constexpr LoopCost kNoCost{};
constexpr OpLoopCosts kEqualCosts{perElements(14, 4), perElements(9, 4),  perElements(22, 4),
                                  perElements(22, 4), perElements(48, 4), perElements(6, 4)};
constexpr OpLoopCosts kOrderCosts{perElements(14, 4), perElements(9, 4),  perElements(22, 4),
                                  perElements(22, 4), perElements(56, 4), kNoCost};
constexpr OpLoopCosts kOrderOrEqualCosts{perElements(14, 4), perElements(9, 4),  perElements(26, 4),
                                         perElements(26, 4), perElements(62, 4), kNoCost};
// LOGICAL_AND, LOGICAL_OR and NOT_EQUAL (Xor) on bools: 5 cycles per 4.
constexpr OpLoopCosts kLogicCosts = uniformCost(perElements(5, 4));
// poplibs' selectCycles: 5 cycles per element (three loads, a select, a store) plus 6 of
// overhead per region, for every type.
constexpr LoopCost kSelectCost = perElements(5);
constexpr uint32_t kSelectRegionCycles = 6;

template <DType... Ds>
void addWhereFamily(CodeletRegistry& registry, DTypeList<Ds...>) {
  (addMapped<WhereOp, Ds, DType::Bool, Ds, Ds>(registry, typedName("Where", Ds), kBinaryVertexCycles,
                                                kSelectRegionCycles, kSelectCost, Ds),
   ...);
}

}  // namespace

void registerLogicCodelets(CodeletRegistry& registry) {
  addComparisonFamily<EqualOp>(registry, "Equal", AllTypes{}, kEqualCosts);
  addComparisonFamily<GreaterOp>(registry, "Greater", NumericTypes{}, kOrderCosts);
  addComparisonFamily<GreaterOrEqualOp>(registry, "GreaterOrEqual", NumericTypes{}, kOrderOrEqualCosts);
  addComparisonFamily<LessOp>(registry, "Less", NumericTypes{}, kOrderCosts);
  addComparisonFamily<LessOrEqualOp>(registry, "LessOrEqual", NumericTypes{}, kOrderOrEqualCosts);
  addComparisonFamily<AndOp>(registry, "And", DTypeList<DType::Bool>{}, kLogicCosts);
  addComparisonFamily<OrOp>(registry, "Or", DTypeList<DType::Bool>{}, kLogicCosts);
  addComparisonFamily<XorOp>(registry, "Xor", DTypeList<DType::Bool>{}, kLogicCosts);
  addWhereFamily(registry, AllTypes{});
}

}  // namespace ipusim::codelets
