// `ipusim run F.popef`: loads a .popef on the simulated IPU, runs one subgraph (or the
// single model) with inputs from files or seeded random data, reports outputs and cycles.
#include <chrono>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <set>
#include <sstream>

#include "popef/json_writer.h"
#include "sim/runtime/model_runner.h"
#include "tools/command.h"
#include "tools/host_tensors.h"
#include "tools/tensor_files.h"
#include "traces/trace_recorder.h"
#include "traces/trace_writer.h"

namespace po = boost::program_options;

namespace ipusim::cli {

namespace {

constexpr size_t kPrintedValues = 16;  // per output in the text report
constexpr size_t kJsonValues = 64;     // outputs up to this many elements carry "values"

struct InputSource {
  std::string name;  // as the user wrote it (anchor or alias)
  std::string file;  // empty: random data
};

struct BoundInput {
  AnchorInfo anchor;
  std::string givenAs;  // the user's name, or empty for random data
  std::string file;
};

std::vector<InputSource> parseInputFlags(const std::vector<std::string>& flags) {
  std::vector<InputSource> sources;
  for (const std::string& flag : flags) {
    const size_t eq = flag.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == flag.size())
      throw UsageError("--input '" + flag + "': expected NAME=FILE.npy or NAME=FILE.pb");
    sources.push_back({flag.substr(0, eq), flag.substr(eq + 1)});
  }
  return sources;
}

// Which anchor a user's name stands for: aliases map to their anchor.
std::string anchorOf(const Executable& exe, const std::string& name) {
  for (const SubgraphInfo& sub : exe.fusion.subgraphs)
    for (const auto& [alias, anchor] : sub.aliases)
      if (alias == name) return anchor;
  return name;
}

std::string outputFileName(const std::string& anchor) {
  std::string name = anchor;
  for (char& c : name)
    if (c == '/') c = '_';
  return name + ".npy";
}

const SubgraphInfo* subgraphOf(const Executable& exe, std::optional<uint32_t> index) {
  if (!index) return nullptr;
  for (const SubgraphInfo& sub : exe.fusion.subgraphs)
    if (sub.index == *index) return &sub;
  return nullptr;
}

void writeShape(json::Writer& w, const Shape& shape) {
  w.key("shape").beginArray();
  for (int64_t d : shape) w.value(d);
  w.endArray();
}

// A duration in the unit that reads best: "4.471 us", "500.001 ms", "1.250 s".
std::string duration(double us) {
  std::ostringstream s;
  s << std::fixed << std::setprecision(3);
  if (us < 1e3)
    s << us << " us";
  else if (us < 1e6)
    s << us / 1e3 << " ms";
  else
    s << us / 1e6 << " s";
  return s.str();
}

// "\rrun: iteration 12/1000" on a terminal, at most a few times a second.
class Progress {
 public:
  explicit Progress(uint64_t total) : total_(total), enabled_(total > 1 && stderrIsTerminal()) {}
  void update(uint64_t done) {
    if (!enabled_) return;
    const auto now = std::chrono::steady_clock::now();
    if (now - last_ < std::chrono::milliseconds(250) && done != total_) return;
    last_ = now;
    std::cerr << "\rrun: iteration " << done << "/" << total_ << std::flush;
    shown_ = true;
  }
  ~Progress() {
    if (shown_) std::cerr << "\r\033[K" << std::flush;
  }

 private:
  uint64_t total_;
  bool enabled_;
  bool shown_ = false;
  std::chrono::steady_clock::time_point last_{};
};

}  // namespace

int runCommand(const std::vector<std::string>& args) {
  const CommandHelp help{
      "run",
      "ipusim run F.popef [--index N] [--input NAME=FILE.npy|FILE.pb ...] [--output-dir DIR]\n"
      "                  [--iterations N] [--threads N] [--seed S] [--max-cycles N] [--json FILE]\n"
      "                  [--trace FILE.h5]",
      "Loads the executable on the simulated IPU and runs it: for a fused executable, the\n"
      "subgraph chosen by --index (or by an 'index' input, or inferred from which subgraph's\n"
      "inputs were given). Inputs not given get deterministic random data of the right dtype\n"
      "and shape (floats uniform in [-1,1), signed integers in [-10,10], unsigned in [0,10],\n"
      "bool 0/1; seeded by --seed and the anchor name). Inputs may be named by anchor\n"
      "(graph0/stream0) or alias (graph0/X). Prints the outputs, the load cycles and the\n"
      "cycles per iteration at the target's clock, and the host time. --trace writes every\n"
      "step of every iteration, per-tile cycles and bytes, and each tile's memory as an HDF5\n"
      "trace (docs/trace-schema.md): `ipusim trace summary` and scripts/analysis/ read it."};
  std::string path, outputDir, jsonPath, tracePath;
  std::vector<std::string> inputFlags;
  int64_t indexValue = 0;
  // Signed, so "-1" is rejected rather than wrapped by the parser.
  int64_t iterationsValue = 1, threadsValue = 0;
  int64_t maxCyclesValue = static_cast<int64_t>(kDefaultMaxCycles);
  uint64_t seed = 0;
  po::options_description options("options");
  options.add_options()
      ("popef", po::value(&path)->required()->value_name("FILE"), "the .popef to run")
      ("index", po::value(&indexValue)->value_name("N"), "the subgraph of a fused executable")
      ("input,i", po::value(&inputFlags)->composing()->value_name("NAME=FILE"),
       "an input from a .npy or ONNX TensorProto .pb file (repeatable)")
      ("output-dir,o", po::value(&outputDir)->value_name("DIR"),
       "write each output to DIR/<anchor, '/' as '_'>.npy")
      ("iterations,n", po::value(&iterationsValue)->default_value(1)->value_name("N"),
       "run main N times (the load happens once)")
      ("threads", po::value(&threadsValue)->default_value(0)->value_name("N"),
       "host threads simulating tiles; 0: one per hardware thread")
      ("seed", po::value(&seed)->default_value(0)->value_name("S"), "seed of the random inputs")
      ("max-cycles", po::value(&maxCyclesValue)->default_value(maxCyclesValue)->value_name("N"),
       "step budget: a run of main (or of load) that passes N cycles ends with an error; 0: none")
      ("json", po::value(&jsonPath)->value_name("FILE"),
       "also write the result as JSON ('-': standard output, instead of the text)")
      ("trace", po::value(&tracePath)->value_name("FILE.h5"),
       "write every step as an HDF5 trace (docs/trace-schema.md)");
  po::positional_options_description positional;
  positional.add("popef", 1);
  po::variables_map values;
  if (!parseCommandLine(help, args, options, positional, values)) return 0;
  if (iterationsValue < 1) throw UsageError("--iterations must be at least 1");
  if (threadsValue < 0 || threadsValue > 4096)
    throw UsageError("--threads must be between 0 (one per hardware thread) and 4096");
  if (maxCyclesValue < 0) throw UsageError("--max-cycles must be 0 (no budget) or a number of cycles");
  const uint64_t maxCycles = static_cast<uint64_t>(maxCyclesValue);
  const uint64_t iterations = static_cast<uint64_t>(iterationsValue);
  const auto threads = static_cast<unsigned>(threadsValue);
  const std::optional<int64_t> indexArg =
      values.count("index") ? std::optional<int64_t>(indexValue) : std::nullopt;
  if (!tracePath.empty()) checkTracePath(tracePath);  // before the run, not after

  // Input files first: a bad file is reported before the executable is loaded.
  std::map<std::string, HostTensor> given;
  std::map<std::string, std::string> fileOf;  // anchor -> file
  const std::vector<InputSource> sources = parseInputFlags(inputFlags);
  for (const InputSource& source : sources) {
    if (given.count(source.name)) throw UsageError("--input " + source.name + " given twice");
    given.emplace(source.name, readTensorFile(source.file));
  }

  ModelRunner runner(path, RuntimeConfig{threads, maxCycles});
  const Executable& exe = runner.executable();
  const std::optional<uint32_t> index = runner.resolveIndex(indexArg, given);

  // Every input of the chosen subgraph: from a file, or random.
  std::vector<BoundInput> bound;
  std::map<std::string, std::string> givenAnchors;  // anchor -> the user's name
  for (const InputSource& source : sources) givenAnchors[anchorOf(exe, source.name)] = source.name;
  std::map<std::string, HostTensor> inputs = given;
  for (const AnchorInfo& anchor : runner.inputsOf(index)) {
    auto it = givenAnchors.find(anchor.name);
    if (it != givenAnchors.end()) {
      std::string file;
      for (const InputSource& s : sources)
        if (s.name == it->second) file = s.file;
      bound.push_back({anchor, it->second, file});
      continue;
    }
    inputs.emplace(anchor.name, randomTensor(anchor.dtype, anchor.shape, seed, anchor.name));
    bound.push_back({anchor, "", ""});
  }

  // Each iteration is one run of the trace; the load (before any observer could attach)
  // is counted in run 0's load_cycles.
  std::optional<TraceRecorder> recorder;
  if (!tracePath.empty()) runner.setObserver(&recorder.emplace(exe.target.tiles));

  RunResult result;
  uint64_t totalCycles = 0;
  // Host wall time of the first iteration (on cold memories) and of the fastest later one.
  double firstSeconds = 0, fastestSeconds = 0;
  const auto start = std::chrono::steady_clock::now();
  {
    Progress progress(iterations);
    for (uint64_t i = 0; i < iterations; ++i) {
      const auto iterationStart = std::chrono::steady_clock::now();
      if (recorder) recorder->beginRun();
      result = runner.execute(index, inputs);
      totalCycles += result.execCycles;
      const auto hostNs = std::chrono::duration_cast<std::chrono::nanoseconds>(
          std::chrono::steady_clock::now() - iterationStart);
      const double seconds = static_cast<double>(hostNs.count()) * 1e-9;
      if (i == 0) firstSeconds = seconds;
      if (i <= 1 || seconds < fastestSeconds) fastestSeconds = seconds;
      if (recorder) {
        recorder->endRun(result.index, i == 0 ? runner.loadCycles() : 0, result.execCycles,
                         static_cast<uint64_t>(hostNs.count()));
      }
      progress.update(i + 1);
    }
  }
  const double hostSeconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  // The machine is deterministic, so every iteration takes the same; the mean guards the
  // report against an executable whose main does not.
  const uint64_t execCycles = (totalCycles + iterations / 2) / iterations;

  size_t tracedSteps = 0;
  if (recorder) {
    runner.setObserver(nullptr);
    tracedSteps = recorder->recorded().steps.size();
    writeTrace(tracePath, std::move(*recorder).finish(traceInfoFor(exe, path), tileMemoryRows(exe)));
  }

  std::map<std::string, std::string> outputFiles;
  if (!outputDir.empty()) {
    std::filesystem::create_directories(outputDir);
    std::set<std::string> names;
    for (const auto& [name, tensor] : result.outputs) {
      const std::string file = outputFileName(name);
      if (!names.insert(file).second)
        throw RuntimeError("outputs " + name + " and another output map to the same file " + file);
      const std::string filePath = (std::filesystem::path(outputDir) / file).string();
      writeNpy(tensor, filePath);
      outputFiles[name] = filePath;
    }
  }

  const Target& target = exe.target;
  const SubgraphInfo* sub = subgraphOf(exe, result.index);
  if (jsonPath != "-") {
    std::ostream& out = std::cout;
    out << "executable: " << path << " (" << target.name;
    if (exe.fusion.fused())
      out << ", fused: " << exe.fusion.subgraphs.size() << " subgraphs)\n";
    else
      out << ", single model)\n";
    if (sub)
      out << "index: " << sub->index << " (" << sub->sourceModel << ", " << sub->precision << ")\n";
    out << "inputs:\n";
    for (const BoundInput& in : bound) {
      out << "  " << in.anchor.name;
      if (!in.givenAs.empty() && in.givenAs != in.anchor.name) out << " (as " << in.givenAs << ")";
      out << "  " << dtypeName(in.anchor.dtype) << " " << shapeString(in.anchor.shape) << "  ";
      if (in.file.empty())
        out << "random, seed " << seed << "\n";
      else
        out << "from " << in.file << "\n";
    }
    out << "outputs:\n";
    for (const auto& [name, tensor] : result.outputs) {
      out << "  " << name << "  " << dtypeName(tensor.dtype) << " " << shapeString(tensor.shape)
          << "  " << valuesText(tensor, kPrintedValues) << "\n";
      if (auto f = outputFiles.find(name); f != outputFiles.end())
        out << "    written to " << f->second << "\n";
    }
    out << "clock: " << target.clockHz / 1e9 << " GHz\n"
        << "load: " << runner.loadCycles() << " cycles ("
        << duration(target.microseconds(runner.loadCycles())) << ")\n"
        << "exec: " << execCycles << " cycles per iteration ("
        << duration(target.microseconds(execCycles)) << "), " << iterations
        << (iterations == 1 ? " iteration\n" : " iterations\n")
        << "host: " << duration(hostSeconds * 1e6) << " ("
        << duration(hostSeconds * 1e6 / static_cast<double>(iterations)) << " per iteration)\n";
    if (recorder)
      out << "trace: " << tracePath << " (" << tracedSteps << " steps; `ipusim trace summary "
          << tracePath << "`)\n";
  }

  if (!jsonPath.empty()) {
    json::Writer w;
    w.beginObject()
        .field("executable", path)
        .field("target", target.name)
        .field("clock_hz", target.clockHz)
        .field("fused", exe.fusion.fused());
    w.key("index");
    if (result.index)
      w.value(*result.index);
    else
      w.null();
    if (sub) w.field("source_model", sub->sourceModel).field("precision", sub->precision);
    w.field("iterations", iterations)
        .field("seed", seed)
        .field("load_cycles", runner.loadCycles())
        .field("load_us", target.microseconds(runner.loadCycles()))
        .field("exec_cycles", execCycles)
        .field("exec_us", target.microseconds(execCycles))
        .field("exec_cycles_total", totalCycles)
        .field("host_seconds", hostSeconds)
        .field("host_seconds_per_iteration", hostSeconds / static_cast<double>(iterations));
    w.field("host_seconds_first", firstSeconds).field("host_seconds_fastest", fastestSeconds);
    w.key("trace");
    if (recorder)
      w.value(tracePath);
    else
      w.null();
    w.key("inputs").beginObject();
    for (const BoundInput& in : bound) {
      w.key(in.anchor.name).beginObject().field("dtype", dtypeName(in.anchor.dtype));
      writeShape(w, in.anchor.shape);
      w.field("source", in.file.empty() ? "random" : "file").key("file");
      if (in.file.empty())
        w.null();
      else
        w.value(in.file);
      w.endObject();
    }
    w.endObject();
    w.key("outputs").beginObject();
    for (const auto& [name, tensor] : result.outputs) {
      w.key(name).beginObject().field("dtype", dtypeName(tensor.dtype));
      writeShape(w, tensor.shape);
      w.key("file");
      if (auto f = outputFiles.find(name); f != outputFiles.end())
        w.value(f->second);
      else
        w.null();
      if (static_cast<size_t>(elementCount(tensor.shape)) <= kJsonValues) {
        w.key("values").beginArray();
        writeValues(w, tensor);
        w.endArray();
      }
      w.endObject();
    }
    w.endObject();
    w.endObject();
    writeResult(jsonPath, w.str());
  }
  return 0;
}

}  // namespace ipusim::cli
