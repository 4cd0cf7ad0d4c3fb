#include "compiler/planning/conv_planner.h"

#include <algorithm>
#include <sstream>

#include "compiler/compiler.h"

namespace ipusim {

namespace {

int64_t product(const std::vector<int64_t>& values) {
  int64_t p = 1;
  for (int64_t v : values) p *= v;
  return p;
}

int64_t ceilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

// Row-major strides of a shape.
std::vector<int64_t> rowMajorStrides(const std::vector<int64_t>& shape) {
  std::vector<int64_t> strides(shape.size(), 1);
  for (size_t d = shape.size(); d-- > 1;) strides[d - 1] = strides[d] * shape[d];
  return strides;
}

// The multi-index of flat element e of `shape`.
void unflatten(int64_t e, const std::vector<int64_t>& shape, std::vector<int64_t>& index) {
  index.resize(shape.size());
  for (size_t d = shape.size(); d-- > 0;) {
    index[d] = e % shape[d];
    e /= shape[d];
  }
}

std::string joined(const std::vector<int64_t>& values, const char* separator) {
  std::ostringstream out;
  for (size_t i = 0; i < values.size(); ++i) out << (i ? separator : "") << values[i];
  return out.str();
}

}  // namespace

int64_t ConvSpec::kernelVolume() const { return product(kernel); }
int64_t ConvSpec::outPositions() const { return product(outSpatial); }

std::string ConvSpec::describe() const {
  std::ostringstream out;
  std::vector<int64_t> pads = padBegin;
  pads.insert(pads.end(), padEnd.begin(), padEnd.end());
  out << (transposed ? "ConvTranspose [" : "Conv [") << batch << "," << inChannels << ","
      << joined(inSpatial, ",") << "] k" << joined(kernel, "x") << " s" << joined(strides, "x") << " d"
      << joined(dilations, "x") << " p" << joined(pads, ",") << " g" << groups << " -> " << outChannels << "x["
      << joined(outSpatial, ",") << "]";
  return out.str();
}

AxisPads resolveAxisPads(const std::string& autoPad, int64_t in, int64_t out, int64_t kernel, int64_t stride,
                         int64_t dilation, int64_t explicitBegin, int64_t explicitEnd) {
  if (autoPad == "SAME_UPPER" || autoPad == "SAME_LOWER") {
    // ONNX: the output is ceil(in / stride) and the padding what that needs, the odd one at
    // the end (SAME_UPPER) or the beginning (SAME_LOWER).
    const int64_t total = std::max<int64_t>(0, (out - 1) * stride + (kernel - 1) * dilation + 1 - in);
    return autoPad == "SAME_UPPER" ? AxisPads{total / 2, total - total / 2} : AxisPads{total - total / 2, total / 2};
  }
  if (autoPad == "VALID") return {0, 0};
  return {explicitBegin, explicitEnd};
}

AxisPads resolveTransposePads(const std::string& autoPad, bool outputShapeGiven, int64_t in, int64_t out,
                              int64_t kernel, int64_t stride, int64_t dilation, int64_t outputPadding,
                              int64_t explicitBegin, int64_t explicitEnd) {
  const bool same = autoPad == "SAME_UPPER" || autoPad == "SAME_LOWER";
  if (!same && !outputShapeGiven) return autoPad == "VALID" ? AxisPads{0, 0} : AxisPads{explicitBegin, explicitEnd};
  // ONNX ConvTranspose: total_padding = stride * (in - 1) + output_padding + ((kernel - 1) *
  // dilation + 1) - out; SAME_UPPER puts the smaller half first, otherwise the larger.
  // The total is negative when the output is longer than the natural one (zeros at the end);
  // halves round toward negative infinity, as ONNX's reference (Python's //).
  const int64_t total = stride * (in - 1) + outputPadding + (kernel - 1) * dilation + 1 - out;
  const int64_t half = total >= 0 ? total / 2 : -((-total + 1) / 2);
  return autoPad == "SAME_UPPER" ? AxisPads{half, total - half} : AxisPads{total - half, half};
}

int64_t ConvInputPlan::phaseCount() const { return product(phase); }
int64_t ConvInputPlan::phaseElements() const { return product(phaseLength); }

int64_t ConvInputPlan::sourceOf(int64_t e) const {
  const size_t rank = inSpatial.size();
  const int64_t perPhase = phaseElements();
  int64_t phaseIndex = e / perPhase, q = e % perPhase;
  int64_t source = 0, inStride = 1;
  // Axes from the last: the phase index and q are both mixed-radix with axis 0 first.
  for (size_t d = rank; d-- > 0;) {
    const int64_t ph = phaseIndex % phase[d], qd = q % phaseLength[d];
    phaseIndex /= phase[d];
    q /= phaseLength[d];
    const int64_t i = qd * phase[d] + ph;  // prepared position
    if (i >= length[d]) return kNoConvSource;
    const int64_t offset = i - lead[d];
    if (offset < 0 || offset % spacing[d] != 0) return kNoConvSource;
    const int64_t j = offset / spacing[d];
    if (j >= inSpatial[d]) return kNoConvSource;
    source += j * inStride;
    inStride *= inSpatial[d];
  }
  return source;
}

ConvInputPlan convInputPlan(const ConvSpec& s) {
  ConvInputPlan plan;
  plan.inSpatial = s.inSpatial;
  bool identity = true;
  for (size_t d = 0; d < s.rank(); ++d) {
    const int64_t span = (s.kernel[d] - 1) * s.dilations[d];
    int64_t length, lead, spacing, phase;
    if (s.transposed) {
      // ConvTranspose = a stride-1 convolution with the flipped kernel over the input spread
      // by the strides, with (kernel - 1) * dilation - pad of zeros before it (a crop when
      // negative) and whatever the output length needs after it.
      length = s.outSpatial[d] + span;
      lead = span - s.padBegin[d];
      spacing = s.strides[d];
      phase = 1;
    } else {
      length = s.inSpatial[d] + s.padBegin[d] + s.padEnd[d];
      lead = s.padBegin[d];
      spacing = 1;
      phase = s.strides[d];
    }
    plan.length.push_back(length);
    plan.lead.push_back(lead);
    plan.spacing.push_back(spacing);
    plan.phase.push_back(phase);
    plan.phaseLength.push_back(ceilDiv(length, phase));
    identity = identity && length == s.inSpatial[d] && lead == 0 && spacing == 1 && phase == 1;
  }
  plan.direct = identity;
  return plan;
}

ConvProduct convProduct(const ConvSpec& spec, DType input, DType partials, DType output) {
  ConvProduct c;
  c.spec = spec;
  c.input = convInputPlan(spec);
  const size_t rank = spec.rank();
  const int64_t G = spec.groups, N = spec.batch;
  const int64_t Cg = spec.inChannels / G, Mg = spec.outChannels / G;
  const int64_t Kv = spec.kernelVolume(), P = spec.outPositions();

  MatMulProblem& p = c.problem;
  p.groups = static_cast<uint64_t>(N * G);
  p.m = static_cast<uint64_t>(Mg);
  p.k = static_cast<uint64_t>(Cg * Kv);
  p.n = static_cast<uint64_t>(P);
  p.lhsType = p.rhsType = input;
  p.partialsType = partials;
  p.outputType = output;
  p.unit = MatMulUnit::Amp;
  p.lhsGroups = static_cast<uint64_t>(G);
  p.rhsGroups = static_cast<uint64_t>(N * G);

  // Weights: Conv's W is [M][Cg][k...]; ConvTranspose's is [C][Mg][k...] and the equivalent
  // convolution reads it with input and output channels swapped and the kernel flipped on
  // every axis (which reverses the flat kernel index).
  for (int64_t b = 0; b < N; ++b) {
    for (int64_t g = 0; g < G; ++g) {
      c.weightGroupOffset.push_back(static_cast<uint64_t>(spec.transposed ? g * Cg * Mg * Kv : g * Mg * Cg * Kv));
      c.biasGroupOffset.push_back(static_cast<uint64_t>(g * Mg));
      c.inputGroupOffset.push_back(static_cast<uint64_t>((b * spec.inChannels + g * Cg) * c.input.planeElements()));
    }
  }
  for (int64_t m = 0; m < Mg; ++m) c.weightRow.push_back(static_cast<uint64_t>(spec.transposed ? m * Kv : m * Cg * Kv));
  for (int64_t ci = 0; ci < Cg; ++ci) {
    for (int64_t kv = 0; kv < Kv; ++kv) {
      c.weightCol.push_back(static_cast<uint64_t>(spec.transposed ? ci * Mg * Kv + (Kv - 1 - kv) : ci * Kv + kv));
    }
  }

  // im2col: row (ci, kernel position) over column (output position) reads prepared position
  // o * stride + k * dilation, which is phase (k * dilation) % stride, q = o + (k * dilation) / stride.
  const std::vector<int64_t> convStrides = spec.transposed ? std::vector<int64_t>(rank, 1) : spec.strides;
  const std::vector<int64_t> qStrides = rowMajorStrides(c.input.phaseLength);
  const std::vector<int64_t> phaseStrides = rowMajorStrides(c.input.phase);
  const int64_t phaseElements = c.input.phaseElements(), plane = c.input.planeElements();
  std::vector<int64_t> k, o;
  std::vector<uint64_t> kernelOffset(static_cast<size_t>(Kv));
  for (int64_t kv = 0; kv < Kv; ++kv) {
    unflatten(kv, spec.kernel, k);
    int64_t phaseIndex = 0, offset = 0;
    for (size_t d = 0; d < rank; ++d) {
      const int64_t at = k[d] * spec.dilations[d];
      phaseIndex += (at % convStrides[d]) * phaseStrides[d];
      offset += (at / convStrides[d]) * qStrides[d];
    }
    kernelOffset[static_cast<size_t>(kv)] = static_cast<uint64_t>(phaseIndex * phaseElements + offset);
  }
  for (int64_t ci = 0; ci < Cg; ++ci) {
    for (int64_t kv = 0; kv < Kv; ++kv) {
      c.inputRow.push_back(static_cast<uint64_t>(ci * plane) + kernelOffset[static_cast<size_t>(kv)]);
    }
  }
  for (int64_t e = 0; e < P; ++e) {
    unflatten(e, spec.outSpatial, o);
    int64_t offset = 0;
    for (size_t d = 0; d < rank; ++d) offset += o[d] * qStrides[d];
    c.inputCol.push_back(static_cast<uint64_t>(offset));
  }
  const int64_t prepared = N * spec.inChannels * plane;
  c.im2colReplication = static_cast<uint64_t>(std::max<int64_t>(1, ceilDiv(N * G * Cg * Kv * P, std::max<int64_t>(1, prepared))));
  return c;
}

int64_t PoolSpec::windowSize() const { return product(kernel); }
int64_t PoolSpec::outElements() const { return batch * channels * product(outSpatial); }

int64_t PoolSpec::windowSource(int64_t o, int64_t w) const {
  const size_t rank = inSpatial.size();
  const int64_t positions = product(outSpatial);
  const int64_t plane = o / positions;  // n * C + c
  int64_t rest = o % positions, window = w, source = 0, stride = 1;
  for (size_t d = rank; d-- > 0;) {
    const int64_t od = rest % outSpatial[d], kd = window % kernel[d];
    rest /= outSpatial[d];
    window /= kernel[d];
    const int64_t i = od * strides[d] + kd * dilations[d] - padBegin[d];
    if (i < 0 || i >= inSpatial[d]) return kNoConvSource;
    source += i * stride;
    stride *= inSpatial[d];
  }
  return plane * stride + source;
}

int64_t PoolSpec::windowCount(int64_t o, bool countIncludePad) const {
  const size_t rank = inSpatial.size();
  int64_t rest = o % product(outSpatial), count = 1;
  for (size_t d = rank; d-- > 0;) {
    const int64_t od = rest % outSpatial[d];
    rest /= outSpatial[d];
    const int64_t lo = countIncludePad ? -padBegin[d] : 0;
    const int64_t hi = countIncludePad ? inSpatial[d] + padEnd[d] : inSpatial[d];
    int64_t inside = 0;
    for (int64_t kd = 0; kd < kernel[d]; ++kd) {
      const int64_t i = od * strides[d] + kd * dilations[d] - padBegin[d];
      inside += i >= lo && i < hi ? 1 : 0;
    }
    count *= inside;
  }
  return count;
}

std::vector<int64_t> PoolSpec::inputStrides(int64_t storageOrder) const {
  // Strides of the spatial axes: row-major, or column-major (axis 0 fastest).
  std::vector<int64_t> strides = rowMajorStrides(inSpatial);
  if (storageOrder == 1) {
    int64_t s = 1;
    for (size_t d = 0; d < inSpatial.size(); ++d) {
      strides[d] = s;
      s *= inSpatial[d];
    }
  }
  return strides;
}

int64_t PoolSpec::indexBase(int64_t o, int64_t storageOrder) const {
  const size_t rank = inSpatial.size();
  const int64_t positions = product(outSpatial), planeSize = product(inSpatial);
  int64_t rest = o % positions, base = (o / positions) * planeSize;
  const std::vector<int64_t> strides = inputStrides(storageOrder);
  for (size_t d = rank; d-- > 0;) {
    const int64_t od = rest % outSpatial[d];
    rest /= outSpatial[d];
    base += (od * this->strides[d] - padBegin[d]) * strides[d];
  }
  return base;
}

int64_t PoolSpec::indexOffset(int64_t w, int64_t storageOrder) const {
  const size_t rank = inSpatial.size();
  const std::vector<int64_t> strides = inputStrides(storageOrder);
  int64_t offset = 0;
  for (size_t d = rank; d-- > 0;) {
    offset += (w % kernel[d]) * dilations[d] * strides[d];
    w /= kernel[d];
  }
  return offset;
}

}  // namespace ipusim
