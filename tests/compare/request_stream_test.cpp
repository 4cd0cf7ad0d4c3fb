// Request streams: the pattern generators, the mix, --requests-file parsing, Poisson arrivals.
#include <doctest/doctest.h>

#include <algorithm>
#include <numeric>

#include "sim/runtime/request_stream.h"

using namespace ipusim;

namespace {

PatternOptions options(RequestPattern pattern, uint64_t requests, uint32_t models) {
  PatternOptions o;
  o.pattern = pattern;
  o.requests = requests;
  o.modelCount = models;
  return o;
}

std::vector<uint32_t> counts(const RequestStream& stream) {
  std::vector<uint32_t> perModel(stream.modelCount, 0);
  for (uint32_t m : stream.models) ++perModel[m];
  return perModel;
}

// The message of the RuntimeError `f` throws ("" when it throws none).
template <typename F>
std::string errorOf(F&& f) {
  try {
    f();
  } catch (const RuntimeError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("alternate cycles round-robin over the models") {
  const RequestStream two = generateRequests(options(RequestPattern::Alternate, 5, 2));
  CHECK(two.models == std::vector<uint32_t>{0, 1, 0, 1, 0});
  CHECK(two.closedLoop());
  CHECK(countSwitches(two) == 4);
  const RequestStream three = generateRequests(options(RequestPattern::Alternate, 7, 3));
  CHECK(three.models == std::vector<uint32_t>{0, 1, 2, 0, 1, 2, 0});
  CHECK(counts(three) == std::vector<uint32_t>{3, 2, 2});
}

TEST_CASE("burst gives runs of burst-length requests, cycling over the models") {
  PatternOptions o = options(RequestPattern::Burst, 10, 2);
  o.burstLength = 3;
  const RequestStream stream = generateRequests(o);
  CHECK(stream.models == std::vector<uint32_t>{0, 0, 0, 1, 1, 1, 0, 0, 0, 1});
  CHECK(countSwitches(stream) == 3);

  o = options(RequestPattern::Burst, 1000, 3);
  o.burstLength = 100;
  const RequestStream three = generateRequests(o);
  CHECK(counts(three) == std::vector<uint32_t>{400, 300, 300});
  CHECK(countSwitches(three) == 9);

  o.burstLength = 1;  // a burst of one is alternate
  CHECK(generateRequests(o).models == generateRequests(options(RequestPattern::Alternate, 1000, 3)).models);
  o.burstLength = 0;
  CHECK(errorOf([&] { generateRequests(o); }) == "--burst-length must be at least 1");
}

TEST_CASE("random follows the mix, is the same for a seed and differs between seeds") {
  PatternOptions o = options(RequestPattern::Random, 100000, 2);
  o.mix = {0.7, 0.3};
  o.seed = 7;
  const RequestStream a = generateRequests(o);
  const RequestStream b = generateRequests(o);
  CHECK(a.models == b.models);
  REQUIRE(a.size() == 100000);
  // 70,000 expected; the standard deviation is sqrt(100000 x 0.7 x 0.3) = 145.
  const std::vector<uint32_t> perModel = counts(a);
  CHECK(perModel[0] > 70000 - 5 * 145);
  CHECK(perModel[0] < 70000 + 5 * 145);
  CHECK(perModel[0] + perModel[1] == 100000);

  o.seed = 8;
  const RequestStream c = generateRequests(o);
  CHECK(c.models != a.models);
  // Both seeds' first 64 choices differing proves they are not a shifted copy either.
  CHECK(!std::equal(a.models.begin(), a.models.begin() + 64, c.models.begin()));

  // A model of weight 0 is never chosen; a weight of 1 is always chosen.
  o.mix = {0, 1};
  CHECK(counts(generateRequests(o)) == std::vector<uint32_t>{0, 100000});
  o.mix = {1, 0};
  CHECK(counts(generateRequests(o)) == std::vector<uint32_t>{100000, 0});

  // No mix: uniform over the three models.
  PatternOptions uniform = options(RequestPattern::Random, 30000, 3);
  for (uint32_t n : counts(generateRequests(uniform))) {
    CHECK(n > 10000 - 5 * 82);
    CHECK(n < 10000 + 5 * 82);
  }
}

TEST_CASE("a mix must have one weight per model and sum to 1") {
  CHECK(parseMix("0.7,0.3", 2) == std::vector<double>{0.7, 0.3});
  CHECK(parseMix(" 0.25 , 0.25,0.5", 3) == std::vector<double>{0.25, 0.25, 0.5});
  CHECK(parseMix("0.1,0.2,0.3,0.4", 4).size() == 4);  // 0.1 + 0.2 + 0.3 + 0.4 != 1 exactly
  CHECK(errorOf([] { parseMix("0.5,0.4", 2); }) == "--mix weights sum to 0.9, not 1");
  CHECK(errorOf([] { parseMix("0.5,0.5000001", 2); }) == "--mix weights sum to 1.0000001, not 1");
  CHECK(errorOf([] { parseMix("1", 2); }) ==
        "--mix has 1 weight but there are 2 models: give one weight per model");
  CHECK(errorOf([] { parseMix("0.5,0.25,0.25", 2); }) ==
        "--mix has 3 weights but there are 2 models: give one weight per model");
  CHECK(errorOf([] { parseMix("1.5,-0.5", 2); }) ==
        "--mix weight 0 is 1.5: weights must be numbers from 0 to 1");
  CHECK(errorOf([] { parseMix("0.5,-0.5,1", 3); }) ==
        "--mix weight 1 is -0.5: weights must be numbers from 0 to 1");
  CHECK(errorOf([] { parseMix("nan,1", 2); }) ==
        "--mix weight 0 is nan: weights must be numbers from 0 to 1");
  CHECK(errorOf([] { parseMix("0.7,x", 2); }) ==
        "--mix '0.7,x': 'x' is not a number (expected weights like 0.7,0.3)");
  CHECK(errorOf([] { parseMix("0.7,", 2); }).find("'' is not a number") != std::string::npos);
  PatternOptions o = options(RequestPattern::Random, 10, 2);
  o.mix = {0.6, 0.6};
  CHECK(errorOf([&] { generateRequests(o); }) == "--mix weights sum to 1.2, not 1");
}

TEST_CASE("request counts, patterns and model counts are checked") {
  CHECK(errorOf([] { generateRequests(options(RequestPattern::Alternate, 0, 2)); }) ==
        "--requests must be at least 1");
  CHECK(parseRequestPattern("burst") == RequestPattern::Burst);
  CHECK(errorOf([] { parseRequestPattern("zigzag"); }) ==
        "unknown pattern 'zigzag' (known: alternate, random, burst)");
  CHECK(requestPatternName(RequestPattern::Random) == "random");
}

TEST_CASE("a requests file: models, optional arrival times, header and comments") {
  const RequestStream plain = parseRequestsCsv("0\n1\n1\n0\n", 2, "r.csv");
  CHECK(plain.models == std::vector<uint32_t>{0, 1, 1, 0});
  CHECK(plain.closedLoop());

  const RequestStream timed = parseRequestsCsv(
      "# replayed from a log\n"
      "model,arrival_us\n"
      "\n"
      "0, 0\r\n"
      "  1,12.5\n"
      "# a comment between requests\n"
      "1,12.5\n"
      "0,1e3",
      2, "r.csv");
  CHECK(timed.models == std::vector<uint32_t>{0, 1, 1, 0});
  CHECK(timed.arrivalUs == std::vector<double>{0, 12.5, 12.5, 1000});

  CHECK(parseRequestsCsv("model\n2\n", 3, "r.csv").models == std::vector<uint32_t>{2});
}

TEST_CASE("a requests file that is empty, malformed or out of range names the line") {
  auto error = [](const std::string& text) {
    return errorOf([&] { parseRequestsCsv(text, 2, "r.csv"); });
  };
  CHECK(error("") == "r.csv holds no requests (expected lines of model[,arrival_us])");
  CHECK(error("# only a comment\n\nmodel,arrival_us\n") ==
        "r.csv holds no requests (expected lines of model[,arrival_us])");
  CHECK(error("0\n1\nx\n") == "r.csv line 3: 'x' is not a model index (expected model[,arrival_us])");
  CHECK(error("0\n-1\n") == "r.csv line 2: '-1' is not a model index (expected model[,arrival_us])");
  CHECK(error("0\n1.5\n") == "r.csv line 2: '1.5' is not a model index (expected model[,arrival_us])");
  CHECK(error("0\n\n2\n") == "r.csv line 3: model 2 is out of range: there are 2 models (0..1)");
  CHECK(error("0,1,2\n") == "r.csv line 1: expected model[,arrival_us], found 3 fields in '0,1,2'");
  CHECK(error("model,arrival\n0\n") ==
        "r.csv line 1: the header must be 'model' or 'model,arrival_us', not 'model,arrival'");
  CHECK(error("0,abc\n") == "r.csv line 1: 'abc' is not an arrival time (microseconds, 0 or more)");
  CHECK(error("0,-3\n") == "r.csv line 1: '-3' is not an arrival time (microseconds, 0 or more)");
  CHECK(error("0,10\n1,5\n") ==
        "r.csv line 2: arrival 5 us is before the previous request's 10 us: requests are served in "
        "file order");
  CHECK(error("0,10\n1\n") ==
        "r.csv line 2: has no arrival time but line 1 has one: give arrival times on every line or "
        "on none");
  CHECK(error("0\n1,10\n") ==
        "r.csv line 2: has an arrival time but line 1 has none: give arrival times on every line "
        "or on none");
  CHECK(errorOf([] { readRequestsFile("/nonexistent/r.csv", 2); }) ==
        "cannot read requests file /nonexistent/r.csv");
}

TEST_CASE("Poisson arrivals: mean gap 1/rate, deterministic for a seed, models unchanged") {
  PatternOptions o = options(RequestPattern::Random, 20000, 2);
  o.seed = 3;
  RequestStream stream = generateRequests(o);
  const std::vector<uint32_t> models = stream.models;
  assignPoissonArrivals(stream, 1000, 3);
  CHECK(stream.models == models);  // arrivals draw from their own generator
  REQUIRE(stream.arrivalUs.size() == 20000);
  CHECK(std::is_sorted(stream.arrivalUs.begin(), stream.arrivalUs.end()));
  CHECK(stream.arrivalUs.front() > 0);
  // Mean gap 1000 us; the mean of 20,000 exponential gaps has a standard error of 7 us.
  const double meanGap = stream.arrivalUs.back() / 20000;
  CHECK(meanGap > 1000 - 5 * 7.1);
  CHECK(meanGap < 1000 + 5 * 7.1);
  // Exponential: about e^-1 of the gaps exceed the mean (standard error 0.0034).
  size_t longGaps = 0;
  for (size_t i = 1; i < stream.size(); ++i)
    if (stream.arrivalUs[i] - stream.arrivalUs[i - 1] > 1000) ++longGaps;
  CHECK(std::abs(static_cast<double>(longGaps) / 19999 - 0.36788) < 0.02);

  RequestStream again = generateRequests(o);
  assignPoissonArrivals(again, 1000, 3);
  CHECK(again.arrivalUs == stream.arrivalUs);
  assignPoissonArrivals(again, 1000, 4);
  CHECK(again.arrivalUs != stream.arrivalUs);
  CHECK(errorOf([&] { assignPoissonArrivals(again, 0, 1); }) ==
        "--rate must be a positive number of requests per second");
}
