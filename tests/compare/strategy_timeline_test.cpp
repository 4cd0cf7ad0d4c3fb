// The timelines of both strategies against the cost formulas, with figures measured
// independently (fresh engines), and the ratios the headline experiment must show: far above
// 1 when every request switches models, shrinking toward 1 as bursts grow, and below 1 when
// a load costs only its image.
#include <doctest/doctest.h>

#include "sim/engine.h"
#include "sim/runtime/random_tensor.h"
#include "sim/runtime/strategy_timeline.h"
#include "tests/compare/compare_support.h"

using namespace compare_test;

namespace {

// Per model, measured without the serving simulation: one run on a fresh engine of each
// executable (F: fused, S: separate) and a fresh Engine::load of the separate one (L).
struct IndependentFigures {
  std::vector<double> fusedRun, separateRun, load;
};

IndependentFigures measureIndependently(const ExecutablePairing& pairing) {
  IndependentFigures f;
  for (const ModelPair& model : pairing.models) {
    std::map<std::string, HostTensor> fusedInputs, separateInputs;
    for (const AnchorPair& a : model.inputs) {
      fusedInputs.emplace(a.fused, randomTensor(a.dtype, a.shape, 1, a.separate));
      separateInputs.emplace(a.separate, randomTensor(a.dtype, a.shape, 1, a.separate));
    }
    ModelRunner fused(pairing.fused.executable, RuntimeConfig{1});
    f.fusedRun.push_back(static_cast<double>(fused.execute(model.index, fusedInputs).execCycles));
    ModelRunner separate(model.separate.executable, RuntimeConfig{1});
    f.separateRun.push_back(
        static_cast<double>(separate.execute(std::nullopt, separateInputs).execCycles));
    Engine engine(1);
    f.load.push_back(static_cast<double>(engine.load(model.separate.executable)));
  }
  return f;
}

struct Served {
  ServingSimulation simulation{seedPairing(), RuntimeConfig{1}};
  const Target& target() const { return simulation.pairing().target(); }
  StrategyComparison compare(const RequestStream& stream, double fixedSeconds) {
    const ServedStream served = simulation.serve(stream);
    return compareStrategies(stream, served, simulation.modelCosts(), target(), fixedSeconds);
  }
};

Served& seedServed() {
  static Served served;
  return served;
}

RequestStream pattern(RequestPattern p, uint64_t requests, uint64_t burstLength = 1) {
  PatternOptions o;
  o.pattern = p;
  o.requests = requests;
  o.modelCount = 2;
  o.burstLength = burstLength;
  return generateRequests(o);
}

double ratioOfMeans(double separateCycles, double fusedCycles) { return separateCycles / fusedCycles; }

}  // namespace

TEST_CASE("alternate: every request but the first reloads, so separate is about 10^5 times slower") {
  Served& s = seedServed();
  const IndependentFigures f = measureIndependently(s.simulation.pairing());
  const uint64_t n = 1000;
  const StrategyComparison c = s.compare(pattern(RequestPattern::Alternate, n), 0.5);

  // Closed loop: latency = the request's own service. Fused: n/2 runs of each model.
  // Separate: request 0 (model 0) is warm; the n/2 requests for model 1 load it, and the
  // n/2 - 1 later requests for model 0 load model 0.
  const double fusedMean = (f.fusedRun[0] + f.fusedRun[1]) / 2;
  const double separateMean =
      (n / 2 * (f.separateRun[0] + f.separateRun[1]) + n / 2 * f.load[1] + (n / 2 - 1) * f.load[0]) / n;
  CHECK(c.fused.latencyUs.mean == doctest::Approx(s.target().microseconds(1) * fusedMean).epsilon(1e-12));
  CHECK(c.separate.latencyUs.mean ==
        doctest::Approx(s.target().microseconds(1) * separateMean).epsilon(1e-12));
  CHECK(c.ratios.meanLatency == doctest::Approx(ratioOfMeans(separateMean, fusedMean)).epsilon(1e-9));
  CHECK(c.fused.switches == n - 1);
  CHECK(c.separate.switches == n - 1);
  CHECK(c.fused.loads == 0);
  CHECK(c.separate.loads == n - 1);
  CHECK(c.separate.loadUs == doctest::Approx(s.target().microseconds(1) *
                                              (n / 2 * f.load[1] + (n / 2 - 1) * f.load[0]))
                                 .epsilon(1e-12));
  // 0.5 s of fixed overhead against runs of 3.4 to 4.5 us.
  CHECK(c.ratios.meanLatency > 1.2e5);
  CHECK(c.ratios.meanLatency < 1.3e5);
  CHECK(c.ratios.p99Latency > 1e5);
  // Closed loop: throughput is requests over the summed service times, so its ratio is the
  // mean latency's.
  CHECK(c.ratios.throughput == doctest::Approx(c.ratios.meanLatency).epsilon(1e-9));
  CHECK(c.fused.throughputRps ==
        doctest::Approx(1e6 / (s.target().microseconds(1) * fusedMean)).epsilon(1e-9));
}

TEST_CASE("burst: longer bursts amortise the loads and the ratio shrinks toward 1") {
  Served& s = seedServed();
  const IndependentFigures f = measureIndependently(s.simulation.pairing());
  const uint64_t n = 4000;
  // Bursts of 1000: 0 x1000, 1 x1000, 0 x1000, 1 x1000: loads of model 1, 0 and 1.
  const StrategyComparison c1000 = s.compare(pattern(RequestPattern::Burst, n, 1000), 0.5);
  const double fusedMean = (f.fusedRun[0] + f.fusedRun[1]) / 2;
  const double separateMean =
      (n / 2 * (f.separateRun[0] + f.separateRun[1]) + 2 * f.load[1] + f.load[0]) / n;
  CHECK(c1000.separate.loads == 3);
  CHECK(c1000.ratios.meanLatency == doctest::Approx(separateMean / fusedMean).epsilon(1e-9));
  // 3 loads of 0.5 s over 4000 requests of about 4 us: about 95.
  CHECK(c1000.ratios.meanLatency > 90);
  CHECK(c1000.ratios.meanLatency < 100);

  const double alternate = s.compare(pattern(RequestPattern::Alternate, n), 0.5).ratios.meanLatency;
  const double burst10 = s.compare(pattern(RequestPattern::Burst, n, 10), 0.5).ratios.meanLatency;
  const double burst100 = s.compare(pattern(RequestPattern::Burst, n, 100), 0.5).ratios.meanLatency;
  CHECK(alternate > burst10);
  CHECK(burst10 > burst100);
  CHECK(burst100 > c1000.ratios.meanLatency);
  CHECK(c1000.ratios.meanLatency > 1);
  // The loads dominate: the ratios go as the load counts, 3999 (alternate), 399 (bursts of
  // 10) and 39 (bursts of 100), within the runs' share of a percent.
  CHECK(alternate / burst10 == doctest::Approx(3999.0 / 399).epsilon(0.01));
  CHECK(burst10 / burst100 == doctest::Approx(399.0 / 39).epsilon(0.01));

  // With bursts of 100, 1% of the requests reload: below p99's rank, so p99 sees none of them
  // and the separate p99 is a plain run, faster than the fused one.
  const StrategyComparison c100 = s.compare(pattern(RequestPattern::Burst, 10000, 100), 0.5);
  CHECK(c100.separate.loads == 99);
  CHECK(c100.ratios.p99Latency < 1);
  CHECK(c100.ratios.meanLatency > 1000);
}

TEST_CASE("with no fixed load overhead the fused executable is the slower one") {
  Served& s = seedServed();
  const IndependentFigures f = measureIndependently(s.simulation.pairing());
  const uint64_t n = 1000;
  const StrategyComparison c = s.compare(pattern(RequestPattern::Alternate, n), 0.0);
  // A load is then its image over the host link (about 1 us), less than what the fused
  // executable spends on every request streaming the index and switching.
  const Target& t = s.target();
  const double load0 = static_cast<double>(t.hostTransferCycles(seedSeparate(0)->loadImageBytes()));
  const double load1 = static_cast<double>(t.hostTransferCycles(seedSeparate(1)->loadImageBytes()));
  const double separateMean =
      (n / 2 * (f.separateRun[0] + f.separateRun[1]) + n / 2 * load1 + (n / 2 - 1) * load0) / n;
  const double fusedMean = (f.fusedRun[0] + f.fusedRun[1]) / 2;
  CHECK(c.ratios.meanLatency == doctest::Approx(separateMean / fusedMean).epsilon(1e-9));
  CHECK(c.ratios.meanLatency < 1);
  CHECK(c.ratios.meanLatency > 0.9);
}

TEST_CASE("given arrivals queue on the one device, first in first out") {
  Served& s = seedServed();
  const IndependentFigures f = measureIndependently(s.simulation.pairing());
  // Three requests arriving together at 0, then one long after the others are done.
  const RequestStream stream = parseRequestsCsv("0,0\n1,0\n0,0\n1,2000000\n", 2, "r.csv");
  const ServedStream served = s.simulation.serve(stream);
  const Target& t = s.target();
  const StrategyTimeline fused = timeStrategy(Strategy::Fused, stream, served, s.simulation.modelCosts(), t, 0.5);
  const auto F0 = static_cast<uint64_t>(f.fusedRun[0]), F1 = static_cast<uint64_t>(f.fusedRun[1]);
  REQUIRE(fused.requests.size() == 4);
  CHECK(fused.requests[0].startCycle == 0);
  CHECK(fused.requests[1].startCycle == F0);  // waited for request 0
  CHECK(fused.requests[1].latencyCycles() == F0 + F1);
  CHECK(fused.requests[2].finishCycle == 2 * F0 + F1);
  CHECK(fused.requests[3].arrivalCycle == t.cyclesForSeconds(2.0));
  CHECK(fused.requests[3].startCycle == t.cyclesForSeconds(2.0));  // the device was idle
  CHECK(fused.requests[3].latencyCycles() == F1);

  const StrategyTimeline separate =
      timeStrategy(Strategy::Separate, stream, served, s.simulation.modelCosts(), t, 0.5);
  const auto S0 = static_cast<uint64_t>(f.separateRun[0]), S1 = static_cast<uint64_t>(f.separateRun[1]);
  const auto L0 = static_cast<uint64_t>(f.load[0]), L1 = static_cast<uint64_t>(f.load[1]);
  CHECK(separate.requests[0].loadCycles == 0);  // warm: model 0 is loaded
  CHECK(separate.requests[1].loadCycles == L1);
  CHECK(separate.requests[2].finishCycle == S0 + L1 + S1 + L0 + S0);
  // Request 3 arrives at 2 s, after request 2 finished (about 1 s in, after two loads of
  // 0.5 s): it starts on arrival and reloads model 1.
  CHECK(separate.requests[3].startCycle == t.cyclesForSeconds(2.0));
  CHECK(separate.requests[3].latencyCycles() == L1 + S1);
  CHECK(separate.loads == 3);

  const StrategyReport report = summarizeTimeline(separate, t);
  CHECK(report.spanUs == doctest::Approx(t.microseconds(t.cyclesForSeconds(2.0) + L1 + S1)).epsilon(1e-12));
  CHECK(report.throughputRps == doctest::Approx(4 / (report.spanUs * 1e-6)).epsilon(1e-12));
}
