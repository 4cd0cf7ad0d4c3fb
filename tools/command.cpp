#include "tools/command.h"

#include <unistd.h>

#include <iostream>

#include "tools/tensor_files.h"

namespace po = boost::program_options;

namespace ipusim::cli {

bool parseCommandLine(const CommandHelp& help, const std::vector<std::string>& args,
                      po::options_description options,
                      const po::positional_options_description& positional,
                      po::variables_map& values) {
  options.add_options()("help,h", "show this help and exit");
  try {
    // Long options only as --name; no guessing of abbreviations, so scripts stay stable.
    const auto style = po::command_line_style::unix_style ^ po::command_line_style::allow_guessing;
    po::store(po::command_line_parser(args)
                  .options(options)
                  .positional(positional)
                  .style(style)
                  .run(),
              values);
    if (values.count("help")) {
      std::cout << "usage: " << help.usage << "\n\n" << help.description << "\n\n" << options;
      return false;
    }
    po::notify(values);
  } catch (const po::error& e) {
    throw UsageError(std::string(e.what()) + " (see ipusim " + std::string(help.name) +
                     " --help)");
  }
  return true;
}

void writeResult(const std::string& path, const std::string& text) {
  if (path == "-") {
    std::cout << text << std::flush;
    return;
  }
  writeFileAtomically(path, text);
}

bool stderrIsTerminal() { return ::isatty(STDERR_FILENO) == 1; }

}  // namespace ipusim::cli
