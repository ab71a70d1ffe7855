// personcls info: what a model is and what running it costs.
#include <fmt/core.h>
#include <fmt/format.h>

#include <algorithm>
#include <filesystem>

#include "commands.h"
#include "personcls/arch.h"
#include "data/image_fingerprint.h"
#include "formats/csource/csource_writer.h"
#include "personcls/default_model.h"
#include "personcls/export.h"

namespace personcls::cli {
namespace {

nlohmann::json TensorJson(const TensorDesc& t) {
  nlohmann::json j{{"name", t.name}, {"type", DTypeName(t.dtype)}, {"shape", t.shape}};
  if (!t.quant.empty()) {
    j["scale"] = t.quant.scale.size() == 1 ? nlohmann::json(t.quant.scale[0]) : nlohmann::json(t.quant.scale);
    j["zero_point"] = t.quant.zero_point.size() == 1 ? nlohmann::json(t.quant.zero_point[0]) : nlohmann::json(t.quant.zero_point);
  }
  return j;
}

std::string TensorLine(const TensorDesc& t, bool with_name = true) {
  std::string s = with_name ? fmt::format("{} {} [", t.name, DTypeName(t.dtype)) : fmt::format("{} [", DTypeName(t.dtype));
  for (size_t i = 0; i < t.shape.size(); ++i) s += fmt::format("{}{}", i ? "," : "", t.shape[i]);
  s += "]";
  if (t.quant.scale.size() == 1) s += fmt::format(" scale {:.9g} zero_point {}", t.quant.scale[0], t.quant.zero_point[0]);
  return s;
}

// Metadata entries that are short printable text (labels, normalization, producer, and the
// training provenance personcls checkpoints carry: arch, distill, teachers, ...).
nlohmann::json TextMetadata(const Graph& g) {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& [key, bytes] : g.metadata) {
    if (bytes.empty() || bytes.size() > 2000 || key == kFingerprintMetadataKey) continue;
    if (!std::all_of(bytes.begin(), bytes.end(), [](uint8_t b) { return b >= 0x20 && b < 0x7f; })) continue;
    j[key] = std::string(bytes.begin(), bytes.end());
  }
  return j;
}

struct MemoryFigures {
  size_t reference_arena = 0, reference_persistent = 0;
  size_t flash = 0;          // bytes of the .tflite a device stores
  std::string flash_source;  // where that figure comes from
};

// What the model needs on a microcontroller: the reference kernels' arena (the fast kernels
// add int16 scratch) and the .tflite bytes kept in flash.
MemoryFigures Memory(const LoadedModel& m, const ModelOptions& options) {
  MemoryFigures f;
  auto ref = Interpreter::Create(m.graph, {.num_threads = 1, .kernels = KernelSet::kReference});
  if (!ref.ok()) throw CliError{m.name + ": " + ref.status().message()};
  f.reference_arena = (*ref)->arena_bytes();
  f.reference_persistent = (*ref)->persistent_bytes();
  const std::string ext = std::filesystem::path(options.model).extension().string();
  if (options.model.empty()) {
    f.flash = DefaultModelTflite().size();
    f.flash_source = "the embedded .tflite";
  } else if (ext == ".tflite") {
    std::error_code ec;
    f.flash = std::filesystem::file_size(options.model, ec);
    f.flash_source = "the .tflite file";
  } else {
    auto bytes = SerializeTflite(*m.graph);
    if (!bytes.ok()) throw CliError{m.name + ": " + bytes.status().message()};
    f.flash = bytes->size();
    f.flash_source = "as `export --format tflite` would write it, float32";
  }
  return f;
}

// The training fingerprint's summary (data/image_fingerprint.h), or "" when there is none.
std::string FingerprintText(const Graph& g) {
  auto it = g.metadata.find(kFingerprintMetadataKey);
  if (it == g.metadata.end()) return "";
  auto fp = ImageFingerprint::Parse(std::string(it->second.begin(), it->second.end()));
  if (!fp.ok()) return fp.status().message();
  return fmt::format("{} training images ({}x{}x{} pixels), {}; false-match rate {:.1e}; {} bytes of metadata", fp->images(), fp->size(),
                     fp->size(), fp->channels(),
                     fp->complete() ? std::string("every one in the fingerprint") : fmt::format("a 1-in-{:.0f} sample", 1.0 / fp->sampled_fraction()),
                     fp->false_match_rate(), it->second.size());
}

// `info --arch`: the architecture's figures without any weights.
void PrintArch(const std::string& name, int input, int classes, bool gray, bool json) {
  auto config = ArchFromName(name);
  if (!config.ok()) throw CliError{config.status().message()};
  config->input_size = input;
  config->num_classes = classes;
  config->gray = gray;
  auto spec = DescribeArch(*config);
  if (!spec.ok()) throw CliError{spec.status().message()};
  auto graph = BuildDeployGraph(*config, ZeroDeployWeights(*spec, classes));
  if (!graph.ok()) throw CliError{graph.status().message()};
  auto it = Interpreter::Create(std::make_shared<Graph>(std::move(graph).value()), {.kernels = KernelSet::kReference});
  if (!it.ok()) throw CliError{it.status().message()};
  const int64_t params = DeployParamCount(*spec, classes), train_params = TrainParamCount(*spec, classes);
  const int64_t macs = (*it)->total_macs();
  std::vector<ConvSpec> convs{spec->stem};
  convs.insert(convs.end(), spec->blocks.begin(), spec->blocks.end());
  if (json) {
    nlohmann::json layers = nlohmann::json::array();
    for (const ConvSpec& c : convs)
      layers.push_back({{"name", c.name}, {"in_channels", c.in_c}, {"out_channels", c.out_c}, {"stride", c.stride}, {"in_size", c.in_hw},
                        {"out_size", c.out_hw}, {"params", int64_t{9} * c.in_c * c.out_c + c.out_c},
                        {"macs", int64_t{9} * c.in_c * c.out_c * c.out_hw * c.out_hw}});
    nlohmann::json j{{"arch", name},         {"input", {input, input, gray ? 1 : 3}}, {"classes", classes}, {"params", params},
                     {"train_params", train_params}, {"macs", macs}, {"arena_bytes", (*it)->arena_bytes()}, {"layers", layers}};
    fmt::print("{}\n", JsonText(j));
    return;
  }
  fmt::print("arch:          {} (input {}x{}x{}, {} classes)\n", name, input, input, gray ? 1 : 3, classes);
  fmt::print("params:        {} (deploy form: fused 3x3 convs)\n", params);
  fmt::print("train params:  {} (train form: RepConv1x1 branches and BatchNorms)\n", train_params);
  fmt::print("MACs:          {} ({:.2f} M)\n", macs, macs / 1e6);
  fmt::print("arena bytes:   {} (float32 deploy form)\n\n", (*it)->arena_bytes());
  fmt::print("{:<10} {:>5} {:>5} {:>6} {:>9} {:>8} {:>12}\n", "layer", "in", "out", "stride", "size", "params", "MACs");
  for (const ConvSpec& c : convs)
    fmt::print("{:<10} {:>5} {:>5} {:>6} {:>4}->{:<4} {:>8} {:>12}\n", c.name, c.in_c, c.out_c, c.stride, c.in_hw, c.out_hw,
               int64_t{9} * c.in_c * c.out_c + c.out_c, int64_t{9} * c.in_c * c.out_c * c.out_hw * c.out_hw);
  fmt::print("{:<10} {:>5} {:>5} {:>6} {:>9} {:>8} {:>12}\n", "head.fc", spec->feature_channels, classes, "", "", int64_t{spec->feature_channels} * classes + classes,
             int64_t{spec->feature_channels} * classes);
}

}  // namespace

void RegisterInfo(CLI::App& app) {
  struct Args {
    ModelOptions model;
    bool json = false;
    std::string arch;
    int input = 96;
    int classes = 2;
    bool gray = false;
  };
  auto args = std::make_shared<Args>();
  CLI::App* cmd = app.add_subcommand("info", "Describe a model: ops, tensors, parameters, MACs, quantization, arena bytes");
  AddModelOptions(*cmd, args->model, true, /*model_required=*/false);
  cmd->add_flag("--json", args->json,
                "Print JSON (keys include params, macs, arena_bytes, reference_arena_bytes, flash_bytes, tflm_ops, inputs, outputs, ops)");
  cmd->add_option("--arch", args->arch, "Describe an architecture instead of a model: mbv2-rep-0.35 | mbv2-rep-0.5 | mbv2-rep-1.0");
  cmd->add_option("--input", args->input, "With --arch: input size (square)")->capture_default_str();
  cmd->add_option("--classes", args->classes, "With --arch: number of classes")->capture_default_str();
  cmd->add_flag("--gray", args->gray, "With --arch: 1 input channel");
  cmd->callback([args] {
    if (!args->arch.empty()) {
      if (!args->model.model.empty()) throw CliError{"give --model or --arch, not both"};
      return PrintArch(args->arch, args->input, args->classes, args->gray, args->json);
    }
    LoadedModel m = LoadModelOrThrow(args->model);
    const Interpreter& it = *m.interpreter;
    const Graph& g = *m.graph;
    const std::vector<OpInfo> ops = it.op_infos();
    const MemoryFigures mem = Memory(m, args->model);
    std::vector<std::string> tflm_ops;
    for (OpType t : csource::DistinctOpTypes(g)) tflm_ops.push_back(csource::TflmResolverMethod(t));
    if (args->json) {
      const bool embedded = args->model.model.empty();
      nlohmann::json j{{"model", embedded ? "(embedded default model)" : args->model.model},
                       {"description", g.description},
                       {"params", g.ParameterCount()},
                       {"macs", it.total_macs()},
                       {"arena_bytes", it.arena_bytes()},
                       {"persistent_bytes", it.persistent_bytes()},
                       {"kernels", args->model.kernels},
                       {"reference_arena_bytes", mem.reference_arena},
                       {"reference_persistent_bytes", mem.reference_persistent},
                       {"flash_bytes", mem.flash},
                       {"flash_source", mem.flash_source},
                       {"tflm_ops", tflm_ops},
                       {"tensors", g.tensors.size()},
                       {"labels", m.labels}};
      j["metadata"] = TextMetadata(g);
      if (const std::string fp = FingerprintText(g); !fp.empty()) j["training_fingerprint"] = fp;
      if (embedded) {
        const DefaultModelCard& c = DefaultModelInfo();
        j["default_model"] = {{"name", c.name}, {"accuracy", c.accuracy}, {"made", c.made}, {"reproduce", c.reproduce}};
      }
      j["inputs"] = nlohmann::json::array();
      for (int i = 0; i < it.num_inputs(); ++i) j["inputs"].push_back(TensorJson(it.input_desc(i)));
      j["outputs"] = nlohmann::json::array();
      for (int i = 0; i < it.num_outputs(); ++i) j["outputs"].push_back(TensorJson(it.output_desc(i)));
      j["ops"] = nlohmann::json::array();
      for (size_t k = 0; k < ops.size(); ++k) {
        const OpDesc& op = g.ops[k];
        j["ops"].push_back({{"index", k},
                            {"op", OpTypeName(op.type)},
                            {"version", op.version},
                            {"kernel", ops[k].kernel},
                            {"macs", ops[k].macs},
                            {"output", TensorJson(g.tensors[op.outputs[0]])}});
      }
      fmt::print("{}\n", JsonText(j));
      return;
    }
    if (args->model.model.empty()) {
      const DefaultModelCard& c = DefaultModelInfo();
      fmt::print("model:        embedded default model ({})\n", c.name);
      fmt::print("accuracy:     {}\n", c.accuracy);
      fmt::print("made:         {}\n", c.made);
      fmt::print("reproduce:    {}\n", c.reproduce);
    } else {
      fmt::print("model:        {}\n", args->model.model);
    }
    if (!g.description.empty()) fmt::print("description:  {}\n", g.description);
    const nlohmann::json metadata = TextMetadata(g);
    for (const auto& [key, value] : metadata.items()) fmt::print("metadata:     {} = {}\n", key, value.get<std::string>());
    if (const std::string fp = FingerprintText(g); !fp.empty()) fmt::print("trained on:   {}\n", fp);
    for (int i = 0; i < it.num_inputs(); ++i) fmt::print("input:        {}\n", TensorLine(it.input_desc(i)));
    for (int i = 0; i < it.num_outputs(); ++i) fmt::print("output:       {}\n", TensorLine(it.output_desc(i)));
    fmt::print("labels:       {}\n", fmt::join(m.labels, ", "));
    fmt::print("parameters:   {}\n", g.ParameterCount());
    fmt::print("MACs:         {} ({:.2f} M)\n", it.total_macs(), it.total_macs() / 1e6);
    fmt::print("arena bytes:  {} with the {} kernels on this host (activations and scratch)\n", it.arena_bytes(),
               args->model.kernels == "ref" ? "reference" : "fast (AVX2)");
    fmt::print("persistent:   {} bytes on this host (requantization tables, packed weights)\n", it.persistent_bytes());
    fmt::print("MCU (ref):    arena {} bytes, persistent {} bytes (reference kernels, the portable runtime)\n", mem.reference_arena,
               mem.reference_persistent);
    fmt::print("flash:        {} bytes ({})\n", mem.flash, mem.flash_source);
    fmt::print("TFLM ops:     {} to register: {}\n", tflm_ops.size(), fmt::join(tflm_ops, ", "));
    fmt::print("tensors:      {}\nops:          {}\n\n", g.tensors.size(), ops.size());
    fmt::print("{:>3}  {:<24} {:<24} {:>10}  output\n", "#", "op", "kernel", "MACs");
    for (size_t k = 0; k < ops.size(); ++k) {
      const OpDesc& op = g.ops[k];
      std::string name = OpTypeName(op.type);
      if (op.options.activation != Activation::kNone) name += std::string("+") + ActivationName(op.options.activation);
      fmt::print("{:>3}  {:<24} {:<24} {:>10}  {}\n", k, name, ops[k].kernel, ops[k].macs, TensorLine(g.tensors[op.outputs[0]], false));
    }
  });
}

}  // namespace personcls::cli
