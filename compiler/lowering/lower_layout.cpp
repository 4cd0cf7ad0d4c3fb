// Layout ops as exchanges (DESIGN.md section 5): Transpose, Slice, Split, Tile, Expand, Pad,
// DepthToSpace, SpaceToDepth and ReverseSequence become index maps, copied in maximal runs
// into a linearly mapped output. Parameters that only arrive at run time (Slice starts, Pad
// pads, sequence lengths) go to a codelet that applies the same rules (layout_rules.h) on
// the tile of each output chunk. Trilu masks in place: a codelet on the input's own layout.
#include <numeric>

#include "compiler/lowering/dynamic_layout.h"
#include "compiler/lowering/elementwise.h"
#include "compiler/lowering/index_map.h"
#include "compiler/lowering/lowering_registry.h"
#include "compiler/lowering/opset.h"
#include "sim/codelets/layout_rules.h"

namespace ipusim {

namespace {

const char* const kExchangeMapping =
    "output mapped linearly; the index map's maximal contiguous runs copied by one exchange";

std::vector<int64_t> intsAttribute(const LoweringContext& ctx, const std::string& name) {
  const auto* attr = ctx.attribute(name);
  if (!attr) return {};
  return {attr->ints().begin(), attr->ints().end()};
}

std::string stringAttribute(const LoweringContext& ctx, const std::string& name, const std::string& fallback) {
  const auto* attr = ctx.attribute(name);
  return attr ? attr->s() : fallback;
}

int64_t rankOf(const Shape& shape) { return static_cast<int64_t>(shape.size()); }

// ---- Transpose ----

void lowerTranspose(LoweringContext& ctx) {
  const Shape& in = ctx.inputInfo(0).shape;
  const Shape& out = ctx.outputInfo(0).shape;
  std::vector<int64_t> perm = intsAttribute(ctx, "perm");
  if (perm.empty()) {
    perm.resize(in.size());
    std::iota(perm.rbegin(), perm.rend(), 0);  // default: reverse the axes
  }
  if (perm.size() != in.size()) throw CompileError(ctx.where() + ": perm has the wrong length");
  const std::vector<int64_t> inStrides = stridesOf(in);
  std::vector<int64_t> strides;
  for (int64_t p : perm) strides.push_back(inStrides[static_cast<size_t>(normaliseAxis(ctx, p, rankOf(in)))]);
  lowerIndexMapped(ctx, 0, stridedIndexMap(out, strides));
}

// ---- Slice ----

struct SliceParams {
  std::vector<int64_t> starts, ends, axes, steps;
};

// The constant parameters of a Slice (attributes before opset 10, inputs after), if all known.
std::optional<SliceParams> constantSliceParams(const LoweringContext& ctx, int64_t opset) {
  SliceParams p;
  if (opset < 10) {
    p.starts = intsAttribute(ctx, "starts");
    p.ends = intsAttribute(ctx, "ends");
    p.axes = intsAttribute(ctx, "axes");
  } else {
    auto starts = constantInts(ctx, 1), ends = constantInts(ctx, 2);
    if (!starts || !ends) return std::nullopt;
    p.starts = *starts;
    p.ends = *ends;
    if (ctx.hasInput(3)) {
      auto axes = constantInts(ctx, 3);
      if (!axes) return std::nullopt;
      p.axes = *axes;
    }
    if (ctx.hasInput(4)) {
      auto steps = constantInts(ctx, 4);
      if (!steps) return std::nullopt;
      p.steps = *steps;
    }
  }
  if (p.axes.empty()) {
    p.axes.resize(p.starts.size());
    std::iota(p.axes.begin(), p.axes.end(), 0);
  }
  if (p.steps.empty()) p.steps.assign(p.starts.size(), 1);
  if (p.ends.size() != p.starts.size() || p.axes.size() != p.starts.size() || p.steps.size() != p.starts.size()) {
    throw CompileError(ctx.where() + ": starts, ends, axes and steps differ in length");
  }
  return p;
}

void lowerSlice(LoweringContext& ctx, int64_t opset) {
  const Shape& in = ctx.inputInfo(0).shape;
  const Shape& out = ctx.outputInfo(0).shape;
  const int64_t rank = rankOf(in);
  if (auto p = constantSliceParams(ctx, opset)) {
    std::vector<int64_t> first(in.size(), 0), step(in.size(), 1);
    for (size_t k = 0; k < p->starts.size(); ++k) {
      const size_t axis = static_cast<size_t>(normaliseAxis(ctx, p->axes[k], rank));
      if (p->steps[k] == 0) throw CompileError(ctx.where() + ": a step is 0");
      first[axis] = layout::sliceStart(p->starts[k], p->steps[k], in[axis]);
      step[axis] = p->steps[k];
      if (layout::sliceCount(p->starts[k], p->ends[k], p->steps[k], in[axis]) != out[axis]) {
        throw CompileError(ctx.where() + ": the slice of axis " + std::to_string(axis) +
                           " disagrees with the inferred output shape " + shapeString(out));
      }
    }
    const std::vector<int64_t> inStrides = stridesOf(in);
    std::vector<int64_t> strides(in.size());
    int64_t base = 0;
    for (size_t d = 0; d < in.size(); ++d) {
      strides[d] = step[d] * inStrides[d];
      base += first[d] * inStrides[d];
    }
    lowerIndexMapped(ctx, 0, stridedIndexMap(out, strides, base));
    return;
  }
  // Run-time parameters: the DynamicSlice codelet checks them against the static shape.
  DynamicLowering dynamic;
  dynamic.place = [&ctx](uint32_t exchange, const std::vector<TileSpan>& spans) {
    std::vector<TileOperand> operands{placeWholeNearOutput(ctx, exchange, "data", ctx.input(0), spans)};
    const char* names[] = {"starts", "ends", "axes", "steps"};
    for (size_t i = 1; i <= 4; ++i) operands.push_back(placeOptionalInput(ctx, exchange, i, names[i - 1], spans));
    return operands;
  };
  std::vector<int64_t> common{dtypeScalar(ctx, 1), dtypeScalar(ctx, 2), dtypeScalar(ctx, 3), dtypeScalar(ctx, 4),
                              rank};
  common.insert(common.end(), in.begin(), in.end());
  common.insert(common.end(), out.begin(), out.end());
  dynamic.scalarsOf = [common](const TileSpan& chunk, const TileSpan&) {
    std::vector<int64_t> scalars{static_cast<int64_t>(chunk.first), 0};
    scalars.insert(scalars.end(), common.begin(), common.end());
    return scalars;
  };
  lowerDynamic(ctx, codeletName("DynamicSlice", ctx.outputInfo(0).dtype), std::move(dynamic));
}

// ---- Split: every output is a slice along the axis; all of them in one exchange ----

void lowerSplit(LoweringContext& ctx) {
  GraphBuilder& b = ctx.builder();
  const TensorValue in = ctx.input(0);
  const int64_t axis = normaliseAxis(ctx, ctx.intAttribute("axis", 0), rankOf(in.shape));
  const std::vector<int64_t> inStrides = stridesOf(in.shape);
  const uint32_t exchange = b.addExchange(ctx.name());
  int64_t offset = 0;  // along the axis
  for (size_t o = 0; o < static_cast<size_t>(ctx.node().output_size()); ++o) {
    if (ctx.node().output(static_cast<int>(o)).empty()) continue;
    const TensorInfo& out = ctx.outputInfo(o);
    const SeparableIndexMap map = stridedIndexMap(out.shape, inStrides, offset * inStrides[static_cast<size_t>(axis)]);
    offset += out.shape[static_cast<size_t>(axis)];
    if (elementCount(out.shape) == elementCount(in.shape) && isIdentityMap(map)) {
      ctx.setOutput(o, {in.var, out.dtype, out.shape});
      continue;
    }
    const uint32_t outVar = b.addVariable(ctx.outputVariableName(o), out.dtype, out.shape);
    copyByIndexMap(b, exchange, in.var, outVar, map);
    ctx.setOutput(o, {outVar, out.dtype, out.shape});
  }
  if (offset != in.shape[static_cast<size_t>(axis)]) {
    throw CompileError(ctx.where() + ": the outputs' lengths along axis " + std::to_string(axis) +
                       " do not add up to the input's");
  }
  b.exchange(exchange);
}

// ---- Tile and Expand: repeated and broadcast reads ----

void lowerTile(LoweringContext& ctx) {
  const Shape& in = ctx.inputInfo(0).shape;
  const Shape& out = ctx.outputInfo(0).shape;
  if (in.size() != out.size()) throw CompileError(ctx.where() + ": input and output ranks differ");
  const std::vector<int64_t> inStrides = stridesOf(in);
  SeparableIndexMap map{out, {}, 0};
  for (size_t d = 0; d < out.size(); ++d) {
    if (in[d] == 0 ? out[d] != 0 : out[d] % in[d] != 0) {
      throw CompileError(ctx.where() + ": output shape " + shapeString(out) + " is not a tiling of " + shapeString(in));
    }
    std::vector<int64_t> offsets(static_cast<size_t>(out[d]));
    for (int64_t i = 0; i < out[d]; ++i) offsets[static_cast<size_t>(i)] = (i % in[d]) * inStrides[d];
    map.axisOffsets.push_back(std::move(offsets));
  }
  lowerIndexMapped(ctx, 0, map);
}

void lowerExpand(LoweringContext& ctx) {
  const Shape& in = ctx.inputInfo(0).shape;
  const Shape& out = ctx.outputInfo(0).shape;
  if (in.size() > out.size()) throw CompileError(ctx.where() + ": the output has a lower rank than the input");
  const std::vector<int64_t> inStrides = stridesOf(in);
  std::vector<int64_t> strides(out.size(), 0);
  const size_t lead = out.size() - in.size();
  for (size_t d = 0; d < in.size(); ++d) {
    if (in[d] != 1 && in[d] != out[lead + d]) {
      throw CompileError(ctx.where() + ": " + shapeString(in) + " does not broadcast to " + shapeString(out));
    }
    strides[lead + d] = in[d] == 1 ? 0 : inStrides[d];
  }
  lowerIndexMapped(ctx, 0, stridedIndexMap(out, strides));
}

// ---- Pad ----

void lowerPad(LoweringContext& ctx, int64_t opset) {
  const TensorInfo& data = ctx.inputInfo(0);
  const Shape& in = data.shape;
  const Shape& out = ctx.outputInfo(0).shape;
  const std::string modeName = stringAttribute(ctx, "mode", "constant");
  const auto mode = layout::padModeFromName(modeName);
  if (!mode) throw CompileError(ctx.where() + ": Pad mode '" + modeName + "' is not supported");
  const size_t rank = in.size();

  // The fill value: an attribute before opset 11, the optional constant_value input after.
  FillValue fill = zeroFill(data.dtype);
  if (opset < 11) {
    if (const auto* value = ctx.attribute("value")) fill.constant = scalarConstant(data.dtype, value->f());
  } else if (ctx.hasInput(2)) {
    if (const ConstTensor* c = ctx.constantInput(2)) {
      fill.constant = *c;
    } else {
      fill.constant.reset();
      fill.element = {ctx.input(2).var, 0, 1};
    }
  }

  const std::optional<std::vector<int64_t>> pads =
      opset < 11 ? std::optional<std::vector<int64_t>>(intsAttribute(ctx, "pads")) : constantInts(ctx, 1);
  if (pads) {
    if (pads->size() != 2 * rank) throw CompileError(ctx.where() + ": pads must hold two values per axis");
    const std::vector<int64_t> inStrides = stridesOf(in);
    SeparableIndexMap map{out, {}, 0};
    for (size_t d = 0; d < rank; ++d) {
      const int64_t before = (*pads)[d];
      if (in[d] + before + (*pads)[d + rank] != out[d]) {
        throw CompileError(ctx.where() + ": pads disagree with the inferred output shape " + shapeString(out));
      }
      if (in[d] == 0 && out[d] > 0 && *mode != layout::PadMode::Constant) {
        throw CompileError(ctx.where() + ": Pad mode '" + modeName + "' cannot pad an empty axis");
      }
      std::vector<int64_t> offsets(static_cast<size_t>(out[d]));
      for (int64_t i = 0; i < out[d]; ++i) {
        const int64_t j = layout::padSourceIndex(*mode, i, before, in[d]);
        offsets[static_cast<size_t>(i)] = j < 0 ? kNoSource : j * inStrides[d];
      }
      map.axisOffsets.push_back(std::move(offsets));
    }
    lowerIndexMapped(ctx, 0, map, fill);
    return;
  }
  // Run-time pads: the DynamicPad codelet.
  DynamicLowering dynamic;
  dynamic.place = [&ctx](uint32_t exchange, const std::vector<TileSpan>& spans) {
    return std::vector<TileOperand>{placeWholeNearOutput(ctx, exchange, "data", ctx.input(0), spans),
                                    placeWholeNearOutput(ctx, exchange, "pads", ctx.input(1), spans),
                                    placeOptionalInput(ctx, exchange, 2, "constant_value", spans)};
  };
  std::vector<int64_t> common{dtypeScalar(ctx, 1), static_cast<int64_t>(*mode), static_cast<int64_t>(rank)};
  common.insert(common.end(), in.begin(), in.end());
  common.insert(common.end(), out.begin(), out.end());
  dynamic.scalarsOf = [common](const TileSpan& chunk, const TileSpan&) {
    std::vector<int64_t> scalars{static_cast<int64_t>(chunk.first), 0};
    scalars.insert(scalars.end(), common.begin(), common.end());
    return scalars;
  };
  lowerDynamic(ctx, codeletName("DynamicPad", data.dtype), std::move(dynamic));
}

// ---- DepthToSpace and SpaceToDepth: transposes of 6-d views ----

int64_t blocksize(const LoweringContext& ctx) {
  const int64_t b = ctx.intAttribute("blocksize", 0);
  if (b <= 0) throw CompileError(ctx.where() + ": blocksize must be positive");
  return b;
}

void checkOutputShape(const LoweringContext& ctx, const Shape& expected) {
  if (ctx.outputInfo(0).shape != expected) {
    throw CompileError(ctx.where() + ": the inferred output shape " + shapeString(ctx.outputInfo(0).shape) +
                       " is not the expected " + shapeString(expected));
  }
}

void lowerDepthToSpace(LoweringContext& ctx) {
  const Shape& in = ctx.inputInfo(0).shape;
  if (in.size() != 4) throw CompileError(ctx.where() + ": the input must be 4-d");
  const int64_t b = blocksize(ctx), n = in[0], c = in[1] / (b * b), h = in[2], w = in[3];
  const bool crd = stringAttribute(ctx, "mode", "DCR") == "CRD";
  checkOutputShape(ctx, {n, c, h * b, w * b});
  if (c * b * b != in[1]) throw CompileError(ctx.where() + ": the channels are not a multiple of blocksize squared");
  // The output viewed as [N, C', H, b, W, b] reads the input viewed as [N, b, b, C', H, W]
  // (DCR) or [N, C', b, b, H, W] (CRD).
  const Shape view = crd ? Shape{n, c, b, b, h, w} : Shape{n, b, b, c, h, w};
  const std::vector<int64_t> s = stridesOf(view);
  const std::vector<int64_t> strides =
      crd ? std::vector<int64_t>{s[0], s[1], s[4], s[2], s[5], s[3]} : std::vector<int64_t>{s[0], s[3], s[4], s[1], s[5], s[2]};
  lowerIndexMapped(ctx, 0, stridedIndexMap({n, c, h, b, w, b}, strides));
}

void lowerSpaceToDepth(LoweringContext& ctx) {
  const Shape& in = ctx.inputInfo(0).shape;
  if (in.size() != 4) throw CompileError(ctx.where() + ": the input must be 4-d");
  const int64_t b = blocksize(ctx), n = in[0], c = in[1], h = in[2] / b, w = in[3] / b;
  if (h * b != in[2] || w * b != in[3]) throw CompileError(ctx.where() + ": height and width must be multiples of blocksize");
  checkOutputShape(ctx, {n, c * b * b, h, w});
  // The output viewed as [N, b, b, C, H', W'] reads the input viewed as [N, C, H', b, W', b].
  const std::vector<int64_t> s = stridesOf({n, c, h, b, w, b});
  lowerIndexMapped(ctx, 0, stridedIndexMap({n, b, b, c, h, w}, {s[0], s[3], s[5], s[1], s[2], s[4]}));
}

// ---- ReverseSequence ----

void lowerReverseSequence(LoweringContext& ctx) {
  GraphBuilder& b = ctx.builder();
  const Shape& shape = ctx.inputInfo(0).shape;
  const int64_t rank = rankOf(shape);
  const size_t batchAxis = static_cast<size_t>(normaliseAxis(ctx, ctx.intAttribute("batch_axis", 1), rank));
  const size_t timeAxis = static_cast<size_t>(normaliseAxis(ctx, ctx.intAttribute("time_axis", 0), rank));
  const std::vector<int64_t> strides = stridesOf(shape);
  if (auto lens = constantInts(ctx, 1)) {
    for (int64_t len : *lens)
      if (len < 0 || len > shape[timeAxis]) throw CompileError(ctx.where() + ": a sequence length is out of range");
    const TensorValue in = ctx.input(0);
    const TensorInfo& out = ctx.outputInfo(0);
    const uint32_t outVar = b.addVariable(ctx.outputVariableName(0), out.dtype, out.shape);
    const uint32_t exchange = b.addExchange(ctx.name());
    auto srcOf = [&](uint64_t e) {
      const int64_t flat = static_cast<int64_t>(e);
      const int64_t t = flat / strides[timeAxis] % shape[timeAxis];
      const int64_t len = (*lens)[static_cast<size_t>(flat / strides[batchAxis] % shape[batchAxis])];
      return t < len ? flat + (len - 1 - 2 * t) * strides[timeAxis] : flat;
    };
    copyByIndexMap(b, exchange, in.var, outVar, static_cast<uint64_t>(elementCount(shape)), srcOf);
    b.exchange(exchange);
    ctx.setOutput(0, {outVar, out.dtype, out.shape});
    return;
  }
  DynamicLowering dynamic;
  dynamic.place = [&ctx](uint32_t exchange, const std::vector<TileSpan>& spans) {
    return std::vector<TileOperand>{placeWholeNearOutput(ctx, exchange, "data", ctx.input(0), spans),
                                    placeWholeNearOutput(ctx, exchange, "sequence_lens", ctx.input(1), spans)};
  };
  std::vector<int64_t> common{dtypeScalar(ctx, 1), static_cast<int64_t>(batchAxis), static_cast<int64_t>(timeAxis), rank};
  common.insert(common.end(), shape.begin(), shape.end());
  dynamic.scalarsOf = [common](const TileSpan& chunk, const TileSpan&) {
    std::vector<int64_t> scalars{static_cast<int64_t>(chunk.first), 0};
    scalars.insert(scalars.end(), common.begin(), common.end());
    return scalars;
  };
  lowerDynamic(ctx, codeletName("DynamicReverseSequence", ctx.outputInfo(0).dtype), std::move(dynamic));
}

// ---- Trilu: the mask is applied where the input lies, constant k or run-time k ----

void lowerTrilu(LoweringContext& ctx) {
  const Shape& shape = ctx.inputInfo(0).shape;
  if (shape.size() < 2) throw CompileError(ctx.where() + ": the input must have rank 2 or more");
  const TensorValue in = ctx.input(0);
  const auto k = constantInts(ctx, 1);
  if (k && k->size() != 1) throw CompileError(ctx.where() + ": k must be a scalar");
  DynamicLowering dynamic;
  dynamic.outSpans = ctx.builder().variable(in.var).mapping;
  dynamic.place = [&ctx, in, constantK = k.has_value()](uint32_t exchange, const std::vector<TileSpan>& spans) {
    std::vector<TileOperand> operands{alignWithOutput(ctx, exchange, "input", in, spans)};
    operands.push_back(constantK ? TileOperand{std::vector<Slice>(spans.size()), false}
                                 : placeOptionalInput(ctx, exchange, 1, "k", spans));
    return operands;
  };
  const std::vector<int64_t> common{dtypeScalar(ctx, 1), k ? k->front() : 0, ctx.intAttribute("upper", 1),
                                    shape[shape.size() - 2], shape.back()};
  dynamic.scalarsOf = [common](const TileSpan& chunk, const TileSpan&) {
    std::vector<int64_t> scalars{static_cast<int64_t>(chunk.first)};
    scalars.insert(scalars.end(), common.begin(), common.end());
    return scalars;
  };
  lowerDynamic(ctx, codeletName("Trilu", in.dtype), std::move(dynamic));
}

LoweringEntry versioned(const std::string& op, int since, int last, std::string mapping,
                        void (*lower)(LoweringContext&, int64_t), int64_t opsetArg) {
  return {op, since, last, allDTypes(), std::move(mapping),
          [lower, opsetArg](LoweringContext& ctx) { lower(ctx, opsetArg); }};
}

}  // namespace

void registerLayoutLowerings(LoweringRegistry& registry) {
  const std::vector<DType> all = allDTypes();
  registry.add({"Transpose", 1, kNewestOpset, all, kExchangeMapping, lowerTranspose});
  registry.add(versioned("Slice", 1, 9, kExchangeMapping, lowerSlice, 1));
  registry.add(versioned("Slice", 10, kNewestOpset,
                         std::string(kExchangeMapping) +
                             "; run-time starts/ends: DynamicSlice vertices per output chunk, data copied next to them",
                         lowerSlice, 10));
  registry.add({"Split", 1, kNewestOpset, all, "outputs mapped linearly; all slices copied by one exchange", lowerSplit});
  registry.add({"Tile", 6, kNewestOpset, all, kExchangeMapping, lowerTile});
  registry.add({"Expand", 8, kNewestOpset, all, kExchangeMapping, lowerExpand});
  const std::string padMapping = std::string(kExchangeMapping) +
                                 "; border filled by Fill vertices on its own tiles; run-time pads: DynamicPad vertices";
  registry.add(versioned("Pad", 2, 10, padMapping, lowerPad, 2));
  registry.add(versioned("Pad", 11, kNewestOpset, padMapping, lowerPad, 11));
  registry.add({"DepthToSpace", 1, kNewestOpset, all, kExchangeMapping, lowerDepthToSpace});
  registry.add({"SpaceToDepth", 1, kNewestOpset, all, kExchangeMapping, lowerSpaceToDepth});
  registry.add({"ReverseSequence", 10, kNewestOpset, all,
                std::string(kExchangeMapping) + "; run-time lengths: DynamicReverseSequence vertices",
                lowerReverseSequence});
  registry.add({"Trilu", 14, kNewestOpset, all,
                "output mapped like the input; Trilu vertices per worker chunk mask it in place", lowerTrilu});
}

}  // namespace ipusim
