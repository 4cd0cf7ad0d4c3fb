// `ipusim compile model.onnx -o model.popef`: one ONNX model -> one .popef that keeps the
// model's own input and output names.
#include <filesystem>
#include <iostream>

#include "compiler/compiler.h"
#include "popef/json_writer.h"
#include "popef/popef_file.h"
#include "tools/command.h"
#include "tools/executable_summary.h"

namespace po = boost::program_options;

namespace ipusim::cli {

int compileCommand(const std::vector<std::string>& args) {
  const CommandHelp help{
      "compile",
      "ipusim compile model.onnx -o model.popef [--input-shape X=1,2 ...] [--precision fp32|fp16]\n"
      "                      [--ipu-version ipu2|ipu21] [--max-tensor-size N] [--partials-type fp32|fp16]\n"
      "                      [--json FILE]",
      "Compiles one ONNX model for the simulated IPU and writes it as a .popef. Every input\n"
      "shape must be static once the --input-shape overrides are applied."};
  ModelOptions model;
  std::string outputPath, jsonPath;
  po::options_description options("options");
  options.add_options()
      ("model", po::value(&model.modelPath)->required()->value_name("FILE"), "the ONNX model")
      ("output,o", po::value(&outputPath)->required()->value_name("FILE"), "the .popef to write")
      ("input-shape", po::value(&model.inputShapes)->multitoken()->composing()->value_name("NAME=D0,D1"),
       "override an input's shape (repeatable)")
      ("precision", po::value(&model.precision)->default_value("fp32")->value_name("fp32|fp16"),
       "fp16: float tensors, weights and I/O become half")
      ("ipu-version", po::value(&model.ipuVersion)->default_value("ipu21")->value_name("ipu2|ipu21"),
       "target: ipu2 (Mk2 GC200) or ipu21 (C600)")
      ("max-tensor-size", po::value(&model.maxTensorSize)->default_value(-1)->value_name("BYTES"),
       "constant-folding limit in bytes; -1: no limit")
      ("partials-type", po::value(&model.partialsType)->default_value("fp32")->value_name("fp32|fp16"),
       "partials of fp16 matrix products: fp32 (default, like poplibs) or fp16 (twice the AMP rate)")
      ("json", po::value(&jsonPath)->value_name("FILE"),
       "also write the result as JSON ('-': standard output, instead of the text)");
  po::positional_options_description positional;
  positional.add("model", 1);
  po::variables_map values;
  if (!parseCommandLine(help, args, options, positional, values)) return 0;

  const Executable exe = compileModel(model);
  popef::writePopef(exe, outputPath);

  if (jsonPath != "-") {
    std::cout << "compiled " << model.modelPath << " (" << model.precision << ", "
              << model.ipuVersion << ")\nwrote " << outputPath << " ("
              << std::filesystem::file_size(outputPath) << " bytes)\n";
    printExecutableSummary(std::cout, exe);
  }
  if (!jsonPath.empty()) {
    json::Writer w;
    w.beginObject()
        .field("model", model.modelPath)
        .field("precision", model.precision)
        .field("output", outputPath)
        .field("bytes", std::filesystem::file_size(outputPath));
    writeExecutableFields(w, exe);
    w.endObject();
    writeResult(jsonPath, w.str());
  }
  return 0;
}

}  // namespace ipusim::cli
