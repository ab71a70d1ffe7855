#!/usr/bin/env node
// Runs a .tflite in TensorFlow Lite itself (its WebAssembly build, @tensorflow/tfjs-tflite
// 0.0.1-alpha.10, which applies the XNNPACK delegate) on MLPerf-format .bin images
// (H x W x 3 uint8, HWC) and compares its raw outputs with personcls's own, as printed by
// `personcls classify --json` (the "raw" field: int8 steps or float32 values). Inputs are
// fed as personcls feeds its exports: int8 q = pixel - 128 (scale 1/255, zero point -128),
// float32 x = pixel / 255.
//
//   npm install --prefix /tmp/tfl @tensorflow/tfjs-tflite@0.0.1-alpha.10
//   build/personcls classify --json --model M.tflite ../shared/data/vww01-dev > ours.json
//   NODE_PATH=/tmp/tfl/node_modules node bench/tflite_check.js M.tflite ours.json [--tol N] [--dump T.json]
//
// Prints the image count, the largest |TFLite - personcls| and its histogram (int8), and how
// many argmax decisions agree; exits 1 when the difference exceeds --tol (default 0 for
// int8 outputs, 1e-5 for float32). --dump writes TFLite's outputs in classify's JSON form,
// so that one TFLite run can be compared with another (a re-exported model with its source).
//
// XNNPACK's int8 kernels requantize differently from TFLite's reference kernels, which
// personcls matches bit for bit: int8 outputs differ by a few steps (bench/run_tflite_check.sh).
'use strict';
const fs = require('fs');
const path = require('path');

async function main() {
  const args = process.argv.slice(2);
  const option = (name) => {
    const at = args.indexOf(name);
    if (at < 0) return undefined;
    const v = args[at + 1];
    args.splice(at, 2);
    return v;
  };
  const tolArg = option('--tol'), dump = option('--dump');
  if (args.length !== 2) {
    console.error('usage: tflite_check.js MODEL.tflite OURS.json [--tol N] [--dump TFLITE.json]');
    process.exit(2);
  }
  const [modelPath, oursPath] = args;
  const ours = JSON.parse(fs.readFileSync(oursPath, 'utf8'));
  const wasm = path.join(path.dirname(require.resolve('@tensorflow/tfjs-tflite/package.json')), 'wasm');
  const factory = require(path.join(wasm, 'tflite_web_api_cc.js'));
  const M = await factory({wasmBinary: fs.readFileSync(path.join(wasm, 'tflite_web_api_cc.wasm')), printErr: () => {}});
  const model = new Uint8Array(fs.readFileSync(modelPath));
  const ptr = M._malloc(model.length);
  M.HEAPU8.set(model, ptr);
  const created = M.TFLiteWebModelRunner.CreateFromBufferAndOptions(ptr, model.length, {numThreads: 1, enableProfiling: false, maxProfilingBufferEntries: 1});
  if (!created.ok()) throw new Error(`${modelPath}: TensorFlow Lite cannot load it: ${created.errorMessage()}`);
  const runner = created.value();
  const list = (v) => Array.from({length: v.size()}, (_, i) => v.get(i));
  const [input] = list(runner.GetInputs());
  const [output] = list(runner.GetOutputs());
  const int8 = output.dataType === 'int8';
  const tol = tolArg === undefined ? (int8 ? 0 : 1e-5) : Number(tolArg);
  let maxDiff = 0, agree = 0, worstFile = '';
  const histogram = new Map(), dumped = [];
  for (const entry of ours) {
    const bytes = fs.readFileSync(entry.file);
    const x = input.data();
    if (!entry.file.endsWith('.bin') || bytes.length !== x.length) throw new Error(`${entry.file}: not a .bin image of the model's ${x.length} input bytes`);
    for (let i = 0; i < x.length; ++i) x[i] = input.dataType === 'int8' ? bytes[i] - 128 : input.dataType === 'uint8' ? bytes[i] : bytes[i] / 255;
    if (!runner.Infer()) throw new Error(`${entry.file}: TensorFlow Lite failed to run ${modelPath}`);
    const y = Array.from(output.data());
    if (y.length !== entry.raw.length) throw new Error(`${entry.file}: TFLite gives ${y.length} outputs, personcls ${entry.raw.length}`);
    let d = 0, argmax = 0, ourArgmax = 0;
    for (let k = 0; k < y.length; ++k) {
      const e = Math.abs(y[k] - entry.raw[k]);
      d = Number.isFinite(e) ? Math.max(d, e) : Infinity;  // a NaN output fails the check
      if (y[k] > y[argmax]) argmax = k;
      if (entry.raw[k] > entry.raw[ourArgmax]) ourArgmax = k;
    }
    if (d > maxDiff) maxDiff = d, worstFile = entry.file;
    agree += argmax === ourArgmax ? 1 : 0;
    if (int8) histogram.set(d, (histogram.get(d) || 0) + 1);
    dumped.push({file: entry.file, raw: y});
  }
  if (dump) fs.writeFileSync(dump, JSON.stringify(dumped));
  const hist = int8 ? ' (steps: ' + [...histogram.entries()].sort((a, b) => a[0] - b[0]).map(([k, v]) => `${k}: ${v}`).join(', ') + ')' : '';
  console.log(`${path.basename(modelPath)}: ${ours.length} images, max |TFLite - other| = ${int8 ? maxDiff : maxDiff.toExponential(3)}` +
              `${hist}${maxDiff > 0 ? ` (worst ${path.basename(worstFile)})` : ''}, argmax agrees on ${agree}/${ours.length}`);
  process.exit(maxDiff <= tol ? 0 : 1);
}

main().catch((e) => {
  console.error(`tflite_check: ${e.message.split('\n')[0]}`);
  process.exit(1);
});
