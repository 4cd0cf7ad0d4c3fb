// Activations with attributes (passed to the codelets as vertex scalars), PRelu, Clip and
// Dropout in inference mode.
#include <cstring>
#include <limits>

#include "compiler/compiler.h"
#include "compiler/lowering/elementwise.h"
#include "compiler/lowering/lowering_registry.h"
#include "compiler/lowering/opset.h"
#include "sim/codelet.h"
#include "sim/half.h"

namespace ipusim {

namespace {

// An attribute of a parameterised activation and its ONNX default.
struct FloatParameter {
  const char* name;
  double fallback;
};

// "Op<dtype>" on input 0 with the float attributes, in order, as scalars.
LoweringEntry parameterisedOp(const std::string& op, int since, const std::vector<DType>& dtypes,
                              std::vector<FloatParameter> parameters) {
  return {op, since, kNewestOpset, dtypes, kElementwiseTileMapping, [op, parameters](LoweringContext& ctx) {
            std::vector<int64_t> scalars;
            for (const FloatParameter& p : parameters)
              scalars.push_back(scalarFromDouble(floatAttribute(ctx, p.name, p.fallback)));
            lowerElementwise(ctx, codeletName(op, ctx.inputInfo(0).dtype), std::vector<size_t>{0}, scalars);
          }};
}

// Element 0 of a constant as a real number.
double firstValue(const ConstTensor& value) {
  if (value.dtype == DType::Float32) {
    float f;
    std::memcpy(&f, value.bytes.data(), sizeof f);
    return f;
  }
  if (value.dtype == DType::Float16) {
    uint16_t bits;
    std::memcpy(&bits, value.bytes.data(), sizeof bits);
    return halfToFloat(bits);
  }
  return static_cast<double>(value.intAt(0));
}

// A one-element constant as a BroadcastClip scalar: a double's bits for floats, the value
// for integers.
int64_t boundScalar(const ConstTensor& value) {
  return isFloat(value.dtype) ? scalarFromDouble(firstValue(value)) : value.intAt(0);
}

// No bound: the whole range of the type (infinities for floats).
int64_t openBound(DType dtype, bool upper) {
  if (isFloat(dtype)) {
    return scalarFromDouble(upper ? std::numeric_limits<double>::infinity() : -std::numeric_limits<double>::infinity());
  }
  switch (dtype) {
    case DType::Int8: return upper ? std::numeric_limits<int8_t>::max() : std::numeric_limits<int8_t>::min();
    case DType::UInt8: return upper ? std::numeric_limits<uint8_t>::max() : 0;
    case DType::Int32: return upper ? std::numeric_limits<int32_t>::max() : std::numeric_limits<int32_t>::min();
    case DType::UInt32: return upper ? std::numeric_limits<uint32_t>::max() : 0;
    default: return upper ? std::numeric_limits<int64_t>::max() : std::numeric_limits<int64_t>::min();
  }
}

// Clip 6-10: bounds are float attributes (defaults: the float range).
void lowerClipAttributes(LoweringContext& ctx) {
  const DType dtype = ctx.inputInfo(0).dtype;
  const double lowest = std::numeric_limits<float>::lowest(), highest = std::numeric_limits<float>::max();
  lowerElementwise(ctx, codeletName("BroadcastClip", dtype), std::vector<size_t>{0},
                   {scalarFromDouble(floatAttribute(ctx, "min", lowest)),
                    scalarFromDouble(floatAttribute(ctx, "max", highest))});
}

// Clip 11+: optional min and max inputs. Bounds known at compile time become scalars of
// BroadcastClip; run-time bounds are broadcast operands: Clip(x, min, max), or
// Max(x, min) / Min(x, max) when only one bound is given (numpy.clip's definition).
void lowerClipInputs(LoweringContext& ctx) {
  const DType dtype = ctx.inputInfo(0).dtype;
  const bool hasMin = ctx.hasInput(1), hasMax = ctx.hasInput(2);
  const ConstTensor* minValue = ctx.constantInput(1);
  const ConstTensor* maxValue = ctx.constantInput(2);
  const auto scalarKnown = [](bool present, const ConstTensor* value) {
    return !present || (value && value->elements() == 1);
  };
  if (scalarKnown(hasMin, minValue) && scalarKnown(hasMax, maxValue)) {
    lowerElementwise(ctx, codeletName("BroadcastClip", dtype), std::vector<size_t>{0},
                     {hasMin ? boundScalar(*minValue) : openBound(dtype, false),
                      hasMax ? boundScalar(*maxValue) : openBound(dtype, true)});
  } else if (hasMin && hasMax) {
    lowerElementwise(ctx, codeletName("Clip", dtype), 3);
  } else if (hasMin) {
    lowerElementwise(ctx, codeletName("Max", dtype), std::vector<size_t>{0, 1});
  } else {
    lowerElementwise(ctx, codeletName("Min", dtype), std::vector<size_t>{0, 2});
  }
}

// A tensor of ones of the given type and shape (Dropout's mask when nothing is dropped).
ConstTensor onesLike(DType dtype, const Shape& shape) {
  ConstTensor ones{dtype, shape, {}};
  const size_t size = dtypeSize(dtype);
  std::vector<uint8_t> one(size, 0);
  if (dtype == DType::Float32) {
    const float f = 1.0f;
    std::memcpy(one.data(), &f, size);
  } else if (dtype == DType::Float16) {
    const uint16_t bits = floatToHalf(1.0f);
    std::memcpy(one.data(), &bits, size);
  } else {
    one[0] = 1;  // little-endian integers and bool
  }
  for (int64_t i = 0; i < elementCount(shape); ++i) ones.bytes.insert(ones.bytes.end(), one.begin(), one.end());
  return ones;
}

// Dropout in inference mode is the identity, with a mask of ones. From opset 12 the mode
// is input 2: training with a ratio above 0 draws a random mask, which is unsupported.
void lowerDropout(LoweringContext& ctx) {
  if (ctx.hasInput(2)) {
    const ConstTensor* training = ctx.constantInput(2);
    if (!training) {
      throw CompileError(ctx.where() + ": Dropout with training_mode known only at run time is unsupported "
                         "(training draws a random mask; only inference is supported)");
    }
    if (training->intAt(0) != 0) {
      const ConstTensor* ratio = ctx.constantInput(1);  // absent: the default 0.5
      if (!ratio || firstValue(*ratio) != 0.0) {
        throw CompileError(ctx.where() + ": Dropout in training mode with a ratio above 0 (or one known only at run "
                           "time) is unsupported: it draws a random mask; only inference is supported");
      }
    }
  }
  ctx.setOutput(0, ctx.input(0));
  if (ctx.node().output_size() > 1 && !ctx.node().output(1).empty()) {
    const TensorInfo& mask = ctx.outputInfo(1);
    ctx.setConstantOutput(1, onesLike(mask.dtype, mask.shape));
  }
}

}  // namespace

void registerActivationLowerings(LoweringRegistry& registry) {
  registry.add(parameterisedOp("HardSigmoid", 6, kFloatDTypes, {{"alpha", 0.2}, {"beta", 0.5}}));
  registry.add(parameterisedOp("HardSwish", 14, kFloatDTypes, {}));
  registry.add(parameterisedOp("Elu", 6, kFloatDTypes, {{"alpha", 1.0}}));
  registry.add(parameterisedOp("Selu", 6, kFloatDTypes,
                               {{"alpha", 1.67326319217681884765625}, {"gamma", 1.05070102214813232421875}}));
  registry.add(parameterisedOp("Celu", 12, kFloatDTypes, {{"alpha", 1.0}}));
  registry.add(parameterisedOp("LeakyRelu", 6, kFloatDTypes, {{"alpha", 0.01}}));
  registry.add(parameterisedOp("ThresholdedRelu", 10, kFloatDTypes, {{"alpha", 1.0}}));
  registry.add(parameterisedOp("Softplus", 1, kFloatDTypes, {}));
  registry.add(parameterisedOp("Softsign", 1, kFloatDTypes, {}));
  registry.add(parameterisedOp("Shrink", 9, kNumericDTypes, {{"lambd", 0.5}, {"bias", 0.0}}));
  // Opset 7 made the slope broadcast numpy-style; opset 9 added integer types.
  registry.add({"PRelu", 7, kNewestOpset, {DType::Float32, DType::Float16, DType::Int32, DType::UInt32, DType::Int64},
                kElementwiseTileMapping, [](LoweringContext& ctx) {
                  lowerElementwise(ctx, codeletName("PRelu", ctx.inputInfo(0).dtype), 2);
                }});
  registry.add({"Clip", 6, 10, kFloatDTypes, kElementwiseTileMapping, lowerClipAttributes});
  // Opset 12 widened Clip to every numeric type.
  registry.add({"Clip", 11, kNewestOpset, kNumericDTypes, kElementwiseTileMapping, lowerClipInputs});
  registry.add({"Dropout", 7, kNewestOpset, kFloatDTypes,
                "no device work: the output aliases the input, the optional mask is a constant of ones", lowerDropout});
}

}  // namespace ipusim
