// Shape-only ops alias the memory of their input: the output is the same variable viewed
// with the statically inferred shape, so they cost nothing on the device.
#include "compiler/lowering/lowering_registry.h"
#include "compiler/lowering/opset.h"

namespace ipusim {

namespace {

void lowerAlias(LoweringContext& ctx) {
  TensorValue in = ctx.input(0);
  const TensorInfo& out = ctx.outputInfo(0);
  if (elementCount(out.shape) != elementCount(in.shape)) {
    throw CompileError(ctx.where() + ": output shape " + shapeString(out.shape) + " has a different element count from input shape " +
                       shapeString(in.shape));
  }
  ctx.setOutput(0, {in.var, out.dtype, out.shape});
}

const char* const kAliasMapping = "aliases its input's memory (no device work)";

}  // namespace

void registerShapeLowerings(LoweringRegistry& registry) {
  // Reshape from opset 5 takes its shape as an input; shape inference makes it static.
  const struct { const char* op; int since; } aliases[] = {
      {"Identity", 1}, {"Reshape", 5}, {"Flatten", 1}, {"Squeeze", 1}, {"Unsqueeze", 1}};
  for (const auto& a : aliases) registry.add({a.op, a.since, kNewestOpset, allDTypes(), kAliasMapping, lowerAlias});
}

}  // namespace ipusim
