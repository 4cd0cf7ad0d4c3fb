// `ipusim fuse --config config.yaml`: PopRT's model-fusion YAML -> one .popef whose
// subgraphs are selected by the `index` input.
#include <filesystem>
#include <iostream>

#include "compiler/compiler.h"
#include "compiler/fusion_config.h"
#include "popef/json_writer.h"
#include "popef/popef_file.h"
#include "tools/command.h"
#include "tools/executable_summary.h"

namespace po = boost::program_options;

namespace ipusim::cli {

int fuseCommand(const std::vector<std::string>& args) {
  const CommandHelp help{
      "fuse", "ipusim fuse --config config.yaml [--json FILE]",
      "Compiles every model listed under model_fusion in the YAML (PopRT's keys: output_dir,\n"
      "output_model, export_popef, max_tensor_size, ipu_version, and per model input_model,\n"
      "input_shape, precision) into one executable whose subgraphs are selected by the\n"
      "uint8 'index' input, and writes it to <output_dir>/<output_model>.popef. Paths in the\n"
      "YAML are relative to the YAML file."};
  std::string configPath, jsonPath;
  po::options_description options("options");
  options.add_options()
      ("config,c", po::value(&configPath)->required()->value_name("FILE"), "the fusion YAML")
      ("json", po::value(&jsonPath)->value_name("FILE"),
       "also write the result as JSON ('-': standard output, instead of the text)");
  po::positional_options_description positional;
  positional.add("config", 1);
  po::variables_map values;
  if (!parseCommandLine(help, args, options, positional, values)) return 0;

  const FusionConfig config = loadFusionConfig(configPath);
  const Executable exe = fuseModels(config.models);
  std::string written;
  if (config.exportPopef) {
    written = config.outputPath();
    popef::writePopef(exe, written);
  }

  if (jsonPath != "-") {
    std::cout << "fused " << config.models.size() << (config.models.size() == 1 ? " model" : " models")
              << " from " << configPath << "\n";
    if (written.empty())
      std::cout << "export_popef is False: nothing written\n";
    else
      std::cout << "wrote " << written << " (" << std::filesystem::file_size(written) << " bytes)\n";
    printExecutableSummary(std::cout, exe);
  }
  if (!jsonPath.empty()) {
    json::Writer w;
    w.beginObject().field("config", configPath).key("output");
    if (written.empty())
      w.null();
    else
      w.value(written);
    if (!written.empty()) w.field("bytes", std::filesystem::file_size(written));
    writeExecutableFields(w, exe);
    w.endObject();
    writeResult(jsonPath, w.str());
  }
  return 0;
}

}  // namespace ipusim::cli
