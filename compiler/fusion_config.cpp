#include "compiler/fusion_config.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>

#include "compiler/import/onnx_import.h"
#include "sim/target.h"

namespace ipusim {

namespace {

namespace fs = std::filesystem;

// The keys PopRT's model-fusion YAML uses; anything else is a typo worth reporting.
const std::set<std::string> kGlobalKeys = {"output_dir", "output_model", "export_popef", "max_tensor_size",
                                           "ipu_version", "precision",  "input_shape",  "model_fusion"};
const std::set<std::string> kModelKeys = {"input_model", "input_shape", "precision", "max_tensor_size",
                                          "ipu_version"};

class ConfigReader {
 public:
  explicit ConfigReader(std::string path) : path_(std::move(path)) {}

  [[noreturn]] void fail(const std::string& where, const std::string& message) const {
    throw CompileError(path_ + ": " + (where.empty() ? "" : where + ": ") + message);
  }

  std::string scalar(const YAML::Node& node, const std::string& where) const {
    if (!node.IsScalar()) fail(where, "expected a single value");
    return node.Scalar();
  }

  int64_t integer(const YAML::Node& node, const std::string& where) const {
    try {
      return node.as<int64_t>();
    } catch (const YAML::Exception&) {
      fail(where, "'" + (node.IsScalar() ? node.Scalar() : std::string("...")) + "' is not an integer");
    }
  }

  bool boolean(const YAML::Node& node, const std::string& where) const {
    try {
      return node.as<bool>();
    } catch (const YAML::Exception&) {
      fail(where, "'" + (node.IsScalar() ? node.Scalar() : std::string("...")) + "' is not True or False");
    }
  }

  std::vector<std::string> shapes(const YAML::Node& node, const std::string& where) const {
    if (!node.IsSequence()) fail(where, "expected a list like ['X=1,2']");
    std::vector<std::string> out;
    for (const auto& item : node) {
      std::string spec = scalar(item, where);
      try {
        parseInputShape(spec);
      } catch (const CompileError& e) {
        fail(where, e.what());
      }
      out.push_back(spec);
    }
    return out;
  }

  std::string precision(const YAML::Node& node, const std::string& where) const {
    std::string p = scalar(node, where);
    if (p != "fp32" && p != "fp16") fail(where, "precision '" + p + "' is not supported (use fp32 or fp16)");
    return p;
  }

  std::string ipuVersion(const YAML::Node& node, const std::string& where) const {
    std::string v = scalar(node, where);
    auto names = targetPresetNames();
    if (std::find(names.begin(), names.end(), v) == names.end()) {
      fail(where, "ipu_version '" + v + "' is not known (use ipu2 or ipu21)");
    }
    return v;
  }

  // Applies the per-model keys in `node` over `options`.
  void modelKeys(const YAML::Node& node, const std::string& where, ModelOptions& options) const {
    // Global keys are named alone ("precision"), an entry's with its place ("model_fusion[0].precision").
    auto key = [&](const char* name) { return where.empty() ? std::string(name) : where + "." + name; };
    if (auto n = node["input_shape"]) options.inputShapes = shapes(n, key("input_shape"));
    if (auto n = node["precision"]) options.precision = precision(n, key("precision"));
    if (auto n = node["max_tensor_size"]) options.maxTensorSize = integer(n, key("max_tensor_size"));
    if (auto n = node["ipu_version"]) options.ipuVersion = ipuVersion(n, key("ipu_version"));
  }

  // Every key must be known, and given once: YAML requires unique keys, but yaml-cpp keeps
  // one of two without a word, so "precision" given twice would silently drop one.
  void checkKeys(const YAML::Node& map, const std::set<std::string>& allowed, const std::string& where) const {
    std::set<std::string> seen;
    for (const auto& kv : map) {
      std::string key = kv.first.Scalar();
      if (!allowed.count(key)) fail(where, "unknown key '" + key + "'");
      if (!seen.insert(key).second) fail(where, "key '" + key + "' is given twice");
    }
  }

 private:
  std::string path_;
};

}  // namespace

std::string FusionConfig::outputPath() const {
  return (fs::path(outputDir) / (outputModel + ".popef")).string();
}

FusionConfig loadFusionConfig(const std::string& yamlPath) {
  if (!fs::is_regular_file(yamlPath)) throw CompileError(yamlPath + ": no such config file");
  std::ifstream in(yamlPath, std::ios::binary);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (!in && !in.eof()) throw CompileError(yamlPath + ": cannot read the config file");
  return loadFusionConfigText(text, yamlPath);
}

FusionConfig loadFusionConfigText(std::string_view yamlText, const std::string& yamlPath) {
  ConfigReader reader(yamlPath);
  YAML::Node root;
  try {
    root = YAML::Load(std::string(yamlText));
  } catch (const YAML::Exception& e) {
    throw CompileError(yamlPath + ": line " + std::to_string(e.mark.line + 1) + ": " + e.msg);
  }
  if (!root.IsMap()) reader.fail("", "expected a mapping of keys (output_dir, model_fusion, ...)");
  reader.checkKeys(root, kGlobalKeys, "");

  const fs::path base = fs::path(yamlPath).parent_path();
  FusionConfig config;
  if (auto n = root["output_dir"]) config.outputDir = (base / reader.scalar(n, "output_dir")).lexically_normal().string();
  else config.outputDir = base.empty() ? "." : base.string();
  if (auto n = root["output_model"]) config.outputModel = reader.scalar(n, "output_model");
  if (config.outputModel.empty() || config.outputModel.find('/') != std::string::npos) {
    reader.fail("output_model", "'" + config.outputModel + "' is not a file name");
  }
  if (auto n = root["export_popef"]) config.exportPopef = reader.boolean(n, "export_popef");
  if (!config.exportPopef) {
    reader.fail("export_popef", "False is not supported: a .popef is the only output ipusim writes");
  }

  ModelOptions global;
  reader.modelKeys(root, "", global);

  auto list = root["model_fusion"];
  if (!list) reader.fail("", "missing key 'model_fusion' (the list of models to fuse)");
  if (!list.IsSequence() || list.size() == 0) reader.fail("model_fusion", "expected a non-empty list of models");
  for (size_t i = 0; i < list.size(); ++i) {
    const std::string where = "model_fusion[" + std::to_string(i) + "]";
    const YAML::Node entry = list[i];
    if (!entry.IsMap()) reader.fail(where, "expected a mapping with input_model");
    reader.checkKeys(entry, kModelKeys, where);
    ModelOptions options = global;
    auto model = entry["input_model"];
    if (!model) reader.fail(where, "missing key 'input_model'");
    options.modelPath = (base / reader.scalar(model, where + ".input_model")).lexically_normal().string();
    if (!fs::is_regular_file(options.modelPath)) {
      reader.fail(where + ".input_model", "model file '" + options.modelPath + "' not found");
    }
    reader.modelKeys(entry, where, options);
    config.models.push_back(std::move(options));
  }
  return config;
}

}  // namespace ipusim
