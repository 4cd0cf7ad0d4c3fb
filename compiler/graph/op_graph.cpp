#include "compiler/graph/op_graph.h"

#include <boost/graph/topological_sort.hpp>

#include <algorithm>

#include "compiler/compiler.h"

namespace ipusim {

OpGraph::OpGraph(const onnx::GraphProto& graph) : graph_(static_cast<size_t>(graph.node_size())) {
  for (int n = 0; n < graph.node_size(); ++n) {
    for (const auto& out : graph.node(n).output()) {
      if (!out.empty()) producer_[out] = n;
    }
  }
  for (int n = 0; n < graph.node_size(); ++n) {
    for (const auto& in : graph.node(n).input()) {
      auto it = producer_.find(in);
      if (it != producer_.end()) boost::add_edge(static_cast<size_t>(it->second), static_cast<size_t>(n), graph_);
    }
  }
}

std::vector<int> OpGraph::topologicalOrder() const {
  std::vector<size_t> reversed;
  try {
    boost::topological_sort(graph_, std::back_inserter(reversed));
  } catch (const boost::not_a_dag&) {
    throw CompileError("the model's graph has a cycle");
  }
  // Boost emits reverse topological order (deterministic for a given graph).
  std::vector<int> order(reversed.rbegin(), reversed.rend());
  return order;
}

std::vector<bool> OpGraph::liveNodes(const std::vector<std::string>& outputs) const {
  std::vector<bool> live(boost::num_vertices(graph_), false);
  std::vector<size_t> stack;
  for (const auto& out : outputs) {
    auto it = producer_.find(out);
    if (it != producer_.end()) stack.push_back(static_cast<size_t>(it->second));
  }
  while (!stack.empty()) {
    size_t n = stack.back();
    stack.pop_back();
    if (live[n]) continue;
    live[n] = true;
    for (auto [e, end] = boost::in_edges(n, graph_); e != end; ++e) stack.push_back(boost::source(*e, graph_));
  }
  return live;
}

}  // namespace ipusim
