// personcls_peers: personcls, XNNPACK and ONNX Runtime side by side on the same models,
// interleaved in one run (bench/peers/README.md).
//
//   personcls_peers [--rounds R] [--runs N] [--warmup W] [--threads T] [--personcls-threads 1,2]
//                   [--ort NODE_MODULES_DIR] [--check IMAGE_DIR] MODEL[=EXPORT.onnx] ...
//
// MODEL is a .tflite file or "default" (the embedded model). XNNPACK runs a subgraph built
// from the same personcls Graph (xnnpack_graph.h), so both use the same weights; ONNX
// Runtime (onnxruntime-node, through bench/peers/ort_server.js) runs EXPORT.onnx, the
// `personcls export --format onnx` of a float32 model. Each round runs every engine N
// times after the others (the order rotates every round), so load changes hit all of them
// alike; the table gives each engine's median over all rounds and personcls's ratios.
// --check runs every image of IMAGE_DIR (MLPerf .bin files) through every engine and
// counts how often their argmax agrees with personcls's.
#include <fmt/core.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "personcls/default_model.h"
#include "personcls/image.h"
#include "personcls/interpreter.h"
#include "personcls/model.h"
#include "personcls/preprocess.h"
#include "xnnpack_graph.h"

namespace personcls::peers {
namespace {

using Clock = std::chrono::steady_clock;

double Median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v.size() % 2 ? v[v.size() / 2] : 0.5 * (v[v.size() / 2 - 1] + v[v.size() / 2]);
}

[[noreturn]] void Fail(const std::string& message) {
  fmt::print(stderr, "personcls_peers: {}\n", message);
  std::exit(1);
}

// onnxruntime-node in a child process (ort_server.js), one command per line.
class OrtServer {
 public:
  OrtServer(const std::string& node_modules, const std::string& onnx, int threads) {
    int to_child[2], from_child[2];
    if (pipe(to_child) != 0 || pipe(from_child) != 0) Fail("pipe failed");
    pid_ = fork();
    if (pid_ < 0) Fail("fork failed");
    if (pid_ == 0) {
      dup2(to_child[0], 0);
      dup2(from_child[1], 1);
      close(to_child[1]);
      close(from_child[0]);
      setenv("NODE_PATH", node_modules.c_str(), 1);
      const std::string script = std::string(PERSONCLS_SOURCE_DIR) + "/bench/peers/ort_server.js";
      const std::string t = std::to_string(threads);
      execlp("node", "node", script.c_str(), onnx.c_str(), t.c_str(), static_cast<char*>(nullptr));
      _exit(127);
    }
    close(to_child[0]);
    close(from_child[1]);
    in_ = fdopen(to_child[1], "w");
    out_ = fdopen(from_child[0], "r");
    const std::string ready = ReadLine();
    if (ready != "ready") Fail(onnx + ": ONNX Runtime did not start: " + ready);
  }
  ~OrtServer() {
    std::fputs("quit\n", in_);
    std::fflush(in_);
    std::fclose(in_);
    std::fclose(out_);
    int status;
    waitpid(pid_, &status, 0);
  }
  std::string Command(const std::string& line) {
    std::fputs((line + "\n").c_str(), in_);
    std::fflush(in_);
    return ReadLine();
  }

 private:
  std::string ReadLine() {
    char* buf = nullptr;
    size_t cap = 0;
    const ssize_t n = getline(&buf, &cap, out_);
    std::string s = n > 0 ? std::string(buf, n) : std::string("(no answer)");
    std::free(buf);
    while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
    return s;
  }
  pid_t pid_ = -1;
  FILE* in_ = nullptr;
  FILE* out_ = nullptr;
};

struct Engine {
  std::string name;
  std::function<void()> invoke;           // one inference
  std::function<std::vector<double>(int)> run_many;  // n inferences, ms each (ORT times itself)
  std::vector<double> ms;
};

int Argmax(const TensorDesc& d, const void* data) {
  const int64_t n = d.num_elements();
  int best = 0;
  auto value = [&](int64_t i) {
    return d.dtype == DType::kInt8 ? static_cast<double>(static_cast<const int8_t*>(data)[i]) : static_cast<double>(static_cast<const float*>(data)[i]);
  };
  for (int64_t i = 1; i < n; ++i)
    if (value(i) > value(best)) best = static_cast<int>(i);
  return best;
}

std::string CpuModel() {
  std::ifstream f("/proc/cpuinfo");
  std::string line, name, family, model;
  while (std::getline(f, line)) {
    auto value = [&] { return line.substr(line.find(':') + 2); };
    if (name.empty() && line.rfind("model name", 0) == 0) name = value();
    if (family.empty() && line.rfind("cpu family", 0) == 0) family = value();
    if (model.empty() && line.rfind("model\t", 0) == 0) model = value();
  }
  return fmt::format("{} (family {}, model {})", name, family, model);
}

std::string LoadAverage() {
  std::ifstream f("/proc/loadavg");
  std::string a, b, c;
  f >> a >> b >> c;
  return a + " " + b + " " + c;
}

struct Options {
  int rounds = 15, runs = 30, warmup = 20, threads = 1;
  std::vector<int> personcls_threads;
  std::string ort_modules, check_dir;
  std::vector<std::string> models;
};

void RunModel(const Options& opt, const std::string& spec) {
  std::string path = spec, onnx;
  if (const size_t eq = spec.find('='); eq != std::string::npos) {
    path = spec.substr(0, eq);
    onnx = spec.substr(eq + 1);
  }
  auto graph = path == "default" ? LoadDefaultModel() : LoadModelFile(path);
  if (!graph.ok()) Fail(graph.status().message());
  const std::shared_ptr<const Graph> g = *graph;
  const TensorDesc& in_desc = g->tensors[g->inputs[0]];
  const TensorDesc& out_desc = g->tensors[g->outputs[0]];
  auto normalization = ReadNormalizationMetadata(*g);
  if (!normalization.ok()) Fail(normalization.status().message());

  std::vector<std::unique_ptr<Interpreter>> interpreters;
  std::vector<Engine> engines;
  std::vector<int> pthreads = opt.personcls_threads.empty() ? std::vector<int>{opt.threads} : opt.personcls_threads;
  for (int t : pthreads) {
    InterpreterOptions io;
    io.num_threads = t;
    auto it = Interpreter::Create(g, io);
    if (!it.ok()) Fail(path + ": " + it.status().message());
    interpreters.push_back(std::move(*it));
    Interpreter* p = interpreters.back().get();
    engines.push_back({pthreads.size() > 1 ? fmt::format("personcls {}T", t) : "personcls", [p] { p->Invoke(); }, nullptr, {}});
  }
  auto xnn = XnnpackModel::Create(g, opt.threads);
  if (!xnn.ok()) Fail(path + ": " + xnn.status().message());
  XnnpackModel* x = xnn->get();
  engines.push_back({"XNNPACK", [x] { x->Invoke(); }, nullptr, {}});
  std::unique_ptr<OrtServer> ort;
  if (!onnx.empty()) {
    if (opt.ort_modules.empty()) Fail("--ort NODE_MODULES_DIR is needed for " + onnx);
    ort = std::make_unique<OrtServer>(opt.ort_modules, onnx, opt.threads);
    OrtServer* o = ort.get();
    engines.push_back({"ONNX Runtime", nullptr, [o](int n) {
                         std::istringstream s(o->Command("run " + std::to_string(n)));
                         std::string word;
                         s >> word;
                         if (word != "times") Fail("ONNX Runtime: " + s.str());
                         std::vector<double> ms;
                         for (double t; s >> t;) ms.push_back(t);
                         return ms;
                       }, {}});
  }

  // Same input for the in-process engines.
  for (auto& it : interpreters) {
    auto* d = static_cast<uint8_t*>(it->input_data(0));
    for (int64_t i = 0; i < in_desc.num_elements(); ++i) {
      if (in_desc.dtype == DType::kFloat32)
        reinterpret_cast<float*>(d)[i] = static_cast<float>((i * 37) % 256) / 255.0f;
      else
        d[i] = static_cast<uint8_t>((i * 37) % 256);
    }
  }
  std::memcpy(x->input(), interpreters[0]->input_data(0), in_desc.num_bytes());

  for (Engine& e : engines) {
    if (e.run_many) {
      e.run_many(opt.warmup);
    } else {
      for (int i = 0; i < opt.warmup; ++i) e.invoke();
    }
  }
  for (int r = 0; r < opt.rounds; ++r) {
    for (size_t k = 0; k < engines.size(); ++k) {
      Engine& e = engines[(k + r) % engines.size()];
      if (e.run_many) {
        for (double t : e.run_many(opt.runs)) e.ms.push_back(t);
        continue;
      }
      for (int i = 0; i < opt.runs; ++i) {
        const auto t0 = Clock::now();
        e.invoke();
        e.ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
      }
    }
  }

  // Argmax agreement with personcls (first personcls engine) on every image of --check.
  std::vector<int> agree(engines.size(), 0);
  int images = 0;
  if (!opt.check_dir.empty()) {
    std::vector<std::string> files;
    for (const auto& f : std::filesystem::directory_iterator(opt.check_dir))
      if (f.path().extension() == ".bin") files.push_back(f.path().string());
    std::sort(files.begin(), files.end());
    // The input is filled before every invoke: personcls reuses the input's arena memory
    // once its last reader has run.
    std::vector<uint8_t> input(in_desc.num_bytes());
    Interpreter& ref = *interpreters[0];
    for (const std::string& f : files) {
      auto image = LoadImage(f);
      if (!image.ok()) Fail(image.status().message());
      Status s = FillInputTensor(*image, in_desc, input.data(), *normalization);
      if (!s.ok()) Fail(f + ": " + s.message());
      std::memcpy(ref.input_data(0), input.data(), input.size());
      ref.Invoke();
      const int want = Argmax(out_desc, ref.output_data(0));
      ++images;
      for (size_t k = 0; k < engines.size(); ++k) {
        int got = want;
        if (engines[k].name == "XNNPACK") {
          std::memcpy(x->input(), input.data(), input.size());
          x->Invoke();
          got = Argmax(out_desc, x->output());
        } else if (engines[k].run_many) {
          const std::string answer = ort->Command("classify " + f);
          if (answer.rfind("argmax ", 0) != 0) Fail("ONNX Runtime: " + answer);
          got = std::stoi(answer.substr(7));
        } else if (k < interpreters.size()) {
          std::memcpy(interpreters[k]->input_data(0), input.data(), input.size());
          interpreters[k]->Invoke();
          got = Argmax(out_desc, interpreters[k]->output_data(0));
        }
        agree[k] += got == want;
      }
    }
  }

  const double ours = Median(engines[0].ms);
  double best_peer = 0;
  for (const Engine& e : engines)
    if (e.name.rfind("personcls", 0) != 0) best_peer = best_peer == 0 ? Median(e.ms) : std::min(best_peer, Median(e.ms));
  const std::string model = path == "default" ? "default (embedded)" : std::filesystem::path(path).filename().string();
  for (const Engine& e : engines) {
    const double m = Median(e.ms);
    std::string check = images ? fmt::format("{}/{}", agree[&e - engines.data()], images) : "-";
    fmt::print("| {} | {} | {:.2f} M | {} | {:.3f} | {:.3f} | {:.2f} | {} |\n", model, DTypeName(in_desc.dtype == DType::kInt8 ? DType::kInt8 : out_desc.dtype),
               interpreters[0]->total_macs() / 1e6, e.name, m, *std::min_element(e.ms.begin(), e.ms.end()), ours / m, check);
  }
  fmt::print("| {} | | | personcls / best peer | | | **{:.2f}** | {} |\n", model, ours / best_peer, x->notes().empty() ? "" : "XNNPACK: " + x->notes());
  std::fflush(stdout);
}

}  // namespace
}  // namespace personcls::peers

int main(int argc, char** argv) {
  using namespace personcls::peers;
  Options opt;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) Fail(a + " needs a value");
      return argv[++i];
    };
    if (a == "--rounds") opt.rounds = std::stoi(next());
    else if (a == "--runs") opt.runs = std::stoi(next());
    else if (a == "--warmup") opt.warmup = std::stoi(next());
    else if (a == "--threads") opt.threads = std::stoi(next());
    else if (a == "--personcls-threads") {
      std::stringstream s(next());
      for (std::string t; std::getline(s, t, ',');) opt.personcls_threads.push_back(std::stoi(t));
    } else if (a == "--ort") opt.ort_modules = next();
    else if (a == "--check") opt.check_dir = next();
    else if (a.rfind("--", 0) == 0) Fail("unknown option " + a);
    else opt.models.push_back(a);
  }
  if (opt.models.empty()) Fail("usage: personcls_peers [--rounds R] [--runs N] [--threads T] [--ort DIR] [--check DIR] MODEL[=X.onnx] ...");
  if (opt.rounds < 1 || opt.runs < 1 || opt.threads < 1) Fail("--rounds, --runs and --threads must be >= 1");
  fmt::print("CPU: {}; load average at start: {}; {} rounds x {} runs per engine, {} thread(s)\n\n", CpuModel(), LoadAverage(), opt.rounds,
             opt.runs, opt.threads);
  fmt::print("| model | type | MACs | engine | median ms | min ms | personcls / engine | argmax agrees |\n");
  fmt::print("|---|---|---:|---|---:|---:|---:|---:|\n");
  for (const std::string& m : opt.models) RunModel(opt, m);
  fmt::print("\nload average at end: {}\n", LoadAverage());
  return 0;
}
