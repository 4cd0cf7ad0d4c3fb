// Layout codelets: Fill (the gaps of an exchange-built layout: Pad's border, ...) and the
// data-dependent layout ops whose parameters only arrive at run time: Slice, Pad,
// ReverseSequence, Trilu, Range and Resize. Each reads a tile-local copy of its source and
// its parameters and applies the rules of layout_rules.h, the ones the compiler applies when
// the parameters are constant.
//
// Field convention: [source, parameters..., out]; `out` is one region holding output
// elements [outFirst, outFirst + n); `source` holds source elements from srcFirst on.
// Scalars start with outFirst (and srcFirst where there is a source); the rest are listed
// at each kernel. A parameter field with no region is absent (its ONNX default applies).
#include <algorithm>
#include <cmath>
#include <optional>
#include <string>

#include "sim/codelet.h"
#include "sim/codelets/codelet_tables.h"
#include "sim/codelets/dynamic_fields.h"
#include "sim/codelets/element_types.h"
#include "sim/codelets/layout_rules.h"
#include "sim/codelets/vector_cost.h"

namespace ipusim::codelets {
namespace {

using Kernel = std::function<void(const VertexData&, std::string_view, size_t)>;

// Fields [value (one element), out (any regions)]: every out element becomes the value.
void fillKernel(const VertexData& data, std::string_view name, size_t bytes) {
  const FieldView value(data, 0, bytes, name);
  if (value.size() != 1) codeletFault(name, "the value field must hold one element");
  if (data.fields.size() != 2) codeletFault(name, "expects fields [value, out]");
  for (const auto& region : data.fields[1]) {
    if (region.size() % bytes != 0) codeletFault(name, "an out region is not a whole number of elements");
    for (size_t at = 0; at < region.size(); at += bytes) std::memcpy(region.data() + at, value.at(0), bytes);
  }
}

// Fields [src, starts, ends, axes?, steps?, out].
// Scalars [outFirst, srcFirst, startsType, endsType, axesType, stepsType, rank, in..., out...].
void sliceKernel(const VertexData& data, std::string_view name, size_t bytes) {
  ScalarReader s(data.scalars, name);
  const int64_t outFirst = s.next(), srcFirst = s.next();
  const DType startsType = s.dtype(), endsType = s.dtype(), axesType = s.dtype(), stepsType = s.dtype();
  const size_t rank = static_cast<size_t>(s.next());
  const std::vector<int64_t> inShape = s.list(rank), outShape = s.list(rank);
  const FieldView src(data, 0, bytes, name), starts(data, 1, dtypeSize(startsType), name),
      ends(data, 2, dtypeSize(endsType), name), axes(data, 3, dtypeSize(axesType), name),
      steps(data, 4, dtypeSize(stepsType), name), out(data, 5, bytes, name);

  std::vector<int64_t> first(rank, 0), step(rank, 1);
  std::vector<bool> sliced(rank, false);
  if (ends.size() != starts.size()) codeletFault(name, "starts and ends differ in length");
  for (size_t k = 0; k < starts.size(); ++k) {
    int64_t axis = axes.present() ? axes.index(k, axesType) : static_cast<int64_t>(k);
    if (axis < 0) axis += static_cast<int64_t>(rank);
    if (axis < 0 || axis >= static_cast<int64_t>(rank)) codeletFault(name, "an axis is out of range");
    const size_t a = static_cast<size_t>(axis);
    const int64_t st = steps.present() ? steps.index(k, stepsType) : 1;
    if (st == 0) codeletFault(name, "a step is 0");
    const int64_t start = starts.index(k, startsType), end = ends.index(k, endsType);
    first[a] = layout::sliceStart(start, st, inShape[a]);
    step[a] = st;
    sliced[a] = true;
    const int64_t count = layout::sliceCount(start, end, st, inShape[a]);
    if (count != outShape[a]) {
      codeletFault(name, "the run-time starts/ends take " + std::to_string(count) + " elements on axis " +
                             std::to_string(axis) + ", the compiled output has " + std::to_string(outShape[a]));
    }
  }
  for (size_t d = 0; d < rank; ++d)
    if (!sliced[d] && outShape[d] != inShape[d]) codeletFault(name, "an axis that is not sliced changes length");

  const std::vector<int64_t> strides = rowMajorStrides(inShape);
  std::vector<int64_t> index;
  unflatten(outFirst, outShape, index);
  for (size_t i = 0; i < out.size(); ++i) {
    int64_t from = 0;
    for (size_t d = 0; d < rank; ++d) from += (first[d] + index[d] * step[d]) * strides[d];
    std::memcpy(out.at(i), src.at(static_cast<size_t>(from - srcFirst)), bytes);
    advance(index, outShape);
  }
}

// Fields [src, pads, value?, out]. Scalars [outFirst, srcFirst, padsType, mode, rank, in..., out...].
void padKernel(const VertexData& data, std::string_view name, size_t bytes) {
  ScalarReader s(data.scalars, name);
  const int64_t outFirst = s.next(), srcFirst = s.next();
  const DType padsType = s.dtype();
  const auto mode = static_cast<layout::PadMode>(s.next());
  const size_t rank = static_cast<size_t>(s.next());
  const std::vector<int64_t> inShape = s.list(rank), outShape = s.list(rank);
  const FieldView src(data, 0, bytes, name), pads(data, 1, dtypeSize(padsType), name), value(data, 2, bytes, name),
      out(data, 3, bytes, name);
  if (pads.size() != 2 * rank) codeletFault(name, "pads must hold two values per axis");
  std::vector<int64_t> before(rank);
  for (size_t d = 0; d < rank; ++d) {
    before[d] = pads.index(d, padsType);
    if (inShape[d] + before[d] + pads.index(d + rank, padsType) != outShape[d]) {
      codeletFault(name, "the run-time pads of axis " + std::to_string(d) + " do not give the compiled length " +
                             std::to_string(outShape[d]));
    }
  }
  const std::vector<uint8_t> zero(bytes, 0);
  const uint8_t* fill = value.present() ? value.at(0) : zero.data();
  const std::vector<int64_t> strides = rowMajorStrides(inShape);
  std::vector<int64_t> index;
  unflatten(outFirst, outShape, index);
  for (size_t i = 0; i < out.size(); ++i) {
    int64_t from = 0;
    bool border = false;
    for (size_t d = 0; d < rank && !border; ++d) {
      const int64_t j = layout::padSourceIndex(mode, index[d], before[d], inShape[d]);
      border = j < 0;
      from += j * strides[d];
    }
    std::memcpy(out.at(i), border ? fill : src.at(static_cast<size_t>(from - srcFirst)), bytes);
    advance(index, outShape);
  }
}

// Fields [in (the same elements as out), k?, out]. Scalars [outFirst, kType, kDefault,
// upper, rows, cols]: keeps in[.., r, c] where c - r >= k (upper) or c - r <= k (lower).
void triluKernel(const VertexData& data, std::string_view name, size_t bytes) {
  ScalarReader s(data.scalars, name);
  const int64_t outFirst = s.next();
  const DType kType = s.dtype();
  const int64_t kDefault = s.next();
  const bool upper = s.next() != 0;
  const int64_t rows = s.next(), cols = s.next();
  const FieldView in(data, 0, bytes, name), kField(data, 1, dtypeSize(kType), name), out(data, 2, bytes, name);
  if (in.size() != out.size()) codeletFault(name, "in and out differ in length");
  const int64_t k = kField.present() ? kField.index(0, kType) : kDefault;
  const std::vector<uint8_t> zero(bytes, 0);
  for (size_t i = 0; i < out.size(); ++i) {
    const int64_t e = outFirst + static_cast<int64_t>(i);
    const int64_t c = e % cols, r = (e / cols) % rows;
    const bool keep = upper ? c - r >= k : c - r <= k;
    std::memcpy(out.at(i), keep ? in.at(i) : zero.data(), bytes);
  }
}

// Fields [src, sequence_lens, out]. Scalars [outFirst, srcFirst, lensType, batchAxis,
// timeAxis, rank, shape...]: the first lens[b] steps of batch b are reversed.
void reverseSequenceKernel(const VertexData& data, std::string_view name, size_t bytes) {
  ScalarReader s(data.scalars, name);
  const int64_t outFirst = s.next(), srcFirst = s.next();
  const DType lensType = s.dtype();
  const size_t batchAxis = static_cast<size_t>(s.next()), timeAxis = static_cast<size_t>(s.next());
  const size_t rank = static_cast<size_t>(s.next());
  const std::vector<int64_t> shape = s.list(rank);
  const FieldView src(data, 0, bytes, name), lens(data, 1, dtypeSize(lensType), name), out(data, 2, bytes, name);
  if (batchAxis >= rank || timeAxis >= rank) codeletFault(name, "an axis is out of range");
  const std::vector<int64_t> strides = rowMajorStrides(shape);
  std::vector<int64_t> index;
  unflatten(outFirst, shape, index);
  for (size_t i = 0; i < out.size(); ++i) {
    const int64_t len = lens.index(static_cast<size_t>(index[batchAxis]), lensType);
    if (len < 0 || len > shape[timeAxis]) codeletFault(name, "a sequence length is out of range");
    const int64_t t = index[timeAxis];
    const int64_t from = outFirst + static_cast<int64_t>(i) + ((t < len ? len - 1 - t : t) - t) * strides[timeAxis];
    std::memcpy(out.at(i), src.at(static_cast<size_t>(from - srcFirst)), bytes);
    advance(index, shape);
  }
}

// Fields [start, limit, delta, out] (one element each but out). Scalars [outFirst, total]:
// out[i] = start + (outFirst + i) * delta; the run-time element count must be `total`.
template <DType D>
void rangeKernel(const VertexData& data, std::string_view name, size_t) {
  using E = Element<D>;
  ScalarReader s(data.scalars, name);
  const int64_t outFirst = s.next(), total = s.next();
  const FieldView start(data, 0, E::bytes, name), limit(data, 1, E::bytes, name), delta(data, 2, E::bytes, name),
      out(data, 3, E::bytes, name);
  if constexpr (D == DType::Float32 || D == DType::Float16) {
    const double a = E::load(start.at(0)), b = E::load(limit.at(0)), d = E::load(delta.at(0));
    if (d == 0) codeletFault(name, "delta is 0");
    const int64_t n = std::max<int64_t>(0, static_cast<int64_t>(std::ceil((b - a) / d)));
    if (n != total) codeletFault(name, "the run-time range has " + std::to_string(n) + " elements, compiled for " + std::to_string(total));
    for (size_t i = 0; i < out.size(); ++i)
      E::store(out.at(i), static_cast<typename E::Value>(a + static_cast<double>(outFirst + static_cast<int64_t>(i)) * d));
  } else {
    const int64_t a = static_cast<int64_t>(E::load(start.at(0))), b = static_cast<int64_t>(E::load(limit.at(0))),
                  d = static_cast<int64_t>(E::load(delta.at(0)));
    if (d == 0) codeletFault(name, "delta is 0");
    const int64_t span = b - a;
    const int64_t n = std::max<int64_t>(0, span / d + (span % d != 0 && (span < 0) == (d < 0) ? 1 : 0));
    if (n != total) codeletFault(name, "the run-time range has " + std::to_string(n) + " elements, compiled for " + std::to_string(total));
    for (size_t i = 0; i < out.size(); ++i)
      E::store(out.at(i), static_cast<typename E::Value>(a + (outFirst + static_cast<int64_t>(i)) * d));
  }
}

// Fields [src, scales?, roi?, out]. Scalars [outFirst, srcFirst, scalesType, roiType, mode,
// coordinates, nearest, cubicA (double bits), excludeOutside, extrapolation (double bits),
// rank, in..., out..., scale (double bits) per axis]; a present scales field replaces the
// compiled scales, a present roi field gives tf_crop_and_resize's region.
template <DType D>
void resizeKernel(const VertexData& data, std::string_view name, size_t) {
  using E = Element<D>;
  ScalarReader s(data.scalars, name);
  const int64_t outFirst = s.next(), srcFirst = s.next();
  const DType scalesType = s.dtype(), roiType = s.dtype();
  layout::ResizeOptions options;
  options.mode = static_cast<layout::ResizeMode>(s.next());
  options.coordinates = static_cast<layout::CoordinateMode>(s.next());
  options.nearest = static_cast<layout::NearestMode>(s.next());
  options.cubicA = scalarAsDouble(s.next());
  options.excludeOutside = s.next() != 0;
  const double extrapolation = scalarAsDouble(s.next());
  const size_t rank = static_cast<size_t>(s.next());
  const std::vector<int64_t> inShape = s.list(rank), outShape = s.list(rank);
  const FieldView src(data, 0, E::bytes, name), scales(data, 1, dtypeSize(scalesType), name),
      roi(data, 2, dtypeSize(roiType), name), out(data, 3, E::bytes, name);

  // Per axis, the taps of every output index (the map is separable).
  std::vector<layout::ResizeAxis> axes(rank);
  std::vector<std::vector<std::optional<layout::ResizeTaps>>> taps(rank);
  for (size_t d = 0; d < rank; ++d) {
    axes[d].inLength = inShape[d];
    axes[d].scale = scalarAsDouble(s.next());
    if (scales.present()) {
      axes[d].scale = scales.real(d, scalesType);
      const double length = std::floor(axes[d].scale * static_cast<double>(inShape[d]));
      if (length != static_cast<double>(outShape[d])) {
        codeletFault(name, "the run-time scales give axis " + std::to_string(d) + " length " +
                               std::to_string(static_cast<int64_t>(length)) + ", compiled for " +
                               std::to_string(outShape[d]));
      }
    }
    if (roi.present()) {
      axes[d].roiStart = roi.real(d, roiType);
      axes[d].roiEnd = roi.real(d + rank, roiType);
    }
    for (int64_t x = 0; x < outShape[d]; ++x) {
      const auto c = layout::resizeCoordinate(options, axes[d], x);
      taps[d].push_back(c ? std::optional(layout::resizeTaps(options, axes[d], *c)) : std::nullopt);
    }
  }

  const std::vector<int64_t> strides = rowMajorStrides(inShape);
  std::vector<int64_t> index, tap(rank);
  unflatten(outFirst, outShape, index);
  for (size_t i = 0; i < out.size(); ++i) {
    bool outside = false;
    for (size_t d = 0; d < rank; ++d) outside = outside || !taps[d][static_cast<size_t>(index[d])];
    if (outside) {
      E::store(out.at(i), static_cast<typename E::Value>(extrapolation));
    } else if (options.mode == layout::ResizeMode::Nearest) {
      int64_t from = 0;
      for (size_t d = 0; d < rank; ++d) from += taps[d][static_cast<size_t>(index[d])]->index[0] * strides[d];
      std::memcpy(out.at(i), src.at(static_cast<size_t>(from - srcFirst)), E::bytes);
    } else {
      // Sum over every combination of the axes' taps.
      double sum = 0;
      std::fill(tap.begin(), tap.end(), 0);
      for (bool more = true; more;) {
        double weight = 1;
        int64_t from = 0;
        for (size_t d = 0; d < rank; ++d) {
          const auto& t = *taps[d][static_cast<size_t>(index[d])];
          weight *= t.weight[tap[d]];
          from += t.index[tap[d]] * strides[d];
        }
        sum += weight * static_cast<double>(E::load(src.at(static_cast<size_t>(from - srcFirst))));
        more = false;
        for (size_t d = rank; d-- > 0;) {
          if (++tap[d] < taps[d][static_cast<size_t>(index[d])]->count) {
            more = true;
            break;
          }
          tap[d] = 0;
        }
      }
      E::store(out.at(i), static_cast<typename E::Value>(sum));
    }
    advance(index, outShape);
  }
}

// Per-element cycles (assumptions, docs/cost-model.md): index arithmetic per axis plus one
// load and one store; Resize linear/cubic add a multiply-accumulate per tap.
constexpr uint32_t kLayoutVertexCycles = 30;
constexpr uint32_t kSliceCyclesPerElement = 12;
constexpr uint32_t kPadCyclesPerElement = 14;
constexpr uint32_t kTriluCyclesPerElement = 6;
constexpr uint32_t kReverseSequenceCyclesPerElement = 10;
constexpr uint32_t kRangeCyclesPerElement = 4;
constexpr uint32_t kResizeCyclesPerElement = 40;  // about 4 taps of 2 resized axes, fp32
constexpr uint32_t kFillRegionCycles = 4;

void addLayout(CodeletRegistry& registry, const std::string& op, DType dtype, Kernel kernel, size_t fields,
               uint32_t perElement) {
  Codelet codelet;
  codelet.name = op + "<" + std::string(dtypeName(dtype)) + ">";
  const size_t bytes = dtypeSize(dtype);
  codelet.kernel = [name = codelet.name, kernel = std::move(kernel), bytes, fields](const VertexData& data) {
    if (data.fields.size() != fields) codeletFault(name, "expects " + std::to_string(fields) + " fields");
    kernel(data, name, bytes);
  };
  codelet.cycles = perElementCycles(kLayoutVertexCycles, perElement, fields - 1, bytes);
  codelet.codeBytes = kLayoutCodeBytes;
  registry.add(std::move(codelet));
}

}  // namespace

void registerLayoutCodelets(CodeletRegistry& registry) {
  forEachDType([&]<DType D>() {
    Codelet fill;
    fill.name = "Fill<" + std::string(dtypeName(D)) + ">";
    fill.kernel = [name = fill.name](const VertexData& data) { fillKernel(data, name, dtypeSize(D)); };
    fill.cycles = vectorCycles({kLayoutVertexCycles, kFillRegionCycles, 1, lanesOf(D)}, 1, dtypeSize(D));
    fill.codeBytes = kElementwiseCodeBytes;
    registry.add(std::move(fill));

    addLayout(registry, "DynamicSlice", D, sliceKernel, 6, kSliceCyclesPerElement);
    addLayout(registry, "DynamicPad", D, padKernel, 4, kPadCyclesPerElement);
    addLayout(registry, "Trilu", D, triluKernel, 3, kTriluCyclesPerElement);
    addLayout(registry, "DynamicReverseSequence", D, reverseSequenceKernel, 3, kReverseSequenceCyclesPerElement);
    if constexpr (D != DType::Bool) {
      addLayout(registry, "Range", D, rangeKernel<D>, 4, kRangeCyclesPerElement);
      addLayout(registry, "Resize", D, resizeKernel<D>, 4, kResizeCyclesPerElement);
    }
  });
}

}  // namespace ipusim::codelets
