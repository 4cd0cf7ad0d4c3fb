// What codelet kernels share to check the vertex they are given: the one error form that
// names the codelet, and scalars read as counts.
#pragma once
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "sim/error.h"

namespace ipusim::codelets {

// A vertex that breaks its codelet's convention: SimError "<codelet>: <why>".
[[noreturn]] inline void fail(std::string_view codelet, const std::string& why) {
  throw SimError(std::string(codelet) + ": " + why);
}

// Scalar s of a vertex as a non-negative count; 0 when absent or negative (the kernel then
// rejects the vertex, so a bad count never turns into work or cycles).
inline uint64_t scalarCount(std::span<const int64_t> scalars, size_t s) {
  return s < scalars.size() && scalars[s] > 0 ? static_cast<uint64_t>(scalars[s]) : 0;
}

}  // namespace ipusim::codelets
