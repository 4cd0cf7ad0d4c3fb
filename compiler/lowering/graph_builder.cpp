#include "compiler/lowering/graph_builder.h"

#include <algorithm>

#include "compiler/compiler.h"

namespace ipusim {

const TileSpan& spanContaining(const VariableDesc& var, uint64_t element) {
  auto it = std::upper_bound(var.mapping.begin(), var.mapping.end(), element,
                             [](uint64_t e, const TileSpan& s) { return e < s.first; });
  if (it == var.mapping.begin() || element >= std::prev(it)->first + std::prev(it)->count) {
    throw CompileError("internal: element " + std::to_string(element) + " of '" + var.name + "' is not mapped");
  }
  return *std::prev(it);
}

GraphBuilder::GraphBuilder(Target target) { graph_.target = std::move(target); }

int GraphBuilder::beginScope() {
  currentScope_ = graph_.scopes++;
  return currentScope_;
}

void GraphBuilder::endScope() { currentScope_ = -1; }

uint32_t GraphBuilder::addVariable(const std::string& name, DType dtype, const Shape& shape,
                                   std::vector<TileSpan> mapping) {
  VariableDesc v;
  v.name = name;
  v.dtype = dtype;
  v.shape = shape;
  v.mapping = std::move(mapping);
  v.scope = currentScope_;
  graph_.variables.push_back(std::move(v));
  return static_cast<uint32_t>(graph_.variables.size() - 1);
}

uint32_t GraphBuilder::addVariable(const std::string& name, DType dtype, const Shape& shape) {
  return addVariable(name, dtype, shape,
                     linearMapping(static_cast<uint64_t>(elementCount(shape)), dtype, graph_.target));
}

uint32_t GraphBuilder::addConstant(const std::string& name, const ConstTensor& value, std::vector<TileSpan> mapping) {
  uint32_t id = addVariable(name, value.dtype, value.shape, std::move(mapping));
  auto& v = graph_.variables[id];
  v.kind = VariableKind::Constant;
  v.data = value.bytes;
  v.scope = -1;  // constants are resident: part of the load image
  return id;
}

uint32_t GraphBuilder::addConstant(const std::string& name, const ConstTensor& value) {
  return addConstant(name, value, linearMapping(static_cast<uint64_t>(value.elements()), value.dtype, graph_.target));
}

uint32_t GraphBuilder::addComputeSet(const std::string& name) {
  graph_.computeSets.push_back({name, {}});
  return static_cast<uint32_t>(graph_.computeSets.size() - 1);
}

uint32_t GraphBuilder::codeletIndex(const std::string& name) {
  auto it = std::find(graph_.codelets.begin(), graph_.codelets.end(), name);
  if (it != graph_.codelets.end()) return static_cast<uint32_t>(it - graph_.codelets.begin());
  graph_.codelets.push_back(name);
  return static_cast<uint32_t>(graph_.codelets.size() - 1);
}

void GraphBuilder::addVertex(uint32_t computeSet, const std::string& codelet, uint32_t tile,
                             std::vector<std::vector<Slice>> fields, std::vector<int64_t> scalars) {
  graph_.computeSets.at(computeSet).vertices.push_back(
      {codeletIndex(codelet), tile, std::move(fields), std::move(scalars)});
}

uint32_t GraphBuilder::addExchange(const std::string& name) {
  graph_.exchanges.push_back({name, {}});
  return static_cast<uint32_t>(graph_.exchanges.size() - 1);
}

void GraphBuilder::addCopy(uint32_t exchange, const Slice& src, uint32_t dstVar, uint64_t dstFirst) {
  auto& copies = graph_.exchanges.at(exchange).copies;
  const auto& s = graph_.variables.at(src.var);
  const auto& d = graph_.variables.at(dstVar);
  uint64_t done = 0;
  while (done < src.count) {
    const TileSpan& ss = spanContaining(s, src.first + done);
    const TileSpan& ds = spanContaining(d, dstFirst + done);
    uint64_t n = std::min({src.count - done, ss.first + ss.count - (src.first + done),
                           ds.first + ds.count - (dstFirst + done)});
    // Extend the previous copy when this one continues it within the same two spans.
    if (!copies.empty()) {
      CopyDesc& last = copies.back();
      if (last.src.var == src.var && last.dstVar == dstVar && last.src.first + last.src.count == src.first + done &&
          last.dstFirst + last.src.count == dstFirst + done && &spanContaining(s, last.src.first) == &ss &&
          &spanContaining(d, last.dstFirst) == &ds) {
        last.src.count += n;
        done += n;
        continue;
      }
    }
    copies.push_back({{src.var, src.first + done, n}, dstVar, dstFirst + done});
    done += n;
  }
}

uint32_t GraphBuilder::addStream(const std::string& anchor, StreamDirection direction, uint32_t var,
                                 const Shape& shape) {
  for (const auto& s : graph_.streams) {
    if (s.anchor == anchor) throw CompileError("anchor '" + anchor + "' is defined twice");
  }
  graph_.streams.push_back({anchor, direction, var, shape});
  return static_cast<uint32_t>(graph_.streams.size() - 1);
}

void GraphBuilder::touch(uint32_t var) {
  auto& v = graph_.variables[var];
  if (v.firstStep < 0) v.firstStep = step_;
  v.lastStep = step_;
}

void GraphBuilder::execute(uint32_t computeSet) {
  const auto& cs = graph_.computeSets.at(computeSet);
  if (cs.vertices.empty()) return;
  for (const auto& vertex : cs.vertices)
    for (const auto& field : vertex.fields)
      for (const auto& slice : field) touch(slice.var);
  sequence_.push_back(Program::execute(computeSet));
  ++step_;
}

void GraphBuilder::exchange(uint32_t exchange) {
  const auto& ex = graph_.exchanges.at(exchange);
  if (ex.copies.empty()) return;
  for (const auto& copy : ex.copies) {
    touch(copy.src.var);
    touch(copy.dstVar);
  }
  sequence_.push_back(Program::exchange(exchange));
  ++step_;
}

void GraphBuilder::streamCopy(uint32_t stream) {
  touch(graph_.streams.at(stream).variable);
  sequence_.push_back(Program::streamCopy(stream));
  ++step_;
}

void GraphBuilder::repeat(uint64_t count, const std::function<void()>& emitBody) {
  std::vector<Program> outer = std::move(sequence_);
  sequence_.clear();
  emitBody();
  Program body = Program::sequence(std::move(sequence_));
  sequence_ = std::move(outer);
  if (body.body.empty() || count == 0) return;
  sequence_.push_back(Program::repeat(count, std::move(body)));
}

Program GraphBuilder::takeSequence() {
  Program seq = Program::sequence(std::move(sequence_));
  sequence_.clear();
  return seq;
}

}  // namespace ipusim
