// dumpText and dumpJson: the sections and values a user reads, and JSON that parses.
#include <doctest/doctest.h>

#include <string>

#include "popef/popef_dump.h"
#include "popef/popef_file.h"
#include "popef_test_support.h"

using namespace ipusim;
using namespace ipusim::popef;
using popef_test::Json;

namespace {

PopefFile sampleFile() { return decodePopef(encodePopef(popef_test::sampleExecutable()), "sample.popef"); }

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// The text from the line starting with `heading` up to the next blank line.
std::string section(const std::string& text, const std::string& heading) {
  size_t start = text.rfind(heading, 0) == 0 ? 0 : text.find("\n" + heading);
  if (start == std::string::npos) return "";
  if (start != 0) ++start;
  size_t end = text.find("\n\n", start);
  return text.substr(start, end == std::string::npos ? std::string::npos : end - start + 1);
}

// An executable whose memory is spread over `tiles` tiles, tile t holding 100 + t bytes
// of variables except tile 20, the busiest, with 5000.
PopefFile manyTilesFile(uint32_t tiles) {
  Executable exe = popef_test::sampleExecutable();
  exe.tileMemory.clear();
  for (uint32_t t = 0; t < tiles; ++t) exe.tileMemory.push_back({t, 10, 2, 1, t == 20 ? 5000u : 100u + t});
  PopefFile file;
  file.formatVersion = 1;
  file.executable = exe;
  return file;
}

}  // namespace

TEST_CASE("dumpText: header and blobs") {
  const std::string text = dumpText(sampleFile());
  const std::string head = section(text, "File:");
  CHECK(head.rfind("File: format version 1, 5 blobs\n", 0) == 0);
  CHECK(contains(head, "  #  type        bytes  crc32       name\n"));
  CHECK(contains(head, "  2  TensorData     16  0x"));
  CHECK(contains(head, "  w\n"));
  CHECK(contains(head, "  3  TensorData      4  0x"));
  CHECK(contains(head, "  w#4\n"));
  CHECK(contains(head, "  4  Opaque  "));
}

TEST_CASE("dumpText: target") {
  const std::string target = section(dumpText(sampleFile()), "Target:");
  CHECK(target.rfind("Target: ipu2\n", 0) == 0);
  CHECK(contains(target, "  tiles            1472\n"));
  CHECK(contains(target, "  bytes per tile   638976 (624 KiB)\n"));
  CHECK(contains(target, "  clock            1.325 GHz\n"));
  CHECK(contains(target, "  worker contexts  6\n"));
  CHECK(contains(target, "  AMP MACs/cycle   fp16->fp16 64, fp16->fp32 32, fp32 16\n"));
  CHECK(contains(target, "  exchange         4 bytes/cycle/tile, 100 cycles fixed\n"));
  CHECK(contains(target, "  sync             90 cycles\n"));
  CHECK(contains(target, "  host link        5.5 GB/s, 1 us per transfer\n"));
  CHECK(contains(target, "  load fixed       500 ms\n"));
}

TEST_CASE("dumpText: anchors with their subgraphs") {
  const std::string anchors = section(dumpText(sampleFile()), "Anchors:");
  CHECK(anchors ==
        "Anchors: 5\n"
        "  name            dtype    shape  direction  programs  subgraph\n"
        "  index           uint8    [1]    input      main      (index)\n"
        "  graph0/stream0  float32  [1,4]  input      main      0\n"
        "  graph0/y        float32  [2,2]  output     main      0\n"
        "  graph1/stream0  float32  [4]    input      main      1\n"
        "  graph1/y        float16  [4]    output     main      1\n");
}

TEST_CASE("dumpText: the fusion description under Opaques") {
  const std::string opaques = section(dumpText(sampleFile()), "Opaques:");
  CHECK(opaques ==
        "Opaques: 1\n"
        "  fusion: index anchor 'index', 2 subgraphs\n"
        "    subgraph 0: model0.onnx, fp32\n"
        "      inputs:  graph0/stream0\n"
        "      outputs: graph0/y\n"
        "      aliases: graph0/x -> graph0/stream0\n"
        "    subgraph 1: model1.onnx, fp16\n"
        "      inputs:  graph1/stream0\n"
        "      outputs: graph1/y\n"
        "      aliases: graph1/x -> graph1/stream0\n");
}

TEST_CASE("dumpText: programs as an indented tree") {
  const std::string programs = section(dumpText(sampleFile()), "Programs:");
  CHECK(programs ==
        "Programs:\n"
        "  load:\n"
        "    Sequence\n"
        "      Sync\n"
        "  main:\n"
        "    Sequence\n"
        "      StreamCopy(index, input)\n"
        "      Switch(on index; cases 0, 1, default)\n"
        "        case 0:\n"
        "          Sequence\n"
        "            StreamCopy(graph0/stream0, input)\n"
        "            Execute(graph0/add, 2 vertices)\n"
        "            Exchange(graph0/gather, 2 copies, 16 bytes)\n"
        "            Repeat(3)\n"
        "              Execute(graph0/relu, 1 vertex)\n"
        "            StreamCopy(graph0/y, output)\n"
        "        case 1:\n"
        "          Sequence\n"
        "            StreamCopy(graph1/stream0, input)\n"
        "            Execute(graph1/cast, 1 vertex)\n"
        "            Sync\n"
        "            StreamCopy(graph1/y, output)\n"
        "        default:\n"
        "          Sequence\n");
}

TEST_CASE("dumpText: memory per tile, peak = code + vertex state + constants + variables") {
  const std::string memory = section(dumpText(sampleFile()), "Memory per tile");
  CHECK(memory ==
        "Memory per tile (bytes; 638976 per tile; peak = code + vertex state + constants + variables):\n"
        "   tile  code  vertex_state  constants  variables  peak  headroom\n"
        "      0     0             0          0          4     4    638972\n"
        "      1  2400            96         16        208  2720    636256\n"
        "      2  1200            48         16        208  1472    637504\n"
        "      3   900            40          4        144  1088    637888\n"
        "  total  4500           184         36        564  5284\n"
        "  4 tiles in use; load image 4720 bytes; busiest tile 1 with 2720 bytes (0.426% of the tile)\n");
}

TEST_CASE("dumpText: many tiles list the first and the busiest, totals cover all") {
  const std::string memory = section(dumpText(manyTilesFile(40)), "Memory per tile");
  // Tiles 0-15 are the first; the busiest are 20 and then 39 down to 25 (102 + t bytes).
  for (int t : {0, 15, 20, 25, 39}) CHECK_MESSAGE(contains(memory, "\n  " + std::string(t < 10 ? "    " : "   ") + std::to_string(t) + "  "), t);
  for (int t : {16, 19, 21, 24}) CHECK_FALSE_MESSAGE(contains(memory, "\n     " + std::to_string(t) + "  "), t);
  CHECK(contains(memory, "\n     20    10             2          1       5000   5013    633963\n"));
  CHECK(contains(memory, "(8 of 40 tiles omitted; listed: the first 16 and the 16 busiest others)\n"));
  // Totals over all 40: code 400, vertex state 80, constants 40, variables
  // sum(100 + t) - 120 + 5000 = 4780 - 120 + 5000 = 9660; peak 400 + 80 + 40 + 9660.
  CHECK(contains(memory, "  total   400            80         40       9660  10180\n"));
  CHECK(contains(memory, "  40 tiles in use; load image 520 bytes; busiest tile 20 with 5013 bytes"));
  // Gaps are marked where tiles were left out.
  CHECK(contains(memory, "\n    ...\n"));

  // When every tile holds the same, the busiest others are the next 16 tiles.
  {
    PopefFile even = manyTilesFile(50);
    for (TileMemoryUsage& u : even.executable.tileMemory) u.variables = 100;
    const std::string listing = section(dumpText(even), "Memory per tile");
    CHECK(contains(listing, "\n     31  "));
    CHECK_FALSE(contains(listing, "\n     32  "));
    CHECK(contains(listing, "(18 of 50 tiles omitted"));
  }

  // 32 tiles in use: all listed, nothing omitted.
  const std::string few = section(dumpText(manyTilesFile(32)), "Memory per tile");
  CHECK_FALSE(contains(few, "omitted"));
  CHECK_FALSE(contains(few, "..."));
  CHECK(contains(few, "\n     31  "));
}

TEST_CASE("dumpText: an unfused executable has no subgraph column and no fusion opaque") {
  Executable exe = popef_test::sampleExecutable();
  exe.fusion = FusionInfo{};
  const std::string text = dumpText(decodePopef(encodePopef(exe), "single.popef"));
  CHECK(contains(text, "\nOpaques: 0\n"));
  CHECK(contains(text, "  name            dtype    shape  direction  programs\n"));
  CHECK_FALSE(contains(text, "subgraph"));
}

TEST_CASE("dumpJson: parses back, with the documented keys and values") {
  const std::string text = dumpJson(sampleFile());
  // Balanced structure, independently of the parser: brackets outside strings pair up.
  {
    int depth = 0;
    bool inString = false, escaped = false, balanced = true;
    for (char c : text) {
      if (inString) {
        if (escaped) escaped = false;
        else if (c == '\\') escaped = true;
        else if (c == '"') inString = false;
        continue;
      }
      if (c == '"') inString = true;
      if (c == '{' || c == '[') ++depth;
      if (c == '}' || c == ']') balanced = balanced && --depth >= 0;
    }
    CHECK(balanced);
    CHECK(depth == 0);
    CHECK_FALSE(inString);
  }
  for (const char* key : {"\"format_version\"", "\"blobs\"", "\"target\"", "\"anchors\"", "\"fusion\"",
                          "\"programs\"", "\"memory\"", "\"index_anchor\"", "\"subgraphs\"", "\"source_model\"",
                          "\"vertex_state\"", "\"totals\""})
    CHECK_MESSAGE(contains(text, key), key);

  const Json doc = popef_test::parseJson(text);
  CHECK(doc["format_version"].number == 1);
  REQUIRE(doc["blobs"].size() == 5);
  CHECK(doc["blobs"][3]["type"].text == "TensorData");
  CHECK(doc["blobs"][3]["name"].text == "w#4");
  CHECK(doc["blobs"][3]["bytes"].number == 4);
  CHECK(doc["blobs"][3]["crc32"].number == sampleFile().blobs[3].crc32);

  const Json& target = doc["target"];
  CHECK(target["name"].text == "ipu2");
  CHECK(target["tiles"].number == 1472);
  CHECK(target["bytes_per_tile"].number == 638976);
  CHECK(target["clock_hz"].number == 1.325e9);
  CHECK(target["host_link_bytes_per_second"].number == 5.5e9);
  CHECK(target["load_fixed_seconds"].number == 0.5);
  CHECK(target.size() == 18);  // every Target field

  const Json& anchors = doc["anchors"];
  REQUIRE(anchors.size() == 5);
  CHECK(anchors[0]["name"].text == "index");
  CHECK(anchors[0]["subgraph"].isNull());
  CHECK(anchors[2]["name"].text == "graph0/y");
  CHECK(anchors[2]["dtype"].text == "float32");
  CHECK(anchors[2]["shape"].size() == 2);
  CHECK(anchors[2]["shape"][0].number == 2);
  CHECK(anchors[2]["direction"].text == "output");
  CHECK(anchors[2]["subgraph"].number == 0);
  CHECK(anchors[4]["dtype"].text == "float16");
  CHECK(anchors[4]["subgraph"].number == 1);

  const Json& fusion = doc["fusion"];
  CHECK(fusion["index_anchor"].text == "index");
  REQUIRE(fusion["subgraphs"].size() == 2);
  const Json& sg1 = fusion["subgraphs"][1];
  CHECK(sg1["index"].number == 1);
  CHECK(sg1["source_model"].text == "model1.onnx");
  CHECK(sg1["precision"].text == "fp16");
  CHECK(sg1["inputs"][0].text == "graph1/stream0");
  CHECK(sg1["outputs"][0].text == "graph1/y");
  CHECK(sg1["aliases"][0]["alias"].text == "graph1/x");
  CHECK(sg1["aliases"][0]["anchor"].text == "graph1/stream0");

  const Json& main = doc["programs"]["main"];
  CHECK(main["kind"].text == "Sequence");
  const Json& sw = main["body"][1];
  CHECK(sw["kind"].text == "Switch");
  CHECK(sw["variable"].text == "index");
  CHECK(sw["cases"][1]["value"].number == 1);
  CHECK(sw["default"]["kind"].text == "Sequence");
  const Json& graph0 = sw["cases"][0]["body"]["body"];
  CHECK(graph0[1]["compute_set"].text == "graph0/add");
  CHECK(graph0[1]["vertices"].number == 2);
  CHECK(graph0[2]["copies"].number == 2);
  CHECK(graph0[2]["bytes"].number == 16);
  CHECK(graph0[3]["count"].number == 3);
  CHECK(graph0[3]["body"]["kind"].text == "Execute");
  CHECK(doc["programs"]["load"]["body"][0]["kind"].text == "Sync");

  const Json& memory = doc["memory"];
  REQUIRE(memory["tiles"].size() == 4);
  CHECK(memory["tiles"][1]["tile"].number == 1);
  CHECK(memory["tiles"][1]["code"].number == 2400);
  CHECK(memory["tiles"][1]["vertex_state"].number == 96);
  CHECK(memory["tiles"][1]["constants"].number == 16);
  CHECK(memory["tiles"][1]["variables"].number == 208);
  CHECK(memory["tiles"][1]["peak"].number == 2720);
  CHECK(memory["tiles"][1]["headroom"].number == 636256);
  CHECK(memory["totals"]["tiles"].number == 4);
  CHECK(memory["totals"]["peak"].number == 5284);
  CHECK(memory["totals"]["load_image"].number == 4720);
  CHECK(memory["totals"]["busiest_tile"].number == 1);
}

TEST_CASE("dumpJson: all tiles are listed even when the text omits some; unfused means null fusion") {
  const Json doc = popef_test::parseJson(dumpJson(manyTilesFile(40)));
  CHECK(doc["memory"]["tiles"].size() == 40);
  CHECK(doc["memory"]["totals"]["variables"].number == 9660);

  Executable exe = popef_test::sampleExecutable();
  exe.fusion = FusionInfo{};
  const Json single = popef_test::parseJson(dumpJson(decodePopef(encodePopef(exe), "single.popef")));
  CHECK(single["fusion"].isNull());
  CHECK(single["anchors"][1]["subgraph"].isNull());
}

TEST_CASE("dumpJson escapes names") {
  Executable exe = popef_test::sampleExecutable();
  exe.computeSets[0].name = "quote\" back\\slash\nnewline";
  exe.fusion.subgraphs[0].sourceModel = "dir/m\xC3\xA9.onnx";
  const std::string text = dumpJson(decodePopef(encodePopef(exe), "names.popef"));
  const Json doc = popef_test::parseJson(text);
  CHECK(doc["programs"]["main"]["body"][1]["cases"][0]["body"]["body"][1]["compute_set"].text ==
        "quote\" back\\slash\nnewline");
  CHECK(doc["fusion"]["subgraphs"][0]["source_model"].text == "dir/m\xC3\xA9.onnx");
}
