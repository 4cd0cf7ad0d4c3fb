#include "sim/runtime/serving_simulation.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>

#include "sim/engine.h"
#include "sim/runtime/random_tensor.h"

namespace ipusim {

namespace {

using Tensors = std::map<std::string, HostTensor>;

// The same random tensors under the fused names and the model's own names: both strategies
// see identical inputs. Each tensor is seeded by the model's input name.
void makeInputs(const ModelPair& model, uint64_t seed, Tensors& fusedInputs, Tensors& separateInputs) {
  fusedInputs.clear();
  separateInputs.clear();
  for (const AnchorPair& anchor : model.inputs) {
    HostTensor tensor = randomTensor(anchor.dtype, anchor.shape, seed, anchor.separate);
    fusedInputs.emplace(anchor.fused, tensor);
    separateInputs.emplace(anchor.separate, std::move(tensor));
  }
}

std::string bytesText(const std::vector<uint8_t>& data, size_t first, size_t count) {
  std::string out;
  char hex[4];
  for (size_t i = first; i < first + count && i < data.size(); ++i) {
    std::snprintf(hex, sizeof hex, "%02x", data[i]);
    out += (out.empty() ? "" : " ") + std::string(hex);
  }
  return out;
}

std::string requestText(uint64_t id, const ModelPair& model) {
  return "request " + std::to_string(id) + " (model " + std::to_string(model.index) + ", " +
         model.sourceModel + ")";
}

void checkOutputsEqual(uint64_t id, const ModelPair& model, const RunResult& fused,
                       const RunResult& separate, const std::string& fusedName) {
  for (const AnchorPair& anchor : model.outputs) {
    const auto f = fused.outputs.find(anchor.fused);
    const auto s = separate.outputs.find(anchor.separate);
    if (f == fused.outputs.end() || s == separate.outputs.end())
      throw RuntimeError(requestText(id, model) + ": output " + anchor.separate + " is missing from the " +
                         (f == fused.outputs.end() ? "fused" : "separate") + " run");
    const std::vector<uint8_t>& a = f->second.data;
    const std::vector<uint8_t>& b = s->second.data;
    if (a == b) continue;
    const size_t elementBytes = dtypeSize(anchor.dtype);
    const size_t elements = static_cast<size_t>(elementCount(anchor.shape));
    size_t element = 0;
    while ((element + 1) * elementBytes <= std::min(a.size(), b.size()) &&
           std::equal(a.begin() + static_cast<ptrdiff_t>(element * elementBytes),
                      a.begin() + static_cast<ptrdiff_t>((element + 1) * elementBytes),
                      b.begin() + static_cast<ptrdiff_t>(element * elementBytes)))
      ++element;
    throw RuntimeError(requestText(id, model) + ": output " + anchor.separate +
                       " differs between the strategies at element " + std::to_string(element) +
                       " of " + std::to_string(elements) + " (" + std::string(dtypeName(anchor.dtype)) +
                       "): fused " + anchor.fused + " (" + fusedName + ") holds bytes " +
                       bytesText(a, element * elementBytes, elementBytes) + ", separate " +
                       anchor.separate + " (" + model.separate.name + ") holds " +
                       bytesText(b, element * elementBytes, elementBytes));
  }
}

}  // namespace

std::string_view strategyName(Strategy strategy) {
  return strategy == Strategy::Fused ? "fused" : "separate";
}

uint64_t ModelCosts::loadCycles(const Target& target, double fixedSeconds) const {
  return target.cyclesForSeconds(fixedSeconds) + target.hostTransferCycles(loadImageBytes) +
         loadProgramCycles;
}

uint64_t requestInputSeed(uint64_t seed, uint64_t requestId) {
  return mixSeed(seed ^ mixSeed(requestId));
}

struct ServingSimulation::Impl {
  ExecutablePairing pairing;
  RuntimeConfig config;
  ModelRunner fused;
  // One engine per separate executable, loaded once: a simulated load rewrites the whole
  // image, which costs host time but changes no result, since every run streams all its
  // inputs. The load's simulated cycles come from ModelCosts::loadCycles.
  std::vector<std::unique_ptr<ModelRunner>> separate;
  std::vector<ModelCosts> costs;

  Impl(ExecutablePairing p, RuntimeConfig c)
      : pairing(std::move(p)), config(c), fused(pairing.fused.executable, config) {
    for (const ModelPair& model : pairing.models)
      separate.push_back(std::make_unique<ModelRunner>(model.separate.executable, config));
    for (const ModelPair& model : pairing.models) costs.push_back(measure(model));
  }

  // One observed run of each strategy and one observed load of the model's executable.
  ModelCosts measure(const ModelPair& model) {
    ModelCosts cost;
    Tensors fusedInputs, separateInputs;
    makeInputs(model, requestInputSeed(0, 0), fusedInputs, separateInputs);
    CycleBreakdownObserver observer;
    fused.setObserver(&observer);
    fused.execute(model.index, fusedInputs);
    fused.setObserver(nullptr);
    cost.fusedRun = observer.cycles();

    ModelRunner& own = *separate[model.index];
    observer.reset();
    own.setObserver(&observer);
    own.execute(std::nullopt, separateInputs);
    own.setObserver(nullptr);
    cost.separateRun = observer.cycles();

    Engine engine(config.hostThreads);
    observer.reset();
    engine.setObserver(&observer);
    engine.load(model.separate.executable);
    cost.loadImageBytes = model.separate.executable->loadImageBytes();
    cost.loadProgramCycles = observer.cycles().total() - observer.cycles().load;
    return cost;
  }

  RunResult run(ModelRunner& runner, std::optional<int64_t> index, const Tensors& inputs,
                uint64_t id, const ModelPair& model, Strategy strategy, ServeObserver* observer) {
    try {
      if (!observer) return runner.execute(index, inputs);
      observer->beginRun(strategy, id, model.index);
      const auto start = std::chrono::steady_clock::now();
      RunResult result = runner.execute(index, inputs);
      const auto hostNs = std::chrono::duration_cast<std::chrono::nanoseconds>(
          std::chrono::steady_clock::now() - start);
      observer->endRun(strategy, id, model.index, result.execCycles,
                       static_cast<uint64_t>(hostNs.count()));
      return result;
    } catch (const RuntimeError& e) {
      throw RuntimeError(requestText(id, model) + ", " + std::string(strategyName(strategy)) +
                         " run: " + e.what());
    }
  }

  // Attaches a step observer to every engine for the lifetime of this object.
  struct ObserverScope {
    Impl& impl;
    ObserverScope(Impl& i, StepObserver* observer) : impl(i) { impl.setObservers(observer); }
    ~ObserverScope() { impl.setObservers(nullptr); }
  };
  void setObservers(StepObserver* observer) {
    fused.setObserver(observer);
    for (auto& runner : separate) runner->setObserver(observer);
  }

  ServedStream serve(const RequestStream& stream, const ServeOptions& options) {
    const auto start = std::chrono::steady_clock::now();
    ServedStream served;
    served.requests.reserve(stream.size());
    Tensors fusedInputs, separateInputs;
    ServeObserver* observer = options.observer;
    const ObserverScope scope(*this, observer ? observer->stepObserver() : nullptr);
    for (uint64_t id = 0; id < stream.size(); ++id) {
      const uint32_t m = stream.models[id];
      if (m >= pairing.models.size())
        throw RuntimeError("request " + std::to_string(id) + " asks for model " + std::to_string(m) +
                           ", but there are " + std::to_string(pairing.models.size()) + " models");
      const ModelPair& model = pairing.models[m];
      makeInputs(model, requestInputSeed(options.inputSeed, id), fusedInputs, separateInputs);
      const RunResult fusedResult =
          run(fused, model.index, fusedInputs, id, model, Strategy::Fused, observer);
      const RunResult separateResult =
          run(*separate[m], std::nullopt, separateInputs, id, model, Strategy::Separate, observer);
      checkOutputsEqual(id, model, fusedResult, separateResult, pairing.fused.name);
      served.outputsCompared += model.outputs.size();
      served.requests.push_back({m, fusedResult.execCycles, separateResult.execCycles});
      if (options.progress) options.progress(id + 1, stream.size());
    }
    served.hostSeconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return served;
  }
};

ServingSimulation::ServingSimulation(ExecutablePairing pairing, RuntimeConfig config)
    : impl_(std::make_unique<Impl>(std::move(pairing), config)) {}

ServingSimulation::~ServingSimulation() = default;

const ExecutablePairing& ServingSimulation::pairing() const { return impl_->pairing; }
const std::vector<ModelCosts>& ServingSimulation::modelCosts() const { return impl_->costs; }

ServedStream ServingSimulation::serve(const RequestStream& stream, const ServeOptions& options) {
  return impl_->serve(stream, options);
}

}  // namespace ipusim
