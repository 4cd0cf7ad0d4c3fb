// OpTester-style checks of the math, logic and activation codelets: known values per dtype,
// float16 rounding once per op, integer edge cases, scalars, and cycle estimates.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "sim/codelet.h"
#include "sim/error.h"
#include "sim/target.h"
#include "sim_test_support.h"

using namespace ipusim;
using namespace ipusim::test;

namespace {

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
constexpr float kInf = std::numeric_limits<float>::infinity();

const Codelet& codeletNamed(const std::string& name) {
  const Codelet* codelet = CodeletRegistry::instance().find(name);
  REQUIRE_MESSAGE(codelet != nullptr, name);
  return *codelet;
}

// Runs a codelet on single-region fields; the output field (last) is `outBytes` long.
std::vector<uint8_t> runCodelet(const std::string& name, std::vector<std::vector<uint8_t>> inputs, size_t outBytes,
                                const std::vector<int64_t>& scalars = {}) {
  std::vector<uint8_t> out(outBytes);
  VertexData data;
  for (auto& input : inputs) data.fields.push_back({std::span<uint8_t>(input)});
  data.fields.push_back({std::span<uint8_t>(out)});
  data.scalars = scalars;
  codeletNamed(name).kernel(data);
  return out;
}

// Typed front ends: inputs of T (one or more fields), output of Out.
template <typename Out, typename T>
std::vector<Out> apply(const std::string& name, const std::vector<std::vector<T>>& inputs,
                       const std::vector<int64_t>& scalars = {}) {
  std::vector<std::vector<uint8_t>> bytes;
  for (const auto& input : inputs) bytes.push_back(toBytes(input));
  return fromBytes<Out>(runCodelet(name, bytes, inputs.at(0).size() * sizeof(Out), scalars));
}

template <typename T>
std::vector<T> unary(const std::string& name, const std::vector<T>& a, const std::vector<int64_t>& scalars = {}) {
  return apply<T, T>(name, {a}, scalars);
}

template <typename T>
std::vector<T> binary(const std::string& name, const std::vector<T>& a, const std::vector<T>& b) {
  return apply<T, T>(name, {a, b});
}

std::vector<float> unaryHalf(const std::string& name, const std::vector<float>& a,
                             const std::vector<int64_t>& scalars = {}) {
  return halfValues(runCodelet(name, {halfBytes(a)}, a.size() * 2, scalars));
}

// Bools come back as bytes; compared as 0/1.
template <typename T>
std::vector<uint8_t> predicate(const std::string& name, const std::vector<std::vector<T>>& inputs,
                               const std::vector<int64_t>& scalars = {}) {
  return apply<uint8_t, T>(name, inputs, scalars);
}

void checkClose(const std::vector<float>& actual, const std::vector<float>& expected, float tolerance = 1e-6f) {
  REQUIRE(actual.size() == expected.size());
  for (size_t i = 0; i < actual.size(); ++i) {
    if (std::isnan(expected[i])) {
      CHECK_MESSAGE(std::isnan(actual[i]), "element " << i);
    } else if (std::isinf(expected[i])) {
      CHECK_MESSAGE(actual[i] == expected[i], "element " << i);
    } else {
      CHECK_MESSAGE(actual[i] == doctest::Approx(expected[i]).epsilon(tolerance), "element " << i);
    }
  }
}

Vertex vertexWithRegions(std::vector<std::vector<uint32_t>> fieldRegionBytes, std::vector<int64_t> scalars = {}) {
  Vertex vertex;
  for (const auto& field : fieldRegionBytes) {
    std::vector<Region> regions;
    for (uint32_t bytes : field) regions.push_back({0, bytes});
    vertex.fields.push_back(regions);
  }
  vertex.scalars = std::move(scalars);
  return vertex;
}

}  // namespace

TEST_CASE("every op of the family is registered for each dtype ONNX allows") {
  const auto& registry = CodeletRegistry::instance();
  const std::vector<std::string> numeric = {"float32", "float16", "int8", "uint8", "int32", "uint32", "int64"};
  for (const char* op : {"Abs", "Sign", "Erf", "Mod", "Fmod", "Max", "Min", "Clip", "BroadcastClip", "Shrink",
                         "Greater", "GreaterOrEqual", "Less", "LessOrEqual", "Equal"}) {
    for (const auto& t : numeric) CHECK_MESSAGE(registry.find(std::string(op) + "<" + t + ">"), op, t);
  }
  for (const char* op : {"Ceil", "Floor", "Round", "Sqrt", "Exp", "Log", "Reciprocal", "Sin", "Cos", "Tan", "Asin",
                         "Acos", "Atan", "Sinh", "Cosh", "Tanh", "Asinh", "Acosh", "Atanh", "Sigmoid", "IsNaN",
                         "IsInf", "Sum", "Mean", "HardSigmoid", "HardSwish", "Elu", "Selu", "Celu", "LeakyRelu",
                         "ThresholdedRelu", "Softplus", "Softsign"}) {
    for (const char* t : {"float32", "float16"}) CHECK_MESSAGE(registry.find(std::string(op) + "<" + t + ">"), op, t);
  }
  for (const char* op : {"And", "Or", "Xor", "Not", "Equal", "Where"}) CHECK(registry.find(std::string(op) + "<bool>"));
  for (const char* base : {"float32", "float16", "int32", "int64"}) {
    for (const auto& exponent : numeric) CHECK(registry.find("Pow<" + std::string(base) + "," + exponent + ">"));
  }
  CHECK(registry.find("ShiftLeft<uint8>"));
  CHECK(registry.find("ShiftRight<uint32>"));
  CHECK(registry.find("ShiftLeft<int32>") == nullptr);  // BitShift is unsigned-only
  CHECK(registry.find("Sqrt<int32>") == nullptr);
  CHECK(registry.find("PRelu<int64>"));
  CHECK(registry.find("PRelu<int8>") == nullptr);
}

TEST_CASE("float32 unary math") {
  checkClose(unary<float>("Abs<float32>", {-1.5f, 0.0f, 2.0f}), {1.5f, 0.0f, 2.0f});
  checkClose(unary<float>("Ceil<float32>", {-1.5f, 1.2f, 2.0f}), {-1.0f, 2.0f, 2.0f});
  checkClose(unary<float>("Floor<float32>", {-1.5f, 1.7f, 2.0f}), {-2.0f, 1.0f, 2.0f});
  // Round: halves to even.
  checkClose(unary<float>("Round<float32>", {0.5f, 1.5f, 2.5f, -0.5f, -1.5f, 2.6f, -2.4f}),
             {0.0f, 2.0f, 2.0f, -0.0f, -2.0f, 3.0f, -2.0f});
  checkClose(unary<float>("Sign<float32>", {-3.0f, 0.0f, 0.25f, kNaN}), {-1.0f, 0.0f, 1.0f, kNaN});
  checkClose(unary<float>("Sqrt<float32>", {4.0f, 2.0f, -1.0f}), {2.0f, std::sqrt(2.0f), kNaN});
  checkClose(unary<float>("Exp<float32>", {0.0f, 1.0f}), {1.0f, 2.718281828f});
  checkClose(unary<float>("Log<float32>", {1.0f, 2.718281828f, 0.0f}), {0.0f, 1.0f, -kInf});
  checkClose(unary<float>("Reciprocal<float32>", {2.0f, -0.25f}), {0.5f, -4.0f});
  checkClose(unary<float>("Sin<float32>", {0.0f, 1.5707964f}), {0.0f, 1.0f});
  checkClose(unary<float>("Cos<float32>", {0.0f, 3.1415927f}), {1.0f, -1.0f});
  checkClose(unary<float>("Tan<float32>", {0.7853982f}), {1.0f});
  checkClose(unary<float>("Asin<float32>", {1.0f, 2.0f}), {1.5707964f, kNaN});
  checkClose(unary<float>("Acos<float32>", {1.0f}), {0.0f});
  checkClose(unary<float>("Atan<float32>", {1.0f}), {0.7853982f});
  checkClose(unary<float>("Sinh<float32>", {1.0f}), {1.1752012f});
  checkClose(unary<float>("Cosh<float32>", {1.0f}), {1.5430806f});
  checkClose(unary<float>("Tanh<float32>", {0.5f, 20.0f}), {0.46211716f, 1.0f});
  checkClose(unary<float>("Asinh<float32>", {1.0f}), {0.8813736f});
  checkClose(unary<float>("Acosh<float32>", {2.0f, 0.5f}), {1.3169579f, kNaN});
  checkClose(unary<float>("Atanh<float32>", {0.5f, 1.0f}), {0.54930615f, kInf});
  checkClose(unary<float>("Erf<float32>", {0.0f, 0.5f, -3.0f}), {0.0f, 0.5204999f, -0.9999779f});
  // Sigmoid saturates without overflowing in either direction.
  checkClose(unary<float>("Sigmoid<float32>", {0.0f, 2.0f, -100.0f, 100.0f}), {0.5f, 0.8807971f, 0.0f, 1.0f}, 1e-5f);
}

TEST_CASE("float16 math computes in float and rounds the result to half once") {
  // e = 2.71828... lies between halves 2.71875 and 2.716796875; nearest is 2.71875.
  CHECK(unaryHalf("Exp<float16>", {1.0f}) == std::vector<float>{2.71875f});
  CHECK(unaryHalf("Sqrt<float16>", {2.0f}) == std::vector<float>{1.4140625f});
  CHECK(unaryHalf("Round<float16>", {2.5f, 3.5f}) == std::vector<float>{2.0f, 4.0f});
  CHECK(unaryHalf("Sigmoid<float16>", {0.0f, -20.0f}) == std::vector<float>{0.5f, 0.0f});
  CHECK(unaryHalf("Reciprocal<float16>", {3.0f}) == std::vector<float>{0.333251953125f});
  // exp(12) = 162754.8 overflows half: inf.
  CHECK(unaryHalf("Exp<float16>", {12.0f})[0] == kInf);
  CHECK(unaryHalf("Abs<float16>", {-65504.0f}) == std::vector<float>{65504.0f});
}

TEST_CASE("integer Abs, Sign and Erf") {
  // The most negative value wraps to itself, as numpy's abs does.
  CHECK(unary<int8_t>("Abs<int8>", {-128, -5, 7}) == std::vector<int8_t>{-128, 5, 7});
  CHECK(unary<int32_t>("Abs<int32>", {-2147483647, 0}) == std::vector<int32_t>{2147483647, 0});
  CHECK(unary<uint8_t>("Abs<uint8>", {255, 0}) == std::vector<uint8_t>{255, 0});
  CHECK(unary<int64_t>("Abs<int64>", {-(int64_t{1} << 40)}) == std::vector<int64_t>{int64_t{1} << 40});
  CHECK(unary<int64_t>("Sign<int64>", {-9, 0, 12}) == std::vector<int64_t>{-1, 0, 1});
  CHECK(unary<uint32_t>("Sign<uint32>", {0, 7}) == std::vector<uint32_t>{0, 1});
  // erf truncated back to the integer type: 0 until erf rounds to +-1 in double.
  CHECK(unary<int32_t>("Erf<int32>", {0, 1, 6, -10}) == std::vector<int32_t>{0, 0, 1, -1});
}

TEST_CASE("IsNaN, IsInf with its detect flags, and Not give bools") {
  CHECK(predicate<float>("IsNaN<float32>", {{kNaN, 1.0f, kInf}}) == std::vector<uint8_t>{1, 0, 0});
  const std::vector<float> values = {-kInf, kInf, 0.0f, kNaN};
  CHECK(predicate<float>("IsInf<float32>", {values}, {1, 1}) == std::vector<uint8_t>{1, 1, 0, 0});
  CHECK(predicate<float>("IsInf<float32>", {values}, {1, 0}) == std::vector<uint8_t>{1, 0, 0, 0});
  CHECK(predicate<float>("IsInf<float32>", {values}, {0, 1}) == std::vector<uint8_t>{0, 1, 0, 0});
  CHECK(fromBytes<uint8_t>(runCodelet("IsInf<float16>", {halfBytes({-kInf, 1.0f})}, 2, {1, 1})) ==
        std::vector<uint8_t>{1, 0});
  CHECK(apply<uint8_t, uint8_t>("Not<bool>", {{0, 1, 2}}) == std::vector<uint8_t>{1, 0, 0});
}

TEST_CASE("a missing scalar is refused naming the codelet") {
  CHECK_THROWS_WITH_AS(unary<float>("LeakyRelu<float32>", {1.0f}), "LeakyRelu<float32>: expects 1 scalars, the vertex has 0",
                       SimError);
}

TEST_CASE("Pow takes the base's type for every exponent type") {
  CHECK(apply<float, float>("Pow<float32,float32>", {{2.0f, 4.0f, -8.0f}, {3.0f, 0.5f, 0.5f}})[0] == 8.0f);
  checkClose(apply<float, float>("Pow<float32,float32>", {{2.0f, 4.0f, -8.0f}, {3.0f, 0.5f, 0.5f}}),
             {8.0f, 2.0f, kNaN});
  checkClose(fromBytes<float>(runCodelet("Pow<float32,int64>", {toBytes(std::vector<float>{2.0f, -2.0f, 0.5f}),
                                                                toBytes(std::vector<int64_t>{3, 2, -1})},
                                         12)),
             {8.0f, 4.0f, 2.0f});
  // Integer powers are exact and wrap modulo 2^32 (numpy); negative exponents truncate.
  CHECK(binary<int32_t>("Pow<int32,int32>", {2, -3, 5, 2, 1, -1, 2}, {10, 3, 0, 31, -4, -3, -1}) ==
        std::vector<int32_t>{1024, -27, 1, std::numeric_limits<int32_t>::min(), 1, -1, 0});
  CHECK(fromBytes<int64_t>(runCodelet("Pow<int64,float32>", {toBytes(std::vector<int64_t>{4, 9, 2}),
                                                              toBytes(std::vector<float>{0.5f, 0.5f, -1.0f})},
                                      24)) == std::vector<int64_t>{2, 3, 0});
  CHECK(fromBytes<int32_t>(runCodelet("Pow<int32,uint8>", {toBytes(std::vector<int32_t>{3}),
                                                           toBytes(std::vector<uint8_t>{4})},
                                      4)) == std::vector<int32_t>{81});
  CHECK(halfValues(runCodelet("Pow<float16,float16>", {halfBytes({2.0f}), halfBytes({0.5f})}, 2)) ==
        std::vector<float>{1.4140625f});
}

TEST_CASE("Mod follows the divisor's sign, Fmod the dividend's") {
  const std::vector<int32_t> a = {5, -5, 5, -5, 7, 0};
  const std::vector<int32_t> b = {3, 3, -3, -3, 0, 4};
  CHECK(binary<int32_t>("Mod<int32>", a, b) == std::vector<int32_t>{2, 1, -1, -2, 0, 0});
  CHECK(binary<int32_t>("Fmod<int32>", a, b) == std::vector<int32_t>{2, -2, 2, -2, 0, 0});
  CHECK(binary<int8_t>("Mod<int8>", {-128, -128}, {-1, 3}) == std::vector<int8_t>{0, 1});
  CHECK(binary<int8_t>("Fmod<int8>", {-128}, {-1}) == std::vector<int8_t>{0});
  CHECK(binary<uint8_t>("Mod<uint8>", {7, 200}, {0, 7}) == std::vector<uint8_t>{0, 4});
  CHECK(binary<int64_t>("Mod<int64>", {-7}, {2}) == std::vector<int64_t>{1});
  checkClose(binary<float>("Mod<float32>", {5.5f, -5.5f, 5.5f, 1.0f}, {2.0f, 2.0f, -2.0f, 0.0f}),
             {1.5f, 0.5f, -0.5f, kNaN});
  checkClose(binary<float>("Fmod<float32>", {5.5f, -5.5f}, {2.0f, 2.0f}), {1.5f, -1.5f});
  // A zero remainder takes the divisor's sign.
  CHECK(std::signbit(binary<float>("Mod<float32>", {4.0f}, {-2.0f})[0]));
  CHECK(halfValues(runCodelet("Fmod<float16>", {halfBytes({-4.5f}), halfBytes({2.0f})}, 2)) ==
        std::vector<float>{-0.5f});
}

TEST_CASE("shifts past the type's width give 0") {
  CHECK(binary<uint8_t>("ShiftLeft<uint8>", {1, 255, 1, 3}, {1, 1, 8, 200}) == std::vector<uint8_t>{2, 254, 0, 0});
  CHECK(binary<uint32_t>("ShiftRight<uint32>", {256, 1, 0xffffffffu}, {4, 32, 31}) ==
        std::vector<uint32_t>{16, 0, 1});
}

TEST_CASE("variadic Max, Min, Sum and Mean over any number of inputs") {
  checkClose(apply<float, float>("Sum<float32>", {{1.0f, 2.0f}, {10.0f, 20.0f}, {100.0f, 200.0f}}), {111.0f, 222.0f});
  checkClose(apply<float, float>("Mean<float32>", {{1.0f, 2.0f}, {2.0f, 4.0f}, {6.0f, 0.0f}}), {3.0f, 2.0f});
  checkClose(apply<float, float>("Max<float32>", {{1.0f, kNaN, 3.0f}, {2.0f, 0.0f, kNaN}}), {2.0f, kNaN, kNaN});
  checkClose(apply<float, float>("Min<float32>", {{1.0f, 5.0f}, {2.0f, 0.0f}, {-1.0f, 7.0f}}), {-1.0f, 0.0f});
  CHECK(apply<int8_t, int8_t>("Min<int8>", {{-128, 5}, {127, -3}}) == std::vector<int8_t>{-128, -3});
  CHECK(apply<uint32_t, uint32_t>("Max<uint32>", {{1, 4000000000u}, {2, 3}}) ==
        std::vector<uint32_t>{2, 4000000000u});
  CHECK(apply<int64_t, int64_t>("Max<int64>", {{-5, 9}}) == std::vector<int64_t>{-5, 9});  // one input: a copy
  // float16 Sum adds in float and rounds once: 2048 + 1 + 1 = 2050 (pairwise half adds give 2048).
  CHECK(halfValues(runCodelet("Sum<float16>", {halfBytes({2048.0f}), halfBytes({1.0f}), halfBytes({1.0f})}, 2)) ==
        std::vector<float>{2050.0f});
  CHECK(halfValues(runCodelet("Mean<float16>", {halfBytes({1.0f}), halfBytes({2.0f})}, 2)) ==
        std::vector<float>{1.5f});
  CHECK_THROWS_AS(runCodelet("Sum<float32>", {}, 4), SimError);
}

TEST_CASE("Clip with bound tensors and with scalar bounds") {
  CHECK(apply<int32_t, int32_t>("Clip<int32>", {{-5, 0, 5, 10}, {-1, -1, -1, -1}, {4, 4, 4, 4}}) ==
        std::vector<int32_t>{-1, 0, 4, 4});
  checkClose(apply<float, float>("Clip<float32>", {{kNaN, 3.0f}, {0.0f, 5.0f}, {1.0f, 4.0f}}), {kNaN, 4.0f});
  const std::vector<int64_t> bounds = {scalarFromDouble(-1.5), scalarFromDouble(2.0)};
  checkClose(unary<float>("BroadcastClip<float32>", {-3.0f, 0.5f, 9.0f, kNaN}, bounds), {-1.5f, 0.5f, 2.0f, kNaN});
  CHECK(unaryHalf("BroadcastClip<float16>", {-3.0f, 0.5f, 9.0f}, bounds) == std::vector<float>{-1.5f, 0.5f, 2.0f});
  CHECK(unary<uint8_t>("BroadcastClip<uint8>", {0, 100, 250}, {10, 200}) == std::vector<uint8_t>{10, 100, 200});
  CHECK(unary<int64_t>("BroadcastClip<int64>", {std::numeric_limits<int64_t>::min(), 3},
                       {std::numeric_limits<int64_t>::min() + 1, std::numeric_limits<int64_t>::max()}) ==
        std::vector<int64_t>{std::numeric_limits<int64_t>::min() + 1, 3});
}

TEST_CASE("comparisons and logic give bools") {
  const std::vector<float> a = {1.0f, 2.0f, kNaN, -0.0f};
  const std::vector<float> b = {1.0f, 3.0f, kNaN, 0.0f};
  CHECK(predicate<float>("Equal<float32>", {a, b}) == std::vector<uint8_t>{1, 0, 0, 1});
  CHECK(predicate<float>("Greater<float32>", {a, b}) == std::vector<uint8_t>{0, 0, 0, 0});
  CHECK(predicate<float>("LessOrEqual<float32>", {a, b}) == std::vector<uint8_t>{1, 1, 0, 1});
  CHECK(predicate<int64_t>("Greater<int64>", {{-1, 5}, {-2, 5}}) == std::vector<uint8_t>{1, 0});
  CHECK(predicate<int64_t>("GreaterOrEqual<int64>", {{-1, 5}, {-2, 5}}) == std::vector<uint8_t>{1, 1});
  CHECK(predicate<uint32_t>("Less<uint32>", {{1, 4000000000u}, {2, 3}}) == std::vector<uint8_t>{1, 0});
  CHECK(predicate<int8_t>("Less<int8>", {{-128}, {127}}) == std::vector<uint8_t>{1});
  CHECK(fromBytes<uint8_t>(runCodelet("Equal<float16>", {halfBytes({1.0f, 2.0f}), halfBytes({1.0f, 2.0004f})}, 2)) ==
        std::vector<uint8_t>{1, 1});  // 2.0004 rounds to half 2.0
  const std::vector<uint8_t> p = {0, 0, 1, 1};
  const std::vector<uint8_t> q = {0, 1, 0, 1};
  CHECK(predicate<uint8_t>("And<bool>", {p, q}) == std::vector<uint8_t>{0, 0, 0, 1});
  CHECK(predicate<uint8_t>("Or<bool>", {p, q}) == std::vector<uint8_t>{0, 1, 1, 1});
  CHECK(predicate<uint8_t>("Xor<bool>", {p, q}) == std::vector<uint8_t>{0, 1, 1, 0});
  CHECK(predicate<uint8_t>("Equal<bool>", {p, q}) == std::vector<uint8_t>{1, 0, 0, 1});
}

TEST_CASE("Where picks x where the condition holds, else y, for every type") {
  const auto condition = toBytes(std::vector<uint8_t>{1, 0, 1});
  CHECK(fromBytes<int64_t>(runCodelet("Where<int64>", {condition, toBytes(std::vector<int64_t>{1, 2, 3}),
                                                       toBytes(std::vector<int64_t>{-1, -2, -3})},
                                      24)) == std::vector<int64_t>{1, -2, 3});
  CHECK(halfValues(runCodelet("Where<float16>", {condition, halfBytes({1.5f, 2.5f, 3.5f}), halfBytes({0, 0, 0})}, 6)) ==
        std::vector<float>{1.5f, 0.0f, 3.5f});
  CHECK(fromBytes<uint8_t>(runCodelet("Where<bool>", {condition, toBytes(std::vector<uint8_t>{0, 0, 0}),
                                                      toBytes(std::vector<uint8_t>{1, 1, 1})},
                                      3)) == std::vector<uint8_t>{0, 1, 0});
}

TEST_CASE("activations with their attributes as scalars") {
  const auto s = [](std::initializer_list<double> values) {
    std::vector<int64_t> scalars;
    for (double v : values) scalars.push_back(scalarFromDouble(v));
    return scalars;
  };
  const std::vector<float> x = {-2.0f, -0.5f, 0.0f, 1.0f, 3.0f};
  checkClose(unary<float>("LeakyRelu<float32>", x, s({0.1})), {-0.2f, -0.05f, 0.0f, 1.0f, 3.0f});
  checkClose(unary<float>("ThresholdedRelu<float32>", x, s({1.0})), {0.0f, 0.0f, 0.0f, 0.0f, 3.0f});
  checkClose(unary<float>("HardSigmoid<float32>", x, s({0.2, 0.5})), {0.1f, 0.4f, 0.5f, 0.7f, 1.0f});
  checkClose(unary<float>("HardSwish<float32>", {-3.0f, 1.0f, 3.0f}, {}), {0.0f, 0.6666667f, 3.0f});
  checkClose(unary<float>("Elu<float32>", x, s({2.0})),
             {2.0f * std::expm1(-2.0f), 2.0f * std::expm1(-0.5f), 0.0f, 1.0f, 3.0f});
  const double seluAlpha = 1.67326319217681884765625, seluGamma = 1.05070102214813232421875;
  checkClose(unary<float>("Selu<float32>", {-1.0f, 2.0f}, s({seluAlpha, seluGamma})),
             {static_cast<float>(seluGamma * seluAlpha * std::expm1(-1.0)), static_cast<float>(2.0 * seluGamma)});
  checkClose(unary<float>("Celu<float32>", {-1.0f, 2.0f, kNaN}, s({2.0})),
             {static_cast<float>(2.0 * std::expm1(-0.5)), 2.0f, kNaN});
  // Softplus neither overflows for large x nor loses small values.
  checkClose(unary<float>("Softplus<float32>", {0.0f, 100.0f, -100.0f}, {}), {0.6931472f, 100.0f, 0.0f}, 1e-5f);
  checkClose(unary<float>("Softsign<float32>", {1.0f, -3.0f}, {}), {0.5f, -0.75f});
  checkClose(unary<float>("Shrink<float32>", {-2.0f, -0.5f, 0.5f, 2.0f}, s({1.0, 0.5})), {-1.5f, 0.0f, 0.0f, 1.5f});
  CHECK(unary<int32_t>("Shrink<int32>", {-5, -1, 0, 1, 5}, s({1.5, 1.0})) == std::vector<int32_t>{-4, 0, 0, 0, 4});
  CHECK(unaryHalf("LeakyRelu<float16>", {-1.0f}, s({0.1})) == std::vector<float>{-0.0999755859375f});
  checkClose(binary<float>("PRelu<float32>", {-2.0f, 3.0f}, {0.25f, 0.25f}), {-0.5f, 3.0f});
  CHECK(binary<int32_t>("PRelu<int32>", {-2, 3, -1073741824}, {3, 3, 4}) == std::vector<int32_t>{-6, 3, 0});
  CHECK(binary<uint32_t>("PRelu<uint32>", {7}, {3}) == std::vector<uint32_t>{7});
}

TEST_CASE("cycle estimates follow poplibs' per-op tables") {
  const Target mk2 = targetPreset("ipu2");
  // Natural-vector entries: ceil(n / lanes) x cycles; fixed-unroll entries: ceil(n / k) x cycles.
  CHECK(codeletNamed("Ceil<float32>").cycles(vertexWithRegions({{20}, {20}}), mk2) == 20 + 3 * 6);
  CHECK(codeletNamed("Exp<float32>").cycles(vertexWithRegions({{20}, {20}}), mk2) == 20 + 3 * 6);
  CHECK(codeletNamed("Sqrt<float16>").cycles(vertexWithRegions({{18}, {18}}), mk2) == 20 + 3 * 23);
  CHECK(codeletNamed("Cos<float32>").cycles(vertexWithRegions({{8}, {8}}), mk2) == 20 + 2 * 2304);
  // Comparisons: 4 elements per loop; the output field is bool.
  CHECK(codeletNamed("Equal<float32>").cycles(vertexWithRegions({{40}, {40}, {10}}), mk2) == 5 + 3 * 14);
  CHECK(codeletNamed("Greater<int64>").cycles(vertexWithRegions({{32}, {32}, {4}}), mk2) == 5 + 56);
  // Where: 6 per region + 5 per element; two regions of 3 and 2.
  CHECK(codeletNamed("Where<float32>").cycles(vertexWithRegions({{3, 2}, {12, 8}, {12, 8}, {12, 8}}), mk2) ==
        5 + (6 + 15) + (6 + 10));
  // Variadic: one pass per input after the first; Mean adds a scaling pass.
  CHECK(codeletNamed("Sum<float32>").cycles(vertexWithRegions({{16}, {16}, {16}, {16}}), mk2) == 5 + 2 * 2 * 3);
  CHECK(codeletNamed("Mean<float32>").cycles(vertexWithRegions({{16}, {16}, {16}, {16}}), mk2) == 5 + 12 + 2 * 3);
  CHECK(codeletNamed("Max<int32>").cycles(vertexWithRegions({{16}, {16}}), mk2) == 5 + 4 * 7);
  CHECK(codeletNamed("BroadcastClip<float16>").cycles(vertexWithRegions({{16}, {16}}, {0, 0}), mk2) == 5 + 6 + 2 * 2);
  CHECK(codeletNamed("Pow<int32,float32>").cycles(vertexWithRegions({{8}, {8}, {8}}), mk2) == 5 + 2 * 312);
  CHECK(codeletNamed("Not<bool>").cycles(vertexWithRegions({{3}, {3}}), mk2) == 20 + 3 * 21);
}
