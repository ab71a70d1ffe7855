// Models and inputs for the quantization and export tests: the PyTorch twin's MobileNetV2-Rep
// 0.35 checkpoint (tests/golden/twin) fused into a float deploy graph, and random images.
#pragma once

#include <algorithm>
#include <cstring>
#include <memory>
#include <random>
#include <vector>

#include "formats/safetensors/safetensors.h"
#include "nn/twin_util.h"
#include "personcls/checkpoint.h"
#include "personcls/interpreter.h"
#include "test_util.h"

namespace personcls::testing {

// The twin's parameters as a checkpoint (SSCMA state-dict names).
inline safetensors::File TwinCheckpointFile() {
  auto twin = safetensors::ReadFile(TwinPath("forward_w035.safetensors"));
  EXPECT_TRUE(twin.ok()) << twin.status().message();
  safetensors::File ckpt;
  if (!twin.ok()) return ckpt;
  for (const auto& [name, t] : twin->tensors)
    if (name.rfind("param.", 0) == 0) ckpt.tensors[name.substr(6)] = t;
  return ckpt;
}

inline std::shared_ptr<const Graph> TwinDeployGraph(int input_size) {
  StateDict state;
  for (const auto& [name, t] : TwinCheckpointFile().tensors) state[name] = t.AsFloat();
  auto g = DeployGraphFromStateDict(state, std::nullopt, input_size);
  EXPECT_TRUE(g.ok()) << g.status().message();
  return std::make_shared<const Graph>(std::move(g).value());
}

// `count` random RGB images of size x size, uint8 HWC, contiguous; smooth enough (a random
// gradient plus noise) that activations are not pure noise.
inline std::vector<uint8_t> RandomImages(size_t count, int size, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> noise(-20, 20), base(0, 255);
  std::vector<uint8_t> px;
  for (size_t n = 0; n < count; ++n) {
    const int b0 = base(rng), b1 = base(rng), b2 = base(rng);
    for (int y = 0; y < size; ++y)
      for (int x = 0; x < size; ++x) {
        const int v[3] = {b0 + x * 2, b1 + y * 2, b2 - x - y};
        for (int c = 0; c < 3; ++c) px.push_back(static_cast<uint8_t>(std::clamp(v[c] + noise(rng), 0, 255)));
      }
  }
  return px;
}

// Runs `graph` on `input` (raw tensor bytes) and returns output 0's bytes.
inline std::vector<uint8_t> RunBytes(std::shared_ptr<const Graph> graph, const std::vector<uint8_t>& input, KernelSet kernels) {
  InterpreterOptions o;
  o.kernels = kernels;
  auto it = Interpreter::Create(std::move(graph), o);
  EXPECT_TRUE(it.ok()) << it.status().message();
  if (!it.ok()) return {};
  EXPECT_EQ(static_cast<size_t>((*it)->input_desc(0).num_bytes()), input.size());
  std::memcpy((*it)->input_data(0), input.data(), input.size());
  (*it)->Invoke();
  const auto* out = static_cast<const uint8_t*>((*it)->output_data(0));
  return std::vector<uint8_t>(out, out + (*it)->output_desc(0).num_bytes());
}

}  // namespace personcls::testing
