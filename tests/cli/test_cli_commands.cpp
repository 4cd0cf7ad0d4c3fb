// The `ipusim` command line end to end: help, fuse, compile, dump, run and their JSON.
#include "cli_support.h"

using namespace cli_test;

TEST_CASE("help, version and usage errors") {
  Result r = ipusim("--help");
  CHECK(r.code == 0);
  for (const char* command : {"fuse", "compile", "dump", "run", "help"}) {
    CAPTURE(command);
    CHECK(r.out.find(std::string("\n  ") + command + " ") != std::string::npos);
  }
  CHECK(ipusim("help").out == r.out);

  r = ipusim("--version");
  CHECK(r.code == 0);
  CHECK(r.out.rfind("ipusim ", 0) == 0);

  for (const char* command : {"fuse", "compile", "dump", "run"}) {
    CAPTURE(command);
    r = ipusim(std::string(command) + " --help");
    CHECK(r.code == 0);
    CHECK(r.out.rfind(std::string("usage: ipusim ") + command, 0) == 0);
    CHECK(r.out.find("--json") != std::string::npos);
    CHECK(ipusim(std::string("help ") + command).out == r.out);
  }

  r = ipusim("");
  CHECK(r.code == 2);
  CHECK(r.err.find("usage: ipusim") != std::string::npos);

  r = ipusim("frobnicate");
  CHECK(r.code == 2);
  CHECK(r.err == "ipusim: error: unknown command 'frobnicate' (see ipusim --help)\n");

  checkFails(ipusim("run"), "run", 2, {"popef", "required"});
  checkFails(ipusim("run x.popef --bogus"), "run", 2, {"bogus"});
  checkFails(ipusim("run x.popef --iterations 0"), "run", 2, {"--iterations must be at least 1"});
  checkFails(ipusim("run x.popef --iterations -3"), "run", 2, {"--iterations must be at least 1"});
  checkFails(ipusim("run x.popef --input graph0/X"), "run", 2, {"NAME=FILE"});
  checkFails(ipusim("run x.popef --threads 4097"), "run", 2,
             {"--threads must be between 0 (one per hardware thread) and 4096"});
  checkFails(ipusim("run x.popef --threads -1"), "run", 2,
             {"--threads must be between 0 (one per hardware thread) and 4096"});
  checkFails(ipusim("fuse"), "fuse", 2, {"config"});
  checkFails(ipusim("compile model0.onnx"), "compile", 2, {"output"});
  checkFails(ipusim("help frobnicate"), "help", 2, {"unknown command 'frobnicate'"});
}

TEST_CASE("fuse writes the seed pair and reports its anchors") {
  Result r = ipusim("fuse --config config.yaml --json fuse.json");
  REQUIRE_MESSAGE(r.code == 0, r.err);
  CHECK(r.err.empty());
  CHECK(r.out.find("wrote ./executable.popef") != std::string::npos);
  for (const char* anchor : {"index", "graph0/stream0", "graph0/stream1", "graph1/stream0",
                             "graph0/O", "graph1/O", "alias graph0/X"}) {
    CAPTURE(anchor);
    CHECK(r.out.find(anchor) != std::string::npos);
  }
  CHECK(fs::exists(workDir() / "executable.popef"));

  r = python(
      "d = json.load(open('fuse.json'))\n"
      "assert d['output'] == './executable.popef', d['output']\n"
      "assert d['target'] == 'ipu21' and d['fused'] is True\n"
      "names = [a['name'] for a in d['anchors']]\n"
      "assert set(names) == {'index', 'graph0/stream0', 'graph0/stream1', 'graph1/stream0', "
      "'graph0/O', 'graph1/O'}, names\n"
      "assert [s['index'] for s in d['subgraphs']] == [0, 1]\n"
      "assert d['subgraphs'][0]['aliases'] == {'graph0/X': 'graph0/stream0', 'graph0/Y': "
      "'graph0/stream1'}\n"
      "assert d['subgraphs'][1]['precision'] == 'fp16'\n");
  CHECK_MESSAGE(r.code == 0, r.err);

  // --json - replaces the text on stdout.
  r = ipusim("fuse --config config.yaml --json -");
  REQUIRE(r.code == 0);
  CHECK(r.out.rfind("{", 0) == 0);
}

TEST_CASE("dump lists anchors with dtype and shape, and the Opaques") {
  const std::string popef = seedPopef();
  Result r = ipusim("dump " + popef);
  REQUIRE_MESSAGE(r.code == 0, r.err);
  // One line per anchor naming its dtype and shape.
  const std::vector<std::vector<std::string>> anchors = {
      {"index", "uint8", "[1]"},
      {"graph0/stream0", "float32", "[1,2]"},
      {"graph0/stream1", "float32", "[1,2]"},
      {"graph1/stream0", "float16", "[1,1]"},
      {"graph0/O", "float32", "[2]"},
      {"graph1/O", "float16", "[1,3]"}};
  for (const auto& anchor : anchors) {
    CAPTURE(anchor[0]);
    bool found = false;
    size_t start = 0;
    while (start < r.out.size() && !found) {
      size_t end = r.out.find('\n', start);
      if (end == std::string::npos) end = r.out.size();
      const std::string line = r.out.substr(start, end - start);
      found = line.find("  " + anchor[0] + " ") != std::string::npos &&
              line.find(" " + anchor[1] + " ") != std::string::npos &&
              line.find(" " + anchor[2] + " ") != std::string::npos;
      start = end + 1;
    }
    CHECK(found);
  }
  CHECK(r.out.find("Opaques") != std::string::npos);
  CHECK(r.out.find("graph0/X -> graph0/stream0") != std::string::npos);

  r = ipusim("dump " + popef + " --json dump.json");
  REQUIRE(r.code == 0);
  CHECK(r.out.find("Opaques") != std::string::npos);
  CHECK(python("json.load(open('dump.json'))\n").code == 0);
  r = ipusim("dump " + popef + " --json -");
  REQUIRE(r.code == 0);
  CHECK(r.out.find("Opaques:") == std::string::npos);
  CHECK(r.out.rfind("{", 0) == 0);
}

TEST_CASE("run the seed pair from .npy files: outputs printed, written and in JSON") {
  const std::string popef = seedPopef();
  writeSeedInputs();

  Result r = ipusim("run " + popef +
                    " --index 0 --input graph0/X=x0.npy --input graph0/Y=y0.npy"
                    " --output-dir out0 --json run0.json --threads 2");
  REQUIRE_MESSAGE(r.code == 0, r.err);
  CHECK(r.err.empty());
  CHECK(r.out.find("graph0/O  float32 [2]  [3, 3]") != std::string::npos);
  CHECK(r.out.find("from x0.npy") != std::string::npos);
  CHECK(r.out.find("cycles per iteration") != std::string::npos);
  CHECK(r.out.find("written to out0/graph0_O.npy") != std::string::npos);
  r = python(
      "o = np.load('out0/graph0_O.npy')\n"
      "assert o.dtype == np.float32 and o.shape == (2,), (o.dtype, o.shape)\n"
      "assert (o == [3, 3]).all(), o\n"
      "assert sorted(os.listdir('out0')) == ['graph0_O.npy'], os.listdir('out0')\n"
      "d = json.load(open('run0.json'))\n"
      "for k in ('target', 'index', 'iterations', 'load_cycles', 'exec_cycles', 'exec_us', "
      "'host_seconds', 'outputs'):\n"
      "    assert k in d, k\n"
      "assert d['target'] == 'ipu21' and d['index'] == 0 and d['iterations'] == 1\n"
      "assert d['load_cycles'] > 0 and d['exec_cycles'] > 0 and d['exec_us'] > 0\n"
      "assert abs(d['exec_us'] - d['exec_cycles'] / d['clock_hz'] * 1e6) < 1e-6\n"
      "assert d['host_seconds'] >= 0\n"
      "assert d['host_seconds_fastest'] == d['host_seconds_first'] > 0, d  # one iteration\n"
      "assert list(d['outputs']) == ['graph0/O'], d['outputs']\n"
      "o = d['outputs']['graph0/O']\n"
      "assert o == {'dtype': 'float32', 'shape': [2], 'file': 'out0/graph0_O.npy', "
      "'values': [3, 3]}, o\n"
      "assert d['inputs']['graph0/stream0']['file'] == 'x0.npy'\n");
  CHECK_MESSAGE(r.code == 0, r.err);

  r = ipusim("run " + popef + " --index 1 --input graph1/stream0=x1.npy --output-dir out1 --json -");
  REQUIRE_MESSAGE(r.code == 0, r.err);
  writeText(workDir() / "run1.json", r.out);
  r = python(
      "o = np.load('out1/graph1_O.npy')\n"
      "assert o.dtype == np.float16 and o.shape == (1, 3), (o.dtype, o.shape)\n"
      "assert (o == np.array([[0, 1.5, 2.0]], dtype=np.float16)).all(), o\n"
      "d = json.load(open('run1.json'))\n"
      "assert d['index'] == 1 and d['precision'] == 'fp16'\n"
      "assert d['outputs']['graph1/O']['values'] == [0, 1.5, 2], d['outputs']\n"
      "assert d['outputs']['graph1/O']['dtype'] == 'float16'\n");
  CHECK_MESSAGE(r.code == 0, r.err);

  // float16 is printed as numbers.
  r = ipusim("run " + popef + " --input graph1/X=x1.npy");
  REQUIRE_MESSAGE(r.code == 0, r.err);
  CHECK(r.out.find("index: 1 ") != std::string::npos);  // inferred from the input
  CHECK(r.out.find("graph1/O  float16 [1,3]  [[0, 1.5, 2]]") != std::string::npos);
  CHECK(r.out.find("graph1/stream0 (as graph1/X)") != std::string::npos);
}

TEST_CASE("run: the index from an index input file, iterations, random inputs") {
  const std::string popef = seedPopef();
  writeSeedInputs();
  REQUIRE(python("np.save('idx1.npy', np.array([1], dtype=np.uint8))\n"
                 "np.save('idx0_i32.npy', np.array([0], dtype=np.int32))\n")
              .code == 0);

  Result r = ipusim("run " + popef + " --input index=idx1.npy --input graph1/X=x1.npy --json -");
  REQUIRE_MESSAGE(r.code == 0, r.err);
  CHECK(r.out.find("\"index\": 1") != std::string::npos);
  r = ipusim("run " + popef + " --input index=idx0_i32.npy --json -");
  REQUIRE_MESSAGE(r.code == 0, r.err);
  CHECK(r.out.find("\"index\": 0") != std::string::npos);

  r = ipusim("run " + popef + " --index 0 --iterations 3 --json it.json");
  REQUIRE_MESSAGE(r.code == 0, r.err);
  CHECK(r.out.find("3 iterations") != std::string::npos);
  r = python(
      "d = json.load(open('it.json'))\n"
      "assert d['iterations'] == 3\n"
      "assert d['exec_cycles_total'] == 3 * d['exec_cycles'], d\n"
      "assert d['inputs']['graph0/stream1']['source'] == 'random'\n"
      "# each iteration's host time lies within the whole; the fastest is of iterations 2 and 3\n"
      "assert 0 < d['host_seconds_first'] < d['host_seconds'], d\n"
      "assert 0 < d['host_seconds_fastest'] <= (d['host_seconds'] - d['host_seconds_first']) / 2, d\n");
  CHECK_MESSAGE(r.code == 0, r.err);

  // Random inputs are deterministic per seed, and differ between seeds.
  const std::string a = ipusim("run " + popef + " --index 0 --seed 7 --json -").out;
  const std::string b = ipusim("run " + popef + " --index 0 --seed 7 --threads 1 --json -").out;
  const std::string c = ipusim("run " + popef + " --index 0 --seed 8 --json -").out;
  auto values = [](const std::string& json) {
    const size_t at = json.find("\"values\"");
    return at == std::string::npos ? std::string() : json.substr(at, json.find(']', at) - at);
  };
  CHECK(!values(a).empty());
  CHECK(values(a) == values(b));
  CHECK(values(a) != values(c));
}

TEST_CASE("three models: int8 inputs and both int8 outputs through .npy") {
  Result r = ipusim("fuse --config config3.yaml");
  REQUIRE_MESSAGE(r.code == 0, r.err);
  REQUIRE(python("np.save('a.npy', np.array([[1, -2, 3], [100, -100, 50]], dtype=np.int8))\n"
                 "np.save('b.npy', np.array([10, -20, 30], dtype=np.int8))\n")
              .code == 0);
  r = ipusim("run executable3.popef --input graph2/A=a.npy --input graph2/B=b.npy --output-dir out3");
  REQUIRE_MESSAGE(r.code == 0, r.err);
  CHECK(r.out.find("executable: executable3.popef (ipu2, fused: 3 subgraphs)") != std::string::npos);
  CHECK(r.out.find("graph2/S  int8 [2,3]  [[11, -22, 33], [110, -120, 80]]") != std::string::npos);
  CHECK(r.out.find("graph2/R  int8 [2,3]  [[0, 18, 0], [90, 0, 20]]") != std::string::npos);
  r = python(
      "s = np.load('out3/graph2_S.npy'); rl = np.load('out3/graph2_R.npy')\n"
      "assert s.dtype == np.int8 and rl.dtype == np.int8\n"
      "assert (s == [[11, -22, 33], [110, -120, 80]]).all(), s\n"
      "assert (rl == [[0, 18, 0], [90, 0, 20]]).all(), rl\n");
  CHECK_MESSAGE(r.code == 0, r.err);
  checkFails(ipusim("run executable3.popef --index 3"), "run", 1,
             {"index 3 is out of range: this executable has 3 subgraphs (0..2)"});
}

TEST_CASE("compile: a single model keeps its names; dynamic shapes need an override") {
  writeSeedInputs();
  Result r = ipusim("compile model0.onnx -o model0.popef --json compile.json");
  REQUIRE_MESSAGE(r.code == 0, r.err);
  CHECK(r.out.find("wrote model0.popef") != std::string::npos);
  CHECK(python("d = json.load(open('compile.json'))\n"
               "assert d['output'] == 'model0.popef' and d['fused'] is False\n"
               "assert [a['name'] for a in d['anchors'] if a['direction'] == 'input'] == ['X', 'Y']\n")
            .code == 0);
  r = ipusim("run model0.popef --input X=x0.npy --input Y=y0.npy");
  REQUIRE_MESSAGE(r.code == 0, r.err);
  CHECK(r.out.find("single model") != std::string::npos);
  CHECK(r.out.find("O  float32 [2]  [3, 3]") != std::string::npos);
  checkFails(ipusim("run model0.popef --index 0"), "run", 1, {"single model", "no index"});

  checkFails(ipusim("compile dynamic.onnx -o dynamic.popef"), "compile", 1, {"X"});
  CHECK(!fs::exists(workDir() / "dynamic.popef"));
  r = ipusim("compile dynamic.onnx -o dynamic.popef --input-shape X=3,2 --ipu-version ipu2");
  REQUIRE_MESSAGE(r.code == 0, r.err);
  REQUIRE(python("np.save('d.npy', np.array([[1, -1], [-2, 2], [0.5, -0.5]], dtype=np.float32))\n")
              .code == 0);
  r = ipusim("run dynamic.popef --input X=d.npy --json -");
  REQUIRE_MESSAGE(r.code == 0, r.err);
  CHECK(r.out.find("\"target\": \"ipu2\"") != std::string::npos);
  writeText(workDir() / "dyn.json", r.out);
  CHECK(python("d = json.load(open('dyn.json'))\n"
               "assert d['outputs']['O']['values'] == [1, 0, 0, 2, 0.5, 0], d['outputs']\n")
            .code == 0);

  checkFails(ipusim("compile nothere.onnx -o x.popef"), "compile", 1, {"nothere.onnx"});
  checkFails(ipusim("compile model0.onnx -o x.popef --precision fp64"), "compile", 1, {"fp64"});
}
