// The engine's step budget (Engine::setMaxCycles, `ipusim run --max-cycles`): a runaway
// program ends with one clear SimError instead of simulating for ever.
#include <doctest/doctest.h>

#include <memory>

#include "sim/engine.h"
#include "sim/error.h"
#include "sim/target.h"
#include "tests/sim/sim_test_support.h"

using namespace ipusim;
using namespace ipusim::test;

namespace {

// main = Repeat(count) { Sync }: each iteration costs the target's sync cycles (90).
std::shared_ptr<Executable> repeatedSync(uint64_t count) {
  ExecutableBuilder b(targetPreset("ipu21"));
  b.exe.main = Program::repeat(count, Program::sync());
  return std::make_shared<Executable>(b.exe);
}

}  // namespace

TEST_CASE("step budget: the default bounds every run, and 0 means none") {
  Engine engine(1);
  CHECK(engine.maxCycles() == kDefaultMaxCycles);
  CHECK(kDefaultMaxCycles == 10'000'000'000ull);
  engine.setMaxCycles(0);
  CHECK(engine.maxCycles() == 0);
  engine.load(repeatedSync(1000));
  HostBuffers inputs, outputs;
  CHECK(engine.run(inputs, outputs) == 90'000);
}

TEST_CASE("step budget: a runaway Repeat ends with a clear error naming the budget") {
  // The largest Repeat verifyExecutable allows: 10^9 syncs, 9 x 10^10 cycles.
  Engine engine(1);
  engine.setMaxCycles(1'000'000);
  engine.load(repeatedSync(1'000'000'000));
  HostBuffers inputs, outputs;
  CHECK_THROWS_WITH_AS(engine.run(inputs, outputs),
                       "program main ran past its budget of 1000000 cycles (--max-cycles) at sync "
                       "step 'sync': a runaway program, or raise the budget",
                       SimError);
  // The budget is per run: a program within it runs after one that was stopped.
  engine.load(repeatedSync(100));
  CHECK(engine.run(inputs, outputs) == 9'000);
  // Exactly at the budget is allowed; one cycle past it is not.
  engine.setMaxCycles(9'000);
  CHECK(engine.run(inputs, outputs) == 9'000);
  engine.setMaxCycles(8'999);
  CHECK_THROWS_AS(engine.run(inputs, outputs), SimError);
}

TEST_CASE("step budget: the load program is bounded, not the fixed load overhead") {
  ExecutableBuilder b(targetPreset("ipu21"));
  b.exe.load = Program::repeat(1'000'000'000, Program::sync());
  Engine engine(1);
  engine.setMaxCycles(10'000);
  CHECK_THROWS_WITH_AS(engine.load(std::make_shared<Executable>(b.exe)),
                       "program load ran past its budget of 10000 cycles (--max-cycles) at sync "
                       "step 'sync': a runaway program, or raise the budget",
                       SimError);
  CHECK(engine.loaded() == nullptr);
  // The fixed overhead (0.5 s, 7.5 x 10^8 cycles) alone is far above this budget, yet a
  // load whose program fits runs.
  ExecutableBuilder small(targetPreset("ipu21"));
  small.exe.load = Program::sequence({Program::sync()});
  CHECK(engine.load(std::make_shared<Executable>(small.exe)) > 10'000);
}

TEST_CASE("resource bounds: deep nesting and huge repeat counts are refused by verification") {
  ExecutableBuilder b(targetPreset("ipu21"));
  Program nested = Program::sync();
  for (int i = 0; i < 70; ++i) nested = Program::sequence({std::move(nested)});
  b.exe.main = nested;
  CHECK_THROWS_WITH_AS(verifyExecutable(b.exe), "program main: nested deeper than 64", SimError);
  b.exe.main = Program::repeat(1'000'000, Program::repeat(1'001, Program::sync()));
  CHECK_THROWS_WITH_AS(verifyExecutable(b.exe),
                       "program main: Repeat runs more than 1000000000 iterations", SimError);
  b.exe.main = Program::repeat(1'000'000'001, Program::sync());
  CHECK_THROWS_WITH_AS(verifyExecutable(b.exe),
                       "program main: Repeat runs more than 1000000000 iterations", SimError);
}
