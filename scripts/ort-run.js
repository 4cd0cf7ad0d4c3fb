// Runs an ONNX model on onnxruntime-node (CPU, one intra-op and one inter-op thread) for
// scripts/bench-models: the reference outputs and host time of the same model and inputs.
//
// Usage: NODE_PATH=<folder>/node_modules node ort-run.js MODEL.onnx INPUTS.json OUT_DIR [ITERATIONS]
// INPUTS.json: {"name": {"dtype": "float32", "shape": [1, 3], "file": "x.bin"}, ...} (raw
// little-endian data). Writes OUT_DIR/<output>.bin and OUT_DIR/result.json:
// {"outputs": {name: {"dtype", "shape", "file"}}, "load_ms", "run_ms": [...]}.
const fs = require('fs');
const path = require('path');
const ort = require('onnxruntime-node');

const arrays = {
  float32: Float32Array, float16: Uint16Array, int32: Int32Array, int64: BigInt64Array,
  int8: Int8Array, uint8: Uint8Array, bool: Uint8Array,
};

async function main() {
  const [model, inputsFile, outDir, iterationsArg] = process.argv.slice(2);
  if (!model || !inputsFile || !outDir) {
    console.error('usage: node ort-run.js MODEL.onnx INPUTS.json OUT_DIR [ITERATIONS]');
    process.exit(2);
  }
  const iterations = Math.max(1, parseInt(iterationsArg || '1', 10));
  const loadStart = process.hrtime.bigint();
  const session = await ort.InferenceSession.create(model, {
    intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: 'sequential', graphOptimizationLevel: 'all',
  });
  const loadMs = Number(process.hrtime.bigint() - loadStart) / 1e6;
  const described = JSON.parse(fs.readFileSync(inputsFile, 'utf8'));
  const feeds = {};
  for (const [name, info] of Object.entries(described)) {
    const bytes = fs.readFileSync(path.resolve(path.dirname(inputsFile), info.file));
    const Type = arrays[info.dtype];
    const data = new Type(bytes.buffer, bytes.byteOffset, bytes.byteLength / Type.BYTES_PER_ELEMENT);
    feeds[name] = new ort.Tensor(info.dtype, data, info.shape);
  }
  const runMs = [];
  let outputs;
  for (let i = 0; i < iterations; ++i) {
    const start = process.hrtime.bigint();
    outputs = await session.run(feeds);
    runMs.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  fs.mkdirSync(outDir, { recursive: true });
  const result = { outputs: {}, load_ms: loadMs, run_ms: runMs };
  for (const [name, tensor] of Object.entries(outputs)) {
    const file = name.replace(/[^A-Za-z0-9_.-]/g, '_') + '.bin';
    const data = tensor.data;
    fs.writeFileSync(path.join(outDir, file), Buffer.from(data.buffer, data.byteOffset, data.byteLength));
    result.outputs[name] = { dtype: tensor.type, shape: tensor.dims, file };
  }
  fs.writeFileSync(path.join(outDir, 'result.json'), JSON.stringify(result));
}

main().catch((e) => { console.error('ort-run: ' + e.message); process.exit(1); });
