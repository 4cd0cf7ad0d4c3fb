// The reduction family's tables, registered together so that the shared registry lists
// them with one line.
#include <cstdint>

#include "sim/codelets/codelet_tables.h"

namespace ipusim::codelets {

void registerReduceCodelets(CodeletRegistry& registry);
void registerArgReduceCodelets(CodeletRegistry& registry);
void registerIndexedCodelets(CodeletRegistry& registry);
void registerScanCodelets(CodeletRegistry& registry);

void registerReductionFamilyCodelets(CodeletRegistry& registry) {
  registerReduceCodelets(registry);
  registerArgReduceCodelets(registry);
  registerIndexedCodelets(registry);
  registerScanCodelets(registry);
}

}  // namespace ipusim::codelets
