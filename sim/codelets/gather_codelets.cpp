// Index-driven codelets whose indices arrive at run time: Gather, GatherRows, GatherElements, GatherND,
// OneHot, ScatterElements and ScatterND. The compiler places the source (or the slab of it
// the output can read) and the indices on the tile of each output chunk; the codelet picks
// the elements. Field and scalar conventions as in layout_codelets.cpp: `out` is the last
// field, one region of output elements [outFirst, outFirst + n), and `src` holds source
// elements from srcFirst on. Index operands may be of any integer type (their DType is a
// scalar); a negative index counts from the end of its axis, one out of range is a SimError.
#include <algorithm>
#include <string>

#include "sim/codelet.h"
#include "sim/codelets/codelet_tables.h"
#include "sim/codelets/dynamic_fields.h"
#include "sim/codelets/element_types.h"
#include "sim/codelets/layout_rules.h"

namespace ipusim::codelets {
namespace {

using Kernel = std::function<void(const VertexData&, std::string_view, size_t)>;

// Fields [src, indices, out]. Scalars [outFirst, srcFirst, indicesType, axisLength, inner,
// indicesCount, indicesFirst]: out[o, q, j] = data[o, indices[q], j], indices flattened.
void gatherKernel(const VertexData& data, std::string_view name, size_t bytes) {
  ScalarReader s(data.scalars, name);
  const int64_t outFirst = s.next(), srcFirst = s.next();
  const DType indicesType = s.dtype();
  const int64_t axisLength = s.next(), inner = s.next(), indicesCount = s.next(), indicesFirst = s.next();
  const FieldView src(data, 0, bytes, name), indices(data, 1, dtypeSize(indicesType), name), out(data, 2, bytes, name);
  if (inner <= 0 || indicesCount <= 0) codeletFault(name, "empty gather");
  for (size_t i = 0; i < out.size();) {
    const int64_t e = outFirst + static_cast<int64_t>(i);
    const int64_t j = e % inner, q = (e / inner) % indicesCount, o = e / (inner * indicesCount);
    const int64_t index = wrapIndex(indices.index(static_cast<size_t>(q - indicesFirst), indicesType), axisLength, name);
    const size_t run = std::min<size_t>(static_cast<size_t>(inner - j), out.size() - i);  // rest of the row
    const int64_t from = (o * axisLength + index) * inner + j - srcFirst;
    std::memcpy(out.at(i, run), src.at(static_cast<size_t>(from), run), run * bytes);
    i += run;
  }
}

// The column-split plan of a large Gather (poplibs' multiSlice): a tile holds every row of
// a block of `width` columns of the table and every index. Fields [block (rows x width),
// indices, out (rows of width)]. Scalars [rows, width, indicesType, firstIndex]: out row k
// is block row indices[firstIndex + k].
void gatherRowsKernel(const VertexData& data, std::string_view name, size_t bytes) {
  ScalarReader s(data.scalars, name);
  const int64_t rows = s.next(), width = s.next();
  const DType indicesType = s.dtype();
  const int64_t firstIndex = s.next();
  const FieldView block(data, 0, bytes, name), indices(data, 1, dtypeSize(indicesType), name), out(data, 2, bytes, name);
  if (width <= 0 || out.size() % static_cast<size_t>(width) != 0) codeletFault(name, "out is not whole rows");
  const size_t w = static_cast<size_t>(width);
  for (size_t k = 0; k < out.size() / w; ++k) {
    const int64_t row = wrapIndex(indices.index(static_cast<size_t>(firstIndex) + k, indicesType), rows, name);
    std::memcpy(out.at(k * w, w), block.at(static_cast<size_t>(row) * w, w), w * bytes);
  }
}

// Fields [src, indices (the same elements as out), out]. Scalars [outFirst, srcFirst,
// indicesType, axis, rank, dataShape..., outShape...].
void gatherElementsKernel(const VertexData& data, std::string_view name, size_t bytes) {
  ScalarReader s(data.scalars, name);
  const int64_t outFirst = s.next(), srcFirst = s.next();
  const DType indicesType = s.dtype();
  const size_t axis = static_cast<size_t>(s.next());
  const size_t rank = static_cast<size_t>(s.next());
  const std::vector<int64_t> dataShape = s.list(rank), outShape = s.list(rank);
  const FieldView src(data, 0, bytes, name), indices(data, 1, dtypeSize(indicesType), name), out(data, 2, bytes, name);
  if (axis >= rank) codeletFault(name, "the axis is out of range");
  if (indices.size() != out.size()) codeletFault(name, "indices and out differ in length");
  const std::vector<int64_t> strides = rowMajorStrides(dataShape);
  std::vector<int64_t> index;
  unflatten(outFirst, outShape, index);
  for (size_t i = 0; i < out.size(); ++i) {
    int64_t from = 0;
    for (size_t d = 0; d < rank; ++d) {
      const int64_t at = d == axis ? wrapIndex(indices.index(i, indicesType), dataShape[d], name) : index[d];
      from += at * strides[d];
    }
    std::memcpy(out.at(i), src.at(static_cast<size_t>(from - srcFirst)), bytes);
    advance(index, outShape);
  }
}

// Fields [src, indices, out]. Scalars [outFirst, srcFirst, indicesType, batchDims, dataRank,
// dataShape..., indicesRank, indicesShape...].
void gatherNDKernel(const VertexData& data, std::string_view name, size_t bytes) {
  ScalarReader s(data.scalars, name);
  const int64_t outFirst = s.next(), srcFirst = s.next();
  const DType indicesType = s.dtype();
  const size_t batchDims = static_cast<size_t>(s.next());
  const std::vector<int64_t> dataShape = s.list(static_cast<size_t>(s.next()));
  const std::vector<int64_t> indicesShape = s.list(static_cast<size_t>(s.next()));
  const FieldView src(data, 0, bytes, name), indices(data, 1, dtypeSize(indicesType), name), out(data, 2, bytes, name);
  if (indicesShape.empty()) codeletFault(name, "indices must have rank 1 or more");
  const size_t k = static_cast<size_t>(indicesShape.back());
  if (batchDims + k > dataShape.size()) codeletFault(name, "index tuples are longer than the data's rank");
  const std::vector<int64_t> strides = rowMajorStrides(dataShape);
  const int64_t sliceSize = product({dataShape.begin() + static_cast<int64_t>(batchDims + k), dataShape.end()});
  const int64_t batchSize = product({dataShape.begin() + static_cast<int64_t>(batchDims), dataShape.end()});
  const int64_t tuplesPerBatch =
      product({indicesShape.begin() + static_cast<int64_t>(batchDims), indicesShape.end() - 1});
  for (size_t i = 0; i < out.size(); ++i) {
    const int64_t e = outFirst + static_cast<int64_t>(i);
    const int64_t tuple = e / sliceSize;
    int64_t from = (tuple / tuplesPerBatch) * batchSize + e % sliceSize;
    for (size_t m = 0; m < k; ++m) {
      const int64_t at = indices.index(static_cast<size_t>(tuple) * k + m, indicesType);
      from += wrapIndex(at, dataShape[batchDims + m], name) * strides[batchDims + m];
    }
    std::memcpy(out.at(i), src.at(static_cast<size_t>(from - srcFirst)), bytes);
  }
}

// Fields [indices, depth, values (off, on), out]. Scalars [outFirst, indicesType, depthType,
// outer, depth, inner, indicesFirst]: out[o, c, j] = indices[o, j] == c ? on : off, a
// negative index counting from depth; the run-time depth must be the compiled one.
void oneHotKernel(const VertexData& data, std::string_view name, size_t bytes) {
  ScalarReader s(data.scalars, name);
  const int64_t outFirst = s.next();
  const DType indicesType = s.dtype(), depthType = s.dtype();
  s.next();  // outer: implied by the output's length
  const int64_t depth = s.next(), inner = s.next(), indicesFirst = s.next();
  const FieldView indices(data, 0, dtypeSize(indicesType), name), depthField(data, 1, dtypeSize(depthType), name),
      values(data, 2, bytes, name), out(data, 3, bytes, name);
  if (depthField.index(0, depthType) != depth) {
    codeletFault(name, "the run-time depth " + std::to_string(depthField.index(0, depthType)) +
                           " differs from the compiled " + std::to_string(depth));
  }
  for (size_t i = 0; i < out.size(); ++i) {
    const int64_t e = outFirst + static_cast<int64_t>(i);
    const int64_t j = e % inner, c = (e / inner) % depth, o = e / (inner * depth);
    int64_t index = indices.index(static_cast<size_t>(o * inner + j - indicesFirst), indicesType);
    if (index < 0) index += depth;
    std::memcpy(out.at(i), values.at(index == c ? 1 : 0), bytes);
  }
}

// dst = dst (op) update for a scatter reduction.
template <DType D>
void combine(uint8_t* dst, const uint8_t* update, layout::ScatterReduction reduction) {
  using E = Element<D>;
  using V = typename E::Value;
  switch (reduction) {
    case layout::ScatterReduction::None: std::memcpy(dst, update, E::bytes); return;
    case layout::ScatterReduction::Add: E::store(dst, static_cast<V>(E::load(dst) + E::load(update))); return;
    case layout::ScatterReduction::Mul: E::store(dst, static_cast<V>(E::load(dst) * E::load(update))); return;
  }
}

// Fields [data (the same elements as out), indices, updates, out]. Scalars [outFirst,
// indicesType, reduction, axis, rank, dataShape..., indicesShape...]. Updates apply in order.
template <DType D>
void scatterElementsKernel(const VertexData& data, std::string_view name, size_t bytes) {
  ScalarReader s(data.scalars, name);
  const int64_t outFirst = s.next();
  const DType indicesType = s.dtype();
  const auto reduction = static_cast<layout::ScatterReduction>(s.next());
  const size_t axis = static_cast<size_t>(s.next());
  const size_t rank = static_cast<size_t>(s.next());
  const std::vector<int64_t> dataShape = s.list(rank), indicesShape = s.list(rank);
  const FieldView in(data, 0, bytes, name), indices(data, 1, dtypeSize(indicesType), name),
      updates(data, 2, bytes, name), out(data, 3, bytes, name);
  if (in.size() != out.size()) codeletFault(name, "data and out differ in length");
  if (axis >= rank) codeletFault(name, "the axis is out of range");
  if (out.size() > 0) std::memcpy(out.at(0), in.at(0), out.size() * bytes);
  const std::vector<int64_t> strides = rowMajorStrides(dataShape);
  const int64_t end = outFirst + static_cast<int64_t>(out.size());
  std::vector<int64_t> index(rank, 0);
  for (size_t u = 0; u < indices.size(); ++u) {
    int64_t target = 0;
    for (size_t d = 0; d < rank; ++d) {
      const int64_t at = d == axis ? wrapIndex(indices.index(u, indicesType), dataShape[d], name) : index[d];
      target += at * strides[d];
    }
    if (target >= outFirst && target < end) combine<D>(out.at(static_cast<size_t>(target - outFirst)), updates.at(u), reduction);
    advance(index, indicesShape);
  }
}

// Fields [data (the same elements as out), indices, updates, out]. Scalars [outFirst,
// indicesType, reduction, dataRank, dataShape..., indicesRank, indicesShape...].
template <DType D>
void scatterNDKernel(const VertexData& data, std::string_view name, size_t bytes) {
  ScalarReader s(data.scalars, name);
  const int64_t outFirst = s.next();
  const DType indicesType = s.dtype();
  const auto reduction = static_cast<layout::ScatterReduction>(s.next());
  const std::vector<int64_t> dataShape = s.list(static_cast<size_t>(s.next()));
  const std::vector<int64_t> indicesShape = s.list(static_cast<size_t>(s.next()));
  const FieldView in(data, 0, bytes, name), indices(data, 1, dtypeSize(indicesType), name),
      updates(data, 2, bytes, name), out(data, 3, bytes, name);
  if (in.size() != out.size()) codeletFault(name, "data and out differ in length");
  if (indicesShape.empty()) codeletFault(name, "indices must have rank 1 or more");
  if (out.size() > 0) std::memcpy(out.at(0), in.at(0), out.size() * bytes);
  const size_t k = static_cast<size_t>(indicesShape.back());
  if (k > dataShape.size()) codeletFault(name, "index tuples are longer than the data's rank");
  const std::vector<int64_t> strides = rowMajorStrides(dataShape);
  const int64_t sliceSize = product({dataShape.begin() + static_cast<int64_t>(k), dataShape.end()});
  const int64_t tuples = product({indicesShape.begin(), indicesShape.end() - 1});
  const int64_t end = outFirst + static_cast<int64_t>(out.size());
  for (int64_t t = 0; t < tuples; ++t) {
    int64_t base = 0;
    for (size_t m = 0; m < k; ++m) {
      base += wrapIndex(indices.index(static_cast<size_t>(t) * k + m, indicesType), dataShape[m], name) * strides[m];
    }
    for (int64_t g = std::max(base, outFirst), last = std::min(base + sliceSize, end); g < last; ++g) {
      combine<D>(out.at(static_cast<size_t>(g - outFirst)), updates.at(static_cast<size_t>(t * sliceSize + g - base)),
                 reduction);
    }
  }
}

// Cycles (assumptions, docs/cost-model.md): gathers pay index arithmetic and a load/store
// per output element; scatters copy their chunk, then test and apply every update.
constexpr uint32_t kGatherVertexCycles = 30;
constexpr uint32_t kGatherCyclesPerElement = 8;
constexpr uint32_t kGatherNDCyclesPerElement = 14;
constexpr uint32_t kGatherRowsCyclesPerElement = 2;  // a row copy: index work amortised over its width
constexpr uint32_t kOneHotCyclesPerElement = 6;
constexpr uint32_t kScatterCyclesPerUpdate = 10;

using Cycles = std::function<uint64_t(const Vertex&, const Target&)>;

void addIndexed(CodeletRegistry& registry, const std::string& op, DType dtype, Kernel kernel, size_t fields,
                Cycles cycles) {
  Codelet codelet;
  codelet.name = op + "<" + std::string(dtypeName(dtype)) + ">";
  codelet.kernel = [name = codelet.name, kernel = std::move(kernel), bytes = dtypeSize(dtype),
                    fields](const VertexData& data) {
    if (data.fields.size() != fields) codeletFault(name, "expects " + std::to_string(fields) + " fields");
    kernel(data, name, bytes);
  };
  codelet.cycles = std::move(cycles);
  codelet.codeBytes = kLayoutCodeBytes;
  registry.add(std::move(codelet));
}

void addGather(CodeletRegistry& registry, const std::string& op, DType dtype, Kernel kernel, size_t fields,
               uint32_t perElement) {
  addIndexed(registry, op, dtype, std::move(kernel), fields,
             perElementCycles(kGatherVertexCycles, perElement, fields - 1, dtypeSize(dtype)));
}

// Scatters: the chunk copy (one element a cycle) plus a cost per update element.
void addScatter(CodeletRegistry& registry, const std::string& op, DType dtype, Kernel kernel) {
  addIndexed(registry, op, dtype, std::move(kernel), 4, [bytes = dtypeSize(dtype)](const Vertex& vertex, const Target&) {
    uint64_t outElements = 0, updates = 0;
    if (vertex.fields.size() < 4) return uint64_t{kGatherVertexCycles};
    for (const Region& r : vertex.fields[3]) outElements += r.bytes / bytes;
    for (const Region& r : vertex.fields[2]) updates += r.bytes / bytes;
    return uint64_t{kGatherVertexCycles} + outElements + updates * kScatterCyclesPerUpdate;
  });
}

}  // namespace

void registerGatherCodelets(CodeletRegistry& registry) {
  forEachDType([&]<DType D>() {
    addGather(registry, "Gather", D, gatherKernel, 3, kGatherCyclesPerElement);
    addGather(registry, "GatherElements", D, gatherElementsKernel, 3, kGatherCyclesPerElement);
    addGather(registry, "GatherND", D, gatherNDKernel, 3, kGatherNDCyclesPerElement);
    addGather(registry, "GatherRows", D, gatherRowsKernel, 3, kGatherRowsCyclesPerElement);
    addGather(registry, "OneHot", D, oneHotKernel, 4, kOneHotCyclesPerElement);
    addScatter(registry, "ScatterElements", D, scatterElementsKernel<D>);
    addScatter(registry, "ScatterND", D, scatterNDKernel<D>);
  });
}

}  // namespace ipusim::codelets
