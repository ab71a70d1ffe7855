// personcls convert: a PyTorch .pth checkpoint (torch.save zip; plain state_dict or an
// mmengine checkpoint) to a safetensors file with the same (SSCMA) tensor names.
#include <fmt/core.h>

#include "commands.h"
#include "formats/pth/pth_reader.h"
#include "formats/safetensors/safetensors.h"

namespace personcls::cli {

void RegisterConvert(CLI::App& app) {
  struct Args {
    std::string input;
    std::string out;
  };
  auto args = std::make_shared<Args>();
  CLI::App* cmd = app.add_subcommand("convert", "Convert a PyTorch .pth checkpoint (state_dict or mmengine) to safetensors");
  cmd->add_option("input", args->input, "The .pth file (torch.save zip format)")->required();
  cmd->add_option("--out", args->out, "The .safetensors file to write (atomically)")->required();
  cmd->callback([args] {
    auto file = pth::ReadStateDict(args->input);
    if (!file.ok()) throw CliError{file.status().message()};
    file->metadata["source"] = "pth";
    Status st = safetensors::WriteFile(args->out, *file);
    if (!st.ok()) throw CliError{st.message()};
    int64_t elements = 0;
    for (const auto& [name, t] : file->tensors) elements += t.num_elements();
    fmt::print("converted {} tensors ({} values) from {} to {}\n", file->tensors.size(), elements, args->input, args->out);
  });
}

}  // namespace personcls::cli
