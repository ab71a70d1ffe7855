#!/usr/bin/env node
// Runs an exported .onnx in ONNX Runtime (onnxruntime-node, CPU) on MLPerf-format .bin
// images (H x W x 3 uint8, HWC) and compares its outputs with personcls's own, as printed
// by `personcls classify --json`. The ONNX input is NCHW float pixel/255, as exported.
//
//   ONNXRUNTIME_NODE_INSTALL=skip npm install --prefix /tmp/ort onnxruntime-node@1.30.0
//   build/personcls classify --json --model M.onnx ../shared/data/vww01-dev > ours.json
//   NODE_PATH=/tmp/ort/node_modules node bench/ort_check.js M.onnx ours.json
//
// Prints the image count, the largest |ORT - personcls| over all outputs, and how many
// argmax decisions agree; exits 1 when the difference exceeds --tol (default 1e-5).
'use strict';
const fs = require('fs');
const ort = require('onnxruntime-node');

async function main() {
  const args = process.argv.slice(2);
  let tol = 1e-5;
  const tolAt = args.indexOf('--tol');
  if (tolAt >= 0) {
    tol = Number(args[tolAt + 1]);
    args.splice(tolAt, 2);
  }
  if (args.length !== 2) {
    console.error('usage: ort_check.js MODEL.onnx OURS.json [--tol 1e-5]');
    process.exit(2);
  }
  const [modelPath, oursPath] = args;
  const ours = JSON.parse(fs.readFileSync(oursPath, 'utf8'));
  const session = await ort.InferenceSession.create(modelPath, {intraOpNumThreads: 1});
  const inputName = session.inputNames[0];
  const outputName = session.outputNames[0];
  let maxDiff = 0, agree = 0, worstFile = '';
  for (const entry of ours) {
    const bytes = fs.readFileSync(entry.file);
    const side = Math.round(Math.sqrt(bytes.length / 3));
    if (!entry.file.endsWith('.bin') || side * side * 3 !== bytes.length) throw new Error(`${entry.file}: not a square HxWx3 .bin image`);
    const x = new Float32Array(bytes.length);  // HWC uint8 -> CHW float
    const plane = side * side;
    for (let p = 0; p < plane; ++p)
      for (let c = 0; c < 3; ++c) x[c * plane + p] = bytes[3 * p + c] / 255;
    const result = await session.run({[inputName]: new ort.Tensor('float32', x, [1, 3, side, side])});
    const y = result[outputName].data;
    if (y.length !== entry.scores.length) throw new Error(`${entry.file}: ORT gives ${y.length} outputs, personcls ${entry.scores.length}`);
    let argmax = 0;
    for (let k = 0; k < y.length; ++k) {
      const d = Math.abs(y[k] - entry.scores[k]);
      if (d > maxDiff) maxDiff = d, worstFile = entry.file;
      if (y[k] > y[argmax]) argmax = k;
    }
    agree += argmax === entry.index ? 1 : 0;
  }
  console.log(`${modelPath}: ${ours.length} images, max |ORT - personcls| = ${maxDiff.toExponential(3)}` +
              ` (${worstFile}), argmax agrees on ${agree}/${ours.length}`);
  process.exit(maxDiff <= tol ? 0 : 1);
}

main().catch((e) => {
  console.error(`ort_check: ${e.message.split('\n')[0]}`);
  process.exit(1);
});
