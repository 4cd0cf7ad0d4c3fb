#include "sim/runtime/request_stream.h"

#include <cctype>
#include <charconv>
#include <cmath>
#include <fstream>
#include <iterator>
#include <random>
#include <sstream>

namespace ipusim {

namespace {

// Arrivals draw from their own generator so that adding --rate leaves the model sequence of
// a random pattern unchanged.
constexpr uint64_t kArrivalSeedSalt = 0x5ca1ab1e0ddba11ull;

// A uniform double in [0, 1) from the top 53 bits: the same on every standard library
// (std::uniform_real_distribution is not specified bit for bit).
double unitInterval(std::mt19937_64& rng) { return static_cast<double>(rng() >> 11) * 0x1.0p-53; }

std::string trim(std::string_view text) {
  size_t begin = 0, end = text.size();
  while (begin < end && std::isspace(static_cast<unsigned char>(text[begin]))) ++begin;
  while (end > begin && std::isspace(static_cast<unsigned char>(text[end - 1]))) --end;
  return std::string(text.substr(begin, end - begin));
}

std::vector<std::string> splitFields(std::string_view line) {
  std::vector<std::string> fields;
  size_t start = 0;
  while (true) {
    const size_t comma = line.find(',', start);
    fields.push_back(trim(line.substr(start, comma - start)));
    if (comma == std::string_view::npos) return fields;
    start = comma + 1;
  }
}

bool parseUnsigned(const std::string& text, uint64_t& value) {
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value);
  return ec == std::errc() && ptr == end && !text.empty();
}

bool parseDouble(const std::string& text, double& value) {
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value);
  return ec == std::errc() && ptr == end && !text.empty();
}

std::string modelRange(uint32_t modelCount) {
  return "there " + std::string(modelCount == 1 ? "is 1 model" : "are " + std::to_string(modelCount) + " models") +
         " (0.." + std::to_string(modelCount - 1) + ")";
}

std::string numberText(double value) {
  std::ostringstream s;
  s.precision(12);
  s << value;
  return s.str();
}

}  // namespace

std::string_view requestPatternName(RequestPattern pattern) {
  switch (pattern) {
    case RequestPattern::Alternate: return "alternate";
    case RequestPattern::Random: return "random";
    case RequestPattern::Burst: return "burst";
  }
  return "unknown";
}

RequestPattern parseRequestPattern(std::string_view name) {
  for (RequestPattern p : {RequestPattern::Alternate, RequestPattern::Random, RequestPattern::Burst})
    if (requestPatternName(p) == name) return p;
  throw RuntimeError("unknown pattern '" + std::string(name) +
                     "' (known: alternate, random, burst)");
}

void checkMix(const std::vector<double>& mix, uint32_t modelCount) {
  if (mix.size() != modelCount)
    throw RuntimeError("--mix has " + std::to_string(mix.size()) +
                       (mix.size() == 1 ? " weight" : " weights") + " but there " +
                       (modelCount == 1 ? "is 1 model" : "are " + std::to_string(modelCount) + " models") +
                       ": give one weight per model");
  double sum = 0;
  for (size_t i = 0; i < mix.size(); ++i) {
    if (!std::isfinite(mix[i]) || mix[i] < 0 || mix[i] > 1)
      throw RuntimeError("--mix weight " + std::to_string(i) + " is " + numberText(mix[i]) +
                         ": weights must be numbers from 0 to 1");
    sum += mix[i];
  }
  if (std::abs(sum - 1.0) > 1e-9)
    throw RuntimeError("--mix weights sum to " + numberText(sum) + ", not 1");
}

std::vector<double> parseMix(std::string_view text, uint32_t modelCount) {
  std::vector<double> mix;
  for (const std::string& field : splitFields(text)) {
    double weight = 0;
    if (!parseDouble(field, weight))
      throw RuntimeError("--mix '" + std::string(text) + "': '" + field +
                         "' is not a number (expected weights like 0.7,0.3)");
    mix.push_back(weight);
  }
  checkMix(mix, modelCount);
  return mix;
}

RequestStream generateRequests(const PatternOptions& options) {
  if (options.requests == 0) throw RuntimeError("--requests must be at least 1");
  if (options.modelCount == 0) throw RuntimeError("a request stream needs at least one model");
  RequestStream stream;
  stream.modelCount = options.modelCount;
  stream.models.reserve(options.requests);
  const uint64_t n = options.modelCount;
  switch (options.pattern) {
    case RequestPattern::Alternate:
      for (uint64_t i = 0; i < options.requests; ++i)
        stream.models.push_back(static_cast<uint32_t>(i % n));
      break;
    case RequestPattern::Burst:
      if (options.burstLength == 0) throw RuntimeError("--burst-length must be at least 1");
      for (uint64_t i = 0; i < options.requests; ++i)
        stream.models.push_back(static_cast<uint32_t>((i / options.burstLength) % n));
      break;
    case RequestPattern::Random: {
      std::vector<double> mix = options.mix;
      if (mix.empty()) mix.assign(n, 1.0 / static_cast<double>(n));
      checkMix(mix, options.modelCount);
      // The last model with a weight takes whatever rounding leaves above the cumulative sum.
      uint32_t last = 0;
      for (uint32_t m = 0; m < n; ++m)
        if (mix[m] > 0) last = m;
      std::mt19937_64 rng(options.seed);
      for (uint64_t i = 0; i < options.requests; ++i) {
        const double u = unitInterval(rng);
        double cumulative = 0;
        uint32_t chosen = last;
        for (uint32_t m = 0; m < last; ++m) {
          cumulative += mix[m];
          if (u < cumulative) {
            chosen = m;
            break;
          }
        }
        stream.models.push_back(chosen);
      }
      break;
    }
  }
  return stream;
}

RequestStream parseRequestsCsv(std::string_view text, uint32_t modelCount,
                               const std::string& sourceName) {
  if (modelCount == 0) throw RuntimeError("a request stream needs at least one model");
  RequestStream stream;
  stream.modelCount = modelCount;
  bool sawContent = false;   // a header or a request
  size_t firstArrivalLine = 0, firstBareLine = 0;
  size_t lineNumber = 0;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    const std::string line = trim(text.substr(start, end - start));
    start = end + 1;
    ++lineNumber;
    if (line.empty() || line[0] == '#') continue;
    auto fail = [&](const std::string& what) {
      throw RuntimeError(sourceName + " line " + std::to_string(lineNumber) + ": " + what);
    };
    const std::vector<std::string> fields = splitFields(line);
    if (!sawContent) {
      sawContent = true;
      if (fields[0] == "model") {
        if (fields.size() > 2 || (fields.size() == 2 && fields[1] != "arrival_us"))
          fail("the header must be 'model' or 'model,arrival_us', not '" + line + "'");
        continue;
      }
    }
    if (fields.size() > 2)
      fail("expected model[,arrival_us], found " + std::to_string(fields.size()) + " fields in '" +
           line + "'");
    uint64_t model = 0;
    if (!parseUnsigned(fields[0], model))
      fail("'" + fields[0] + "' is not a model index (expected model[,arrival_us])");
    if (model >= modelCount)
      fail("model " + std::to_string(model) + " is out of range: " + modelRange(modelCount));
    if (fields.size() == 2) {
      double arrival = 0;
      if (!parseDouble(fields[1], arrival) || !std::isfinite(arrival) || arrival < 0)
        fail("'" + fields[1] + "' is not an arrival time (microseconds, 0 or more)");
      if (firstBareLine != 0)
        fail("has an arrival time but line " + std::to_string(firstBareLine) +
             " has none: give arrival times on every line or on none");
      if (!stream.arrivalUs.empty() && arrival < stream.arrivalUs.back())
        fail("arrival " + numberText(arrival) + " us is before the previous request's " +
             numberText(stream.arrivalUs.back()) + " us: requests are served in file order");
      if (firstArrivalLine == 0) firstArrivalLine = lineNumber;
      stream.arrivalUs.push_back(arrival);
    } else {
      if (firstArrivalLine != 0)
        fail("has no arrival time but line " + std::to_string(firstArrivalLine) +
             " has one: give arrival times on every line or on none");
      if (firstBareLine == 0) firstBareLine = lineNumber;
    }
    stream.models.push_back(static_cast<uint32_t>(model));
  }
  if (stream.models.empty())
    throw RuntimeError(sourceName + " holds no requests (expected lines of model[,arrival_us])");
  return stream;
}

RequestStream readRequestsFile(const std::string& path, uint32_t modelCount) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw RuntimeError("cannot read requests file " + path);
  const std::string text(std::istreambuf_iterator<char>(in), {});
  if (in.bad()) throw RuntimeError("cannot read requests file " + path);
  return parseRequestsCsv(text, modelCount, path);
}

void assignPoissonArrivals(RequestStream& stream, double requestsPerSecond, uint64_t seed) {
  if (!std::isfinite(requestsPerSecond) || requestsPerSecond <= 0)
    throw RuntimeError("--rate must be a positive number of requests per second");
  std::mt19937_64 rng(seed ^ kArrivalSeedSalt);
  stream.arrivalUs.clear();
  stream.arrivalUs.reserve(stream.size());
  double now = 0;
  for (size_t i = 0; i < stream.size(); ++i) {
    // Inverse transform: -ln(1 - u) / rate, u in [0, 1), so the logarithm is finite.
    now += -std::log1p(-unitInterval(rng)) / requestsPerSecond * 1e6;
    stream.arrivalUs.push_back(now);
  }
}

uint64_t countSwitches(const RequestStream& stream) {
  uint64_t switches = 0;
  for (size_t i = 1; i < stream.models.size(); ++i)
    if (stream.models[i] != stream.models[i - 1]) ++switches;
  return switches;
}

}  // namespace ipusim
