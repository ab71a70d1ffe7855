// mcu_check: runs a model on a QEMU Cortex-M board through the runner firmware
// (mcu/runner) and checks every output byte against the host, then reports what firmware
// developers need: instructions per inference (SysTick under -icount shift=0), arena,
// prepared data and stack high-water, kernels per op.
//
//   mcu_check --qemu qemu-system-arm --machine mps2-an386 --firmware mcu_runner.elf
//             --job-addr 0x21000000 --systick-hz 25000000 --model default|M.tflite
//             [--golden G.csv --input-dir DIR --input-kind rgb|gray|raw] [--inputs N]
//             [--reference] [--report R.json] [--work DIR] [--timeout S] [--example] [--markdown]
//
// Expected outputs: the host Interpreter's (reference kernels), computed now; with
// --golden also the golden file's values (TFLite Micro's reference kernels), which the
// host must equal too. Inputs: N rows of the golden file spread over it, or N images of
// --input-dir (raw 96x96 RGB .bin), else synthetic tensors. Exit status 0 when every byte
// matches and the firmware finished; 1 with the first differences otherwise.
//
// --example: the firmware is the example (examples/cortex-m), which has the model built
// in: the job carries raw RGB frames instead of model and tensors (--input-kind rgb), and
// each printed decision (top class and Person score) must equal the host's.
// --markdown: also print one row of bench/RESULTS.md's table (bench/mcu/run.sh).
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "golden_io.h"
#include "mcu/runner/job.h"
#include "personcls/default_model.h"
#include "personcls/interpreter.h"
#include "personcls/model.h"

namespace fs = std::filesystem;

namespace personcls {
namespace {

using testing::InputKind;

struct Args {
  std::string qemu = "qemu-system-arm", machine, firmware, model = "default";
  std::string golden, input_dir, input_kind = "rgb", report, work = ".";
  uint32_t job_addr = 0;
  double systick_hz = 0;
  int inputs = 3;
  int timeout = 300;
  bool reference = false;
  bool example = false;
  bool markdown = false;
};

[[noreturn]] void Die(const std::string& message) {
  std::cerr << "mcu_check: " << message << "\n";
  std::exit(2);
}

Args ParseArgs(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    const std::string k = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) Die("missing value after " + k);
      return argv[++i];
    };
    if (k == "--qemu") a.qemu = next();
    else if (k == "--machine") a.machine = next();
    else if (k == "--firmware") a.firmware = next();
    else if (k == "--job-addr") a.job_addr = static_cast<uint32_t>(std::stoul(next(), nullptr, 0));
    else if (k == "--systick-hz") a.systick_hz = std::stod(next());
    else if (k == "--model") a.model = next();
    else if (k == "--golden") a.golden = next();
    else if (k == "--input-dir") a.input_dir = next();
    else if (k == "--input-kind") a.input_kind = next();
    else if (k == "--inputs") a.inputs = std::stoi(next());
    else if (k == "--reference") a.reference = true;
    else if (k == "--report") a.report = next();
    else if (k == "--work") a.work = next();
    else if (k == "--timeout") a.timeout = std::stoi(next());
    else if (k == "--example") a.example = true;
    else if (k == "--markdown") a.markdown = true;
    else Die("unknown argument " + k);
  }
  if (a.machine.empty() || a.firmware.empty() || !a.job_addr || a.systick_hz <= 0)
    Die("needs --machine, --firmware, --job-addr and --systick-hz");
  if (a.inputs < 1) Die("--inputs must be at least 1");
  return a;
}

std::vector<uint8_t> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) Die(path + ": cannot open");
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), {});
}

InputKind ParseKind(const std::string& s) {
  if (s == "rgb") return InputKind::kRgbInt8;
  if (s == "gray") return InputKind::kGrayInt8;
  if (s == "raw") return InputKind::kRawInt8;
  Die("--input-kind must be rgb, gray or raw");
}

struct Case {
  std::string name;
  std::vector<uint8_t> frame;     // the raw file bytes (the example's camera frame)
  std::vector<uint8_t> input;     // the tensor
  std::vector<int> golden;        // expected values from the golden file (empty: none)
  std::vector<uint8_t> expected;  // the host's output bytes
};

// The firmware's report, parsed.
struct RunLine {
  unsigned long ticks = 0, stack = 0;
  std::string hex;
};
struct Report {
  std::map<std::string, std::map<std::string, unsigned long>> init;  // kernels -> arena/prepared/stack/ticks
  std::map<std::string, std::string> init_error;
  std::map<std::string, std::map<int, RunLine>> runs;  // kernels -> input -> run
  std::vector<std::vector<std::string>> ops;           // k, type, kernel, macs
  std::map<int, std::pair<int, int>> decisions;        // example: frame -> (person, score)
  unsigned long calibration_iterations = 0, calibration_ticks = 0;
  bool done = false;
  std::string text;
};

Report Parse(const std::string& text) {
  Report r;
  r.text = text;
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    std::istringstream in(line);
    std::string tag;
    in >> tag;
    if (tag == "calibration") {
      in >> r.calibration_iterations >> r.calibration_ticks;
    } else if (tag == "init") {
      std::string kernels, status;
      in >> kernels >> status;
      if (status == "error") {
        std::getline(in, r.init_error[kernels]);
        continue;
      }
      std::string key;
      unsigned long value;
      while (in >> key >> value) r.init[kernels][key] = value;
    } else if (tag == "op") {
      std::vector<std::string> fields;
      std::string f;
      while (in >> f) fields.push_back(f);
      r.ops.push_back(fields);
    } else if (tag == "run") {
      std::string kernels, key;
      int index;
      RunLine run;
      in >> kernels >> index >> key >> run.ticks >> key >> run.stack >> key >> run.hex;
      r.runs[kernels][index] = run;
    } else if (tag == "decision") {
      int index, person, score;
      in >> index >> person >> score;
      r.decisions[index] = {person, score};
    } else if (tag == "done") {
      r.done = true;
    }
  }
  return r;
}

std::string Hex(const std::vector<uint8_t>& bytes) {
  static const char kHex[] = "0123456789abcdef";
  std::string s;
  for (uint8_t b : bytes) {
    s += kHex[b >> 4];
    s += kHex[b & 15];
  }
  return s;
}

std::string ShellQuote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

}  // namespace
}  // namespace personcls

int main(int argc, char** argv) {
  using namespace personcls;
  const Args args = ParseArgs(argc, argv);
  // Shared models and data live in ../shared; without them the test is skipped (ctest's
  // SKIP_RETURN_CODE 77), never failed.
  for (const std::string& needed : {args.model == "default" ? std::string() : args.model, args.golden})
    if (!needed.empty() && !fs::exists(needed)) {
      std::printf("skipped: needs %s (absent)\n", needed.c_str());
      return 77;
    }

  // The model, on the host.
  std::vector<uint8_t> model_bytes;
  std::shared_ptr<const Graph> graph;
  if (args.model == "default") {
    const auto bytes = DefaultModelTflite();
    model_bytes.assign(bytes.begin(), bytes.end());
    auto g = LoadDefaultModel();
    if (!g.ok()) Die(g.status().message());
    graph = *g;
  } else {
    model_bytes = ReadFile(args.model);
    auto g = LoadModelFile(args.model);
    if (!g.ok()) Die(g.status().message());
    graph = *g;
  }
  auto created = Interpreter::Create(graph, {.num_threads = 1, .kernels = KernelSet::kReference});
  if (!created.ok()) Die(created.status().message());
  Interpreter& host = **created;
  const TensorDesc& in_desc = host.input_desc(0);
  const TensorDesc& out_desc = host.output_desc(0);
  if (in_desc.dtype != DType::kInt8 || out_desc.dtype != DType::kInt8) Die("mcu_check runs int8 models");
  const size_t in_bytes = static_cast<size_t>(in_desc.num_bytes());

  // The inputs.
  std::vector<Case> cases;
  if (!args.golden.empty()) {
    const auto rows = testing::ReadGolden(args.golden);
    if (rows.empty()) Die(args.golden + ": no rows");
    const size_t n = std::min<size_t>(args.inputs, rows.size());
    for (size_t i = 0; i < n; ++i) {
      const auto& row = rows[i * rows.size() / n];
      Case c{row.file, ReadFile(args.input_dir + "/" + row.file), std::vector<uint8_t>(in_bytes), {}, {}};
      testing::FillInput(ParseKind(args.input_kind), c.frame, c.input.data());
      for (double v : row.values) c.golden.push_back(static_cast<int>(v));
      cases.push_back(std::move(c));
    }
  } else {
    std::vector<std::string> files;
    if (!args.input_dir.empty() && fs::is_directory(args.input_dir))
      for (const auto& e : fs::directory_iterator(args.input_dir))
        if (e.path().extension() == ".bin" && fs::file_size(e.path()) == in_bytes) files.push_back(e.path().string());
    std::sort(files.begin(), files.end());
    for (size_t i = 0; i < files.size() && static_cast<int>(cases.size()) + 1 < args.inputs; ++i) {
      const std::string& f = files[i * files.size() / (args.inputs - 1)];
      Case c{fs::path(f).filename().string(), ReadFile(f), std::vector<uint8_t>(in_bytes), {}, {}};
      testing::FillInput(ParseKind(args.input_kind), c.frame, c.input.data());
      cases.push_back(std::move(c));
    }
    // Synthetic tensors fill up the count (xorshift32, seed 1 + case index).
    for (uint32_t s = 1; static_cast<int>(cases.size()) < args.inputs; ++s) {
      // A frame of random bytes, fed like an image (--input-kind).
      Case c{"xorshift" + std::to_string(s), std::vector<uint8_t>(in_bytes * (args.input_kind == "gray" ? 3 : 1)),
             std::vector<uint8_t>(in_bytes), {}, {}};
      uint32_t x = s * 2654435761u;
      for (auto& b : c.frame) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        b = static_cast<uint8_t>(x);
      }
      testing::FillInput(ParseKind(args.input_kind), c.frame, c.input.data());
      cases.push_back(std::move(c));
    }
  }
  int failures = 0;
  for (Case& c : cases) {
    std::memcpy(host.input_data(0), c.input.data(), in_bytes);
    host.Invoke();
    const auto* o = static_cast<const uint8_t*>(host.output_data(0));
    c.expected.assign(o, o + out_desc.num_bytes());
    if (!c.golden.empty()) {
      for (size_t i = 0; i < c.golden.size() && i < c.expected.size(); ++i)
        if (static_cast<int8_t>(c.expected[i]) != c.golden[i]) {
          std::cerr << c.name << ": host output " << i << " is " << int(static_cast<int8_t>(c.expected[i])) << ", golden " << c.golden[i] << "\n";
          ++failures;
        }
    }
  }

  // The job.
  fs::create_directories(args.work);
  // One file per run (tests of the same board run in parallel), removed afterwards.
  const std::string stem = args.model == "default" ? "default" : fs::path(args.model).stem().string();
  const std::string job_path =
      (fs::path(args.work) / ("job-" + stem + (args.example ? "-example-" : "-") + std::to_string(getpid()) + ".bin")).string();
  {
    mcu::JobHeader h{};
    std::memcpy(h.magic, mcu::kJobMagic, sizeof(h.magic));
    // The runner gets the model and input tensors; the example (model built in) frames.
    const size_t item = args.example ? cases[0].frame.size() : in_bytes;
    h.model_offset = 64;
    h.model_bytes = args.example ? 0 : static_cast<uint32_t>(model_bytes.size());
    h.input_offset = (h.model_offset + h.model_bytes + 15) / 16 * 16;
    h.input_bytes = static_cast<uint32_t>(item);
    h.num_inputs = static_cast<uint32_t>(cases.size());
    h.flags = args.reference ? uint32_t{mcu::kJobRunReference} : 0u;
    std::vector<uint8_t> blob(h.input_offset + item * cases.size());
    std::memcpy(blob.data(), &h, sizeof(h));
    if (!args.example) std::memcpy(blob.data() + h.model_offset, model_bytes.data(), model_bytes.size());
    for (size_t i = 0; i < cases.size(); ++i) {
      const std::vector<uint8_t>& bytes = args.example ? cases[i].frame : cases[i].input;
      if (bytes.size() != item) Die(cases[i].name + ": frames must all have the same size");
      std::memcpy(blob.data() + h.input_offset + i * item, bytes.data(), item);
    }
    std::ofstream out(job_path, std::ios::binary);
    out.write(reinterpret_cast<const char*>(blob.data()), static_cast<std::streamsize>(blob.size()));
    if (!out) Die(job_path + ": cannot write");
  }

  // QEMU. -icount shift=0: one guest instruction per virtual nanosecond.
  char addr[32];
  std::snprintf(addr, sizeof(addr), "0x%08x", args.job_addr);
  const std::string command = "timeout " + std::to_string(args.timeout) + " " + ShellQuote(args.qemu) + " -machine " + args.machine +
                              " -nographic -monitor none -serial none -semihosting-config enable=on,target=native" +
                              " -icount shift=0 -kernel " + ShellQuote(args.firmware) + " -device loader,file=" + ShellQuote(job_path) +
                              ",addr=" + addr + " 2>&1";
  FILE* pipe = popen(command.c_str(), "r");
  if (!pipe) Die("cannot run " + command);
  std::string text;
  char buf[4096];
  size_t got;
  while ((got = fread(buf, 1, sizeof(buf), pipe)) > 0) text.append(buf, got);
  const int status = pclose(pipe);
  std::error_code ignored;
  fs::remove(job_path, ignored);
  const int exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  const Report r = Parse(text);
  if (exit_code != 0 || !r.done) {
    std::cerr << "mcu_check: the firmware did not finish (exit status " << exit_code << "); its output:\n" << text << "\n";
    return 1;
  }

  if (args.example) {
    for (size_t i = 0; i < cases.size(); ++i) {
      const auto& out = cases[i].expected;
      const int person = static_cast<int8_t>(out[1]) > static_cast<int8_t>(out[0]) ? 1 : 0;
      const int score = static_cast<int8_t>(out[1]) + 128;
      const auto got = r.decisions.find(static_cast<int>(i));
      if (got == r.decisions.end() || got->second != std::make_pair(person, score)) {
        std::cerr << cases[i].name << ": example decided " << (got == r.decisions.end() ? std::string("nothing")
                                                                                          : std::to_string(got->second.first) + " score " +
                                                                                                std::to_string(got->second.second))
                  << ", host " << person << " score " << score << "\n";
        ++failures;
      }
    }
    std::printf("%s example: %zu frames, %s\n", args.machine.c_str(), cases.size(),
                failures ? "FAILED" : "every decision equal to the host's");
    return failures ? 1 : 0;
  }

  // Compare every byte.
  const double instructions_per_tick = 1e9 / args.systick_hz;
  auto instructions = [&](unsigned long ticks) { return static_cast<double>(ticks) * instructions_per_tick; };
  const int64_t macs = host.total_macs();
  for (const char* kernels : {"fast", "ref"}) {
    if (std::string(kernels) == "ref" && !args.reference) continue;
    const auto runs = r.runs.find(kernels);
    const size_t expected_runs = std::string(kernels) == "fast" ? cases.size() : 1;
    if (runs == r.runs.end() || runs->second.size() != expected_runs) {
      std::cerr << kernels << ": expected " << expected_runs << " runs in the firmware output:\n" << text << "\n";
      ++failures;
      continue;
    }
    for (const auto& [index, run] : runs->second) {
      const Case& c = cases.at(index);
      if (run.hex != Hex(c.expected)) {
        std::cerr << kernels << " " << c.name << ": device output " << run.hex << ", host " << Hex(c.expected) << "\n";
        ++failures;
      }
    }
  }

  // Report.
  const double calibration = r.calibration_ticks ? 2.0 * r.calibration_iterations / r.calibration_ticks : 0;
  std::printf("%s: %zu inputs, model %zu bytes, %lld MACs, calibration %.3f instructions per tick (expected %.3f)\n", args.machine.c_str(),
              cases.size(), model_bytes.size(), static_cast<long long>(macs), calibration, instructions_per_tick);
  for (const auto& op : r.ops) {
    std::string line = "  op";
    for (const auto& f : op) line += " " + f;
    std::printf("%s\n", line.c_str());
  }
  nlohmann::json report = {{"machine", args.machine}, {"model", args.model}, {"model_bytes", model_bytes.size()}, {"macs", macs},
                           {"inputs", cases.size()}, {"instructions_per_tick", instructions_per_tick}, {"calibration", calibration}};
  for (const auto& [kernels, runs] : r.runs) {
    double sum = 0;
    unsigned long stack = 0;
    for (const auto& [index, run] : runs) {
      sum += instructions(run.ticks);
      stack = std::max(stack, run.stack);
    }
    const double per_inference = sum / static_cast<double>(runs.size());
    const auto& init = r.init.at(kernels);
    std::printf("  %s: %.0f instructions per inference (%.2f per MAC), arena %lu B, prepared %lu B, stack %lu B (init %lu B)\n",
                kernels.c_str(), per_inference, per_inference / static_cast<double>(macs), init.at("arena"), init.at("prepared"), stack,
                init.at("stack"));
    report[kernels] = {{"instructions_per_inference", per_inference}, {"instructions_per_mac", per_inference / static_cast<double>(macs)},
                       {"arena_bytes", init.at("arena")}, {"prepared_bytes", init.at("prepared")}, {"stack_bytes_invoke", stack},
                       {"stack_bytes_init", init.at("stack")}, {"init_instructions", instructions(init.at("ticks"))}};
  }
  for (const auto& [kernels, message] : r.init_error) {
    std::cerr << kernels << ": Init failed:" << message << "\n";
    ++failures;
  }
  if (std::fabs(calibration - instructions_per_tick) > 0.01 * instructions_per_tick) {
    std::cerr << "calibration: " << calibration << " instructions per tick, expected " << instructions_per_tick << "\n";
    ++failures;
  }
  if (args.markdown && r.runs.count("fast")) {
    auto per_inference = [&](const std::string& kernels) {
      double sum = 0;
      for (const auto& [index, run] : r.runs.at(kernels)) sum += instructions(run.ticks);
      return sum / static_cast<double>(r.runs.at(kernels).size());
    };
    const double fast = per_inference("fast");
    const auto& init = r.init.at("fast");
    unsigned long stack = init.at("stack");
    for (const auto& [index, run] : r.runs.at("fast")) stack = std::max(stack, run.stack);
    std::string ref_cells = "| – | – | – ";
    if (r.runs.count("ref")) {
      const double ref = per_inference("ref");
      char buf[128];
      std::snprintf(buf, sizeof(buf), "| %.2f M | %.2f | %.1fx ", ref / 1e6, ref / static_cast<double>(macs), ref / fast);
      ref_cells = buf;
    }
    const std::string name = args.model == "default" ? "default model" : fs::path(args.model).stem().string();
    std::printf("MARKDOWN | %s | %s | %.2f M | %.2f M | %.3f %s| %lu | %lu | %lu | %lu |\n", args.machine.c_str(), name.c_str(),
                static_cast<double>(macs) / 1e6, fast / 1e6, fast / static_cast<double>(macs), ref_cells.c_str(), init.at("arena"),
                init.at("prepared"), stack, init.at("arena") + init.at("prepared") + stack);
  }
  if (!args.report.empty()) {
    nlohmann::json ops = nlohmann::json::array();
    for (const auto& op : r.ops) ops.push_back(op);
    report["ops"] = ops;
    std::ofstream(args.report) << report.dump(2) << "\n";
  }
  std::printf("%s\n", failures ? "FAILED" : "all outputs bit-exact with the host");
  return failures ? 1 : 0;
}
