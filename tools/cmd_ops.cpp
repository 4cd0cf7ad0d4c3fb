// `ipusim ops`: the ops the compiler lowers, straight from the lowering registry, as a
// table or as the Markdown of docs/ops.md.
#include <algorithm>
#include <iostream>
#include <sstream>

#include "compiler/lowering/lowering_registry.h"
#include "tools/command.h"

namespace po = boost::program_options;

namespace ipusim::cli {

namespace {

constexpr CommandHelp kHelp{
    "ops", "ipusim ops [--markdown]",
    "Lists every ONNX op the compiler lowers: its opset range, the element types of its\n"
    "first input it accepts, and how it maps onto tiles. Ops that ONNX defines as functions\n"
    "and that have no entry here are lowered through their function body.\n"
    "--markdown prints docs/ops.md."};

std::string dtypeList(const std::vector<DType>& dtypes) {
  std::string out;
  for (DType d : dtypes) out += (out.empty() ? "" : ", ") + std::string(dtypeName(d));
  return out;
}

std::vector<const LoweringEntry*> sortedEntries() {
  std::vector<const LoweringEntry*> entries;
  for (const auto& e : LoweringRegistry::instance().entries()) entries.push_back(&e);
  std::sort(entries.begin(), entries.end(), [](const LoweringEntry* a, const LoweringEntry* b) {
    return a->opType != b->opType ? a->opType < b->opType : a->sinceVersion < b->sinceVersion;
  });
  return entries;
}

std::string opsetRange(const LoweringEntry& e) {
  return std::to_string(e.sinceVersion) + "-" + std::to_string(e.lastVersion);
}

}  // namespace

std::string opsMarkdown() {
  const auto entries = sortedEntries();
  std::ostringstream s;
  s << "# Supported ONNX ops\n\n"
       "Generated from the lowering registry by `ipusim ops --markdown`; do not edit by hand.\n"
       "Ops that ONNX defines as functions and that are not listed here are lowered by\n"
       "expanding their function body (docs/architecture.md). "
    << entries.size() << " lowerings.\n\n"
    << "| op | opsets | element types | how it maps onto tiles |\n|---|---|---|---|\n";
  for (const LoweringEntry* e : entries) {
    s << "| " << e->opType << " | " << opsetRange(*e) << " | " << dtypeList(e->dtypes) << " | " << e->tileMapping
      << " |\n";
  }
  return s.str();
}

int opsCommand(const std::vector<std::string>& args) {
  po::options_description options("options");
  options.add_options()("markdown", "print the Markdown table of docs/ops.md");
  po::variables_map vm;
  if (!parseCommandLine(kHelp, args, options, {}, vm)) return 0;
  if (vm.count("markdown")) {
    std::cout << opsMarkdown();
    return 0;
  }
  for (const LoweringEntry* e : sortedEntries()) {
    std::cout << e->opType << std::string(e->opType.size() < 28 ? 28 - e->opType.size() : 1, ' ') << "opsets "
              << opsetRange(*e) << "  " << dtypeList(e->dtypes) << "\n";
  }
  return 0;
}

}  // namespace ipusim::cli
