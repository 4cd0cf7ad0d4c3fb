#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "sim/codelet.h"
#include "sim/error.h"
#include "sim/target.h"
#include "sim_test_support.h"

using namespace ipusim;
using namespace ipusim::test;

namespace {

const Codelet& codeletNamed(const std::string& name) {
  const Codelet* codelet = CodeletRegistry::instance().find(name);
  REQUIRE_MESSAGE(codelet != nullptr, name);
  return *codelet;
}

// Runs a codelet on single-region fields; the last field is the output, `outBytes` long.
std::vector<uint8_t> runCodelet(const std::string& name, std::vector<std::vector<uint8_t>> inputs,
                                size_t outBytes) {
  std::vector<uint8_t> out(outBytes);
  VertexData data;
  for (auto& input : inputs) data.fields.push_back({std::span<uint8_t>(input)});
  data.fields.push_back({std::span<uint8_t>(out)});
  codeletNamed(name).kernel(data);
  return out;
}

template <typename T>
std::vector<T> binary(const std::string& name, const std::vector<T>& a, const std::vector<T>& b) {
  return fromBytes<T>(runCodelet(name, {toBytes(a), toBytes(b)}, a.size() * sizeof(T)));
}

template <typename T>
std::vector<T> unary(const std::string& name, const std::vector<T>& a) {
  return fromBytes<T>(runCodelet(name, {toBytes(a)}, a.size() * sizeof(T)));
}

std::vector<float> binaryHalf(const std::string& name, const std::vector<float>& a,
                              const std::vector<float>& b) {
  return halfValues(runCodelet(name, {halfBytes(a), halfBytes(b)}, a.size() * 2));
}

Vertex vertexWithRegions(std::vector<std::vector<uint32_t>> fieldRegionBytes) {
  Vertex vertex;
  for (const auto& field : fieldRegionBytes) {
    std::vector<Region> regions;
    for (uint32_t bytes : field) regions.push_back({0, bytes});
    vertex.fields.push_back(regions);
  }
  return vertex;
}

}  // namespace

TEST_CASE("codelet names follow Op<dtype>") {
  const auto& registry = CodeletRegistry::instance();
  for (const char* op : {"Add", "Sub", "Mul", "Div"}) {
    for (const char* t : {"float32", "float16", "int8", "uint8", "int32", "uint32", "int64"}) {
      CHECK_MESSAGE(registry.find(std::string(op) + "<" + t + ">") != nullptr, op, t);
    }
  }
  for (const char* op : {"Neg", "Relu"}) {
    for (const char* t : {"float32", "float16", "int8", "int32", "int64"}) {
      CHECK_MESSAGE(registry.find(std::string(op) + "<" + t + ">") != nullptr, op, t);
    }
  }
  CHECK(registry.find("Add<bool>") == nullptr);
  CHECK(registry.find("Neg<uint8>") == nullptr);
  CHECK(registry.find("Cast<float32,float16>") != nullptr);
  CHECK(registry.find("Cast<bool,int64>") != nullptr);
  // 7 dtypes x 4 binary ops + 5 x 2 unary ops + 8 x 8 casts (other tables add other ops).
  const auto names = registry.names();
  const auto ofTheseTables = std::count_if(names.begin(), names.end(), [](const std::string& name) {
    for (const char* op : {"Add<", "Sub<", "Mul<", "Div<", "Neg<", "Relu<", "Cast<"})
      if (name.rfind(op, 0) == 0) return true;
    return false;
  });
  CHECK(ofTheseTables == 28 + 10 + 64);
}

TEST_CASE("float32 arithmetic") {
  CHECK(binary<float>("Add<float32>", {1.5f, -2.0f}, {2.25f, 2.0f}) == std::vector<float>{3.75f, 0.0f});
  CHECK(binary<float>("Sub<float32>", {1.5f, -2.0f}, {2.25f, 2.0f}) == std::vector<float>{-0.75f, -4.0f});
  CHECK(binary<float>("Mul<float32>", {1.5f, -2.0f}, {2.0f, 3.0f}) == std::vector<float>{3.0f, -6.0f});
  const auto quotient = binary<float>("Div<float32>", {1.0f, -1.0f, 0.0f, 7.0f}, {4.0f, 0.0f, 0.0f, 2.0f});
  CHECK(quotient[0] == 0.25f);
  CHECK(quotient[1] == -std::numeric_limits<float>::infinity());
  CHECK(std::isnan(quotient[2]));
  CHECK(quotient[3] == 3.5f);
  CHECK(unary<float>("Neg<float32>", {1.0f, -0.0f, 3.0f}) == std::vector<float>{-1.0f, 0.0f, -3.0f});
  const auto relu = unary<float>("Relu<float32>", {-1.0f, 0.0f, 2.5f, std::nanf("")});
  CHECK(relu[0] == 0.0f);
  CHECK(relu[1] == 0.0f);
  CHECK(relu[2] == 2.5f);
  CHECK(std::isnan(relu[3]));
}

TEST_CASE("float16 arithmetic rounds each result to half") {
  CHECK(binaryHalf("Add<float16>", {1.0f, 2048.0f}, {2.0f, 1.0f}) == std::vector<float>{3.0f, 2048.0f});
  // 2048 + 3 = 2051 is half-way between 2050 and 2052 (spacing 2): ties to even 2052.
  CHECK(binaryHalf("Add<float16>", {2048.0f}, {3.0f}) == std::vector<float>{2052.0f});
  // 1/3 in half is 0.333251953125.
  CHECK(binaryHalf("Div<float16>", {1.0f}, {3.0f}) == std::vector<float>{0.333251953125f});
  // Overflow: 60000 + 60000 is infinity in half.
  CHECK(binaryHalf("Add<float16>", {60000.0f}, {60000.0f})[0] == std::numeric_limits<float>::infinity());
  CHECK(binaryHalf("Mul<float16>", {0.1f}, {10.0f}) == std::vector<float>{1.0f});
  CHECK(binaryHalf("Sub<float16>", {1.0f}, {0.5f}) == std::vector<float>{0.5f});
  CHECK(halfValues(runCodelet("Neg<float16>", {halfBytes({1.5f})}, 2)) == std::vector<float>{-1.5f});
  CHECK(halfValues(runCodelet("Relu<float16>", {halfBytes({-1.5f, 4.0f})}, 4)) ==
        std::vector<float>{0.0f, 4.0f});
}

TEST_CASE("integer add, sub and mul wrap like numpy") {
  CHECK(binary<int8_t>("Add<int8>", {127, -128, 5}, {1, -1, -7}) == std::vector<int8_t>{-128, 127, -2});
  CHECK(binary<int8_t>("Sub<int8>", {-128}, {1}) == std::vector<int8_t>{127});
  CHECK(binary<int8_t>("Mul<int8>", {16, -128}, {16, -1}) == std::vector<int8_t>{0, -128});
  CHECK(binary<uint8_t>("Add<uint8>", {250}, {10}) == std::vector<uint8_t>{4});
  CHECK(binary<uint8_t>("Sub<uint8>", {3}, {5}) == std::vector<uint8_t>{254});
  CHECK(binary<uint8_t>("Mul<uint8>", {255}, {255}) == std::vector<uint8_t>{1});
  CHECK(binary<int32_t>("Add<int32>", {INT32_MAX}, {1}) == std::vector<int32_t>{INT32_MIN});
  CHECK(binary<int32_t>("Mul<int32>", {65536}, {65536}) == std::vector<int32_t>{0});
  CHECK(binary<int32_t>("Mul<int32>", {-7}, {6}) == std::vector<int32_t>{-42});
  CHECK(binary<uint32_t>("Sub<uint32>", {0}, {1}) == std::vector<uint32_t>{UINT32_MAX});
  CHECK(binary<int64_t>("Add<int64>", {INT64_MAX}, {1}) == std::vector<int64_t>{INT64_MIN});
  CHECK(binary<int64_t>("Mul<int64>", {INT64_MIN}, {-1}) == std::vector<int64_t>{INT64_MIN});
  CHECK(unary<int8_t>("Neg<int8>", {-128, 5}) == std::vector<int8_t>{-128, -5});
  CHECK(unary<int64_t>("Neg<int64>", {INT64_MIN, -3}) == std::vector<int64_t>{INT64_MIN, 3});
  CHECK(unary<int32_t>("Relu<int32>", {-5, 0, 9}) == std::vector<int32_t>{0, 0, 9});
  CHECK(unary<int8_t>("Relu<int8>", {-128, 127}) == std::vector<int8_t>{0, 127});
}

TEST_CASE("integer division truncates, and x/0 and min/-1 are defined") {
  CHECK(binary<int32_t>("Div<int32>", {7, -7, 7, -7}, {2, 2, -2, -2}) ==
        std::vector<int32_t>{3, -3, -3, 3});
  CHECK(binary<int32_t>("Div<int32>", {5, INT32_MIN}, {0, -1}) == std::vector<int32_t>{0, INT32_MIN});
  CHECK(binary<int8_t>("Div<int8>", {-128, 9}, {-1, 0}) == std::vector<int8_t>{-128, 0});
  CHECK(binary<uint8_t>("Div<uint8>", {200, 9}, {7, 0}) == std::vector<uint8_t>{28, 0});
  CHECK(binary<uint32_t>("Div<uint32>", {UINT32_MAX}, {2}) == std::vector<uint32_t>{2147483647u});
  CHECK(binary<int64_t>("Div<int64>", {INT64_MIN, -9, 1}, {-1, 4, 0}) ==
        std::vector<int64_t>{INT64_MIN, -2, 0});
}

TEST_CASE("elementwise codelets process regions pairwise and in place") {
  std::vector<uint8_t> a = toBytes<int32_t>({1, 2, 3});
  std::vector<uint8_t> b = toBytes<int32_t>({10, 20, 30});
  VertexData data;
  // Region 0: element 0; region 1: elements 1..2. Output written over input 0 (in place).
  std::span<uint8_t> aSpan(a), bSpan(b);
  data.fields = {{aSpan.subspan(0, 4), aSpan.subspan(4, 8)},
                 {bSpan.subspan(0, 4), bSpan.subspan(4, 8)},
                 {aSpan.subspan(0, 4), aSpan.subspan(4, 8)}};
  codeletNamed("Add<int32>").kernel(data);
  CHECK(fromBytes<int32_t>(a) == std::vector<int32_t>{11, 22, 33});
}

TEST_CASE("elementwise codelets reject fields that break the convention") {
  std::vector<uint8_t> a(8), b(8), out(8), odd(6);
  const Codelet& add = codeletNamed("Add<float32>");
  VertexData twoFields;
  twoFields.fields = {{a}, {out}};
  CHECK_THROWS_WITH_AS(add.kernel(twoFields), "Add<float32>: expects 3 fields, the vertex has 2",
                       SimError);
  VertexData regionMismatch;
  regionMismatch.fields = {{a}, {b, b}, {out}};
  CHECK_THROWS_AS(add.kernel(regionMismatch), SimError);
  VertexData sizeMismatch;
  sizeMismatch.fields = {{a}, {std::span<uint8_t>(b).subspan(0, 4)}, {out}};
  CHECK_THROWS_AS(add.kernel(sizeMismatch), SimError);
  VertexData partialElement;
  partialElement.fields = {{odd}, {odd}, {odd}};
  CHECK_THROWS_AS(add.kernel(partialElement), SimError);
}

TEST_CASE("elementwise cycle estimates") {
  const Target mk2 = targetPreset("ipu2");
  // Binary: 5 + per region ceil(n / lanes) * cyclesPerVector.
  // Add<float32>: 3 cycles per 2 floats. Regions of 10 and 3 floats: 5 + 5*3 + 2*3 = 26.
  CHECK(codeletNamed("Add<float32>").cycles(vertexWithRegions({{40, 12}, {40, 12}, {40, 12}}), mk2) == 26);
  // Add<float16>: 3 cycles per 4 halves. 10 halves: 5 + 3*3 = 14.
  CHECK(codeletNamed("Add<float16>").cycles(vertexWithRegions({{20}, {20}, {20}}), mk2) == 14);
  // Add<int32>: 7 per element: 5 + 10*7 = 75.
  CHECK(codeletNamed("Add<int32>").cycles(vertexWithRegions({{40}, {40}, {40}}), mk2) == 75);
  // Mul<int64>: 30 per element. Div<int32>: 277; Div<uint32>: 265; Div<float32>: 10 per 2.
  CHECK(codeletNamed("Mul<int64>").cycles(vertexWithRegions({{16}, {16}, {16}}), mk2) == 5 + 2 * 30);
  CHECK(codeletNamed("Div<int32>").cycles(vertexWithRegions({{8}, {8}, {8}}), mk2) == 5 + 2 * 277);
  CHECK(codeletNamed("Div<uint32>").cycles(vertexWithRegions({{8}, {8}, {8}}), mk2) == 5 + 2 * 265);
  CHECK(codeletNamed("Div<float32>").cycles(vertexWithRegions({{12}, {12}, {12}}), mk2) == 5 + 2 * 10);
  CHECK(codeletNamed("Div<float16>").cycles(vertexWithRegions({{12}, {12}, {12}}), mk2) == 5 + 2 * 21);
  // Unary: 20 + ...; Relu<float32> 3 per 2 floats; Neg<int32> 6 per element.
  CHECK(codeletNamed("Relu<float32>").cycles(vertexWithRegions({{20}, {20}}), mk2) == 20 + 3 * 3);
  CHECK(codeletNamed("Neg<int32>").cycles(vertexWithRegions({{20}, {20}}), mk2) == 20 + 5 * 6);
  // Lanes come from the Target.
  Target wide = mk2;
  wide.vectorFp32Lanes = 4;
  CHECK(codeletNamed("Add<float32>").cycles(vertexWithRegions({{40}, {40}, {40}}), wide) == 5 + 3 * 3);
  // A malformed vertex costs just the overhead rather than crashing.
  CHECK(codeletNamed("Add<float32>").cycles(Vertex{}, mk2) == 5);
  CHECK(codeletNamed("Add<float32>").codeBytes == 256);
  CHECK_FALSE(codeletNamed("Add<float32>").usesAmp);
}

TEST_CASE("vertex state bytes") {
  Vertex vertex = vertexWithRegions({{4, 4}, {4}, {4}});
  vertex.scalars = {1, 2};
  // Header word + 4 regions x (pointer + size) + 2 scalar words.
  CHECK(vertexStateBytes(vertex) == 4 + 4 * 8 + 2 * 4);
  CHECK(vertexStateBytes(Vertex{}) == 4);
}

TEST_CASE("the registry refuses duplicates and unknown names") {
  CodeletRegistry registry;
  Codelet codelet;
  codelet.name = "Thing<float32>";
  codelet.kernel = [](const VertexData&) {};
  codelet.cycles = [](const Vertex&, const Target&) -> uint64_t { return 1; };
  registry.add(codelet);
  CHECK_THROWS_AS(registry.add(codelet), SimError);
  CHECK(registry.find("Thing<float32>") != nullptr);
  CHECK(registry.find("Other") == nullptr);
  CHECK(registry.names() == std::vector<std::string>{"Thing<float32>"});
}
