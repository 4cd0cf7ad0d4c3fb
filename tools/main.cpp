// `ipusim`: dispatches to one subcommand from a table and turns every error into one
// line on stderr ("ipusim <cmd>: error: ...") with exit code 1 (2 for usage errors).
#include <google/protobuf/stubs/logging.h>

#include <algorithm>
#include <array>
#include <iostream>
#include <new>
#include <string>
#include <vector>

#include "compiler/compiler.h"
#include "popef/popef_file.h"
#include "sim/error.h"
#include "sim/runtime/model_runner.h"
#include "tools/command.h"
#include "tools/tensor_files.h"

namespace {

using ipusim::cli::Command;

constexpr std::array kCommands = {
    Command{"fuse", "compile the models of a fusion YAML into one .popef, selected by index",
            ipusim::cli::fuseCommand},
    Command{"compile", "compile one ONNX model into a .popef", ipusim::cli::compileCommand},
    Command{"dump", "list a .popef: anchors, opaques, programs, memory (text or JSON)",
            ipusim::cli::dumpCommand},
    Command{"run", "run a .popef on the simulated IPU: outputs, cycles, host time",
            ipusim::cli::runCommand},
    Command{"compare", "serve one request stream fused (index switch) and separate (reload)",
            ipusim::cli::compareCommand},
    Command{"conformance", "run ONNX backend node tests on the simulated IPU and report per test and op",
            ipusim::cli::conformanceCommand},
    Command{"ops", "list the ONNX ops the compiler lowers (opsets, dtypes, tile mapping)", ipusim::cli::opsCommand},
    Command{"trace", "read an HDF5 trace: summary, export-perfetto (see `ipusim trace --help`)",
            ipusim::cli::traceCommand},
};

void printUsage(std::ostream& out) {
  out << "usage: ipusim <command> [options]\n\n"
         "ipusim simulates a Graphcore IPU: it compiles ONNX models (alone or fused into one\n"
         "executable selected by an index input) and runs them tile by tile, timing every\n"
         "superstep.\n\ncommands:\n";
  size_t width = 0;
  for (const Command& c : kCommands) width = std::max(width, c.name.size());
  for (const Command& c : kCommands)
    out << "  " << c.name << std::string(width + 2 - c.name.size(), ' ') << c.summary << "\n";
  out << "  help" << std::string(width - 2, ' ') << "show this list, or `ipusim help <command>`\n"
      << "\nglobal options:\n  --help, -h     show this list\n  --version      print the version\n"
      << "\n`ipusim <command> --help` describes a command. Exit codes: 0 success, 1 bad input\n"
         "or a failed run, 2 bad command line. Documentation: docs/cli.md\n";
}

const Command* findCommand(std::string_view name) {
  for (const Command& c : kCommands)
    if (c.name == name) return &c;
  return nullptr;
}

// Errors are one line: a message that spans lines is joined with "; ". Messages may quote
// bytes of a hostile file (a name, a key), so every other control character is escaped:
// nothing a file holds can end the line or drive the terminal.
std::string oneLine(std::string message) {
  while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) message.pop_back();
  std::string out;
  for (char ch : message) {
    const auto byte = static_cast<unsigned char>(ch);
    if (ch == '\n') {
      out += "; ";
    } else if (ch == '\r') {
      continue;
    } else if (byte < 0x20 || byte == 0x7f) {
      static constexpr char kHex[] = "0123456789abcdef";
      out += "\\x";
      out += kHex[byte >> 4];
      out += kHex[byte & 0xf];
    } else {
      out += ch;
    }
  }
  return out;
}

int fail(std::string_view command, const std::string& message, int code) {
  std::cerr << "ipusim " << command << ": error: " << oneLine(message) << std::endl;
  return code;
}

int dispatch(const Command& command, const std::vector<std::string>& args) {
  try {
    return command.run(args);
  } catch (const ipusim::cli::UsageError& e) {
    return fail(command.name, e.what(), 2);
  } catch (const ipusim::CompileError& e) {
    return fail(command.name, e.what(), 1);
  } catch (const ipusim::popef::PopefError& e) {
    return fail(command.name, e.what(), 1);
  } catch (const ipusim::RuntimeError& e) {
    return fail(command.name, e.what(), 1);
  } catch (const ipusim::SimError& e) {
    return fail(command.name, e.what(), 1);
  } catch (const ipusim::cli::TensorFileError& e) {
    return fail(command.name, e.what(), 1);
  } catch (const std::bad_alloc&) {
    return fail(command.name, "out of host memory", 1);
  } catch (const std::exception& e) {
    return fail(command.name, e.what(), 1);
  } catch (...) {
    return fail(command.name, "unexpected internal error", 1);
  }
}

}  // namespace

int main(int argc, char** argv) {
  // Protobuf would log parse problems of untrusted files to stderr on its own; our
  // readers report them as one clear error instead.
  google::protobuf::SetLogHandler(nullptr);

  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty()) {
    printUsage(std::cerr);
    return 2;
  }
  const std::string& first = args[0];
  if (first == "--help" || first == "-h") {
    printUsage(std::cout);
    return 0;
  }
  if (first == "--version") {
    std::cout << "ipusim " << IPUSIM_VERSION << "\n";
    return 0;
  }
  if (first == "help") {
    if (args.size() == 1) {
      printUsage(std::cout);
      return 0;
    }
    const Command* command = findCommand(args[1]);
    if (!command) return fail("help", "unknown command '" + args[1] + "' (see ipusim --help)", 2);
    return dispatch(*command, {"--help"});
  }
  const Command* command = findCommand(first);
  if (!command) {
    std::cerr << "ipusim: error: unknown command '" << first << "' (see ipusim --help)"
              << std::endl;
    return 2;
  }
  return dispatch(*command, std::vector<std::string>(args.begin() + 1, args.end()));
}
