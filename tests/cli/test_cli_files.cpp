// Tensor files in and out of `ipusim run`: every .npy format version numpy writes, ONNX
// TensorProto .pb with raw_data and typed fields, and .npy outputs numpy reads back.
#include "cli_support.h"

using namespace cli_test;

TEST_CASE(".npy format versions 1.0, 2.0 and 3.0 are read; outputs are .npy 1.0") {
  const std::string popef = seedPopef();
  Result r = python(
      "from numpy.lib import format as f\n"
      "for v in ((1, 0), (2, 0), (3, 0)):\n"
      "    with open('x_v%d.npy' % v[0], 'wb') as out:\n"
      "        f.write_array(out, np.array([[0.5, -1.25]], dtype=np.float32), version=v)\n"
      "np.save('y.npy', np.array([[0.25, 4]], dtype=np.float32))\n");
  REQUIRE_MESSAGE(r.code == 0, r.err);
  for (int version : {1, 2, 3}) {
    CAPTURE(version);
    r = ipusim("run " + popef + " --index 0 --input graph0/X=x_v" + std::to_string(version) +
               ".npy --input graph0/Y=y.npy --output-dir out_v");
    REQUIRE_MESSAGE(r.code == 0, r.err);
    CHECK(r.out.find("[0.75, 2.75]") != std::string::npos);
  }
  r = python(
      "from numpy.lib import format as f\n"
      "with open('out_v/graph0_O.npy', 'rb') as fh:\n"
      "    assert f.read_magic(fh) == (1, 0)\n"
      "    header = fh.read(2)\n"
      "    assert (10 + header[0] + 256 * header[1]) % 64 == 0\n"
      "o = np.load('out_v/graph0_O.npy')\n"
      "assert o.dtype == np.float32 and (o == [0.75, 2.75]).all(), o\n"
      "assert not [n for n in os.listdir('out_v') if '.tmp' in n], os.listdir('out_v')\n");
  CHECK_MESSAGE(r.code == 0, r.err);
}

TEST_CASE("ONNX TensorProto .pb inputs: raw_data and typed fields, float16 as int32 bits") {
  const std::string popef = seedPopef();
  Result r = python(
      "from onnx import TensorProto, helper, numpy_helper\n"
      "def save(t, name): open(name, 'wb').write(t.SerializeToString())\n"
      "save(numpy_helper.from_array(np.array([[1, 2]], dtype=np.float32), 'X'), 'x_raw.pb')\n"
      "save(helper.make_tensor('Y', TensorProto.FLOAT, [1, 2], [10.0, 20.0]), 'y_typed.pb')\n"
      "t = helper.make_tensor('X', TensorProto.FLOAT16, [1, 1], np.array([-3.5], dtype=np.float16))\n"
      "assert not t.raw_data and len(t.int32_data) == 1\n"
      "save(t, 'x16_typed.pb')\n"
      "save(numpy_helper.from_array(np.array([[0.25]], dtype=np.float16), 'X'), 'x16_raw.pb')\n"
      "save(helper.make_tensor('index', TensorProto.UINT8, [1], [1]), 'index1.pb')\n");
  REQUIRE_MESSAGE(r.code == 0, r.err);

  r = ipusim("run " + popef + " --index 0 --input graph0/X=x_raw.pb --input graph0/Y=y_typed.pb");
  REQUIRE_MESSAGE(r.code == 0, r.err);
  CHECK(r.out.find("graph0/O  float32 [2]  [11, 22]") != std::string::npos);

  r = ipusim("run " + popef + " --input graph1/X=x16_typed.pb --input index=index1.pb");
  REQUIRE_MESSAGE(r.code == 0, r.err);
  CHECK(r.out.find("graph1/O  float16 [1,3]  [[-3.5, 1.5, 2]]") != std::string::npos);

  r = ipusim("run " + popef + " --input graph1/X=x16_raw.pb");
  REQUIRE_MESSAGE(r.code == 0, r.err);
  CHECK(r.out.find("[[0.25, 1.5, 2]]") != std::string::npos);
}

TEST_CASE("random inputs: int8 and float ranges, written outputs match the JSON") {
  Result r = ipusim("fuse --config config3.yaml");
  REQUIRE_MESSAGE(r.code == 0, r.err);
  // Random int8 inputs lie in [-10, 10], so S = A + B lies in [-20, 20].
  r = ipusim("run executable3.popef --index 2 --seed 3 --output-dir rand3 --json rand3.json");
  REQUIRE_MESSAGE(r.code == 0, r.err);
  r = python(
      "d = json.load(open('rand3.json'))\n"
      "assert d['inputs']['graph2/stream0']['source'] == 'random'\n"
      "s = np.load('rand3/graph2_S.npy'); rl = np.load('rand3/graph2_R.npy')\n"
      "assert s.dtype == np.int8 and s.shape == (2, 3)\n"
      "assert (np.abs(s) <= 20).all() and (rl >= 0).all() and (rl <= 20).all(), (s, rl)\n"
      "assert d['outputs']['graph2/S']['values'] == s.flatten().tolist()\n");
  CHECK_MESSAGE(r.code == 0, r.err);

  // Random float inputs lie in [-1, 1): X + Y in [-2, 2).
  r = ipusim("run executable3.popef --index 0 --seed 11 --json -");
  REQUIRE_MESSAGE(r.code == 0, r.err);
  writeText(workDir() / "rand0.json", r.out);
  CHECK(python("d = json.load(open('rand0.json'))\n"
               "v = d['outputs']['graph0/O']['values']\n"
               "assert len(v) == 2 and all(-2 <= x < 2 for x in v) and v[0] != v[1], v\n")
            .code == 0);
}
