// Whole-model latency: Interpreter::Invoke() on the shared models, reference vs fast
// kernels, 1 and 2 threads. Models come from ../shared/models (found next to the source
// tree, or in $PERSONCLS_SHARED_DIR); a model that is absent is reported as skipped.
//
//   ./build/bench/personcls_bench --benchmark_filter=BM_Model
#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "personcls/interpreter.h"
#include "personcls/model.h"

namespace personcls {
namespace {

const char* const kModels[] = {
    "mlperf_vww_96_int8.tflite", "mlperf_vww_96_float.tflite", "tinymaix_vww96_q.tflite",
    "tinymaix_vww96_f.tflite",   "tflm_person_detect.tflite",  "sscma_mbv2_0.35_rep_cifar10_int8.tflite",
};

std::string SharedModelPath(const std::string& file) {
  if (const char* env = std::getenv("PERSONCLS_SHARED_DIR")) return std::string(env) + "/models/" + file;
  // __FILE__ is bench/model_bench.cc inside the repository; ../shared is beside the repo.
  const std::filesystem::path repo = std::filesystem::path(__FILE__).parent_path().parent_path();
  return (repo.parent_path() / "shared" / "models" / file).string();
}

// Fills every input with a fixed byte pattern: latency does not depend on the values
// except through rare data-dependent branches, and a fixed pattern keeps runs comparable.
void FillInputs(Interpreter& it) {
  for (int i = 0; i < it.num_inputs(); ++i) {
    const TensorDesc& d = it.input_desc(i);
    uint8_t* p = static_cast<uint8_t*>(it.input_data(i));
    if (d.dtype == DType::kFloat32) {
      float* f = reinterpret_cast<float*>(p);
      for (int64_t k = 0; k < d.num_elements(); ++k) f[k] = static_cast<float>((k * 37) % 256) / 255.0f;
    } else {
      for (int64_t k = 0; k < d.num_bytes(); ++k) p[k] = static_cast<uint8_t>((k * 37) % 256);
    }
  }
}

// Args: model index in kModels, kernel set (0 reference, 1 fast), threads.
void BM_Model(benchmark::State& state) {
  const std::string file = kModels[state.range(0)];
  const bool fast = state.range(1) != 0;
  const int threads = static_cast<int>(state.range(2));
  state.SetLabel(file + (fast ? " fast" : " ref") + " t" + std::to_string(threads));
  const std::string path = SharedModelPath(file);
  if (!std::filesystem::exists(path)) {
    state.SkipWithError(("needs " + path).c_str());
    return;
  }
  auto graph = LoadModelFile(path);
  if (!graph.ok()) {
    state.SkipWithError(graph.status().message().c_str());
    return;
  }
  auto interp = Interpreter::Create(*graph, {.num_threads = threads, .kernels = fast ? KernelSet::kFast : KernelSet::kReference});
  if (!interp.ok()) {
    state.SkipWithError(interp.status().message().c_str());
    return;
  }
  Interpreter& it = **interp;
  FillInputs(it);
  it.Invoke();  // warm-up: first touch of the arena and packed weights
  for (auto _ : state) {
    it.Invoke();
    benchmark::DoNotOptimize(it.output_data(0));
  }
  state.counters["MAC/s"] = benchmark::Counter(static_cast<double>(it.total_macs()), benchmark::Counter::kIsIterationInvariantRate);
}

BENCHMARK(BM_Model)
    ->ArgsProduct({{0, 1, 2, 3, 4, 5}, {0, 1}, {1, 2}})
    ->ArgNames({"model", "fast", "threads"})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

}  // namespace
}  // namespace personcls
