// The fp16 precision pass: float32 inputs, outputs, weights and casts become float16, as
// PopRT's `precision: fp16` does (DESIGN.md section 5, step 3).
#pragma once
#include <onnx/onnx_pb.h>

namespace ipusim {

void convertFloatToHalf(onnx::ModelProto& model);

}  // namespace ipusim
