// Shared by `personcls export` and `personcls quantize`: one ExportJob (model, metadata,
// calibration settings, output path) and a table of output formats. Adding a format is
// one entry in ExportFormats() (tools/model_export.cc): a name, a help line and a
// function that writes the files and returns their paths.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "cli_common.h"
#include "personcls/export.h"
#include "personcls/graph.h"

namespace personcls::cli {

struct ExportJob {
  ModelOptions model;            // --model and the common flags
  std::shared_ptr<const Graph> graph;  // the model as loaded (checkpoints: the fused float32 deploy graph)
  std::string out;
  ExportMetadata metadata;       // labels, normalization, source
  std::string calib;             // calibration directory; empty: no quantization
  size_t images = 100;           // calibration images: a class-balanced sample of this many
  uint64_t seed = 0;             // of the calibration sample
  std::string train_data;        // dataset whose images become the training fingerprint (empty: keep the model's)
  VerbosityFlags verbosity;
  std::string method = "minmax";
  std::string symbol;            // c: C identifier prefix (default: from the file name)
};

struct ExportFormat {
  std::string name;
  std::string help;
  bool needs_calib = false;
  std::function<std::vector<std::string>(const ExportJob&)> write;  // throws CliError
};

const std::vector<ExportFormat>& ExportFormats();

// Loads job.model.model into job.graph and fills job.metadata from the flags and the model
// (normalization: flags, else the model's metadata; the training fingerprint of
// job.train_data). Throws CliError.
void PrepareExportJob(ExportJob& job);

// --calib, --images, --method, --seed, --train-data (export and quantize).
void AddCalibrationOptions(CLI::App& cmd, ExportJob& job);

// The int8 graph of job.graph calibrated on job.calib. Throws CliError.
Graph QuantizeForExport(const ExportJob& job);

// Stamps metadata into `graph` and serializes it as verified TFLite bytes. Throws CliError.
std::vector<uint8_t> TfliteBytesForExport(Graph graph, const ExportJob& job);

}  // namespace personcls::cli
