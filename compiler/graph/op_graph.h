// The op graph of an ONNX model as a Boost.Graph: nodes are vertices, an edge runs from a
// tensor's producer to each consumer. Topological order and dead-node removal come from it.
#pragma once
#include <map>
#include <string>
#include <vector>

#include <boost/graph/adjacency_list.hpp>
#include <onnx/onnx_pb.h>

namespace ipusim {

class OpGraph {
 public:
  explicit OpGraph(const onnx::GraphProto& graph);

  // Node indices, producers before consumers. Throws CompileError on a cycle.
  std::vector<int> topologicalOrder() const;
  // Whether each node contributes to one of `outputs` (the others are dead).
  std::vector<bool> liveNodes(const std::vector<std::string>& outputs) const;

 private:
  using Graph = boost::adjacency_list<boost::vecS, boost::vecS, boost::bidirectionalS>;
  Graph graph_;
  std::map<std::string, int> producer_;  // tensor -> node index
};

}  // namespace ipusim
