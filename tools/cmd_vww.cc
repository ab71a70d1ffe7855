// personcls vww build: the Visual Wake Words dataset from a COCO 2014 download
// (data/vww_builder.h): labels, splits, the pre-resized image cache and labels.csv files.
#include <fmt/core.h>

#include <thread>

#include "commands.h"
#include "data/vww_builder.h"

namespace personcls::cli {

void RegisterVww(CLI::App& app) {
  auto o = std::make_shared<VwwBuildOptions>();
  auto verbosity = std::make_shared<VerbosityFlags>();
  o->threads = 0;
  CLI::App* vww = app.add_subcommand("vww", "Visual Wake Words datasets");
  vww->require_subcommand(1);
  CLI::App* cmd = vww->add_subcommand(
      "build", "Build VWW from COCO 2014: labels, train/minival splits, a pre-resized image cache and labels.csv listings");
  cmd->add_option("--coco", o->coco_root, "COCO root: annotations/instances_{train,val}2014.json, train2014/, val2014/")->required();
  cmd->add_option("--out", o->out_dir, "Output directory (created; a rerun resumes an interrupted build)")->required();
  cmd->add_option("--minival-ids", o->minival_ids, "File of minival image ids (tensorflow/models mscoco_minival_ids.txt); default: a seeded split of 8,059 images");
  cmd->add_option("--size", o->size, "Output images are size x size RGB (stretch-resized)")->capture_default_str();
  cmd->add_option("--threshold", o->threshold, "Person when a person annotation's area / image area exceeds this")->capture_default_str();
  cmd->add_option("--threads", o->threads, "Decoding threads (0: all cores)")->capture_default_str();
  cmd->add_flag("--strict", o->strict, "Fail on any missing, corrupt or mis-sized image instead of skipping it");
  cmd->add_option("--seed", o->seed, "Seed of the minival split when --minival-ids is not given")->capture_default_str();
  cmd->add_option("--chunk-size", o->chunk_size, "Images per resumable chunk")->capture_default_str();
  AddVerbosityFlags(*cmd, *verbosity);
  cmd->callback([o, verbosity] {
    VwwBuildOptions options = *o;
    if (options.threads <= 0) options.threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    // The builder's progress and notes (chunks done, skipped images); --quiet drops them.
    if (verbosity->level() == Verbosity::kQuiet)
      options.log = [](const std::string&) {};
    else
      options.log = [](const std::string& line) { fmt::print(stderr, "{}\n", line); };
    Expected<VwwReport> report = BuildVww(options);
    if (!report.ok()) throw CliError{report.status().message()};
    fmt::print("{}", FormatVwwReport(*report));
    fmt::print("wrote {0}/train.pcache, {0}/minival.pcache (+ .index.csv), {0}/train/labels.csv, {0}/minival/labels.csv, "
               "{0}/summary.json\n",
               options.out_dir);
  });
}

}  // namespace personcls::cli
