#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <string>

#include "sim/codelet.h"
#include "sim/target.h"
#include "sim_test_support.h"

using namespace ipusim;
using namespace ipusim::test;

namespace {

std::vector<uint8_t> cast(const std::string& name, std::vector<uint8_t> input, size_t outBytes) {
  const Codelet* codelet = CodeletRegistry::instance().find(name);
  REQUIRE_MESSAGE(codelet != nullptr, name);
  std::vector<uint8_t> out(outBytes);
  VertexData data;
  data.fields = {{std::span<uint8_t>(input)}, {std::span<uint8_t>(out)}};
  codelet->kernel(data);
  return out;
}

}  // namespace

TEST_CASE("every pair of dtypes has a cast") {
  for (DType from : allDTypes()) {
    for (DType to : allDTypes()) {
      const std::string name =
          "Cast<" + std::string(dtypeName(from)) + "," + std::string(dtypeName(to)) + ">";
      CHECK_MESSAGE(CodeletRegistry::instance().find(name) != nullptr, name);
    }
  }
}

TEST_CASE("float to integer truncates toward zero and saturates") {
  const float inf = std::numeric_limits<float>::infinity();
  const std::vector<float> in = {2.9f, -2.9f, 300.0f, -300.0f, std::nanf(""), inf, -inf, -0.5f};
  CHECK(fromBytes<int8_t>(cast("Cast<float32,int8>", toBytes(in), in.size())) ==
        std::vector<int8_t>{2, -2, 127, -128, 0, 127, -128, 0});
  CHECK(fromBytes<uint8_t>(cast("Cast<float32,uint8>", toBytes(in), in.size())) ==
        std::vector<uint8_t>{2, 0, 255, 0, 0, 255, 0, 0});
  CHECK(fromBytes<int32_t>(cast("Cast<float32,int32>", toBytes<float>({3e9f, -3e9f, 123456.7f}), 12)) ==
        std::vector<int32_t>{INT32_MAX, INT32_MIN, 123456});
  CHECK(fromBytes<uint32_t>(cast("Cast<float32,uint32>", toBytes<float>({5e9f, 4e9f}), 8)) ==
        std::vector<uint32_t>{UINT32_MAX, 4000000000u});
  CHECK(fromBytes<int64_t>(cast("Cast<float32,int64>", toBytes<float>({1e19f, -1e19f, -7.5f}), 24)) ==
        std::vector<int64_t>{INT64_MAX, INT64_MIN, -7});
  CHECK(fromBytes<int32_t>(cast("Cast<float16,int32>", halfBytes({-3.75f, 65504.0f}), 8)) ==
        std::vector<int32_t>{-3, 65504});
}

TEST_CASE("integer to integer wraps") {
  CHECK(fromBytes<int8_t>(cast("Cast<int32,int8>", toBytes<int32_t>({200, -129, 5}), 3)) ==
        std::vector<int8_t>{-56, 127, 5});
  CHECK(fromBytes<uint8_t>(cast("Cast<int8,uint8>", toBytes<int8_t>({-1}), 1)) ==
        std::vector<uint8_t>{255});
  CHECK(fromBytes<int32_t>(cast("Cast<uint32,int32>", toBytes<uint32_t>({UINT32_MAX}), 4)) ==
        std::vector<int32_t>{-1});
  CHECK(fromBytes<int64_t>(cast("Cast<uint32,int64>", toBytes<uint32_t>({UINT32_MAX}), 8)) ==
        std::vector<int64_t>{4294967295LL});
  CHECK(fromBytes<uint32_t>(cast("Cast<int64,uint32>", toBytes<int64_t>({(1LL << 32) + 7}), 4)) ==
        std::vector<uint32_t>{7});
}

TEST_CASE("casts between floats round to nearest even") {
  CHECK(halfValues(cast("Cast<float32,float16>", toBytes<float>({0.1f, 70000.0f, 1.0f + 1.0f / 2048}), 6)) ==
        std::vector<float>{halfToFloat(0x2E66), std::numeric_limits<float>::infinity(), 1.0f});
  CHECK(fromBytes<float>(cast("Cast<float16,float32>", halfBytes({0.5f, -2.0f}), 8)) ==
        std::vector<float>{0.5f, -2.0f});
  CHECK(halfValues(cast("Cast<int32,float16>", toBytes<int32_t>({2049, -3, 100000}), 6)) ==
        std::vector<float>{2048.0f, -3.0f, std::numeric_limits<float>::infinity()});
  CHECK(fromBytes<float>(cast("Cast<int64,float32>", toBytes<int64_t>({16777217, -5}), 8)) ==
        std::vector<float>{16777216.0f, -5.0f});
  CHECK(fromBytes<float>(cast("Cast<float32,float32>", toBytes<float>({1.25f}), 4)) ==
        std::vector<float>{1.25f});
}

TEST_CASE("casts to and from bool") {
  CHECK(cast("Cast<float32,bool>", toBytes<float>({0.0f, -0.0f, 0.5f, std::nanf(""), -3.0f}), 5) ==
        std::vector<uint8_t>{0, 0, 1, 1, 1});
  CHECK(cast("Cast<int32,bool>", toBytes<int32_t>({0, 256, -1}), 3) == std::vector<uint8_t>{0, 1, 1});
  CHECK(cast("Cast<float16,bool>", halfBytes({0.0f, 2.0f}), 2) == std::vector<uint8_t>{0, 1});
  // A bool byte of any non-zero value reads as true.
  CHECK(fromBytes<float>(cast("Cast<bool,float32>", {0, 1, 7}, 12)) ==
        std::vector<float>{0.0f, 1.0f, 1.0f});
  CHECK(fromBytes<int64_t>(cast("Cast<bool,int64>", {1, 0}, 16)) == std::vector<int64_t>{1, 0});
  CHECK(halfValues(cast("Cast<bool,float16>", {1}, 2)) == std::vector<float>{1.0f});
  CHECK(cast("Cast<bool,bool>", {0, 9}, 2) == std::vector<uint8_t>{0, 1});
}

TEST_CASE("cast region sizes must agree in elements") {
  std::vector<uint8_t> in(8), out(8);
  VertexData data;
  data.fields = {{std::span<uint8_t>(in)}, {std::span<uint8_t>(out)}};
  // 8 bytes of float32 is 2 elements; 8 bytes of float16 would be 4.
  CHECK_THROWS_WITH(CodeletRegistry::instance().find("Cast<float32,float16>")->kernel(data),
                    doctest::Contains("Cast<float32,float16>: region 0 of field 0"));
}

TEST_CASE("cast cycle estimates") {
  const Target mk2 = targetPreset("ipu2");
  auto cycles = [&](const std::string& name, uint32_t inBytes, uint32_t outBytes) {
    Vertex vertex;
    vertex.fields = {{{0, inBytes}}, {{0, outBytes}}};
    return CodeletRegistry::instance().find(name)->cycles(vertex, mk2);
  };
  // 5 per vertex + 30 per region + vectors: fp32->fp16 2 cycles per 4 elements.
  CHECK(cycles("Cast<float32,float16>", 40, 20) == 5 + 30 + 3 * 2);
  // fp16->fp32: 1 cycle per 2 elements.
  CHECK(cycles("Cast<float16,float32>", 20, 40) == 5 + 30 + 5 * 1);
  // Anything else: 2 cycles per element.
  CHECK(cycles("Cast<int32,float32>", 40, 40) == 5 + 30 + 10 * 2);
  CHECK(cycles("Cast<float32,bool>", 40, 10) == 5 + 30 + 10 * 2);
}
