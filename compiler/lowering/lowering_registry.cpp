#include "compiler/lowering/lowering_registry.h"

#include "compiler/compiler.h"

namespace ipusim {

const LoweringRegistry& LoweringRegistry::instance() {
  static const LoweringRegistry registry = [] {
    LoweringRegistry r;
    registerElementwiseLowerings(r);
    registerShapeLowerings(r);
    registerConcatLowerings(r);
    registerConstantLowerings(r);
    registerMatMulLowerings(r);
    registerConvLowerings(r);
    registerPoolLowerings(r);
    registerRecurrentLowerings(r);
    registerReductionLowerings(r);
    registerSoftmaxLowerings(r);
    registerNormalizationLowerings(r);
    registerScanLowerings(r);
    registerEinsumLowerings(r);
    registerLayoutLowerings(r);
    registerGatherLowerings(r);
    registerResizeLowerings(r);
    registerGeneratorLowerings(r);
    registerMathLowerings(r);
    registerLogicLowerings(r);
    registerActivationLowerings(r);
    return r;
  }();
  return registry;
}

void LoweringRegistry::add(LoweringEntry entry) {
  for (const auto& e : entries_) {
    if (e.opType == entry.opType && e.sinceVersion <= entry.lastVersion && entry.sinceVersion <= e.lastVersion) {
      throw CompileError("internal: overlapping lowerings for " + entry.opType);
    }
  }
  entries_.push_back(std::move(entry));
}

const LoweringEntry* LoweringRegistry::find(const std::string& opType, int64_t opset) const {
  for (const auto& e : entries_)
    if (e.opType == opType && e.sinceVersion <= opset && opset <= e.lastVersion) return &e;
  return nullptr;
}

}  // namespace ipusim
