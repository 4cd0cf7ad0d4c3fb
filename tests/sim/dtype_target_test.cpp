#include <doctest/doctest.h>

#include <cmath>
#include <string>

#include "sim/dtype.h"
#include "sim/error.h"
#include "sim/target.h"

using namespace ipusim;

TEST_CASE("dtype names, sizes and lookup") {
  CHECK(dtypeName(DType::Float32) == "float32");
  CHECK(dtypeName(DType::Float16) == "float16");
  CHECK(dtypeName(DType::Int8) == "int8");
  CHECK(dtypeName(DType::UInt8) == "uint8");
  CHECK(dtypeName(DType::Int32) == "int32");
  CHECK(dtypeName(DType::UInt32) == "uint32");
  CHECK(dtypeName(DType::Int64) == "int64");
  CHECK(dtypeName(DType::Bool) == "bool");
  CHECK(dtypeSize(DType::Float32) == 4);
  CHECK(dtypeSize(DType::Float16) == 2);
  CHECK(dtypeSize(DType::Int8) == 1);
  CHECK(dtypeSize(DType::Int64) == 8);
  CHECK(dtypeSize(DType::Bool) == 1);
  CHECK(allDTypes().size() == 8);
  for (DType t : allDTypes()) CHECK(dtypeFromName(dtypeName(t)) == t);
  CHECK_FALSE(dtypeFromName("float64").has_value());
  CHECK(isFloat(DType::Float16));
  CHECK_FALSE(isFloat(DType::Int32));
}

TEST_CASE("shapes") {
  CHECK(elementCount({}) == 1);
  CHECK(elementCount({2, 3, 4}) == 24);
  CHECK(elementCount({5, 0}) == 0);
  CHECK(shapeString({1, 2}) == "[1,2]");
  CHECK(shapeString({}) == "[]");
  CHECK_THROWS_AS(elementCount({-1}), SimError);
  CHECK_THROWS_AS(elementCount({1LL << 40, 1LL << 40}), SimError);
}

TEST_CASE("target presets") {
  const Target mk2 = targetPreset("ipu2");
  CHECK(mk2.name == "ipu2");
  CHECK(mk2.tiles == 1472);
  CHECK(mk2.bytesPerTile == 624 * 1024);
  CHECK(mk2.clockHz == 1.325e9);
  CHECK(mk2.workerContexts == 6);
  CHECK(mk2.hostLinkBytesPerSecond == 5.5e9);
  CHECK(mk2.syncCycles == 90);
  CHECK(mk2.exchangeFixedCycles == 100);
  CHECK(mk2.exchangeBytesPerCycle == 4);
  CHECK(mk2.vertexLaunchCycles == 11);
  CHECK(mk2.loadFixedSeconds == 0.5);

  const Target c600 = targetPreset("ipu21");
  CHECK(c600.name == "ipu21");
  CHECK(c600.tiles == 1472);
  CHECK(c600.clockHz == doctest::Approx(1.486e9).epsilon(0.001));  // 280e12 / (1472 * 128)
  CHECK(c600.hostLinkBytesPerSecond == 31.5e9);
  CHECK(c600.ampFp16Fp16MacsPerCycle == 64);

  CHECK(targetPresetNames() == std::vector<std::string>{"ipu2", "ipu21"});
  try {
    targetPreset("ipu9");
    FAIL("expected an error");
  } catch (const SimError& error) {
    CHECK(std::string(error.what()) == "unknown target 'ipu9' (known: ipu2, ipu21)");
  }
}

TEST_CASE("target time conversions") {
  const Target mk2 = targetPreset("ipu2");
  CHECK(mk2.cyclesForSeconds(1.0) == 1'325'000'000);
  CHECK(mk2.cyclesForSeconds(0.5) == 662'500'000);
  CHECK(mk2.cyclesForSeconds(-1.0) == 0);
  CHECK(mk2.microseconds(1325) == doctest::Approx(1.0));
  // 1 us latency + 5500 bytes / 5.5 GB/s = 2 us = 2650 cycles.
  CHECK(mk2.hostTransferCycles(5500) == 2650);
  CHECK(mk2.hostTransferCycles(0) == 1325);
  const Target c600 = targetPreset("ipu21");
  // 31.5 KB at 31.5 GB/s is 1 us, plus 1 us latency.
  CHECK(c600.hostTransferCycles(31500) == static_cast<uint64_t>(std::llround(2e-6 * c600.clockHz)));
}
