#include "sim/codelet.h"

#include <algorithm>
#include <bit>
#include <limits>

#include "sim/codelets/codelet_tables.h"
#include "sim/error.h"

namespace ipusim {

const CodeletRegistry& CodeletRegistry::instance() {
  static const CodeletRegistry registry = [] {
    CodeletRegistry tables;
    codelets::registerElementwiseCodelets(tables);
    codelets::registerCastCodelets(tables);
    codelets::registerReductionFamilyCodelets(tables);
    codelets::registerMatMulCodelets(tables);
    codelets::registerLayoutCodelets(tables);
    codelets::registerGatherCodelets(tables);
    codelets::registerMathCodelets(tables);
    codelets::registerBinaryMathCodelets(tables);
    codelets::registerLogicCodelets(tables);
    codelets::registerActivationCodelets(tables);
    codelets::registerPoolCodelets(tables);
    codelets::registerRecurrentCodelets(tables);
    codelets::registerTransposeCodelets(tables);
    return tables;
  }();
  return registry;
}

void CodeletRegistry::add(Codelet codelet) {
  if (!codelet.kernel || !codelet.cycles) {
    throw SimError("codelet '" + codelet.name + "' needs a kernel and a cycle estimate");
  }
  const std::string name = codelet.name;
  if (!codelets_.emplace(name, std::move(codelet)).second) {
    throw SimError("codelet '" + name + "' is registered twice");
  }
}

const Codelet* CodeletRegistry::find(std::string_view name) const {
  const auto it = codelets_.find(std::string(name));
  return it == codelets_.end() ? nullptr : &it->second;
}

std::vector<std::string> CodeletRegistry::names() const {
  std::vector<std::string> all;
  all.reserve(codelets_.size());
  for (const auto& entry : codelets_) all.push_back(entry.first);
  std::sort(all.begin(), all.end());
  return all;
}

uint32_t vertexStateBytes(const Vertex& vertex) {
  constexpr uint64_t kWordBytes = 4;
  uint64_t bytes = kWordBytes;  // header
  for (const auto& field : vertex.fields) bytes += field.size() * 2 * kWordBytes;
  bytes += vertex.scalars.size() * kWordBytes;
  return static_cast<uint32_t>(std::min<uint64_t>(bytes, std::numeric_limits<uint32_t>::max()));
}

int64_t scalarFromDouble(double value) { return std::bit_cast<int64_t>(value); }

double scalarAsDouble(int64_t scalar) { return std::bit_cast<double>(scalar); }

}  // namespace ipusim
