#include "compiler/passes/constant_folding.h"

#include <cstring>
#include <functional>
#include <map>

#include "compiler/lowering/broadcast.h"
#include "compiler/lowering/elementwise.h"
#include "sim/codelet.h"

namespace ipusim {

namespace {

using FoldFn = std::function<ConstTensor(LoweringContext&)>;

ConstTensor broadcastTo(const ConstTensor& value, const Shape& shape) {
  const size_t size = dtypeSize(value.dtype);
  ConstTensor out{value.dtype, shape, std::vector<uint8_t>(static_cast<size_t>(elementCount(shape)) * size)};
  forEachBroadcastRun(value.shape, shape, 0, static_cast<uint64_t>(elementCount(shape)), [&](const BroadcastRun& r) {
    std::memcpy(out.bytes.data() + r.outFirst * size, value.bytes.data() + r.srcFirst * size, r.count * size);
  });
  return out;
}

// Runs one codelet over whole host tensors: operands broadcast to the output shape.
ConstTensor runCodelet(LoweringContext& ctx, const std::string& codeletName, size_t operands) {
  const TensorInfo& out = ctx.outputInfo(0);
  const Codelet* codelet = CodeletRegistry::instance().find(codeletName);
  if (!codelet) throw CompileError(ctx.where() + ": no codelet " + codeletName);
  std::vector<ConstTensor> tensors;
  for (size_t i = 0; i < operands; ++i) tensors.push_back(broadcastTo(*ctx.constantInput(i), out.shape));
  tensors.push_back({out.dtype, out.shape,
                     std::vector<uint8_t>(static_cast<size_t>(elementCount(out.shape)) * dtypeSize(out.dtype))});
  VertexData data;
  for (auto& t : tensors) data.fields.push_back({std::span<uint8_t>(t.bytes)});
  codelet->kernel(data);
  return std::move(tensors.back());
}

ConstTensor foldAlias(LoweringContext& ctx) {
  ConstTensor out = *ctx.constantInput(0);
  out.shape = ctx.outputInfo(0).shape;
  return out;
}

ConstTensor foldConcat(LoweringContext& ctx) {
  const TensorInfo& info = ctx.outputInfo(0);
  const int64_t rank = static_cast<int64_t>(info.shape.size());
  int64_t axis = ctx.intAttribute("axis", 0);
  if (axis < 0) axis += rank;
  const size_t size = dtypeSize(info.dtype);
  int64_t outer = 1, inner = 1;
  for (int64_t d = 0; d < axis; ++d) outer *= info.shape[static_cast<size_t>(d)];
  for (int64_t d = axis + 1; d < rank; ++d) inner *= info.shape[static_cast<size_t>(d)];
  const size_t outRow = static_cast<size_t>(info.shape[static_cast<size_t>(axis)] * inner) * size;
  ConstTensor out{info.dtype, info.shape, std::vector<uint8_t>(static_cast<size_t>(elementCount(info.shape)) * size)};
  size_t column = 0;
  for (size_t i = 0; i < ctx.inputCount(); ++i) {
    const ConstTensor& in = *ctx.constantInput(i);
    const size_t block = static_cast<size_t>(in.shape[static_cast<size_t>(axis)] * inner) * size;
    for (int64_t o = 0; o < outer; ++o) {
      std::memcpy(out.bytes.data() + static_cast<size_t>(o) * outRow + column,
                  in.bytes.data() + static_cast<size_t>(o) * block, block);
    }
    column += block;
  }
  return out;
}

const std::map<std::string, FoldFn>& foldTable() {
  static const std::map<std::string, FoldFn> table = [] {
    std::map<std::string, FoldFn> t;
    for (const char* op : {"Identity", "Reshape", "Flatten", "Squeeze", "Unsqueeze"}) t[op] = foldAlias;
    for (const char* op : {"Add", "Sub", "Mul", "Div"}) {
      t[op] = [op = std::string(op)](LoweringContext& ctx) {
        return runCodelet(ctx, codeletName(op, ctx.outputInfo(0).dtype), 2);
      };
    }
    for (const char* op : {"Neg", "Relu"}) {
      t[op] = [op = std::string(op)](LoweringContext& ctx) {
        return runCodelet(ctx, codeletName(op, ctx.outputInfo(0).dtype), 1);
      };
    }
    t["Cast"] = [](LoweringContext& ctx) {
      DType from = ctx.inputInfo(0).dtype, to = ctx.outputInfo(0).dtype;
      return from == to ? foldAlias(ctx) : runCodelet(ctx, castCodeletName(from, to), 1);
    };
    t["Concat"] = foldConcat;
    return t;
  }();
  return table;
}

}  // namespace

bool tryFoldConstant(LoweringContext& ctx, int64_t maxTensorSize) {
  const auto& node = ctx.node();
  auto fold = foldTable().find(node.op_type());
  if (fold == foldTable().end() || node.output_size() != 1 || ctx.inputCount() == 0) return false;
  for (size_t i = 0; i < ctx.inputCount(); ++i) {
    if (ctx.hasInput(i) && !ctx.constantInput(i)) return false;
  }
  const TensorInfo& out = ctx.outputInfo(0);
  const int64_t bytes = elementCount(out.shape) * static_cast<int64_t>(dtypeSize(out.dtype));
  if (maxTensorSize >= 0 && bytes > maxTensorSize) return false;
  ctx.setConstantOutput(0, fold->second(ctx));
  return true;
}

}  // namespace ipusim
