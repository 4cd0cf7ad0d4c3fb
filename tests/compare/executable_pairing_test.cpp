// The check that the i-th separate executable holds subgraph i of the fused one.
#include <doctest/doctest.h>

#include "tests/compare/compare_support.h"

using namespace compare_test;

namespace {

std::string pairingError(std::vector<NamedExecutable> separate,
                         NamedExecutable fused = {seedFused(), "fused.popef"}) {
  try {
    pairExecutables(std::move(fused), std::move(separate));
  } catch (const RuntimeError& e) {
    return e.what();
  }
  return "";
}

// A copy of `exe` whose stream for anchor `from` is named `to`.
std::shared_ptr<const Executable> renamed(const std::shared_ptr<const Executable>& exe,
                                          const std::string& from, const std::string& to) {
  auto copy = std::make_shared<Executable>(*exe);
  for (HostStream& stream : copy->streams)
    if (stream.anchor == from) stream.anchor = to;
  return copy;
}

ModelOptions seedOptions(size_t model) { return seedConfig().models.at(model); }

}  // namespace

TEST_CASE("the seed pair's separate executables match their subgraphs") {
  const ExecutablePairing pairing = seedPairing();
  REQUIRE(pairing.models.size() == 2);
  const ModelPair& m0 = pairing.models[0];
  CHECK(m0.index == 0);
  REQUIRE(m0.inputs.size() == 2);
  CHECK(m0.inputs[0].fused == "graph0/stream0");
  CHECK(m0.inputs[0].separate == "X");
  CHECK(m0.inputs[1].fused == "graph0/stream1");
  CHECK(m0.inputs[1].separate == "Y");
  CHECK(m0.inputs[1].dtype == DType::Float32);
  CHECK(m0.inputs[1].shape == Shape{1, 2});
  REQUIRE(m0.outputs.size() == 1);
  CHECK(m0.outputs[0].fused == "graph0/O");
  CHECK(m0.outputs[0].separate == "O");
  CHECK(m0.outputs[0].shape == Shape{2});
  const ModelPair& m1 = pairing.models[1];
  REQUIRE(m1.inputs.size() == 1);
  CHECK(m1.inputs[0].fused == "graph1/stream0");
  CHECK(m1.inputs[0].dtype == DType::Float16);
  CHECK(m1.outputs[0].fused == "graph1/O");
  CHECK(m1.outputs[0].shape == Shape{1, 3});
  CHECK(m1.separate.name == "model1.popef");
}

TEST_CASE("a wrong count of separate executables is refused") {
  CHECK(pairingError({{seedSeparate(0), "model0.popef"}}) ==
        "1 separate executable given, but fused.popef has 2 subgraphs: give one per subgraph, in "
        "index order");
  CHECK(pairingError({{seedSeparate(0), "a.popef"}, {seedSeparate(1), "b.popef"},
                      {seedSeparate(1), "c.popef"}}) ==
        "3 separate executables given, but fused.popef has 2 subgraphs: give one per subgraph, in "
        "index order");
}

TEST_CASE("a separate executable that does not match its subgraph names the file, anchor and fault") {
  // Given in the wrong order: model1 where subgraph 0 is.
  CHECK(pairingError({{seedSeparate(1), "model1.popef"}, {seedSeparate(0), "model0.popef"}}) ==
        "model1.popef does not match subgraph 0 of fused.popef: it has 1 input (X), the subgraph "
        "has 2 (graph0/X, graph0/Y)");

  // Another precision: the dtype differs.
  ModelOptions fp16 = seedOptions(0);
  fp16.precision = "fp16";
  CHECK(pairingError({{compiled(fp16), "model0_fp16.popef"}, {seedSeparate(1), "model1.popef"}}) ==
        "model0_fp16.popef does not match subgraph 0 of fused.popef: input X is float16 [1,2], but "
        "graph0/X is float32 [1,2]");

  // Another shape (the same elements, so the executable itself stays valid).
  auto reshaped = std::make_shared<Executable>(*seedSeparate(1));
  for (HostStream& stream : reshaped->streams)
    if (stream.anchor == "X") stream.shape = {1, 1, 1};
  CHECK(pairingError({{seedSeparate(0), "model0.popef"}, {reshaped, "model1_3d.popef"}}) ==
        "model1_3d.popef does not match subgraph 1 of fused.popef: input X is float16 [1,1,1], but "
        "graph1/X is float16 [1,1]");

  // Another input name, and another output name.
  CHECK(pairingError({{renamed(seedSeparate(0), "Y", "Z"), "model0.popef"},
                      {seedSeparate(1), "model1.popef"}}) ==
        "model0.popef does not match subgraph 0 of fused.popef: input 1 is Z, the subgraph's is "
        "graph0/Y");
  CHECK(pairingError({{renamed(seedSeparate(0), "O", "P"), "model0.popef"},
                      {seedSeparate(1), "model1.popef"}}) ==
        "model0.popef does not match subgraph 0 of fused.popef: output 0 is P, the subgraph's is "
        "graph0/O");
}

TEST_CASE("fused and single executables in the wrong places, and other targets, are refused") {
  CHECK(pairingError({{seedSeparate(0), "model0.popef"}, {seedFused(), "again.popef"}}) ==
        "again.popef is a fused executable: --separate takes single-model executables (ipusim "
        "compile), one per subgraph of fused.popef");
  CHECK(pairingError({{seedSeparate(0), "model0.popef"}}, {seedSeparate(0), "single.popef"}) ==
        "single.popef holds a single model, not a fused executable: --fused takes the output of "
        "ipusim fuse");
  ModelOptions ipu2 = seedOptions(0);
  ipu2.ipuVersion = "ipu2";
  CHECK(pairingError({{compiled(ipu2), "model0_ipu2.popef"}, {seedSeparate(1), "model1.popef"}}) ==
        "model0_ipu2.popef is compiled for a different target than fused.popef: target ipu2 "
        "against ipu21");
  auto slowLoad = std::make_shared<Executable>(*seedSeparate(0));
  slowLoad->target.loadFixedSeconds = 2;
  CHECK(pairingError({{slowLoad, "model0.popef"}, {seedSeparate(1), "model1.popef"}}) ==
        "model0.popef is compiled for a different target than fused.popef: fixed load overhead (s) "
        "2 against 0.5");
}
