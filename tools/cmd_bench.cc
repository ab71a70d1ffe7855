// personcls bench: invoke latency (min/median/max) of a model at batch 1.
#include <fmt/core.h>

#include <algorithm>
#include <chrono>
#include <cstring>

#include "commands.h"

namespace personcls::cli {
namespace {

double Median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v.size() % 2 ? v[v.size() / 2] : 0.5 * (v[v.size() / 2 - 1] + v[v.size() / 2]);
}

}  // namespace

void RegisterBench(CLI::App& app) {
  struct Args {
    ModelOptions model;
    int runs = 100;
    int warmup = 10;
    bool json = false;
    bool profile = false;
  };
  auto args = std::make_shared<Args>();
  CLI::App* cmd = app.add_subcommand("bench", "Invoke latency of a model (min/median/max over --runs)");
  AddModelOptions(*cmd, args->model, false, /*model_required=*/false);  // default: the embedded model
  cmd->add_option("--runs,-n", args->runs, "Timed invokes")->capture_default_str();
  cmd->add_option("--warmup", args->warmup, "Untimed invokes first")->capture_default_str();
  cmd->add_flag("--json", args->json, "Print JSON");
  cmd->add_flag("--profile", args->profile, "Also time every op (median over the runs) and print where the time goes");
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
    // Whole invokes are timed without the per-op clock reads; with --profile, each run is
    // followed by one profiled run, so both see the same conditions.
    std::vector<double> ms;
    ms.reserve(args->runs);
    std::vector<std::vector<double>> op_ms;  // [op][run]
    std::vector<double> op_seconds;
    for (int i = 0; i < args->runs; ++i) {
      const auto t0 = std::chrono::steady_clock::now();
      it.Invoke();
      ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
      if (!args->profile) continue;
      op_seconds.assign(op_seconds.size(), 0.0);
      it.InvokeProfiled(op_seconds);
      op_ms.resize(op_seconds.size());
      for (size_t k = 0; k < op_seconds.size(); ++k) op_ms[k].push_back(op_seconds[k] * 1e3);
    }
    const double median = Median(ms);
    const std::string name = args->model.model.empty() ? "embedded default model" : args->model.model;
    const std::vector<OpInfo> ops = it.op_infos();
    std::vector<double> op_median(op_ms.size());
    double op_total = 0;
    for (size_t k = 0; k < op_ms.size(); ++k) op_total += op_median[k] = Median(op_ms[k]);
    if (args->json) {
      nlohmann::json j{{"model", name}, {"threads", args->model.threads}, {"kernels", args->model.kernels}, {"runs", args->runs},
                       {"min_ms", *std::min_element(ms.begin(), ms.end())}, {"median_ms", median}, {"max_ms", *std::max_element(ms.begin(), ms.end())},             {"macs", it.total_macs()}};
      if (args->profile) {
        nlohmann::json prof = nlohmann::json::array();
        for (size_t k = 0; k < ops.size(); ++k)
          prof.push_back({{"op", OpTypeName(ops[k].type)}, {"kernel", ops[k].kernel}, {"macs", ops[k].macs}, {"median_ms", op_median[k]}});
        j["profile"] = prof;
      }
      fmt::print("{}\n", JsonText(j));
      return;
    }
    if (args->profile) {
      fmt::print("{:>3}  {:<18} {:<26} {:>9} {:>10} {:>6} {:>8}\n", "#", "op", "kernel", "MACs", "median us", "%", "GMAC/s");
      for (size_t k = 0; k < ops.size(); ++k) {
        const double share = op_total > 0 ? 100.0 * op_median[k] / op_total : 0.0;
        const double gmacs = ops[k].macs > 0 && op_median[k] > 0 ? ops[k].macs / (op_median[k] * 1e6) : 0.0;
        fmt::print("{:>3}  {:<18} {:<26} {:>9} {:>10.1f} {:>6.1f} {:>8.1f}\n", k, OpTypeName(ops[k].type), ops[k].kernel, ops[k].macs,
                   op_median[k] * 1e3, share, gmacs);
      }
      fmt::print("sum of op medians {:.3f} ms\n", op_total);
    }
    fmt::print("{}: {} threads, {} kernels, {} runs: min {:.3f} ms, median {:.3f} ms, max {:.3f} ms ({:.2f} GMAC/s at median)\n",
               name, args->model.threads, args->model.kernels, args->runs, *std::min_element(ms.begin(), ms.end()), median,
               *std::max_element(ms.begin(), ms.end()),
               it.total_macs() / (median * 1e6));
  });
}

}  // namespace personcls::cli
