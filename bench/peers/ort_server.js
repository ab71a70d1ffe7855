#!/usr/bin/env node
// ONNX Runtime side of the side-by-side benchmark (bench/peers/peers_bench.cc starts it).
// Loads one .onnx exported by `personcls export --format onnx` (input NCHW float32,
// pixel / 255) in onnxruntime-node (CPU) and answers one command per line on stdin:
//   run N          -> "times T1 .. TN": wall milliseconds of N session.run calls on a fixed input
//   classify F.bin -> "argmax K" for an MLPerf-format image (H x W x 3 uint8, HWC)
//   quit
// Usage: NODE_PATH=ORT/node_modules node bench/peers/ort_server.js MODEL.onnx THREADS
'use strict';
const fs = require('fs');
const readline = require('readline');
const ort = require('onnxruntime-node');

async function main() {
  const [modelPath, threadsArg] = process.argv.slice(2);
  const threads = Number(threadsArg || 1);
  const session = await ort.InferenceSession.create(modelPath, {
    intraOpNumThreads: threads, interOpNumThreads: 1, executionMode: 'sequential', graphOptimizationLevel: 'all'});
  const inputName = session.inputNames[0];
  const outputName = session.outputNames[0];
  const meta = session.inputMetadata ? session.inputMetadata : null;
  let dims = null;
  if (meta && meta[0] && meta[0].shape) dims = meta[0].shape;
  // The exported input is [1, 3, H, W]; H = W is read from the first classify or assumed 96.
  const makeInput = (side) => {
    const x = new Float32Array(3 * side * side);
    for (let i = 0; i < x.length; ++i) x[i] = ((i * 37) % 256) / 255;
    return new ort.Tensor('float32', x, [1, 3, side, side]);
  };
  let side = dims && typeof dims[2] === 'number' ? dims[2] : 96;
  let fixed = makeInput(side);
  await session.run({[inputName]: fixed});  // first run allocates
  process.stdout.write('ready\n');
  const rl = readline.createInterface({input: process.stdin});
  for await (const line of rl) {
    const [cmd, arg] = line.trim().split(/\s+/, 2);
    if (cmd === 'run') {
      const n = Number(arg);
      const times = [];
      for (let i = 0; i < n; ++i) {
        const t0 = process.hrtime.bigint();
        await session.run({[inputName]: fixed});
        times.push(Number(process.hrtime.bigint() - t0) / 1e6);
      }
      process.stdout.write('times ' + times.map((t) => t.toFixed(4)).join(' ') + '\n');
    } else if (cmd === 'classify') {
      const bytes = fs.readFileSync(arg);
      const s = Math.round(Math.sqrt(bytes.length / 3));
      const x = new Float32Array(bytes.length);
      const plane = s * s;
      for (let p = 0; p < plane; ++p)
        for (let c = 0; c < 3; ++c) x[c * plane + p] = bytes[3 * p + c] / 255;
      const y = (await session.run({[inputName]: new ort.Tensor('float32', x, [1, 3, s, s])}))[outputName].data;
      let k = 0;
      for (let i = 1; i < y.length; ++i) if (y[i] > y[k]) k = i;
      process.stdout.write('argmax ' + k + '\n');
    } else if (cmd === 'quit') {
      break;
    }
  }
  process.exit(0);
}

main().catch((e) => {
  process.stdout.write('error ' + String(e.message).split('\n')[0] + '\n');
  process.exit(1);
});
