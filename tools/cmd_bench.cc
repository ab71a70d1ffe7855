// personcls bench: invoke latency (min/median/max) of a model at batch 1.
#include <fmt/core.h>

#include <algorithm>
#include <chrono>
#include <cstring>

#include "commands.h"

namespace personcls::cli {

void RegisterBench(CLI::App& app) {
  struct Args {
    ModelOptions model;
    int runs = 100;
    int warmup = 10;
    bool json = false;
  };
  auto args = std::make_shared<Args>();
  CLI::App* cmd = app.add_subcommand("bench", "Invoke latency of a model (min/median/max over --runs)");
  AddModelOptions(*cmd, args->model, false, /*model_required=*/false);  // default: the embedded model
  cmd->add_option("--runs,-n", args->runs, "Timed invokes")->capture_default_str();
  cmd->add_option("--warmup", args->warmup, "Untimed invokes first")->capture_default_str();
  cmd->add_flag("--json", args->json, "Print JSON");
  cmd->callback([args] {
    if (args->runs < 1 || args->runs > 1000000) throw CliError{"--runs must be 1..1000000"};
    if (args->warmup < 0) throw CliError{"--warmup must be >= 0"};
    LoadedModel m = LoadModelOrThrow(args->model);
    Interpreter& it = *m.interpreter;
    // A fixed, non-trivial input pattern.
    auto* in = static_cast<uint8_t*>(it.input_data(0));
    const TensorDesc& d = it.input_desc(0);
    if (d.dtype == DType::kFloat32) {
      for (int64_t i = 0; i < d.num_elements(); ++i) reinterpret_cast<float*>(in)[i] = static_cast<float>((i * 37) % 256) / 255.0f;
    } else {
      for (int64_t i = 0; i < d.num_bytes(); ++i) in[i] = static_cast<uint8_t>((i * 37) % 256);
    }
    for (int i = 0; i < args->warmup; ++i) it.Invoke();
    std::vector<double> ms;
    ms.reserve(args->runs);
    for (int i = 0; i < args->runs; ++i) {
      const auto t0 = std::chrono::steady_clock::now();
      it.Invoke();
      ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
    }
    std::sort(ms.begin(), ms.end());
    const double median = ms.size() % 2 ? ms[ms.size() / 2] : 0.5 * (ms[ms.size() / 2 - 1] + ms[ms.size() / 2]);
    const std::string name = args->model.model.empty() ? "embedded default model" : args->model.model;
    if (args->json) {
      nlohmann::json j{{"model", name}, {"threads", args->model.threads}, {"kernels", args->model.kernels}, {"runs", args->runs},
                       {"min_ms", ms.front()},       {"median_ms", median},             {"max_ms", ms.back()},             {"macs", it.total_macs()}};
      fmt::print("{}\n", JsonText(j));
      return;
    }
    fmt::print("{}: {} threads, {} kernels, {} runs: min {:.3f} ms, median {:.3f} ms, max {:.3f} ms ({:.2f} GMAC/s at median)\n",
               name, args->model.threads, args->model.kernels, args->runs, ms.front(), median, ms.back(),
               it.total_macs() / (median * 1e6));
  });
}

}  // namespace personcls::cli
