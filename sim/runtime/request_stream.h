// The request streams `ipusim compare` serves: which model each request asks for, in order,
// and when it arrives (docs/compare.md). Errors are RuntimeErrors of one line.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "sim/runtime/model_runner.h"

namespace ipusim {

enum class RequestPattern : uint8_t {
  Alternate,  // round-robin over the models: 0 1 0 1 ...
  Random,     // each request picks a model independently, with the mix's weights
  Burst,      // runs of burstLength requests of the same model, cycling over the models
};

std::string_view requestPatternName(RequestPattern pattern);
// Throws RuntimeError naming the known patterns.
RequestPattern parseRequestPattern(std::string_view name);

// Requests in the order they are served (FIFO). `arrivalUs` is empty for a closed loop (each
// request arrives when the one before it finishes: the device is never idle and no request
// queues), or holds one non-decreasing arrival time per request in microseconds of
// simulated time from the start of the experiment.
struct RequestStream {
  uint32_t modelCount = 0;
  std::vector<uint32_t> models;  // request id -> model (the fused subgraph index)
  std::vector<double> arrivalUs;

  size_t size() const { return models.size(); }
  bool closedLoop() const { return arrivalUs.empty(); }
};

struct PatternOptions {
  RequestPattern pattern = RequestPattern::Alternate;
  uint64_t requests = 0;      // at least 1
  uint32_t modelCount = 0;    // at least 1
  std::vector<double> mix;    // Random: one weight per model summing to 1; empty: uniform
  uint64_t burstLength = 1;   // Burst: at least 1
  uint64_t seed = 0;          // Random: seeds std::mt19937_64
};

// Throws RuntimeError for a count of 0, a burst length of 0, or a bad mix (checkMix).
RequestStream generateRequests(const PatternOptions& options);

// "0.7,0.3" -> {0.7, 0.3}; checked with checkMix.
std::vector<double> parseMix(std::string_view text, uint32_t modelCount);
// One weight from 0 to 1 per model, summing to 1 within 1e-9.
void checkMix(const std::vector<double>& mix, uint32_t modelCount);

// A requests file: one request per line, `model[,arrival_us]` (model: 0-based subgraph index;
// arrival_us: microseconds from the start, non-decreasing, given on every line or on none).
// Blank lines and lines starting with '#' are skipped; the first other line may be the
// header `model` or `model,arrival_us`. `sourceName` names the file in messages, which also
// give the line number.
RequestStream parseRequestsCsv(std::string_view text, uint32_t modelCount,
                               const std::string& sourceName);
RequestStream readRequestsFile(const std::string& path, uint32_t modelCount);

// Open-loop Poisson arrivals: exponential gaps of mean 1/requestsPerSecond seconds, the first
// request arriving after one gap. Seeded, so the same seed gives the same times.
void assignPoissonArrivals(RequestStream& stream, double requestsPerSecond, uint64_t seed);

// Model changes between consecutive requests.
uint64_t countSwitches(const RequestStream& stream);

}  // namespace ipusim
