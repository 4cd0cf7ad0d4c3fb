// Bad input anywhere gets one clear line on stderr and a non-zero exit, never a crash.
#include "cli_support.h"

using namespace cli_test;

TEST_CASE("run: bad inputs") {
  const std::string popef = seedPopef();
  writeSeedInputs();
  REQUIRE(python("np.save('x_f16.npy', np.ones((1, 2), dtype=np.float16))\n"
                 "np.save('x_21.npy', np.ones((2, 1), dtype=np.float32))\n"
                 "np.save('idx_i64.npy', np.array([0], dtype=np.int64))\n")
              .code == 0);

  checkFails(ipusim("run " + popef + " --index 5"), "run", 1,
             {"index 5 is out of range: this executable has 2 subgraphs (0..1)"});
  checkFails(ipusim("run " + popef + " --index -1"), "run", 1, {"index -1 is out of range"});
  checkFails(ipusim("run " + popef), "run", 1,
             {"no index given", "this executable has 2 subgraphs (0..1)"});
  checkFails(ipusim("run " + popef + " --index 0 --input graph0/X=nothere.npy"), "run", 1,
             {"nothere.npy", "no such file"});
  checkFails(ipusim("run " + popef + " --index 0 --input graph0/Z=x0.npy"), "run", 1,
             {"unknown input 'graph0/Z'", "valid inputs are", "graph0/stream0", "graph1/stream0"});
  checkFails(ipusim("run " + popef + " --index 0 --input graph0/X=x_f16.npy"), "run", 1,
             {"graph0/stream0", "expected float32 [1,2], given float16 [1,2]"});
  checkFails(ipusim("run " + popef + " --index 0 --input graph0/Y=x_21.npy"), "run", 1,
             {"graph0/stream1", "expected float32 [1,2], given float32 [2,1]"});
  checkFails(ipusim("run " + popef + " --index 0 --input graph1/X=x1.npy"), "run", 1,
             {"belongs to subgraph 1"});
  checkFails(ipusim("run " + popef + " --input graph0/X=x0.npy --input graph1/X=x1.npy"), "run", 1,
             {"cannot infer the index"});
  checkFails(ipusim("run " + popef + " --input index=idx_i64.npy"), "run", 1,
             {"index", "uint8, uint32 or int32", "int64"});
  checkFails(ipusim("run " + popef + " --index 0 --input graph0/X=x0.npy --input graph0/X=y0.npy"),
             "run", 2, {"given twice"});
  checkFails(ipusim("run " + popef + " --index 0 --input graph0/X=x0.txt"), "run", 1,
             {"x0.txt", ".npy", ".pb"});
  checkFails(ipusim("run nothere.popef"), "run", 1, {"nothere.popef"});
  checkFails(ipusim("dump nothere.popef"), "dump", 1, {"nothere.popef"});
}

TEST_CASE("truncated and corrupted .popef files") {
  const std::string popef = seedPopef();
  const std::string bytes = readText(workDir() / popef);
  REQUIRE(bytes.size() > 64);

  for (size_t length : {size_t{0}, size_t{7}, size_t{20}, bytes.size() / 2, bytes.size() - 1}) {
    CAPTURE(length);
    writeText(workDir() / "cut.popef", bytes.substr(0, length));
    checkFails(ipusim("run cut.popef --index 0"), "run", 1, {"cut.popef"});
    checkFails(ipusim("dump cut.popef"), "dump", 1, {"cut.popef"});
  }

  // One flipped byte anywhere (header, blob headers, payloads under their CRCs) is
  // reported, never accepted and never a crash.
  for (size_t at = 0; at < bytes.size(); at += std::max<size_t>(1, bytes.size() / 97)) {
    CAPTURE(at);
    std::string flipped = bytes;
    flipped[at] = static_cast<char>(flipped[at] ^ 0x20);
    writeText(workDir() / "flipped.popef", flipped);
    checkFails(ipusim("dump flipped.popef"), "dump", 1, {"flipped.popef"});
  }

  std::string flipped = bytes;
  flipped[bytes.size() / 2] = static_cast<char>(flipped[bytes.size() / 2] ^ 0x01);
  writeText(workDir() / "flipped.popef", flipped);
  checkFails(ipusim("run flipped.popef --index 0"), "run", 1, {"flipped.popef"});
}

TEST_CASE("fuse: bad YAML configs name the key and the file") {
  writeText(workDir() / "unknown_key.yaml",
            "output_model: 'bad'\nbogus_key: 1\nmodel_fusion:\n  - input_model: 'model0.onnx'\n");
  checkFails(ipusim("fuse --config unknown_key.yaml"), "fuse", 1, {"bogus_key", "unknown_key.yaml"});

  writeText(workDir() / "missing_model.yaml",
            "output_model: 'bad'\nmodel_fusion:\n  - input_model: 'nothere.onnx'\n");
  checkFails(ipusim("fuse --config missing_model.yaml"), "fuse", 1, {"nothere.onnx"});

  writeText(workDir() / "bad_precision.yaml",
            "output_model: 'bad'\nmodel_fusion:\n  - input_model: 'model0.onnx'\n    precision: 'fp64'\n");
  checkFails(ipusim("fuse --config bad_precision.yaml"), "fuse", 1, {"precision", "fp64"});

  writeText(workDir() / "broken.yaml", "model_fusion: [\n");
  checkFails(ipusim("fuse --config broken.yaml"), "fuse", 1, {"broken.yaml"});

  checkFails(ipusim("fuse --config nothere.yaml"), "fuse", 1, {"nothere.yaml"});
  CHECK(!fs::exists(workDir() / "bad.popef"));
}

TEST_CASE("broken .npy and .pb input files") {
  const std::string popef = seedPopef();
  // A .npy with the magic but a header that is not a dict numpy writes.
  std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 2, }";
  std::string broken = std::string("\x93NUMPY\x01\x00", 8);
  broken += static_cast<char>(header.size());
  broken += '\0';
  broken += header + std::string(8, '\0');
  writeText(workDir() / "broken_header.npy", broken);
  checkFails(ipusim("run " + popef + " --index 0 --input graph0/X=broken_header.npy"), "run", 1,
             {"broken_header.npy", "broken .npy header"});

  // The header claims more bytes than the file holds.
  std::string longHeader = std::string("\x93NUMPY\x01\x00", 8) + "\xff\x7f" + "{'descr'";
  writeText(workDir() / "long_header.npy", longHeader);
  checkFails(ipusim("run " + popef + " --index 0 --input graph0/X=long_header.npy"), "run", 1,
             {"long_header.npy", "header claims 32767 bytes"});

  writeText(workDir() / "text.npy", "hello, not numpy\n");
  checkFails(ipusim("run " + popef + " --index 0 --input graph0/X=text.npy"), "run", 1,
             {"text.npy", "not an .npy file"});

  Result r = python(
      "np.save('big_endian.npy', np.ones((1, 2), dtype='>f4'))\n"
      "np.save('fortran.npy', np.asfortranarray(np.ones((2, 2), dtype=np.float32)))\n"
      "np.save('f64.npy', np.ones((1, 2), dtype=np.float64))\n"
      "b = open('big_endian.npy', 'rb').read()\n"
      "np.save('full.npy', np.ones((1, 2), dtype=np.float32))\n"
      "full = open('full.npy', 'rb').read()\n"
      "open('short.npy', 'wb').write(full[:-3])\n"
      "open('long.npy', 'wb').write(full + b'xx')\n"
      "# a header claiming an enormous shape over 8 bytes of data\n"
      "huge = full.replace(b'(1, 2)', b'(99999999999, 999999999)')\n"
      "open('huge.npy', 'wb').write(huge)\n");
  REQUIRE_MESSAGE(r.code == 0, r.err);
  checkFails(ipusim("run " + popef + " --index 0 --input graph0/X=big_endian.npy"), "run", 1,
             {"big-endian"});
  checkFails(ipusim("run " + popef + " --index 0 --input graph0/X=fortran.npy"), "run", 1,
             {"Fortran"});
  checkFails(ipusim("run " + popef + " --index 0 --input graph0/X=f64.npy"), "run", 1,
             {"'<f8' is not supported", "float32 (<f4)"});
  checkFails(ipusim("run " + popef + " --index 0 --input graph0/X=short.npy"), "run", 1,
             {"short.npy", "truncated", "needs 8 bytes", "holds 5"});
  checkFails(ipusim("run " + popef + " --index 0 --input graph0/X=long.npy"), "run", 1,
             {"long.npy", "2 bytes after the data"});
  checkFails(ipusim("run " + popef + " --index 0 --input graph0/X=huge.npy"), "run", 1,
             {"huge.npy: truncated .npy: float32 [99999999999,999999999] needs more than 2^63 bytes of data, "
              "the file holds 26"});

  // A format version other than 1.0, 2.0 and 3.0.
  std::string v4 = readText(workDir() / "full.npy");
  v4[6] = '\x04';
  writeText(workDir() / "v4.npy", v4);
  checkFails(ipusim("run " + popef + " --index 0 --input graph0/X=v4.npy"), "run", 1,
             {"v4.npy: .npy format version 4.0 is not supported (1.0, 2.0, 3.0 are)"});

  writeText(workDir() / "garbage.pb", std::string("\xff\xff\xff\xff\xff", 5));
  checkFails(ipusim("run " + popef + " --index 0 --input graph0/X=garbage.pb"), "run", 1,
             {"garbage.pb", "not a valid ONNX TensorProto"});
  r = python(
      "from onnx import TensorProto, helper\n"
      "t = TensorProto(name='X', data_type=TensorProto.FLOAT, dims=[1, 2], raw_data=bytes(4))\n"
      "open('short.pb', 'wb').write(t.SerializeToString())\n"
      "t = helper.make_tensor('X', TensorProto.DOUBLE, [1, 2], [1.0, 2.0])\n"
      "open('double.pb', 'wb').write(t.SerializeToString())\n");
  REQUIRE_MESSAGE(r.code == 0, r.err);
  checkFails(ipusim("run " + popef + " --index 0 --input graph0/X=short.pb"), "run", 1,
             {"short.pb", "needs 8 bytes of raw_data", "holds 4"});
  checkFails(ipusim("run " + popef + " --index 0 --input graph0/X=double.pb"), "run", 1,
             {"double.pb", "data_type 11 is not supported"});
}
