// The registration functions of the codelet tables. CodeletRegistry::instance() calls each
// explicitly: static initialisers in a static library would be dropped by the linker.
#pragma once

namespace ipusim {
class CodeletRegistry;
}

namespace ipusim::codelets {

// Add, Sub, Mul, Div, Neg, Relu (elementwise_codelets.cpp).
void registerElementwiseCodelets(CodeletRegistry& registry);
// Cast<from,to> for every pair of dtypes (cast_codelets.cpp).
void registerCastCodelets(CodeletRegistry& registry);

// Bytes of machine code an elementwise or cast codelet occupies on a tile (assumption,
// docs/cost-model.md).
constexpr uint32_t kElementwiseCodeBytes = 256;

}  // namespace ipusim::codelets
