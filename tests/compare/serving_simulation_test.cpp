// Serving a stream under both strategies: outputs checked bit for bit, and every figure the
// timelines reuse (computed load cycles, per-request run cycles on engines kept loaded) equal
// to a full simulation.
#include <doctest/doctest.h>

#include "sim/engine.h"
#include "sim/runtime/random_tensor.h"
#include "sim/runtime/serving_simulation.h"
#include "tests/compare/compare_support.h"

using namespace compare_test;

namespace {

using Tensors = std::map<std::string, HostTensor>;

// Request `id`'s inputs as serve() makes them, under the fused or the separate names.
Tensors requestInputs(const ModelPair& model, uint64_t seed, uint64_t id, bool fusedNames) {
  Tensors inputs;
  for (const AnchorPair& anchor : model.inputs)
    inputs.emplace(fusedNames ? anchor.fused : anchor.separate,
                   randomTensor(anchor.dtype, anchor.shape, requestInputSeed(seed, id), anchor.separate));
  return inputs;
}

RequestStream alternate(uint64_t requests) {
  PatternOptions o;
  o.requests = requests;
  o.modelCount = 2;
  return generateRequests(o);
}

}  // namespace

TEST_CASE("every request's outputs are equal under both strategies") {
  ServingSimulation simulation(seedPairing(), RuntimeConfig{1});
  PatternOptions o;
  o.pattern = RequestPattern::Random;
  o.requests = 200;
  o.modelCount = 2;
  o.seed = 11;
  const RequestStream stream = generateRequests(o);
  const ServedStream served = simulation.serve(stream, ServeOptions{5, {}, nullptr});
  REQUIRE(served.requests.size() == 200);
  CHECK(served.outputsCompared == 200);  // one output per model
  for (size_t i = 0; i < 200; ++i) CHECK(served.requests[i].model == stream.models[i]);
}

TEST_CASE("a separate executable computing something else is caught at the request that shows it") {
  // model0_sub has model0's anchors but computes X - Y: the pairing check passes, the outputs
  // must not.
  ModelOptions sub = seedConfig().models[0];
  sub.modelPath = kModels + "/model0_sub.onnx";
  ExecutablePairing pairing = pairExecutables(
      {seedFused(), "fused.popef"},
      {{compiled(sub), "model0_sub.popef"}, {seedSeparate(1), "model1.popef"}});
  ServingSimulation simulation(std::move(pairing), RuntimeConfig{1});
  const RequestStream stream = parseRequestsCsv("1\n1\n0\n1\n", 2, "r.csv");
  std::string error;
  try {
    simulation.serve(stream);
  } catch (const RuntimeError& e) {
    error = e.what();
  }
  CAPTURE(error);
  CHECK(error.rfind("request 2 (model 0, " + kModels + "/model0.onnx): output O differs between the "
                    "strategies at element 0 of 2 (float32): fused graph0/O (fused.popef) holds bytes ",
                    0) == 0);
  CHECK(error.find(", separate O (model0_sub.popef) holds ") != std::string::npos);
}

TEST_CASE("computed load cycles equal what Engine::load takes, at any fixed overhead") {
  ServingSimulation simulation(seedPairing(), RuntimeConfig{1});
  const Target& target = simulation.pairing().target();
  for (size_t m = 0; m < 2; ++m) {
    CAPTURE(m);
    const ModelCosts& cost = simulation.modelCosts()[m];
    CHECK(cost.loadImageBytes == seedSeparate(m)->loadImageBytes());
    Engine engine(1);
    CHECK(cost.loadCycles(target, target.loadFixedSeconds) == engine.load(seedSeparate(m)));
    for (double fixedSeconds : {0.0, 1e-3, 0.1}) {
      auto exe = std::make_shared<Executable>(*seedSeparate(m));
      exe->target.loadFixedSeconds = fixedSeconds;
      CHECK(cost.loadCycles(target, fixedSeconds) == engine.load(exe));
    }
  }
  // The seed figures (ipu21): 0.5 s x 1.48607 GHz = 743,036,685 cycles, and the 284-byte image
  // of model0: round((1e-6 + 284 / 31.5e9) x 1.48607e9) = 1499.
  CHECK(target.cyclesForSeconds(0.5) == 743036685);
  CHECK(simulation.modelCosts()[0].loadImageBytes == 284);
  CHECK(simulation.modelCosts()[0].loadCycles(target, 0.5) == 743036685 + 1499);
}

TEST_CASE("each request's run cycles equal a fresh ModelRunner's, and the measured breakdowns add up") {
  ServingSimulation simulation(seedPairing(), RuntimeConfig{1});
  const ExecutablePairing& pairing = simulation.pairing();
  PatternOptions o;
  o.pattern = RequestPattern::Random;
  o.requests = 40;
  o.modelCount = 2;
  o.seed = 2;
  const RequestStream stream = generateRequests(o);
  const uint64_t seed = 9;
  const ServedStream served = simulation.serve(stream, ServeOptions{seed, {}, nullptr});
  // Engines kept loaded across requests, as serve() keeps them, against fresh ones.
  ModelRunner keptFused(seedFused(), RuntimeConfig{1});
  std::vector<std::unique_ptr<ModelRunner>> keptSeparate;
  for (const ModelPair& model : pairing.models)
    keptSeparate.push_back(std::make_unique<ModelRunner>(model.separate.executable, RuntimeConfig{1}));
  for (uint64_t id = 0; id < stream.size(); ++id) {
    CAPTURE(id);
    const ModelPair& model = pairing.models[stream.models[id]];
    ModelRunner fused(seedFused(), RuntimeConfig{1});
    const RunResult fusedRun = fused.execute(model.index, requestInputs(model, seed, id, true));
    ModelRunner separate(model.separate.executable, RuntimeConfig{1});
    const RunResult separateRun = separate.execute(std::nullopt, requestInputs(model, seed, id, false));
    CHECK(served.requests[id].fusedExecCycles == fusedRun.execCycles);
    CHECK(served.requests[id].separateExecCycles == separateRun.execCycles);
    // Keeping an engine loaded changes no output: nothing a run reads survives from the last.
    const RunResult keptFusedRun = keptFused.execute(model.index, requestInputs(model, seed, id, true));
    const RunResult keptSeparateRun =
        keptSeparate[model.index]->execute(std::nullopt, requestInputs(model, seed, id, false));
    for (const AnchorPair& out : model.outputs) {
      CHECK(keptFusedRun.outputs.at(out.fused).data == fusedRun.outputs.at(out.fused).data);
      CHECK(keptSeparateRun.outputs.at(out.separate).data == separateRun.outputs.at(out.separate).data);
    }
    const ModelCosts& cost = simulation.modelCosts()[model.index];
    CHECK(cost.fusedRun.total() == fusedRun.execCycles);
    CHECK(cost.separateRun.total() == separateRun.execCycles);
  }
  // The split of the seed runs (ipu21): a stream is round((1e-6 + bytes / 31.5e9) x clock) + a
  // 90-cycle host sync = 1576 for these few bytes; a switch is 90 + 100 + ceil(1 / 4) = 191.
  const ModelCosts& m0 = simulation.modelCosts()[0];
  CHECK(m0.fusedRun.stream == 4 * 1576);  // index, X, Y, O
  CHECK(m0.fusedRun.switching == 191);
  CHECK(m0.fusedRun.load == 0);
  CHECK(m0.separateRun.stream == 3 * 1576);  // X, Y, O
  CHECK(m0.separateRun.switching == 0);
  CHECK(m0.separateRun.execute == m0.fusedRun.execute);  // the same compute either way
  const ModelCosts& m1 = simulation.modelCosts()[1];
  CHECK(m1.fusedRun.stream == 3 * 1576);  // index, X, O
  CHECK(m1.separateRun.stream == 2 * 1576);
  CHECK(m1.separateRun.execute == m1.fusedRun.execute);
}

TEST_CASE("the run cycles do not depend on the inputs, and serving is deterministic") {
  ServingSimulation simulation(seedPairing(), RuntimeConfig{1});
  const RequestStream stream = alternate(20);
  const ServedStream a = simulation.serve(stream, ServeOptions{1, {}, nullptr});
  const ServedStream b = simulation.serve(stream, ServeOptions{2, {}, nullptr});
  for (size_t i = 0; i < stream.size(); ++i) {
    CHECK(a.requests[i].fusedExecCycles == b.requests[i].fusedExecCycles);
    CHECK(a.requests[i].separateExecCycles == b.requests[i].separateExecCycles);
  }
  uint64_t progressCalls = 0, lastDone = 0;
  ServeOptions options;
  options.progress = [&](uint64_t done, uint64_t total) {
    ++progressCalls;
    lastDone = done;
    CHECK(total == 20);
  };
  simulation.serve(stream, options);
  CHECK(progressCalls == 20);
  CHECK(lastDone == 20);
}
