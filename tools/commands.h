// The personcls subcommands. Each Register* adds its CLI11 subcommand and flags and sets
// the callback that runs it; callbacks throw CliError for one-line failures.
#pragma once

#include <CLI/CLI.hpp>

#include "cli_common.h"

namespace personcls::cli {

void AddModelOptions(CLI::App& cmd, ModelOptions& options, bool with_labels, bool model_required = true);
// --quiet / --verbose (long commands).
void AddVerbosityFlags(CLI::App& cmd, VerbosityFlags& flags);

void RegisterClassify(CLI::App& app);
void RegisterEval(CLI::App& app);
void RegisterInfo(CLI::App& app);
void RegisterBench(CLI::App& app);
void RegisterTrain(CLI::App& app);
void RegisterConvert(CLI::App& app);
void RegisterQuantize(CLI::App& app);
void RegisterExport(CLI::App& app);
void RegisterAugmentPreview(CLI::App& app);
void RegisterVww(CLI::App& app);
void RegisterExplain(CLI::App& app);
void RegisterDistill(CLI::App& app);
void RegisterWatch(CLI::App& app);

}  // namespace personcls::cli
