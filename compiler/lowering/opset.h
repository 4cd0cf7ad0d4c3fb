#pragma once

namespace ipusim {
// The newest default-domain opset the lowerings are written against (ONNX 1.12, Debian's libonnx).
inline constexpr int kNewestOpset = 17;
}  // namespace ipusim
