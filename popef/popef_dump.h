// Human and machine readable listings of a .popef, like Graphcore's popef_dump.
#pragma once
#include <string>

#include "popef/popef_file.h"

namespace ipusim::popef {

std::string dumpText(const PopefFile& file);
std::string dumpJson(const PopefFile& file);

}  // namespace ipusim::popef
