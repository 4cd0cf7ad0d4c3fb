#include "sim/runtime/executable_pairing.h"

#include <algorithm>
#include <set>
#include <sstream>

namespace ipusim {

namespace {

struct StreamAnchor {
  std::string name;
  DType dtype = DType::Float32;
  Shape shape;
};

StreamAnchor streamAnchor(const NamedExecutable& file, const std::string& anchor) {
  const HostStream* stream = file.executable->findStream(anchor);
  if (!stream || stream->variable >= file.executable->variables.size())
    throw RuntimeError(file.name + ": anchor " + anchor + " has no stream");
  return {anchor, file.executable->variables[stream->variable].dtype, stream->shape};
}

// A single model's anchors of one direction, in stream order (the model's order).
std::vector<StreamAnchor> singleModelAnchors(const NamedExecutable& file, StreamDirection direction) {
  std::vector<StreamAnchor> anchors;
  std::set<std::string> seen;
  for (const HostStream& stream : file.executable->streams)
    if (stream.direction == direction && seen.insert(stream.anchor).second)
      anchors.push_back(streamAnchor(file, stream.anchor));
  return anchors;
}

std::string typeText(DType dtype, const Shape& shape) {
  return std::string(dtypeName(dtype)) + " " + shapeString(shape);
}

std::string namesText(const std::vector<std::string>& names) {
  std::string out;
  for (const std::string& name : names) out += (out.empty() ? "" : ", ") + name;
  return out.empty() ? "none" : out;
}

std::string withoutPrefix(const std::string& name, const std::string& prefix) {
  return name.rfind(prefix, 0) == 0 ? name.substr(prefix.size()) : name;
}

std::string figure(double value) {
  std::ostringstream s;
  s.precision(10);
  s << value;
  return s.str();
}

// The figures a comparison's timing depends on must agree, or the two strategies would run
// on different machines.
void checkSameTarget(const NamedExecutable& fused, const NamedExecutable& separate) {
  const Target& a = separate.executable->target;
  const Target& b = fused.executable->target;
  auto differ = [&](const std::string& what, const std::string& mine, const std::string& theirs) {
    throw RuntimeError(separate.name + " is compiled for a different target than " + fused.name +
                       ": " + what + " " + mine + " against " + theirs);
  };
  if (a.name != b.name) differ("target", a.name, b.name);
  if (a.clockHz != b.clockHz) differ("clock (Hz)", figure(a.clockHz), figure(b.clockHz));
  if (a.hostLinkBytesPerSecond != b.hostLinkBytesPerSecond)
    differ("host link (bytes/s)", figure(a.hostLinkBytesPerSecond), figure(b.hostLinkBytesPerSecond));
  if (a.hostTransferLatencySeconds != b.hostTransferLatencySeconds)
    differ("host transfer latency (s)", figure(a.hostTransferLatencySeconds),
           figure(b.hostTransferLatencySeconds));
  if (a.loadFixedSeconds != b.loadFixedSeconds)
    differ("fixed load overhead (s)", figure(a.loadFixedSeconds), figure(b.loadFixedSeconds));
}

// Pairs the subgraph's anchors (fused names, with their names in the model) with the separate
// executable's, position by position.
std::vector<AnchorPair> pairAnchors(const std::string& kind, const NamedExecutable& fused,
                                    const SubgraphInfo& sub,
                                    const std::vector<std::string>& fusedAnchors,
                                    const NamedExecutable& separate,
                                    const std::vector<StreamAnchor>& separateAnchors) {
  const std::string prefix = "graph" + std::to_string(sub.index) + "/";
  const std::string where = separate.name + " does not match subgraph " +
                            std::to_string(sub.index) + " of " + fused.name + ": ";
  // The name each fused anchor had in its model: the alias's suffix for inputs
  // (graph0/stream0 is also graph0/X), the anchor's suffix for outputs (graph0/O).
  std::vector<std::string> modelNames, fusedShown;
  for (const std::string& anchor : fusedAnchors) {
    std::string shown = anchor;
    for (const auto& [alias, target] : sub.aliases)
      if (target == anchor) shown = alias;
    fusedShown.push_back(shown);
    modelNames.push_back(withoutPrefix(shown, prefix));
  }
  if (fusedAnchors.size() != separateAnchors.size()) {
    std::vector<std::string> separateNames;
    for (const StreamAnchor& a : separateAnchors) separateNames.push_back(a.name);
    const size_t n = separateAnchors.size();
    throw RuntimeError(where + "it has " + std::to_string(n) + " " + kind + (n == 1 ? "" : "s") +
                       " (" + namesText(separateNames) + "), the subgraph has " +
                       std::to_string(fusedAnchors.size()) + " (" + namesText(fusedShown) + ")");
  }
  std::vector<AnchorPair> pairs;
  for (size_t j = 0; j < fusedAnchors.size(); ++j) {
    const StreamAnchor theirs = streamAnchor(fused, fusedAnchors[j]);
    const StreamAnchor& mine = separateAnchors[j];
    if (mine.name != modelNames[j])
      throw RuntimeError(where + kind + " " + std::to_string(j) + " is " + mine.name +
                         ", the subgraph's is " + fusedShown[j]);
    if (mine.dtype != theirs.dtype || mine.shape != theirs.shape)
      throw RuntimeError(where + kind + " " + mine.name + " is " + typeText(mine.dtype, mine.shape) +
                         ", but " + fusedShown[j] + " is " + typeText(theirs.dtype, theirs.shape));
    pairs.push_back({fusedAnchors[j], mine.name, mine.dtype, mine.shape});
  }
  return pairs;
}

}  // namespace

ExecutablePairing pairExecutables(NamedExecutable fused, std::vector<NamedExecutable> separate) {
  if (!fused.executable) throw RuntimeError("no fused executable given");
  const FusionInfo& fusion = fused.executable->fusion;
  if (!fusion.fused())
    throw RuntimeError(fused.name + " holds a single model, not a fused executable: --fused takes "
                       "the output of ipusim fuse");
  std::vector<const SubgraphInfo*> subgraphs;
  for (const SubgraphInfo& sub : fusion.subgraphs) subgraphs.push_back(&sub);
  std::sort(subgraphs.begin(), subgraphs.end(),
            [](const SubgraphInfo* a, const SubgraphInfo* b) { return a->index < b->index; });
  for (size_t i = 0; i < subgraphs.size(); ++i)
    if (subgraphs[i]->index != i)
      throw RuntimeError(fused.name + ": subgraph indices are not 0.." +
                         std::to_string(subgraphs.size() - 1) + " (found " +
                         std::to_string(subgraphs[i]->index) + "), so request streams cannot name them");
  if (separate.size() != subgraphs.size())
    throw RuntimeError(std::to_string(separate.size()) + " separate executable" +
                       (separate.size() == 1 ? "" : "s") + " given, but " + fused.name + " has " +
                       std::to_string(subgraphs.size()) +
                       " subgraphs: give one per subgraph, in index order");

  ExecutablePairing pairing;
  pairing.fused = std::move(fused);
  for (size_t i = 0; i < subgraphs.size(); ++i) {
    NamedExecutable& file = separate[i];
    if (!file.executable) throw RuntimeError("separate executable " + std::to_string(i) + " is missing");
    if (file.executable->fusion.fused())
      throw RuntimeError(file.name + " is a fused executable: --separate takes single-model "
                         "executables (ipusim compile), one per subgraph of " + pairing.fused.name);
    checkSameTarget(pairing.fused, file);
    const SubgraphInfo& sub = *subgraphs[i];
    ModelPair model;
    model.index = sub.index;
    model.sourceModel = sub.sourceModel;
    model.inputs = pairAnchors("input", pairing.fused, sub, sub.inputs, file,
                               singleModelAnchors(file, StreamDirection::HostToDevice));
    model.outputs = pairAnchors("output", pairing.fused, sub, sub.outputs, file,
                                singleModelAnchors(file, StreamDirection::DeviceToHost));
    model.separate = std::move(file);
    pairing.models.push_back(std::move(model));
  }
  return pairing;
}

}  // namespace ipusim
