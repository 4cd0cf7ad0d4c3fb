// The seed pair of DESIGN.md compiled once per test binary: fused, and each model alone.
#pragma once
#include <map>
#include <memory>
#include <string>

#include "compiler/compiler.h"
#include "compiler/fusion_config.h"
#include "sim/runtime/executable_pairing.h"

namespace compare_test {

using namespace ipusim;

inline const std::string kModels = IPUSIM_TEST_MODELS;

inline const FusionConfig& seedConfig() {
  static const FusionConfig config = loadFusionConfig(kModels + "/config.yaml");
  return config;
}

inline std::shared_ptr<const Executable> seedFused() {
  static const auto exe = std::make_shared<const Executable>(fuseModels(seedConfig().models));
  return exe;
}

// Model i of the seed config compiled alone, with its own options; cached per options.
inline std::shared_ptr<const Executable> compiled(const ModelOptions& options) {
  static std::map<std::string, std::shared_ptr<const Executable>> cache;
  std::string key = options.modelPath + "|" + options.precision + "|" + options.ipuVersion;
  for (const std::string& shape : options.inputShapes) key += "|" + shape;
  auto it = cache.find(key);
  if (it == cache.end())
    it = cache.emplace(key, std::make_shared<const Executable>(compileModel(options))).first;
  return it->second;
}

inline std::shared_ptr<const Executable> seedSeparate(size_t model) {
  return compiled(seedConfig().models.at(model));
}

inline ExecutablePairing seedPairing() {
  return pairExecutables({seedFused(), "fused.popef"},
                         {{seedSeparate(0), "model0.popef"}, {seedSeparate(1), "model1.popef"}});
}

}  // namespace compare_test
