// Training throughput of the MobileNetV2-Rep train form (issue 3, "Speed"): images per second
// of one whole training step as nn/trainer.cc runs it, i.e.
//   Forward(train mode: BN batch statistics + running-stat updates)
//   + softmax cross-entropy forward/backward + Backward (every parameter gradient)
//   + SGD step (momentum 0.9, weight decay 1e-4)
// at batch 128, 96x96x3 input, 2 classes, widths 0.35 and 1.0, with 1 and 2 OpenMP threads.
// The PyTorch twin measures the same step (bench/torch_train_speed.py); bench/run_train_speed.sh
// runs both in one go.
//
//   ./build/bench/personcls_train_bench --benchmark_filter=BM_TrainStep --benchmark_min_time=10
//
// Counter img/s (items_per_second) = batch / wall time of one step.
#include <benchmark/benchmark.h>
#include <omp.h>

#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "core/tensor.h"
#include "nn/mbv2_rep_model.h"
#include "nn/optimizer.h"
#include "ops/softmax_cross_entropy.h"
#include "personcls/arch.h"

namespace personcls {
namespace {

constexpr int kBatch = 128;
const char* const kArchs[] = {"mbv2-rep-0.35", "mbv2-rep-1.0"};

// SSCMA-like init so that activations have realistic magnitudes (denormals or all-zero
// activations would make the timing unrepresentative): conv kaiming-normal fan_out, linear
// normal(0, 0.01), biases 0, BN weight 1.
void InitParams(Mbv2RepModel& model, std::mt19937& rng) {
  std::normal_distribution<float> normal(0.0f, 1.0f);
  for (auto& p : model.Parameters()) {
    Tensor& t = *p.value;
    const bool is_bias = p.name.size() >= 5 && p.name.compare(p.name.size() - 5, 5, ".bias") == 0;
    if (t.rank() == 4) {
      const float sd = std::sqrt(2.0f / static_cast<float>(t.shape[0] * t.shape[1] * t.shape[2]));
      for (float& v : t.data) v = sd * normal(rng);
    } else if (t.rank() == 2) {
      for (float& v : t.data) v = 0.01f * normal(rng);
    } else {
      for (float& v : t.data) v = is_bias ? 0.0f : 1.0f;
    }
  }
}

// state.range(0): index into kArchs; range(1): threads.
void BM_TrainStep(benchmark::State& state) {
  const std::string arch = kArchs[state.range(0)];
  const int threads = static_cast<int>(state.range(1));
  auto config = ArchFromName(arch);
  if (!config.ok()) {
    state.SkipWithError(config.status().message().c_str());
    return;
  }
  const int size = config->input_size, classes = config->num_classes;
  Mbv2RepModel model(*config);
  std::mt19937 rng(1);
  InitParams(model, rng);
  SgdOptimizer sgd(SgdOptions{0.9, 1e-4});

  Tensor x({kBatch, size, size, 3});
  std::uniform_real_distribution<float> pixel(0.0f, 1.0f);
  for (float& v : x.data) v = pixel(rng);
  std::vector<int32_t> labels(kBatch);
  for (int i = 0; i < kBatch; ++i) labels[i] = static_cast<int32_t>(rng() % classes);
  std::vector<float> probs(static_cast<size_t>(kBatch) * classes);
  Tensor dlogits({kBatch, classes});

  const int saved = omp_get_max_threads();
  omp_set_num_threads(threads);
  float loss = 0.0f;
  auto step = [&] {
    const Tensor& logits = model.Forward(x, true);
    loss = ops::softmax_cross_entropy_forward(kBatch, classes, logits.ptr(), labels.data(), probs.data());
    ops::softmax_cross_entropy_backward(kBatch, classes, probs.data(), labels.data(), 1.0f, dlogits.ptr(), ops::GradMode::kOverwrite);
    model.Backward(dlogits);
    sgd.Step(model.Parameters(), 0.01);
  };
  step();  // first step allocates the activation buffers
  for (auto _ : state) {
    step();
    benchmark::DoNotOptimize(loss);
  }
  omp_set_num_threads(saved);
  state.SetItemsProcessed(state.iterations() * kBatch);
  state.SetLabel(arch + " batch " + std::to_string(kBatch) + " " + std::to_string(threads) + "T");
  if (!std::isfinite(loss)) state.SkipWithError("loss is not finite");
}

BENCHMARK(BM_TrainStep)
    ->ArgsProduct({{0, 1}, {1, 2}})
    ->ArgNames({"arch", "threads"})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

}  // namespace
}  // namespace personcls
