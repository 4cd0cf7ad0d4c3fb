// `ipusim compare`: serves one request stream on a simulated device with a fused executable
// (switching models by index) and with separate executables (reloading on every model
// switch), checks every request's outputs are equal under both, and reports latency and
// throughput of each (docs/compare.md).
#include <charconv>
#include <cmath>
#include <chrono>
#include <iostream>
#include <optional>

#include "compiler/compiler.h"
#include "compiler/fusion_config.h"
#include "popef/popef_file.h"
#include "sim/runtime/executable_pairing.h"
#include "sim/runtime/request_stream.h"
#include "sim/runtime/serving_simulation.h"
#include "sim/runtime/strategy_timeline.h"
#include "tools/command.h"
#include "tools/compare_report.h"
#include "tools/compare_trace.h"
#include "tools/progress_line.h"
#include "traces/trace_writer.h"

namespace po = boost::program_options;

namespace ipusim::cli {

namespace {

// "10ms" -> 0.01. Units us, ms, s; a bare number is seconds.
double parseDuration(const std::string& text, const std::string& flag) {
  auto bad = [&] {
    return UsageError(flag + ": '" + text +
                      "' is not a duration (a number of seconds, or with a unit: 250us, 10ms, 0.5s)");
  };
  double value = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (ec != std::errc() || ptr == text.data()) throw bad();
  const std::string unit(ptr, end);
  double scale = 1;
  if (unit == "us")
    scale = 1e-6;
  else if (unit == "ms")
    scale = 1e-3;
  else if (unit != "s" && !unit.empty())
    throw bad();
  if (!std::isfinite(value) || value < 0) throw bad();
  return value * scale;
}

std::vector<double> parseDurationList(const std::string& text, const std::string& flag) {
  std::vector<double> seconds;
  size_t start = 0;
  while (true) {
    const size_t comma = text.find(',', start);
    seconds.push_back(parseDuration(text.substr(start, comma - start), flag));
    if (comma == std::string::npos) return seconds;
    start = comma + 1;
  }
}

std::shared_ptr<const Executable> readExecutable(const std::string& path) {
  return std::make_shared<const Executable>(popef::readPopef(path).executable);
}

// --config: the fused executable and one separate executable per model, compiled in memory
// from the same YAML, each model with its own options.
ExecutablePairing compileFromConfig(const std::string& configPath, ProgressLine& progress) {
  const FusionConfig config = loadFusionConfig(configPath);
  progress.show("fusing " + std::to_string(config.models.size()) + " models");
  NamedExecutable fused{std::make_shared<const Executable>(fuseModels(config.models)),
                        configPath + " (fused)"};
  std::vector<NamedExecutable> separate;
  for (const ModelOptions& model : config.models) {
    progress.show("compiling " + model.modelPath);
    separate.push_back({std::make_shared<const Executable>(compileModel(model)), model.modelPath});
  }
  progress.clear();
  return pairExecutables(std::move(fused), std::move(separate));
}

}  // namespace

int compareCommand(const std::vector<std::string>& args) {
  const CommandHelp help{
      "compare",
      "ipusim compare (--config config.yaml | --fused F.popef --separate A.popef B.popef ...)\n"
      "                      [--pattern alternate|random|burst] [--requests N] [--mix W0,W1,...]\n"
      "                      [--burst-length L] [--requests-file FILE.csv] [--rate R] [--seed S]\n"
      "                      [--sweep-load-overhead LIST] [--threads N] [--json FILE] [--trace FILE.h5]",
      "Serves one stream of requests on a simulated device two ways: 'fused' loads the fused\n"
      "executable once and selects each request's model by index; 'separate' loads model i's\n"
      "own executable whenever a request asks for another model than the one loaded (its load\n"
      "image over the host link plus a fixed load overhead). Every request runs for real under\n"
      "both, from the same seeded random inputs, and the outputs must be equal bit for bit.\n"
      "Reports requests, switches, loads, load time, mean/p50/p90/p99/max latency (us at the\n"
      "target's clock) and throughput per strategy, their ratios, and the cycles of one switch.\n"
      "The start is warm (fused loaded; separate: the first request's model loaded); one\n"
      "device serves the requests in order (FIFO). --config compiles both from a fusion YAML;\n"
      "--fused/--separate take files, the i-th separate one matching subgraph i's anchors.\n"
      "Requests: --pattern alternate (0 1 0 1 ...), random (--mix weights summing to 1;\n"
      "default uniform), burst (runs of --burst-length of one model), or --requests-file, a CSV\n"
      "of model[,arrival_us] per line (optional header, '#' comments). Arrivals are closed\n"
      "loop (each request arrives when the previous finishes) unless --rate gives Poisson\n"
      "arrivals or the file gives times. Durations: a number of seconds or with a unit (us, ms,\n"
      "s). --trace writes every run and request as an HDF5 trace (scripts/analysis/latency.py\n"
      "draws it). Details: docs/compare.md."};
  std::string configPath, fusedPath, patternName = "alternate", mixText, requestsFile, sweepText,
                                     jsonPath, tracePath;
  std::vector<std::string> separatePaths;
  // Signed, so "-1" is rejected rather than wrapped by the parser.
  int64_t requestsValue = 1000, burstLengthValue = 10, threadsValue = 0;
  double rate = 0;
  uint64_t seed = 0;
  po::options_description options("options");
  options.add_options()
      ("config,c", po::value(&configPath)->value_name("FILE"),
       "compile the fused and the separate executables from this fusion YAML")
      ("fused", po::value(&fusedPath)->value_name("FILE"), "the fused .popef (ipusim fuse)")
      ("separate", po::value(&separatePaths)->multitoken()->value_name("FILE..."),
       "one single-model .popef per subgraph of --fused, in index order")
      ("pattern", po::value(&patternName)->default_value("alternate")->value_name("NAME"),
       "alternate, random or burst")
      ("requests,n", po::value(&requestsValue)->default_value(1000)->value_name("N"),
       "requests in the stream")
      ("mix", po::value(&mixText)->value_name("W0,W1,..."),
       "random: each model's probability, summing to 1 (default: uniform)")
      ("burst-length", po::value(&burstLengthValue)->default_value(10)->value_name("L"),
       "burst: requests in a row for one model")
      ("requests-file", po::value(&requestsFile)->value_name("FILE"),
       "replay a CSV of model[,arrival_us] lines instead of a pattern")
      ("rate", po::value(&rate)->value_name("R"),
       "Poisson arrivals at R requests per second of simulated time (default: closed loop)")
      ("seed", po::value(&seed)->default_value(0)->value_name("S"),
       "seeds the random pattern, the arrivals and the inputs")
      ("sweep-load-overhead", po::value(&sweepText)->value_name("LIST"),
       "also re-time the stream for each fixed load overhead, e.g. 0,1ms,10ms,100ms")
      ("threads", po::value(&threadsValue)->default_value(0)->value_name("N"),
       "host threads simulating tiles, per executable; 0: one per hardware thread")
      ("json", po::value(&jsonPath)->value_name("FILE"),
       "also write the result as JSON ('-': standard output, instead of the table)")
      ("trace", po::value(&tracePath)->value_name("FILE.h5"),
       "write the runs and requests as an HDF5 trace (docs/trace-schema.md)");
  po::positional_options_description positional;
  po::variables_map values;
  if (!parseCommandLine(help, args, options, positional, values)) return 0;
  const auto totalStart = std::chrono::steady_clock::now();

  auto given = [&](const char* name) { return values.count(name) && !values[name].defaulted(); };
  if (given("config") == given("fused"))
    throw UsageError("give either --config, or --fused with --separate (see ipusim compare --help)");
  if (given("fused") != given("separate"))
    throw UsageError(given("fused") ? "--fused needs --separate: one .popef per subgraph"
                                    : "--separate needs --fused");
  if (given("requests-file")) {
    for (const char* flag : {"pattern", "requests", "mix", "burst-length"})
      if (given(flag))
        throw UsageError("--requests-file gives the requests: drop --" + std::string(flag));
  }
  RequestPattern pattern = RequestPattern::Alternate;
  try {
    pattern = parseRequestPattern(patternName);
  } catch (const RuntimeError& e) {
    throw UsageError(std::string("--pattern: ") + e.what());
  }
  if (given("mix") && pattern != RequestPattern::Random)
    throw UsageError("--mix applies to --pattern random only");
  if (given("burst-length") && pattern != RequestPattern::Burst)
    throw UsageError("--burst-length applies to --pattern burst only");
  if (requestsValue < 1) throw UsageError("--requests must be at least 1");
  if (burstLengthValue < 1) throw UsageError("--burst-length must be at least 1");
  if (given("rate") && !(rate > 0 && std::isfinite(rate)))
    throw UsageError("--rate must be a positive number of requests per second");
  if (threadsValue < 0 || threadsValue > 4096)
    throw UsageError("--threads must be between 0 (one per hardware thread) and 4096");
  const std::vector<double> sweep =
      given("sweep-load-overhead") ? parseDurationList(sweepText, "--sweep-load-overhead")
                                   : std::vector<double>{};
  if (!tracePath.empty()) checkTracePath(tracePath);  // before the work, not after

  ProgressLine progress("compare");
  ExecutablePairing pairing;
  if (given("config")) {
    pairing = compileFromConfig(configPath, progress);
  } else {
    NamedExecutable fused{readExecutable(fusedPath), fusedPath};
    std::vector<NamedExecutable> separate;
    for (const std::string& path : separatePaths) separate.push_back({readExecutable(path), path});
    pairing = pairExecutables(std::move(fused), std::move(separate));
  }
  const auto modelCount = static_cast<uint32_t>(pairing.models.size());

  StreamDescription description;
  description.seed = seed;
  RequestStream stream;
  if (given("requests-file")) {
    stream = readRequestsFile(requestsFile, modelCount);
    description.pattern = "file";
    description.requestsFile = requestsFile;
  } else {
    PatternOptions patternOptions;
    patternOptions.pattern = pattern;
    patternOptions.requests = static_cast<uint64_t>(requestsValue);
    patternOptions.modelCount = modelCount;
    patternOptions.burstLength = static_cast<uint64_t>(burstLengthValue);
    patternOptions.seed = seed;
    if (pattern == RequestPattern::Random) {
      patternOptions.mix = given("mix") ? parseMix(mixText, modelCount)
                                        : std::vector<double>(modelCount, 1.0 / modelCount);
      description.mix = patternOptions.mix;
    }
    if (pattern == RequestPattern::Burst) description.burstLength = patternOptions.burstLength;
    stream = generateRequests(patternOptions);
    description.pattern = std::string(requestPatternName(pattern));
  }
  description.requests = stream.size();
  if (given("rate")) {
    if (!stream.closedLoop())
      throw RuntimeError(requestsFile + " gives arrival times: drop --rate, or the times");
    assignPoissonArrivals(stream, rate, seed);
    description.arrivals = "poisson";
    description.rateRps = rate;
  } else {
    description.arrivals = stream.closedLoop() ? "closed-loop" : "file";
  }

  progress.show("loading " + std::to_string(modelCount + 1) + " executables");
  ServingSimulation simulation(std::move(pairing), RuntimeConfig{static_cast<unsigned>(threadsValue)});
  ServeOptions serveOptions;
  serveOptions.inputSeed = seed;
  serveOptions.progress = [&](uint64_t done, uint64_t total) { progress.update("request", done, total); };
  std::optional<CompareTraceRecorder> trace;
  if (!tracePath.empty()) serveOptions.observer = &trace.emplace(simulation.pairing().target());
  const ServedStream served = simulation.serve(stream, serveOptions);
  progress.clear();

  const ExecutablePairing& paired = simulation.pairing();
  const Target& target = paired.target();
  CompareResult result;
  result.pairing = &paired;
  result.costs = simulation.modelCosts();
  result.stream = description;
  result.outputsCompared = served.outputsCompared;
  result.main = compareStrategies(stream, served, result.costs, target, target.loadFixedSeconds);
  for (double seconds : sweep)
    result.sweep.push_back(compareStrategies(stream, served, result.costs, target, seconds));
  if (trace) {
    progress.show("writing " + tracePath);
    const double fixed = target.loadFixedSeconds;
    std::move(*trace).write(
        tracePath, paired.fused,
        timeStrategy(Strategy::Fused, stream, served, result.costs, target, fixed),
        timeStrategy(Strategy::Separate, stream, served, result.costs, target, fixed));
    progress.clear();
  }
  result.serveHostSeconds = served.hostSeconds;
  result.totalHostSeconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - totalStart).count();

  if (jsonPath != "-") printCompareReport(std::cout, result);
  if (!jsonPath.empty()) writeResult(jsonPath, compareJson(result));
  return 0;
}

}  // namespace ipusim::cli
