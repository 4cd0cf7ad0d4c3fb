// Elementwise math: unary functions, Pow, Mod, BitShift, the variadic Max/Min/Sum/Mean and
// CastLike. Each is one lowerElementwise over its inputs with the codelet of its types.
#include "compiler/compiler.h"
#include "compiler/lowering/elementwise.h"
#include "compiler/lowering/lowering_registry.h"
#include "compiler/lowering/opset.h"

namespace ipusim {

namespace {

// "Op<dtype of input 0>" over the first `inputs` inputs.
LoweringEntry sameTypeOp(const std::string& op, int since, const std::vector<DType>& dtypes, size_t inputs) {
  return {op, since, kNewestOpset, dtypes, kElementwiseTileMapping, [op, inputs](LoweringContext& ctx) {
            lowerElementwise(ctx, codeletName(op, ctx.inputInfo(0).dtype), inputs);
          }};
}

// Max, Min, Sum, Mean: every input, broadcast together.
LoweringEntry variadicOp(const std::string& op, int since, const std::vector<DType>& dtypes) {
  return {op, since, kNewestOpset, dtypes, kElementwiseTileMapping, [op](LoweringContext& ctx) {
            lowerElementwise(ctx, codeletName(op, ctx.inputInfo(0).dtype), ctx.inputCount());
          }};
}

// The output has the base's type; the exponent may be of another type (opset 12+).
void lowerPow(LoweringContext& ctx) {
  const std::string codelet = "Pow<" + std::string(dtypeName(ctx.inputInfo(0).dtype)) + "," +
                              std::string(dtypeName(ctx.inputInfo(1).dtype)) + ">";
  lowerElementwise(ctx, codelet, 2);
}

// fmod = 0: the remainder has the divisor's sign (numpy.mod); fmod = 1: the dividend's (C fmod).
void lowerMod(LoweringContext& ctx) {
  const int64_t fmod = ctx.intAttribute("fmod", 0);
  if (fmod != 0 && fmod != 1) {
    throw CompileError(ctx.where() + ": Mod attribute fmod must be 0 or 1, got " + std::to_string(fmod));
  }
  lowerElementwise(ctx, codeletName(fmod == 1 ? "Fmod" : "Mod", ctx.inputInfo(0).dtype), 2);
}

void lowerBitShift(LoweringContext& ctx) {
  const onnx::AttributeProto* direction = ctx.attribute("direction");
  const std::string value = direction ? direction->s() : "";
  if (value != "LEFT" && value != "RIGHT") {
    throw CompileError(ctx.where() + ": BitShift direction must be \"LEFT\" or \"RIGHT\", got \"" + value + "\"");
  }
  lowerElementwise(ctx, codeletName(value == "LEFT" ? "ShiftLeft" : "ShiftRight", ctx.inputInfo(0).dtype), 2);
}

// Cast to the type of input 1; to the same type it aliases its input, like Cast.
void lowerCastLike(LoweringContext& ctx) {
  const DType from = ctx.inputInfo(0).dtype;
  const DType to = ctx.inputInfo(1).dtype;
  if (from == to) {
    ctx.setOutput(0, ctx.input(0));
    return;
  }
  lowerElementwise(ctx, castCodeletName(from, to), std::vector<size_t>{0});
}

}  // namespace

void registerMathLowerings(LoweringRegistry& registry) {
  // Opset 6 dropped the legacy consumed_inputs attribute; 7 and 9 added the trigonometric
  // and hyperbolic functions.
  struct Unary {
    const char* op;
    int since;
    const std::vector<DType>& dtypes;
  };
  const Unary unaryOps[] = {
      {"Abs", 6, kNumericDTypes},  {"Sign", 9, kNumericDTypes},  {"Erf", 9, kNumericDTypes},
      {"Ceil", 6, kFloatDTypes},   {"Floor", 6, kFloatDTypes},   {"Round", 11, kFloatDTypes},
      {"Sqrt", 6, kFloatDTypes},   {"Exp", 6, kFloatDTypes},     {"Log", 6, kFloatDTypes},
      {"Reciprocal", 6, kFloatDTypes}, {"Sin", 7, kFloatDTypes}, {"Cos", 7, kFloatDTypes},
      {"Tan", 7, kFloatDTypes},    {"Asin", 7, kFloatDTypes},    {"Acos", 7, kFloatDTypes},
      {"Atan", 7, kFloatDTypes},   {"Sinh", 9, kFloatDTypes},    {"Cosh", 9, kFloatDTypes},
      {"Asinh", 9, kFloatDTypes},  {"Acosh", 9, kFloatDTypes},   {"Atanh", 9, kFloatDTypes},
      {"Tanh", 6, kFloatDTypes},   {"Sigmoid", 6, kFloatDTypes},
  };
  for (const Unary& u : unaryOps) registry.add(sameTypeOp(u.op, u.since, u.dtypes, 1));

  // Pow's base: float until opset 12, then also int32/int64 (with any numeric exponent).
  registry.add({"Pow", 7, kNewestOpset, {DType::Float32, DType::Float16, DType::Int32, DType::Int64},
                kElementwiseTileMapping, lowerPow});
  registry.add({"Mod", 10, kNewestOpset, kNumericDTypes, kElementwiseTileMapping, lowerMod});
  registry.add({"BitShift", 11, kNewestOpset, {DType::UInt8, DType::UInt32}, kElementwiseTileMapping, lowerBitShift});
  // Opset 8 made them broadcast; opset 6 required equal shapes, a special case. Max/Min
  // take every numeric type from opset 12 (earlier opsets allow floats only).
  registry.add(variadicOp("Max", 6, kNumericDTypes));
  registry.add(variadicOp("Min", 6, kNumericDTypes));
  registry.add(variadicOp("Sum", 6, kFloatDTypes));
  registry.add(variadicOp("Mean", 6, kFloatDTypes));
  registry.add({"CastLike", 15, kNewestOpset, allDTypes(), kElementwiseTileMapping, lowerCastLike});
}

}  // namespace ipusim
