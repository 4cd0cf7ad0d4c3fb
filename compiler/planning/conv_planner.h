// Convolutions as planned matrix products (docs/conv-planner.md). A convolution (Conv, or
// ConvTranspose rewritten as one) of N images with G channel groups is N x G products
//
//     out[n, g] (Mg x P)  =  W[g] (Mg x Cg*Kv)  x  im2col(prepared input)[n, g] (Cg*Kv x P)
//
// (Mg output channels of a group, Cg input channels of a group, Kv kernel positions, P
// output positions), so that the product's [groups][m][n] output is the NCHW output itself.
// The im2col operand is never built: it is a gathered view (row and column offset tables)
// of a "prepared" input, which is the input itself when there is nothing to prepare, else
// the input padded (Conv), or spread with zeros and padded or cropped (ConvTranspose), and
// split by stride phases (space-to-depth), so that every row of im2col reads runs of
// consecutive output positions whatever the strides: the exchange moves runs, not elements.
//
// Pure functions of the shapes and attributes, unit-tested on known values.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "compiler/planning/matmul_planner.h"

namespace ipusim {

inline constexpr int64_t kNoConvSource = -1;

// A convolution's shapes and attributes, resolved (auto_pad applied, defaults filled in).
// Spatial vectors have one entry per spatial axis (1 to 3).
struct ConvSpec {
  int64_t batch = 1;
  int64_t inChannels = 1;   // C
  int64_t outChannels = 1;  // M
  int64_t groups = 1;       // G: C and M are both multiples of it
  bool transposed = false;  // ConvTranspose: W is [C][M/G][k...] and the input is spread by the strides
  std::vector<int64_t> inSpatial, kernel, strides, dilations, padBegin, padEnd, outSpatial;

  size_t rank() const { return inSpatial.size(); }
  int64_t kernelVolume() const;
  int64_t outPositions() const;
  std::string describe() const;  // "Conv [1,3,224,224] k7x7 s2x2 d1x1 p3,3,3,3 g1 -> 64x[112,112]"
};

// Resolves pads under an ONNX auto_pad mode ("NOTSET", "SAME_UPPER", "SAME_LOWER", "VALID")
// for one axis of a Conv or a pooling op, given its output length; `explicitBegin/End` are
// the pads attribute. Returns {begin, end}.
struct AxisPads {
  int64_t begin = 0, end = 0;
};
AxisPads resolveAxisPads(const std::string& autoPad, int64_t in, int64_t out, int64_t kernel, int64_t stride,
                         int64_t dilation, int64_t explicitBegin, int64_t explicitEnd);
// ConvTranspose's pads for one axis (ONNX: from output_shape and auto_pad when either is
// given, else the pads attribute).
AxisPads resolveTransposePads(const std::string& autoPad, bool outputShapeGiven, int64_t in, int64_t out,
                              int64_t kernel, int64_t stride, int64_t dilation, int64_t outputPadding,
                              int64_t explicitBegin, int64_t explicitEnd);

// The prepared input: per spatial axis, a line of `length` positions in which input
// position j sits at lead + j * spacing (other positions are zeros), then cut into `phase`
// interleaved sub-lines of `phaseLength` positions (prepared position i = q * phase + ph is
// stored at [ph][q]). Layout of one channel: [phases (mixed radix, axis 0 first)][q...].
struct ConvInputPlan {
  std::vector<int64_t> inSpatial;
  std::vector<int64_t> length, lead, spacing, phase, phaseLength;
  bool direct = false;  // the prepared input is the input itself (no copy)

  int64_t phaseCount() const;     // product of phase
  int64_t phaseElements() const;  // product of phaseLength
  int64_t planeElements() const { return phaseCount() * phaseElements(); }
  // The element of an input channel plane that prepared element e (of one channel plane)
  // holds, or kNoConvSource for a zero.
  int64_t sourceOf(int64_t e) const;
};
ConvInputPlan convInputPlan(const ConvSpec& spec);

// The product of a convolution: the planner's problem and the operand views' offsets.
struct ConvProduct {
  ConvSpec spec;
  ConvInputPlan input;
  MatMulProblem problem;  // groups = N x G, m = M/G, k = C/G x Kv, n = output positions
  // Weights view: element (g, r, c) = weightGroupOffset[g] + weightRow[r] + weightCol[c].
  std::vector<uint64_t> weightGroupOffset, weightRow, weightCol;
  // im2col view of the prepared input, likewise.
  std::vector<uint64_t> inputGroupOffset, inputRow, inputCol;
  // Bias view: output channel of group g, row r is biasGroupOffset[g] + r.
  std::vector<uint64_t> biasGroupOffset;
  // Elements of im2col per element of the prepared input (the exchange's fan-out).
  uint64_t im2colReplication = 1;
};
ConvProduct convProduct(const ConvSpec& spec, DType input, DType partials, DType output);

// A pooling window: output element o's window position w reads input element
// windowSource(o, w) of the [N, C, spatial...] input, or kNoConvSource (padding, or beyond
// the padded end in ceil mode).
struct PoolSpec {
  int64_t batch = 1, channels = 1;
  std::vector<int64_t> inSpatial, kernel, strides, dilations, padBegin, padEnd, outSpatial;

  int64_t windowSize() const;
  int64_t outElements() const;
  int64_t windowSource(int64_t o, int64_t w) const;
  // Window positions of output o inside [-padBegin, in + padEnd) (countIncludePad) or
  // inside the input: AveragePool's divisor.
  int64_t windowCount(int64_t o, bool countIncludePad) const;
  // The input's spatial strides in elements: row-major, or column-major when storageOrder is 1.
  std::vector<int64_t> inputStrides(int64_t storageOrder) const;
  // MaxPool's Indices: the flat input index of output o's window position w, whether or not
  // it is inside the input, as base(o) + offset(w) (row-major, or column-major spatial axes
  // when storageOrder is 1).
  int64_t indexBase(int64_t o, int64_t storageOrder) const;
  int64_t indexOffset(int64_t w, int64_t storageOrder) const;
};

}  // namespace ipusim
