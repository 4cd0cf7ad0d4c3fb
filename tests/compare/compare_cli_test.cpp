// `ipusim compare` end to end: the table, the JSON contract, the trace, and one clear line
// for every kind of bad input.
#include <doctest/doctest.h>

#include "tests/cli/cli_support.h"

using namespace cli_test;

namespace {

// The seed pair as files: the fused executable and each model compiled alone with the
// options of config.yaml, plus model0_sub (model0's anchors, X - Y instead of X + Y).
void buildSeedFiles() {
  static const bool built = [] {
    seedPopef();
    for (const char* args :
         {"compile model0.onnx -o model0.popef --input-shape X=1,2 Y=1,2 --precision fp32",
          "compile model1.onnx -o model1.popef --input-shape X=1,1 --precision fp16",
          "compile model0_sub.onnx -o model0_sub.popef --input-shape X=1,2 Y=1,2"}) {
      Result r = ipusim(args);
      REQUIRE_MESSAGE(r.code == 0, r.err);
    }
    return true;
  }();
  (void)built;
}

}  // namespace

TEST_CASE("compare --config prints the table; quiet on stderr when piped") {
  Result r = ipusim("compare --config config.yaml --requests 200");
  CAPTURE(r.err);
  REQUIRE(r.code == 0);
  CHECK(r.err.empty());
  for (const char* part :
       {"requests: 200, pattern alternate, closed loop", "start: warm",
        "outputs: all 200 outputs of the 200 requests are equal under both strategies, bit for bit",
        "mean latency (us)", "p99 latency (us)", "throughput (requests/s)", "separate/fused",
        "fused/separate", "one switch, in cycles", "to model 1"}) {
    CAPTURE(part);
    CHECK(r.out.find(part) != std::string::npos);
  }
}

TEST_CASE("compare --json: the contract keys, and the ratios under alternate and burst") {
  Result a = ipusim("compare --config config.yaml --requests 1000 --json alternate.json "
                    "--sweep-load-overhead 0,1ms,10ms,100ms");
  REQUIRE_MESSAGE(a.code == 0, a.err);
  Result b = ipusim("compare --config config.yaml --requests 1000 --pattern burst --burst-length 100 "
                    "--json - --sweep-load-overhead 0.5");
  REQUIRE_MESSAGE(b.code == 0, b.err);
  writeText(workDir() / "burst.json", b.out);
  Result check = python(R"(
a = json.load(open("alternate.json"))
b = json.load(open("burst.json"))
for d in (a, b):
    for s in ("fused", "separate"):
        st = d["strategies"][s]
        assert sorted(st) == sorted(["requests", "switches", "loads", "load_us", "mean_us", "p50_us",
                                     "p90_us", "p99_us", "max_us", "throughput_rps", "span_us"]), st
        assert st["requests"] == 1000
    assert sorted(d["ratios"]) == ["mean_latency", "p99_latency", "throughput"]
    for key in ("pattern", "seed", "sweep", "switch_breakdown", "models", "target", "clock_hz",
                "load_fixed_seconds", "outputs_compared", "arrivals", "start"):
        assert key in d, key
assert a["pattern"] == "alternate" and a["burst_length"] is None and a["arrivals"] == "closed-loop"
assert b["pattern"] == "burst" and b["burst_length"] == 100
assert a["strategies"]["separate"]["loads"] == 999 and b["strategies"]["separate"]["loads"] == 9
assert a["strategies"]["fused"]["loads"] == 0 and a["strategies"]["fused"]["switches"] == 999
# 0.5 s per load against runs of about 4 us.
assert 1.2e5 < a["ratios"]["mean_latency"] < 1.3e5, a["ratios"]
# 9 loads over 1000 requests: about 0.009 x 0.5 s / 4 us = 1100.
assert 1000 < b["ratios"]["mean_latency"] < 1300, b["ratios"]
assert [s["load_fixed_seconds"] for s in a["sweep"]] == [0, 0.001, 0.01, 0.1]
ratios = [s["ratios"]["mean_latency"] for s in a["sweep"]]
assert ratios[0] < 1 < ratios[1] < ratios[2] < ratios[3] < a["ratios"]["mean_latency"], ratios
# The sweep at the default overhead re-times to the same figures.
assert b["sweep"][0]["ratios"] == b["ratios"], (b["sweep"][0]["ratios"], b["ratios"])
sw = a["switch_breakdown"][0]
assert sw["fused"]["switch_cycles"] == 191 and sw["fused"]["load_cycles"] == 0
assert sw["separate"]["load_cycles"] == sw["separate"]["load_fixed_cycles"] + \
    sw["separate"]["load_transfer_cycles"] + sw["separate"]["load_program_cycles"]
assert sw["separate"]["load_fixed_cycles"] == 743036685
print("ok")
)");
  CHECK_MESSAGE(check.code == 0, check.err);
}

TEST_CASE("compare --fused --separate from files, and the faults of separate files") {
  buildSeedFiles();
  Result ok = ipusim("compare --fused executable.popef --separate model0.popef model1.popef "
                     "--pattern random --mix 0.7,0.3 --requests 300 --seed 4");
  CAPTURE(ok.err);
  CHECK(ok.code == 0);
  CHECK(ok.out.find("pattern random, mix 0.700,0.300") != std::string::npos);
  CHECK(ok.out.find("all 300 outputs of the 300 requests are equal") != std::string::npos);

  checkFails(ipusim("compare --fused executable.popef --separate model1.popef model0.popef"),
             "compare", 1,
             {"model1.popef does not match subgraph 0 of executable.popef: it has 1 input (X), the "
              "subgraph has 2 (graph0/X, graph0/Y)"});
  checkFails(ipusim("compare --fused executable.popef --separate model0.popef"), "compare", 1,
             {"1 separate executable given, but executable.popef has 2 subgraphs"});
  checkFails(ipusim("compare --fused executable.popef --separate model0_sub.popef model1.popef"),
             "compare", 1,
             {"request 0 (model 0, ", "output O differs between the strategies at element 0 of 2 "
              "(float32): fused graph0/O (executable.popef)", "separate O (model0_sub.popef)"});
  checkFails(ipusim("compare --fused model0.popef --separate model0.popef"), "compare", 1,
             {"model0.popef holds a single model, not a fused executable"});
}

TEST_CASE("compare --requests-file replays a trace; bad files name the line") {
  writeText(workDir() / "replay.csv", "# from a log\nmodel,arrival_us\n0,0\n1,0\n1,5\n0,1000000\n");
  Result r = ipusim("compare --config config.yaml --requests-file replay.csv --json -");
  REQUIRE_MESSAGE(r.code == 0, r.err);
  CHECK(r.out.find("\"pattern\": \"file\"") != std::string::npos);
  CHECK(r.out.find("\"arrivals\": \"file\"") != std::string::npos);
  CHECK(r.out.find("\"requests\": 4") != std::string::npos);

  writeText(workDir() / "empty.csv", "# nothing\n\n");
  checkFails(ipusim("compare --config config.yaml --requests-file empty.csv"), "compare", 1,
             {"empty.csv holds no requests"});
  writeText(workDir() / "bad.csv", "0\nx\n");
  checkFails(ipusim("compare --config config.yaml --requests-file bad.csv"), "compare", 1,
             {"bad.csv line 2: 'x' is not a model index"});
  writeText(workDir() / "range.csv", "0\n1\n2\n");
  checkFails(ipusim("compare --config config.yaml --requests-file range.csv"), "compare", 1,
             {"range.csv line 3: model 2 is out of range: there are 2 models (0..1)"});
  checkFails(ipusim("compare --config config.yaml --requests-file replay.csv --rate 100"), "compare", 1,
             {"replay.csv gives arrival times: drop --rate, or the times"});
  checkFails(ipusim("compare --config config.yaml --requests-file missing.csv"), "compare", 1,
             {"cannot read requests file missing.csv"});
}

TEST_CASE("compare: bad flags are one line each") {
  checkFails(ipusim("compare --config config.yaml --pattern random --mix 0.5,0.4"), "compare", 1,
             {"--mix weights sum to 0.9, not 1"});
  checkFails(ipusim("compare --config config.yaml --pattern random --mix 1"), "compare", 1,
             {"--mix has 1 weight but there are 2 models"});
  checkFails(ipusim("compare --config config.yaml --requests 0"), "compare", 2,
             {"--requests must be at least 1"});
  checkFails(ipusim("compare --config config.yaml --pattern zigzag"), "compare", 2,
             {"--pattern: unknown pattern 'zigzag' (known: alternate, random, burst)"});
  checkFails(ipusim("compare --config config.yaml --mix 0.5,0.5"), "compare", 2,
             {"--mix applies to --pattern random only"});
  checkFails(ipusim("compare --config config.yaml --burst-length 5"), "compare", 2,
             {"--burst-length applies to --pattern burst only"});
  checkFails(ipusim("compare --config config.yaml --requests-file r.csv --pattern burst"), "compare", 2,
             {"--requests-file gives the requests: drop --pattern"});
  checkFails(ipusim("compare --requests 5"), "compare", 2,
             {"give either --config, or --fused with --separate"});
  checkFails(ipusim("compare --fused executable.popef"), "compare", 2,
             {"--fused needs --separate: one .popef per subgraph"});
  checkFails(ipusim("compare --config config.yaml --sweep-load-overhead 0,10x"), "compare", 2,
             {"--sweep-load-overhead: '10x' is not a duration"});
  checkFails(ipusim("compare --config config.yaml --rate -5"), "compare", 2,
             {"--rate must be a positive number of requests per second"});
  checkFails(ipusim("compare --config config.yaml --trace no-such-dir/out.h5"), "compare", 1, {"no-such-dir"});
}

TEST_CASE("compare --trace writes /requests and /runs, and latency.py draws them") {
  Result r = ipusim("compare --config config.yaml --pattern burst --burst-length 10 --requests 100 "
                    "--trace compare.h5");
  REQUIRE_MESSAGE(r.code == 0, r.err);
  Result check = python(R"(
import h5py
f = h5py.File("compare.h5", "r")
req = f["requests"][()]
runs = f["runs"][()]
assert len(req) == 200 and len(runs) == 200, (len(req), len(runs))
strategies = [s.decode() if isinstance(s, bytes) else s for s in req["strategy"]]
assert strategies[:100] == ["fused"] * 100 and strategies[100:] == ["separate"] * 100
sep = req[100:]
assert int(sep["switched"].sum()) == 9
assert list(runs["index"][0:20:2]) == [0] * 10 and list(runs["index"][1::2]) == [-1] * 100
# A separate run's load_cycles is the reload before it: request 10 is the first of model 1.
assert runs["load_cycles"][2 * 10 + 1] > 7e8 and runs["load_cycles"][2 * 9 + 1] == 0
assert abs(sep["latency_us"][10] - (sep["finish_us"][10] - sep["arrival_us"][10])) < 1e-6
print("ok")
)");
  CHECK_MESSAGE(check.code == 0, check.err);
  Result draw = shell("/usr/bin/python3 " + quote(std::string(IPUSIM_SOURCE_DIR) +
                                                  "/scripts/analysis/latency.py") +
                      " compare.h5 -o latency.png");
  CHECK_MESSAGE(draw.code == 0, draw.err);
  CHECK(draw.out.find("separate: 100 requests") != std::string::npos);
  CHECK(fs::file_size(workDir() / "latency.png") > 0);
}
