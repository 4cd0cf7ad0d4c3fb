// compileModel and fuseModels: import, lower, plan memory, emit the Executable.
#include "compiler/compiler.h"

#include "compiler/import/onnx_import.h"
#include "compiler/lower_model.h"
#include "compiler/memory/memory_planner.h"
#include "sim/error.h"

namespace ipusim {

namespace {

Target targetFor(const std::string& ipuVersion, const std::string& where) {
  try {
    return targetPreset(ipuVersion);
  } catch (const SimError& e) {
    throw CompileError(where + ": ipu_version: " + e.what());
  }
}

// A tensor larger than the whole IPU's memory can never be placed: refuse it right after
// import, before constant folding or lowering allocates anything for it (a shape is a claim
// any model can make: ConstantOfShape([10^12]) is a few bytes of ONNX).
void checkTensorsFitTarget(const ImportedModel& model, const Target& target) {
  const uint64_t capacity = uint64_t{target.tiles} * target.bytesPerTile;
  for (const auto& [name, info] : model.tensors) {
    uint64_t bytes = dtypeSize(info.dtype);
    bool tooLarge = false;
    for (int64_t dim : info.shape) {
      if (dim == 0) {
        bytes = 0;
        tooLarge = false;
        break;
      }
      const uint64_t d = static_cast<uint64_t>(dim);
      if (bytes > capacity / d) tooLarge = true;
      bytes = tooLarge ? bytes : bytes * d;
    }
    if (tooLarge || bytes > capacity) {
      throw CompileError(model.path + ": tensor '" + name + "' (" + std::string(dtypeName(info.dtype)) +
                         " " + shapeString(info.shape) + ") is larger than the whole " + target.name +
                         " (" + std::to_string(target.tiles) + " tiles x " +
                         std::to_string(target.bytesPerTile) + " bytes = " + std::to_string(capacity) +
                         " bytes)");
    }
  }
}

}  // namespace

Executable compileModel(const ModelOptions& options) {
  ImportedModel model = importModel(options);
  const Target target = targetFor(options.ipuVersion, options.modelPath);
  checkTensorsFitTarget(model, target);
  GraphBuilder builder(target);
  builder.beginScope();
  LoweredModel lowered = lowerModel(model, options, builder, AnchorNaming{});
  builder.endScope();
  const BuiltGraph& graph = builder.graph();
  return finalizeExecutable(graph, planMemory(graph), std::move(lowered.program), FusionInfo{});
}

Executable fuseModels(const std::vector<ModelOptions>& models) {
  if (models.empty()) throw CompileError("model fusion needs at least one model");
  for (const auto& m : models) {
    if (m.ipuVersion != models.front().ipuVersion) {
      throw CompileError(m.modelPath + ": ipu_version '" + m.ipuVersion + "' differs from '" +
                         models.front().ipuVersion + "': every fused model runs on the same IPU");
    }
  }
  GraphBuilder builder(targetFor(models.front().ipuVersion, models.front().modelPath));

  // `index` is global: it lives for the whole program, outside every subgraph's scope.
  const uint32_t indexVar = builder.addVariable("index", DType::UInt8, {1});
  builder.streamCopy(builder.addStream("index", StreamDirection::HostToDevice, indexVar, {1}));
  Program readIndex = builder.takeSequence();

  FusionInfo fusion;
  fusion.indexAnchor = "index";
  std::vector<int64_t> caseValues;
  std::vector<Program> cases;
  for (size_t i = 0; i < models.size(); ++i) {
    ImportedModel model = importModel(models[i]);
    checkTensorsFitTarget(model, builder.target());
    const std::string prefix = "graph" + std::to_string(i) + "/";
    builder.beginScope();
    LoweredModel lowered = lowerModel(model, models[i], builder, AnchorNaming{prefix, true});
    builder.endScope();
    SubgraphInfo info;
    info.index = static_cast<uint32_t>(i);
    info.sourceModel = models[i].modelPath;
    info.precision = models[i].precision;
    info.inputs = lowered.inputAnchors;
    info.outputs = lowered.outputAnchors;
    info.aliases = lowered.aliases;
    fusion.subgraphs.push_back(std::move(info));
    caseValues.push_back(static_cast<int64_t>(i));
    cases.push_back(std::move(lowered.program));
  }
  Program main = Program::sequence(
      {std::move(readIndex), Program::switchOn(indexVar, std::move(caseValues), std::move(cases))});
  const BuiltGraph& graph = builder.graph();
  return finalizeExecutable(graph, planMemory(graph), std::move(main), std::move(fusion));
}

}  // namespace ipusim
