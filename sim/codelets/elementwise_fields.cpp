#include "sim/codelets/elementwise_fields.h"

#include <string>

#include "sim/error.h"

namespace ipusim::codelets {

void checkElementwiseFields(const VertexData& data, std::initializer_list<size_t> elementBytes,
                            std::string_view codelet) {
  const auto fail = [&](const std::string& why) {
    throw SimError(std::string(codelet) + ": " + why);
  };
  const auto& fields = data.fields;
  if (fields.size() != elementBytes.size()) {
    fail("expects " + std::to_string(elementBytes.size()) + " fields, the vertex has " +
         std::to_string(fields.size()));
  }
  const size_t regions = fields[0].size();
  for (size_t f = 1; f < fields.size(); ++f) {
    if (fields[f].size() != regions) {
      fail("field " + std::to_string(f) + " has " + std::to_string(fields[f].size()) +
           " regions, field 0 has " + std::to_string(regions));
    }
  }
  const size_t outputBytes = *(elementBytes.end() - 1);
  for (size_t r = 0; r < regions; ++r) {
    const size_t elements = fields.back()[r].size() / outputBytes;
    size_t f = 0;
    for (size_t bytes : elementBytes) {
      const size_t regionBytes = fields[f][r].size();
      if (regionBytes % bytes != 0 || regionBytes / bytes != elements) {
        fail("region " + std::to_string(r) + " of field " + std::to_string(f) + " holds " +
             std::to_string(regionBytes) + " bytes, expected " +
             std::to_string(elements * bytes) + " (" + std::to_string(elements) +
             " elements of " + std::to_string(bytes) + " bytes)");
      }
      ++f;
    }
  }
}

}  // namespace ipusim::codelets
