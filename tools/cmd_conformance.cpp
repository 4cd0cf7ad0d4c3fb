// `ipusim conformance DIR...`: runs ONNX backend node tests on the simulated IPU and
// reports pass / wrong / unsupported / error per test and per op.
#include <array>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <map>
#include <set>
#include <sstream>

#include "popef/json_writer.h"
#include "tools/command.h"
#include "tools/conformance_runner.h"
#include "tools/tensor_files.h"

namespace po = boost::program_options;

namespace ipusim::cli {

namespace {

constexpr CommandHelp kHelp{
    "conformance", "ipusim conformance DIR... [-j N] [--json FILE] [--expect LIST] [--pass-list FILE]",
    "Runs ONNX backend node tests (a folder holding model.onnx and test_data_set_*/, or a\n"
    "folder of such folders, e.g. /usr/share/libonnx-testdata/data/node). Each test is\n"
    "compiled with the shapes of its inputs, every data set runs on the simulated IPU, and\n"
    "the outputs are compared (docs/conformance.md gives the tolerances). Each test ends as\n"
    "pass, wrong (different numbers), unsupported (a compile error naming the op and why)\n"
    "or error (anything else). With --expect, only the listed tests run and the exit code\n"
    "is 1 unless every one of them passes."};

std::vector<std::string> readList(const std::string& path) {
  std::istringstream in(readFileBytes(path));
  std::vector<std::string> names;
  for (std::string line; std::getline(in, line);) {
    if (auto hash = line.find('#'); hash != std::string::npos) line.resize(hash);
    while (!line.empty() && std::isspace(static_cast<unsigned char>(line.back()))) line.pop_back();
    if (!line.empty()) names.push_back(line);
  }
  return names;
}

// Summary counts per status, and per op.
using Counts = std::array<size_t, 4>;

std::string reportText(const std::vector<ConformanceResult>& results) {
  Counts total{};
  std::map<std::string, Counts> perOp;
  for (const auto& r : results) {
    ++total[static_cast<size_t>(r.status)];
    for (const auto& op : r.ops) ++perOp[op][static_cast<size_t>(r.status)];
  }
  std::ostringstream s;
  for (const auto& r : results) {
    if (r.status != ConformanceStatus::Pass && r.status != ConformanceStatus::Unsupported)
      s << conformanceStatusName(r.status) << "  " << r.name << ": " << r.reason << "\n";
  }
  s << "\nper op:\n  " << std::left << std::setw(28) << "op" << std::right << std::setw(6) << "pass" << std::setw(7)
    << "wrong" << std::setw(13) << "unsupported" << std::setw(7) << "error" << "\n";
  for (const auto& [op, c] : perOp) {
    s << "  " << std::left << std::setw(28) << op << std::right << std::setw(6) << c[0] << std::setw(7) << c[1]
      << std::setw(13) << c[2] << std::setw(7) << c[3] << "\n";
  }
  const size_t n = results.size();
  s << "\n" << n << " tests: " << total[0] << " pass";
  if (n) s << " (" << std::fixed << std::setprecision(1) << 100.0 * total[0] / n << "%)";
  s << ", " << total[1] << " wrong, " << total[2] << " unsupported, " << total[3] << " error\n";
  return s.str();
}

std::string reportJson(const std::vector<ConformanceResult>& results) {
  Counts total{};
  for (const auto& r : results) ++total[static_cast<size_t>(r.status)];
  json::Writer w;
  w.beginObject().key("summary").beginObject();
  w.field("pass", total[0]).field("wrong", total[1]).field("unsupported", total[2]).field("error", total[3]);
  w.field("total", results.size()).endObject();
  w.key("tests").beginArray();
  for (const auto& r : results) {
    w.beginObject().field("name", r.name).field("status", std::string(conformanceStatusName(r.status)));
    w.field("reason", r.reason).key("ops").beginArray();
    for (const auto& op : r.ops) w.value(op);
    w.endArray().endObject();
  }
  w.endArray().endObject();
  return w.str() + "\n";
}

}  // namespace

int conformanceCommand(const std::vector<std::string>& args) {
  po::options_description options("options");
  options.add_options()("dir", po::value<std::vector<std::string>>()->multitoken(), "test folders")(
      "jobs,j", po::value<unsigned>()->default_value(1), "tests run in parallel on this many host threads")(
      "json", po::value<std::string>(), "write every test's status and reason as JSON to FILE (- for stdout)")(
      "expect", po::value<std::string>(), "run only the tests named in LIST (one per line); fail unless all pass")(
      "pass-list", po::value<std::string>(), "write the names of the passing tests to FILE");
  po::positional_options_description positional;
  positional.add("dir", -1);
  po::variables_map vm;
  if (!parseCommandLine(kHelp, args, options, positional, vm)) return 0;
  if (!vm.count("dir")) throw UsageError("no test folder given (see ipusim conformance --help)");
  const unsigned jobs = vm["jobs"].as<unsigned>();
  if (jobs == 0) throw UsageError("--jobs must be at least 1");

  std::vector<std::string> tests = findConformanceTests(vm["dir"].as<std::vector<std::string>>());
  std::vector<std::string> expected;
  if (vm.count("expect")) {
    expected = readList(vm["expect"].as<std::string>());
    std::map<std::string, std::string> byName;
    for (const auto& t : tests) byName[std::filesystem::path(t).filename().string()] = t;
    tests.clear();
    for (const auto& name : expected) {
      auto it = byName.find(name);
      if (it == byName.end()) throw std::runtime_error(vm["expect"].as<std::string>() + ": no test named '" + name + "'");
      tests.push_back(it->second);
    }
  }

  const bool terminal = stderrIsTerminal();
  auto progress = [terminal](size_t done, size_t total) {
    if (terminal) std::cerr << "\rconformance: " << done << "/" << total << " tests" << (done == total ? "\n" : "") << std::flush;
  };
  const std::vector<ConformanceResult> results = runConformanceTests(tests, jobs, progress);

  const bool jsonToStdout = vm.count("json") && vm["json"].as<std::string>() == "-";
  if (!jsonToStdout) std::cout << reportText(results);
  if (vm.count("json")) writeResult(vm["json"].as<std::string>(), reportJson(results));
  if (vm.count("pass-list")) {
    std::string list;
    for (const auto& r : results)
      if (r.status == ConformanceStatus::Pass) list += r.name + "\n";
    writeResult(vm["pass-list"].as<std::string>(), list);
  }
  if (!expected.empty()) {
    size_t failed = 0;
    for (const auto& r : results) failed += r.status != ConformanceStatus::Pass;
    if (failed) {
      std::cerr << "ipusim conformance: error: " << failed << " of " << results.size()
                << " expected-pass tests did not pass" << std::endl;
      return 1;
    }
  }
  return 0;
}

}  // namespace ipusim::cli
