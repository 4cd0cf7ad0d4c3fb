#include "sim/codelets/dynamic_fields.h"

#include <algorithm>

#include "sim/half.h"

namespace ipusim::codelets {

void codeletFault(std::string_view codelet, const std::string& why) {
  throw SimError(std::string(codelet) + ": " + why);
}

int64_t ScalarReader::next() {
  if (at_ >= scalars_.size()) codeletFault(codelet_, "the vertex has too few scalars");
  return scalars_[at_++];
}

DType ScalarReader::dtype() {
  const int64_t value = next();
  if (value < 0 || value > static_cast<int64_t>(DType::Bool)) codeletFault(codelet_, "a dtype scalar is invalid");
  return static_cast<DType>(value);
}

std::vector<int64_t> ScalarReader::list(size_t count) {
  std::vector<int64_t> values(count);
  for (auto& v : values) v = next();
  return values;
}

FieldView::FieldView(const VertexData& data, size_t field, size_t elementBytes, std::string_view codelet)
    : elementBytes_(elementBytes), codelet_(codelet) {
  if (field >= data.fields.size()) codeletFault(codelet, "the vertex has no field " + std::to_string(field));
  const auto& regions = data.fields[field];
  if (regions.size() > 1) codeletFault(codelet, "field " + std::to_string(field) + " must be one region");
  if (!regions.empty()) {
    bytes_ = regions[0];
    present_ = true;
    if (bytes_.size() % elementBytes != 0) {
      codeletFault(codelet, "field " + std::to_string(field) + " is not a whole number of elements");
    }
  }
}

uint8_t* FieldView::at(size_t i) const { return at(i, 1); }

uint8_t* FieldView::at(size_t i, size_t count) const {
  if (i >= size() || count > size() - i) {
    codeletFault(codelet_, "elements " + std::to_string(i) + "+" + std::to_string(count) + " are outside a field of " +
                               std::to_string(size()));
  }
  return bytes_.data() + i * elementBytes_;
}

int64_t FieldView::index(size_t i, DType dtype) const {
  const uint8_t* p = at(i);
  auto load = [p](auto v) {
    std::memcpy(&v, p, sizeof v);
    return v;
  };
  switch (dtype) {
    case DType::Int64: return load(int64_t{});
    case DType::Int32: return load(int32_t{});
    case DType::UInt32: return load(uint32_t{});
    case DType::Int8: return load(int8_t{});
    case DType::UInt8: return load(uint8_t{});
    case DType::Bool: return *p != 0;
    case DType::Float32: return static_cast<int64_t>(load(float{}));
    case DType::Float16: return static_cast<int64_t>(halfToFloat(load(uint16_t{})));
  }
  return 0;
}

double FieldView::real(size_t i, DType dtype) const {
  const uint8_t* p = at(i);
  if (dtype == DType::Float32) {
    float v;
    std::memcpy(&v, p, sizeof v);
    return v;
  }
  if (dtype == DType::Float16) {
    uint16_t v;
    std::memcpy(&v, p, sizeof v);
    return halfToFloat(v);
  }
  return static_cast<double>(index(i, dtype));
}

std::vector<int64_t> rowMajorStrides(const std::vector<int64_t>& shape) {
  std::vector<int64_t> strides(shape.size(), 1);
  for (size_t d = shape.size(); d-- > 1;) strides[d - 1] = strides[d] * shape[d];
  return strides;
}

int64_t product(const std::vector<int64_t>& shape) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

void unflatten(int64_t flat, const std::vector<int64_t>& shape, std::vector<int64_t>& index) {
  index.resize(shape.size());
  for (size_t d = shape.size(); d-- > 0;) {
    index[d] = shape[d] == 0 ? 0 : flat % shape[d];
    if (shape[d] != 0) flat /= shape[d];
  }
}

int64_t wrapIndex(int64_t index, int64_t dim, std::string_view codelet) {
  const int64_t wrapped = index < 0 ? index + dim : index;
  if (wrapped < 0 || wrapped >= dim) {
    codeletFault(codelet, "index " + std::to_string(index) + " is out of range for an axis of " + std::to_string(dim));
  }
  return wrapped;
}

std::function<uint64_t(const Vertex&, const Target&)> perElementCycles(uint32_t vertexCycles, uint32_t perElement,
                                                                       size_t outField, size_t elementBytes) {
  return [=](const Vertex& vertex, const Target&) -> uint64_t {
    uint64_t elements = 0;
    if (outField < vertex.fields.size())
      for (const Region& r : vertex.fields[outField]) elements += r.bytes / elementBytes;
    return vertexCycles + elements * perElement;
  };
}

}  // namespace ipusim::codelets
