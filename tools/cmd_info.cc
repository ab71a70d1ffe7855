// personcls info: what a model is and what running it costs.
#include <fmt/core.h>
#include <fmt/format.h>

#include "commands.h"

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

}  // namespace

void RegisterInfo(CLI::App& app) {
  struct Args {
    ModelOptions model;
    bool json = false;
  };
  auto args = std::make_shared<Args>();
  CLI::App* cmd = app.add_subcommand("info", "Describe a model: ops, tensors, parameters, MACs, quantization, arena bytes");
  AddModelOptions(*cmd, args->model, true);
  cmd->add_flag("--json", args->json, "Print JSON (keys include params, macs, arena_bytes, inputs, outputs, ops)");
  cmd->callback([args] {
    LoadedModel m = LoadModelOrThrow(args->model);
    const Interpreter& it = *m.interpreter;
    const Graph& g = *m.graph;
    const std::vector<OpInfo> ops = it.op_infos();
    if (args->json) {
      nlohmann::json j{{"model", args->model.model},
                       {"description", g.description},
                       {"params", g.ParameterCount()},
                       {"macs", it.total_macs()},
                       {"arena_bytes", it.arena_bytes()},
                       {"persistent_bytes", it.persistent_bytes()},
                       {"tensors", g.tensors.size()},
                       {"labels", m.labels}};
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
      fmt::print("{}\n", j.dump(2));
      return;
    }
    fmt::print("model:        {}\n", args->model.model);
    if (!g.description.empty()) fmt::print("description:  {}\n", g.description);
    for (int i = 0; i < it.num_inputs(); ++i) fmt::print("input:        {}\n", TensorLine(it.input_desc(i)));
    for (int i = 0; i < it.num_outputs(); ++i) fmt::print("output:       {}\n", TensorLine(it.output_desc(i)));
    fmt::print("labels:       {}\n", fmt::join(m.labels, ", "));
    fmt::print("parameters:   {}\n", g.ParameterCount());
    fmt::print("MACs:         {} ({:.2f} M)\n", it.total_macs(), it.total_macs() / 1e6);
    fmt::print("arena bytes:  {} (activations and scratch)\n", it.arena_bytes());
    fmt::print("persistent:   {} bytes (requantization tables, packed weights)\n", it.persistent_bytes());
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
