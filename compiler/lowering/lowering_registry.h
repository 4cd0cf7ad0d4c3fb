// The lowering registry: (op type, opset range) -> lowering function, like ONNX Runtime's
// versioned kernel registry. Each lowering file registers its entries in one function.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "compiler/lowering/lowering_context.h"

namespace ipusim {

struct LoweringEntry {
  std::string opType;
  int sinceVersion = 1;   // first opset this entry handles
  int lastVersion = 99;   // last opset this entry handles
  std::vector<DType> dtypes;  // element types of the node's first input it accepts
  std::string tileMapping;    // how it maps onto tiles, for docs/ops.md
  std::function<void(LoweringContext&)> lower;
};

class LoweringRegistry {
 public:
  static const LoweringRegistry& instance();

  void add(LoweringEntry entry);
  const LoweringEntry* find(const std::string& opType, int64_t opset) const;
  const std::vector<LoweringEntry>& entries() const { return entries_; }

 private:
  std::vector<LoweringEntry> entries_;
};

// One registration function per lowering file.
void registerElementwiseLowerings(LoweringRegistry& registry);
void registerShapeLowerings(LoweringRegistry& registry);
void registerConcatLowerings(LoweringRegistry& registry);
void registerConstantLowerings(LoweringRegistry& registry);
void registerMatMulLowerings(LoweringRegistry& registry);
void registerConvLowerings(LoweringRegistry& registry);
void registerPoolLowerings(LoweringRegistry& registry);
void registerRecurrentLowerings(LoweringRegistry& registry);
void registerReductionLowerings(LoweringRegistry& registry);
void registerSoftmaxLowerings(LoweringRegistry& registry);
void registerNormalizationLowerings(LoweringRegistry& registry);
void registerScanLowerings(LoweringRegistry& registry);
void registerEinsumLowerings(LoweringRegistry& registry);
void registerLayoutLowerings(LoweringRegistry& registry);
void registerGatherLowerings(LoweringRegistry& registry);
void registerResizeLowerings(LoweringRegistry& registry);
void registerGeneratorLowerings(LoweringRegistry& registry);
void registerMathLowerings(LoweringRegistry& registry);
void registerLogicLowerings(LoweringRegistry& registry);
void registerActivationLowerings(LoweringRegistry& registry);

}  // namespace ipusim
