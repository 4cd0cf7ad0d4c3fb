// `ipusim dump F.popef`: what a .popef holds, like Graphcore's popef_dump.
#include <iostream>

#include "popef/popef_dump.h"
#include "popef/popef_file.h"
#include "tools/command.h"

namespace po = boost::program_options;

namespace ipusim::cli {

int dumpCommand(const std::vector<std::string>& args) {
  const CommandHelp help{
      "dump", "ipusim dump F.popef [--json FILE]",
      "Lists a .popef: its blobs, anchors (name, direction, dtype, shape), the Opaques\n"
      "section (the fusion description), the programs and the memory per tile. The file is\n"
      "fully checked (sizes, CRCs, the executable) before anything is printed."};
  std::string path, jsonPath;
  po::options_description options("options");
  options.add_options()
      ("popef", po::value(&path)->required()->value_name("FILE"), "the .popef to list")
      ("json", po::value(&jsonPath)->value_name("FILE"),
       "also write the listing as JSON ('-': standard output, instead of the text)");
  po::positional_options_description positional;
  positional.add("popef", 1);
  po::variables_map values;
  if (!parseCommandLine(help, args, options, positional, values)) return 0;

  const popef::PopefFile file = popef::readPopef(path);
  if (jsonPath != "-") std::cout << popef::dumpText(file) << std::flush;
  if (!jsonPath.empty()) writeResult(jsonPath, popef::dumpJson(file));
  return 0;
}

}  // namespace ipusim::cli
