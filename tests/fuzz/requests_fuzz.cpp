// libFuzzer target: the `ipusim compare --requests-file` parser (parseRequestsCsv). The first
// byte picks the number of models (1 to 4); the rest is the file. Only a RuntimeError naming
// the file may come out, and an accepted stream must satisfy what the parser promises.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "sim/runtime/request_stream.h"
#include "tests/fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint32_t modelCount = 1 + data[0] % 4;
  const std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  const std::string source = "fuzz.csv";
  try {
    const ipusim::RequestStream stream = ipusim::parseRequestsCsv(text, modelCount, source);
    if (stream.models.empty() || stream.modelCount != modelCount) __builtin_trap();
    if (!stream.arrivalUs.empty() && stream.arrivalUs.size() != stream.models.size()) __builtin_trap();
    for (uint32_t model : stream.models)
      if (model >= modelCount) __builtin_trap();
    for (size_t i = 0; i < stream.arrivalUs.size(); ++i) {
      if (!std::isfinite(stream.arrivalUs[i]) || stream.arrivalUs[i] < 0) __builtin_trap();
      if (i > 0 && stream.arrivalUs[i] < stream.arrivalUs[i - 1]) __builtin_trap();
    }
  } catch (const ipusim::RuntimeError& e) {
    ipusim::fuzz::checkMessage("requests file", e.what(), source);
  }
  return 0;
}
