#include "sim/runtime/random_tensor.h"

#include <cstring>

#include "sim/half.h"

namespace ipusim {

namespace {

struct SplitMix64 {
  uint64_t state;
  uint64_t next() {
    uint64_t z = (state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
};

uint64_t fnv1a(std::string_view text) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : text) h = (h ^ c) * 0x100000001b3ull;
  return h;
}

template <typename T>
void store(HostTensor& tensor, size_t i, T value) {
  std::memcpy(tensor.data.data() + i * sizeof(T), &value, sizeof(T));
}

}  // namespace

uint64_t mixSeed(uint64_t value) { return SplitMix64{value}.next(); }

HostTensor randomTensor(DType dtype, const Shape& shape, uint64_t seed, std::string_view name) {
  HostTensor tensor{dtype, shape, {}};
  const size_t count = static_cast<size_t>(elementCount(shape));
  tensor.data.resize(count * dtypeSize(dtype));
  SplitMix64 rng{seed ^ fnv1a(name)};
  // [-1, 1) with 24 random bits: exact in float32.
  auto unit = [&] { return static_cast<float>(static_cast<int64_t>(rng.next() >> 40) - (1 << 23)) / (1 << 23); };
  auto signedSmall = [&] { return static_cast<int64_t>(rng.next() % 21) - 10; };
  auto unsignedSmall = [&] { return rng.next() % 11; };
  for (size_t i = 0; i < count; ++i) {
    switch (dtype) {
      case DType::Float32: store(tensor, i, unit()); break;
      case DType::Float16: store(tensor, i, floatToHalf(unit())); break;
      case DType::Int8: store(tensor, i, static_cast<int8_t>(signedSmall())); break;
      case DType::Int32: store(tensor, i, static_cast<int32_t>(signedSmall())); break;
      case DType::Int64: store(tensor, i, signedSmall()); break;
      case DType::UInt8: store(tensor, i, static_cast<uint8_t>(unsignedSmall())); break;
      case DType::UInt32: store(tensor, i, static_cast<uint32_t>(unsignedSmall())); break;
      case DType::Bool: store(tensor, i, static_cast<uint8_t>(rng.next() & 1)); break;
    }
  }
  return tensor;
}

}  // namespace ipusim
