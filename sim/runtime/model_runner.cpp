// ModelRunner: binds host tensors to an Executable's anchors and runs it on an Engine.
// Every fault a user can cause is reported as a one-line RuntimeError.
#include "sim/runtime/model_runner.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <set>
#include <utility>

#include "popef/popef_file.h"
#include "sim/error.h"

namespace ipusim {

namespace {

std::string joinNames(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& name : names) {
    if (!out.empty()) out += ", ";
    out += name;
  }
  return out.empty() ? std::string("(none)") : out;
}

std::string typeString(DType dtype, const Shape& shape) {
  return std::string(dtypeName(dtype)) + " " + shapeString(shape);
}

// Reads a one-element integer tensor; the index anchor accepts uint8, uint32 and int32.
int64_t readIndexTensor(const HostTensor& tensor) {
  if (tensor.dtype != DType::UInt8 && tensor.dtype != DType::UInt32 &&
      tensor.dtype != DType::Int32)
    throw RuntimeError("input index: expected uint8, uint32 or int32, given " +
                       std::string(dtypeName(tensor.dtype)));
  if (elementCount(tensor.shape) != 1)
    throw RuntimeError("input index: expected one element (shape [1]), given shape " +
                       shapeString(tensor.shape));
  if (tensor.data.size() != dtypeSize(tensor.dtype))
    throw RuntimeError("input index: expected " + std::to_string(dtypeSize(tensor.dtype)) +
                       " bytes of data, given " + std::to_string(tensor.data.size()));
  switch (tensor.dtype) {
    case DType::UInt8:
      return tensor.data[0];
    case DType::UInt32: {
      uint32_t v;
      std::memcpy(&v, tensor.data.data(), sizeof v);
      return v;
    }
    default: {
      int32_t v;
      std::memcpy(&v, tensor.data.data(), sizeof v);
      return v;
    }
  }
}

// The bytes of `value` as one element of the index variable's dtype.
std::vector<uint8_t> encodeIndex(int64_t value, DType dtype) {
  std::vector<uint8_t> bytes(dtypeSize(dtype));
  auto put = [&](auto v) { std::memcpy(bytes.data(), &v, sizeof v); };
  switch (dtype) {
    case DType::UInt8: put(static_cast<uint8_t>(value)); break;
    case DType::Int8: put(static_cast<int8_t>(value)); break;
    case DType::UInt32: put(static_cast<uint32_t>(value)); break;
    case DType::Int32: put(static_cast<int32_t>(value)); break;
    case DType::Int64: put(static_cast<int64_t>(value)); break;
    default:
      throw RuntimeError("the executable's index anchor has dtype " +
                         std::string(dtypeName(dtype)) + ", which is not an integer type");
  }
  return bytes;
}

}  // namespace

struct ModelRunner::Impl {
  std::shared_ptr<const Executable> exe;
  Engine engine;
  uint64_t loadCycles = 0;

  std::vector<AnchorInfo> inputs;   // without the index anchor
  std::vector<AnchorInfo> outputs;
  std::map<std::string, AnchorInfo, std::less<>> byName;  // every anchor, by its name
  std::map<std::string, std::string, std::less<>> aliasToAnchor;
  std::map<std::string, std::string, std::less<>> anchorToAlias;  // for messages
  std::optional<AnchorInfo> indexAnchor;  // fused executables only

  Impl(std::shared_ptr<const Executable> executable, const RuntimeConfig& config)
      : exe(std::move(executable)), engine(config.hostThreads) {
    if (!exe) throw RuntimeError("no executable given");
    bindAnchors();
    engine.setMaxCycles(config.maxCycles);
    loadCycles = engine.load(exe);
  }

  bool fused() const { return exe->fusion.fused(); }

  AnchorInfo anchorOfStream(const std::string& name) const {
    const HostStream* stream = exe->findStream(name);
    if (!stream)
      throw RuntimeError("the executable names anchor " + name + " but has no stream for it");
    if (stream->variable >= exe->variables.size())
      throw RuntimeError("the stream of anchor " + name + " refers to variable " +
                         std::to_string(stream->variable) + ", which does not exist");
    const Variable& var = exe->variables[stream->variable];
    AnchorInfo info;
    info.name = name;
    info.dtype = var.dtype;
    info.shape = stream->shape;  // the user's shape; the variable may be a reshaped alias
    info.direction = stream->direction;
    return info;
  }

  void addAnchor(AnchorInfo info) {
    auto& list = info.direction == StreamDirection::HostToDevice ? inputs : outputs;
    list.push_back(info);
    byName.emplace(info.name, std::move(info));
  }

  void bindAnchors() {
    const FusionInfo& fusion = exe->fusion;
    if (!fusion.fused()) {
      std::set<std::string> seen;
      for (const HostStream& stream : exe->streams)
        if (seen.insert(stream.anchor).second) addAnchor(anchorOfStream(stream.anchor));
      return;
    }
    indexAnchor = anchorOfStream(fusion.indexAnchor);
    if (elementCount(indexAnchor->shape) != 1)
      throw RuntimeError("the executable's index anchor has shape " +
                         shapeString(indexAnchor->shape) + ", expected one element");
    for (const SubgraphInfo& sub : fusion.subgraphs) {
      for (const auto& names : {sub.inputs, sub.outputs})
        for (const std::string& name : names) {
          AnchorInfo info = anchorOfStream(name);
          info.subgraph = sub.index;
          if (byName.count(name))
            throw RuntimeError("anchor " + name + " belongs to more than one subgraph");
          addAnchor(std::move(info));
        }
      for (const auto& [alias, anchor] : sub.aliases) {
        if (!byName.count(anchor))
          throw RuntimeError("alias " + alias + " refers to unknown anchor " + anchor);
        aliasToAnchor.emplace(alias, anchor);
        anchorToAlias.emplace(anchor, alias);
      }
    }
  }

  const SubgraphInfo* findSubgraph(int64_t index) const {
    for (const SubgraphInfo& sub : exe->fusion.subgraphs)
      if (static_cast<int64_t>(sub.index) == index) return &sub;
    return nullptr;
  }

  std::string subgraphRange() const {
    uint32_t lo = std::numeric_limits<uint32_t>::max(), hi = 0;
    for (const SubgraphInfo& sub : exe->fusion.subgraphs) {
      lo = std::min(lo, sub.index);
      hi = std::max(hi, sub.index);
    }
    const size_t n = exe->fusion.subgraphs.size();
    return "this executable has " + std::to_string(n) + (n == 1 ? " subgraph" : " subgraphs") +
           " (" + std::to_string(lo) + ".." + std::to_string(hi) + ")";
  }

  // "graph0/stream0 (alias graph0/X)" for messages.
  std::string describe(const std::string& anchor) const {
    auto it = anchorToAlias.find(anchor);
    return it == anchorToAlias.end() ? anchor : anchor + " (alias " + it->second + ")";
  }

  std::vector<std::string> validInputNames() const {
    std::vector<std::string> names;
    if (indexAnchor) names.push_back(indexAnchor->name);
    for (const AnchorInfo& in : inputs) names.push_back(describe(in.name));
    return names;
  }

  // Maps a user's name (anchor or alias) to its input anchor; nullopt for the index anchor.
  std::optional<std::string> canonicalInput(const std::string& name) const {
    if (indexAnchor && name == indexAnchor->name) return std::nullopt;
    // An input anchor's own name wins over an alias spelled the same (a file may hold both).
    std::string anchor = name;
    const auto direct = byName.find(name);
    const bool isInputAnchor = direct != byName.end() && direct->second.direction == StreamDirection::HostToDevice;
    if (auto alias = aliasToAnchor.find(name); !isInputAnchor && alias != aliasToAnchor.end())
      anchor = alias->second;
    auto it = byName.find(anchor);
    if (it == byName.end() || it->second.direction != StreamDirection::HostToDevice) {
      const bool isOutput = it != byName.end();
      throw RuntimeError("unknown input '" + name + "'" + (isOutput ? " (it is an output)" : "") +
                         ": valid inputs are " + joinNames(validInputNames()));
    }
    return anchor;
  }

  std::optional<int64_t> indexFromInputs(const std::map<std::string, HostTensor>& given) const {
    if (!indexAnchor) return std::nullopt;
    auto it = given.find(indexAnchor->name);
    if (it == given.end()) return std::nullopt;
    return readIndexTensor(it->second);
  }

  std::optional<uint32_t> resolve(std::optional<int64_t> index,
                                  const std::map<std::string, HostTensor>& given) const {
    if (!fused()) {
      if (index)
        throw RuntimeError("this executable holds a single model: it takes no index (given " +
                           std::to_string(*index) + ")");
      for (const auto& entry : given) canonicalInput(entry.first);  // reports unknown names
      return std::nullopt;
    }
    const std::optional<int64_t> fromInputs = indexFromInputs(given);
    if (index && fromInputs && *index != *fromInputs)
      throw RuntimeError("index given twice with different values: " + std::to_string(*index) +
                         " and an index input of " + std::to_string(*fromInputs));
    if (!index) index = fromInputs;

    if (index) {
      if (!findSubgraph(*index))
        throw RuntimeError("index " + std::to_string(*index) + " is out of range: " +
                           subgraphRange());
      return static_cast<uint32_t>(*index);
    }

    // No index: it is the one subgraph whose inputs were given.
    std::set<uint32_t> used;
    for (const auto& entry : given)
      if (auto anchor = canonicalInput(entry.first)) used.insert(*byName.at(*anchor).subgraph);
    if (used.size() == 1) return *used.begin();
    if (used.empty())
      throw RuntimeError("no index given and no inputs to infer it from: " + subgraphRange());
    std::string list;
    for (uint32_t sub : used) list += (list.empty() ? "" : ", ") + std::to_string(sub);
    throw RuntimeError("cannot infer the index: the inputs given belong to subgraphs " + list +
                       "; give the index or the inputs of one subgraph only");
  }

  std::vector<AnchorInfo> inputsOf(std::optional<uint32_t> index) const {
    if (!fused()) {
      if (index)
        throw RuntimeError("this executable holds a single model: it takes no index (given " +
                           std::to_string(*index) + ")");
      return inputs;
    }
    if (!index)
      throw RuntimeError("no index given: " + subgraphRange());
    if (!findSubgraph(*index))
      throw RuntimeError("index " + std::to_string(*index) + " is out of range: " +
                         subgraphRange());
    std::vector<AnchorInfo> list;
    for (const AnchorInfo& in : inputs)
      if (in.subgraph == index) list.push_back(in);
    return list;
  }

  RunResult execute(std::optional<int64_t> indexArg,
                    const std::map<std::string, HostTensor>& given) {
    RunResult result;
    result.index = resolve(indexArg, given);
    const std::vector<AnchorInfo> wanted = inputsOf(result.index);

    std::vector<std::string> wantedNames;
    for (const AnchorInfo& in : wanted) wantedNames.push_back(describe(in.name));

    HostBuffers buffers;
    for (const auto& [name, tensor] : given) {
      const std::optional<std::string> anchor = canonicalInput(name);
      if (!anchor) continue;  // the index, already read by resolve()
      const AnchorInfo& info = byName.at(*anchor);
      if (info.subgraph != result.index)
        throw RuntimeError("input '" + name + "' belongs to subgraph " +
                           std::to_string(*info.subgraph) + ", but index " +
                           std::to_string(*result.index) + " selects subgraph " +
                           std::to_string(*result.index) + ", whose inputs are " +
                           joinNames(wantedNames));
      if (buffers.count(*anchor))
        throw RuntimeError("input " + describe(*anchor) + " given twice (by name and by alias)");
      if (tensor.dtype != info.dtype || tensor.shape != info.shape)
        throw RuntimeError("input " + describe(*anchor) + ": expected " +
                           typeString(info.dtype, info.shape) + ", given " +
                           typeString(tensor.dtype, tensor.shape));
      const uint64_t bytes = static_cast<uint64_t>(elementCount(info.shape)) * dtypeSize(info.dtype);
      if (tensor.data.size() != bytes)
        throw RuntimeError("input " + describe(*anchor) + ": " + typeString(info.dtype, info.shape) +
                           " needs " + std::to_string(bytes) + " bytes of data, given " +
                           std::to_string(tensor.data.size()));
      buffers.emplace(*anchor, tensor.data);
    }
    for (const AnchorInfo& in : wanted)
      if (!buffers.count(in.name))
        throw RuntimeError("missing input " + describe(in.name) + " (" +
                           typeString(in.dtype, in.shape) + ")");
    if (indexAnchor)
      buffers.emplace(indexAnchor->name, encodeIndex(*result.index, indexAnchor->dtype));

    HostBuffers produced;
    try {
      result.execCycles = engine.run(buffers, produced);
    } catch (const SimError& e) {
      throw RuntimeError(e.what());
    }

    for (const AnchorInfo& out : outputs) {
      if (out.subgraph != result.index) continue;
      auto it = produced.find(out.name);
      if (it == produced.end())
        throw RuntimeError("the executable did not write output " + out.name);
      const uint64_t bytes = static_cast<uint64_t>(elementCount(out.shape)) * dtypeSize(out.dtype);
      if (it->second.size() != bytes)
        throw RuntimeError("output " + out.name + ": the executable wrote " +
                           std::to_string(it->second.size()) + " bytes, expected " +
                           std::to_string(bytes));
      result.outputs.emplace(out.name, HostTensor{out.dtype, out.shape, std::move(it->second)});
    }
    return result;
  }
};

namespace {

std::shared_ptr<const Executable> readExecutable(const std::string& popefPath) {
  try {
    return std::make_shared<const Executable>(popef::readPopef(popefPath).executable);
  } catch (const popef::PopefError& e) {
    throw RuntimeError(e.what());
  } catch (const SimError& e) {
    throw RuntimeError(e.what());
  }
}

}  // namespace

ModelRunner::ModelRunner(const std::string& popefPath, RuntimeConfig config)
    : ModelRunner(readExecutable(popefPath), config) {}

// The runtime's one exception type: machine faults at load time become RuntimeErrors.
ModelRunner::ModelRunner(std::shared_ptr<const Executable> exe, RuntimeConfig config) {
  try {
    impl_ = std::make_unique<Impl>(std::move(exe), config);
  } catch (const SimError& e) {
    throw RuntimeError(e.what());
  }
}

ModelRunner::~ModelRunner() = default;

const Executable& ModelRunner::executable() const { return *impl_->exe; }
std::vector<AnchorInfo> ModelRunner::inputs() const { return impl_->inputs; }
std::vector<AnchorInfo> ModelRunner::outputs() const { return impl_->outputs; }
uint64_t ModelRunner::loadCycles() const { return impl_->loadCycles; }

std::vector<AnchorInfo> ModelRunner::inputsOf(std::optional<uint32_t> index) const {
  return impl_->inputsOf(index);
}

std::optional<uint32_t> ModelRunner::resolveIndex(
    std::optional<int64_t> index, const std::map<std::string, HostTensor>& inputs) const {
  return impl_->resolve(index, inputs);
}

RunResult ModelRunner::execute(std::optional<int64_t> index,
                               const std::map<std::string, HostTensor>& inputs) {
  return impl_->execute(index, inputs);
}

void ModelRunner::setObserver(StepObserver* observer) { impl_->engine.setObserver(observer); }

}  // namespace ipusim
