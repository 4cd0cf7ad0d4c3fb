// Paths of the generated test models (tests/models/make_models.py).
#pragma once
#include <string>

namespace ipusim::test {

inline std::string modelPath(const std::string& name) { return std::string(IPUSIM_TEST_MODELS) + "/" + name; }

}  // namespace ipusim::test
