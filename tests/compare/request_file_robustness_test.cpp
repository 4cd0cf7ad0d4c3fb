// Hostile requests files (docs/robustness.md): NaN and infinite times, numbers past every
// limit, bytes that are not text. Each is one RuntimeError naming the file and the line.
#include <doctest/doctest.h>

#include <string>

#include "sim/runtime/request_stream.h"

using namespace ipusim;

namespace {

std::string errorOf(const std::string& text, uint32_t models = 2) {
  try {
    parseRequestsCsv(text, models, "r.csv");
  } catch (const RuntimeError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("requests file: NaN, infinite and overflowing numbers are refused, naming the line") {
  CHECK(errorOf("0,nan\n") == "r.csv line 1: 'nan' is not an arrival time (microseconds, 0 or more)");
  CHECK(errorOf("0,inf\n") == "r.csv line 1: 'inf' is not an arrival time (microseconds, 0 or more)");
  CHECK(errorOf("0,1e400\n") == "r.csv line 1: '1e400' is not an arrival time (microseconds, 0 or more)");
  CHECK(errorOf("99999999999999999999999\n") ==
        "r.csv line 1: '99999999999999999999999' is not a model index (expected model[,arrival_us])");
  CHECK(errorOf("4294967296\n") == "r.csv line 1: model 4294967296 is out of range: there are 2 models (0..1)");
}

TEST_CASE("requests file: binary bytes, NUL and carriage returns") {
  // A quoted NUL ends the C string what() returns: the message still names the file and line.
  CHECK(errorOf(std::string("0\n\0\n", 4)) == "r.csv line 2: '");
  CHECK(errorOf("\x89PNG\r\n\x1a\n") == "r.csv line 1: '\x89PNG' is not a model index (expected model[,arrival_us])");
  // Windows line ends and a last line without one are fine.
  const RequestStream stream = parseRequestsCsv("model,arrival_us\r\n0,1\r\n1,2", 2, "r.csv");
  CHECK(stream.models == std::vector<uint32_t>{0, 1});
  CHECK(stream.arrivalUs == std::vector<double>{1, 2});
}

TEST_CASE("requests file: a million lines parse in one pass") {
  std::string text;
  for (int i = 0; i < 1'000'000; ++i) text += i % 2 ? "1\n" : "0\n";
  const RequestStream stream = parseRequestsCsv(text, 2, "r.csv");
  CHECK(stream.size() == 1'000'000);
  CHECK(countSwitches(stream) == 999'999);
}
