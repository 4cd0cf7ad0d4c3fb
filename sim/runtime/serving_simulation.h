// Serves one request stream on a simulated device under both strategies of `ipusim compare`
// (docs/compare.md): every request runs for real on the fused executable (by index) and on
// its model's separate executable, from the same inputs, and the outputs must be equal bit
// for bit. What a request costs in simulated time is kept for strategy_timeline.h, which
// places the requests on the device's timeline.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "sim/runtime/cycle_breakdown.h"
#include "sim/runtime/executable_pairing.h"
#include "sim/runtime/model_runner.h"
#include "sim/runtime/request_stream.h"

namespace ipusim {

enum class Strategy : uint8_t {
  Fused,     // one executable, loaded once; each request selects its model by index
  Separate,  // one executable per model; a request for another model than the loaded one loads its own
};
std::string_view strategyName(Strategy strategy);

// What serving model m costs, measured once by full simulation.
struct ModelCosts {
  CycleBreakdown fusedRun;     // one run of the fused main with index m
  CycleBreakdown separateRun;  // one run of model m's own main
  uint64_t loadImageBytes = 0;     // of model m's own executable
  uint64_t loadProgramCycles = 0;  // its `load` program, run once the image is in place

  // Loading model m's executable with a fixed overhead of `fixedSeconds`, by the engine's
  // formula (docs/cost-model.md): cyclesForSeconds(fixedSeconds) +
  // hostTransferCycles(loadImageBytes) + loadProgramCycles.
  uint64_t loadCycles(const Target& target, double fixedSeconds) const;
};

struct ServedRequest {
  uint32_t model = 0;
  uint64_t fusedExecCycles = 0;     // this request's run of the fused main
  uint64_t separateExecCycles = 0;  // this request's run of its model's main
};

struct ServedStream {
  std::vector<ServedRequest> requests;
  uint64_t outputsCompared = 0;  // output tensors found equal under both strategies
  double hostSeconds = 0;        // wall-clock time of serve()
};

// Sees every run serve() makes, in order: each request's fused run, then its separate run.
// Steps go to stepObserver() (attached to every engine during serve()), bracketed by
// beginRun and endRun. Traces use it.
class ServeObserver {
 public:
  virtual ~ServeObserver() = default;
  virtual StepObserver* stepObserver() = 0;
  virtual void beginRun(Strategy strategy, uint64_t request, uint32_t model) = 0;
  virtual void endRun(Strategy strategy, uint64_t request, uint32_t model, uint64_t execCycles,
                      uint64_t hostNs) = 0;
};

struct ServeOptions {
  uint64_t inputSeed = 0;  // request r's inputs: randomTensor seeded with requestInputSeed(seed, r)
  // Called after each request with (requests done, total).
  std::function<void(uint64_t, uint64_t)> progress;
  ServeObserver* observer = nullptr;
};

// The seed of request `requestId`'s random inputs.
uint64_t requestInputSeed(uint64_t seed, uint64_t requestId);

class ServingSimulation {
 public:
  // Loads every executable once on its own engine (kept for the whole stream: see
  // docs/compare.md) and measures each model's costs.
  explicit ServingSimulation(ExecutablePairing pairing, RuntimeConfig config = {});
  ~ServingSimulation();

  const ExecutablePairing& pairing() const;
  const std::vector<ModelCosts>& modelCosts() const;

  // Runs every request under both strategies and checks the outputs are equal. Throws
  // RuntimeError naming the request, the model and the output on the first difference, and
  // naming the request and strategy when a run fails.
  ServedStream serve(const RequestStream& stream, const ServeOptions& options = {});

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace ipusim
