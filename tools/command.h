// The `ipusim` subcommands and what they share: the table entry, option parsing with
// --help, and where JSON results go.
#pragma once
#include <boost/program_options.hpp>
#include <iosfwd>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace ipusim::cli {

// A malformed command line (unknown flag, missing argument): exit code 2.
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// One subcommand: `ipusim <name> ARGS...` calls run(ARGS). Returns the exit code; throws
// UsageError for a bad command line and any other exception for bad input (exit code 1).
struct Command {
  std::string_view name;
  std::string_view summary;  // one line, for `ipusim --help`
  int (*run)(const std::vector<std::string>& args);
};

int fuseCommand(const std::vector<std::string>& args);
int compileCommand(const std::vector<std::string>& args);
int dumpCommand(const std::vector<std::string>& args);
int runCommand(const std::vector<std::string>& args);
int compareCommand(const std::vector<std::string>& args);
int conformanceCommand(const std::vector<std::string>& args);
int opsCommand(const std::vector<std::string>& args);
// The Markdown of docs/ops.md, from the lowering registry.
std::string opsMarkdown();
// `ipusim trace <action>` picks one of these (cmd_trace.cpp).
int traceCommand(const std::vector<std::string>& args);
int traceSummaryCommand(const std::vector<std::string>& args);
int traceExportPerfettoCommand(const std::vector<std::string>& args);

// What a subcommand's --help shows.
struct CommandHelp {
  std::string_view name;
  std::string_view usage;        // "ipusim dump F.popef [--json FILE]"
  std::string_view description;  // a paragraph, may span lines
};

// Parses `args` against `options` (a --help flag is added) and `positional`. Returns false
// when --help was asked for: the help text has been printed and the command should exit 0.
// Throws UsageError naming the problem otherwise.
bool parseCommandLine(const CommandHelp& help, const std::vector<std::string>& args,
                      boost::program_options::options_description options,
                      const boost::program_options::positional_options_description& positional,
                      boost::program_options::variables_map& values);

// `path` "-" is standard output; anything else is written atomically.
void writeResult(const std::string& path, const std::string& text);

// True when standard error is a terminal: progress lines go there, never into pipes.
bool stderrIsTerminal();

}  // namespace ipusim::cli
