#include "model_export.h"

#include <algorithm>
#include <cstdio>

#include "commands.h"
#include "data/dataset.h"
#include "data/image_fingerprint.h"

#include "formats/onnx/onnx_writer.h"
#include "personcls/checkpoint.h"
#include "personcls/default_model.h"
#include "personcls/preprocess.h"
#include "personcls/quantize.h"

namespace personcls::cli {
namespace {

std::vector<std::string> WriteTfliteOut(const ExportJob& job, Graph graph) {
  const std::vector<uint8_t> bytes = TfliteBytesForExport(std::move(graph), job);
  Status st = WriteModelFile(job.out, bytes);
  if (!st.ok()) throw CliError{st.message()};
  return {job.out};
}

std::vector<std::string> WriteFloat(const ExportJob& job) { return WriteTfliteOut(job, *job.graph); }

std::vector<std::string> WriteInt8(const ExportJob& job) {
  if (job.calib.empty()) throw CliError{"tflite-int8 needs calibration images (--calib DIR)"};
  return WriteTfliteOut(job, QuantizeForExport(job));
}

std::vector<std::string> WriteC(const ExportJob& job) {
  Graph graph = job.calib.empty() ? *job.graph : QuantizeForExport(job);
  const std::vector<uint8_t> bytes = TfliteBytesForExport(graph, job);
  // The stamped graph (labels, normalization) is what the C constants describe.
  auto reread = LoadModelBytes(std::make_shared<const std::vector<uint8_t>>(bytes), job.out);
  if (!reread.ok()) throw CliError{reread.status().message()};
  auto files = WriteCSource(job.out, bytes, **reread, job.symbol);
  if (!files.ok()) throw CliError{files.status().message()};
  return *files;
}

// float32 ONNX of the graph as loaded (int8 graphs are refused, not dequantized), stamped
// like the TFLite exports and read back through our ONNX reader before it is written.
std::vector<std::string> WriteOnnxOut(const ExportJob& job) {
  Graph graph = *job.graph;
  Status st = StampExportMetadata(graph, job.metadata);
  if (!st.ok()) throw CliError{st.WithContext(job.model.model).message()};
  auto bytes = onnx_format::WriteOnnx(graph, PERSONCLS_VERSION);
  if (!bytes.ok()) throw CliError{bytes.status().WithContext(job.model.model).message()};
  auto reread = LoadModelBytes(std::make_shared<const std::vector<uint8_t>>(*bytes), job.out);
  if (!reread.ok()) throw CliError{"internal error: the written ONNX does not read back: " + reread.status().message()};
  st = WriteModelFile(job.out, *bytes);
  if (!st.ok()) throw CliError{st.message()};
  return {job.out};
}

}  // namespace

const std::vector<ExportFormat>& ExportFormats() {
  static const std::vector<ExportFormat> formats = {
      {"tflite", "TFLite of the model as loaded (checkpoints: the fused float32 deploy graph)", false, WriteFloat},
      {"tflite-int8", "int8 TFLite, post-training quantized on --calib DIR (as `personcls quantize`)", true, WriteInt8},
      {"c", "C header + C++ source embedding the .tflite (int8 when --calib is given) for firmware", false, WriteC},
      {"onnx", "float32 ONNX, opset 13: NCHW input 'input' (pixel/255 unless metadata 'normalization' says otherwise), output 'output'", false, WriteOnnxOut},
  };
  return formats;
}

void PrepareExportJob(ExportJob& job) {
  const ModelOptions& o = job.model;
  if (o.threads < 1 || o.threads > 256) throw CliError{"--threads must be 1..256"};
  // No --model: the embedded default model (include/personcls/default_model.h).
  auto graph = o.model.empty()               ? LoadDefaultModel()
               : IsCheckpointPath(o.model) ? LoadCheckpointGraph(o.model, o.arch)
                                           : LoadModelFile(o.model);
  if (!graph.ok()) throw CliError{graph.status().message()};
  job.graph = *graph;
  // From here on the model's name is only the context of messages and metadata.
  if (o.model.empty()) job.model.model = "embedded default model";
  if (!o.labels.empty()) job.metadata.labels = SplitLabels(o.labels);
  // The model's metadata, as LoadModelOrThrow reads it, overridden by the flags.
  job.metadata.normalization = NormalizationOrThrow(*job.graph, o);
  job.metadata.source = o.model;
  if (!job.train_data.empty()) {
    const TensorDesc& in = job.graph->tensors[job.graph->inputs.at(0)];
    if (in.shape.size() != 4 || in.shape[1] != in.shape[2]) throw CliError{"--train-data needs a model with a square NHWC input"};
    const int64_t classes = job.graph->tensors[job.graph->outputs.at(0)].num_elements();
    auto data = LoadDataset(job.train_data, in.shape[1], static_cast<int>(std::max<int64_t>(classes, 2)), in.shape[3] == 1);
    if (!data.ok()) throw CliError{data.status().message()};
    job.metadata.extra[kFingerprintMetadataKey] = ImageFingerprint::Build(data->pixels.data(), data->count(), data->size, data->channels).ToText();
  }
}

void AddCalibrationOptions(CLI::App& cmd, ExportJob& job) {
  cmd.add_option("--images", job.images, "Calibration images used: a class-balanced seeded sample of this many (classes: labels.csv or sub-directories)")
      ->capture_default_str();
  cmd.add_option("--seed", job.seed, "Seed of the calibration sample")->capture_default_str();
  cmd.add_option("--method", job.method, "Calibration ranges: minmax, l2 or percentile")->capture_default_str();
  cmd.add_option("--train-data", job.train_data,
                 "The model's labelled training images (any dataset form `train` reads): recorded as its training fingerprint, so that "
                 "`eval` reports overlap");
  AddVerbosityFlags(cmd, job.verbosity);
}

Graph QuantizeForExport(const ExportJob& job) {
  auto method = CalibrationMethodFromName(job.method);
  if (!method.ok()) throw CliError{method.status().message()};
  if (job.images < 1) throw CliError{"--images must be at least 1"};
  auto source = CalibrationFromDirectory(job.calib, job.images, job.metadata.normalization, job.seed);
  if (!source.ok()) throw CliError{source.status().message()};
  QuantizeOptions options;
  options.method = *method;
  options.num_threads = job.model.threads;
  options.input_normalization = job.metadata.normalization.value_or(InputNormalization{});
  auto q = QuantizeGraph(*job.graph, **source, options);
  if (!q.ok()) throw CliError{q.status().WithContext(job.model.model).message()};
  return std::move(q).value();
}

std::vector<uint8_t> TfliteBytesForExport(Graph graph, const ExportJob& job) {
  Status st = StampExportMetadata(graph, job.metadata);
  if (!st.ok()) throw CliError{st.WithContext(job.model.model).message()};
  auto bytes = SerializeTflite(graph);
  if (!bytes.ok()) throw CliError{bytes.status().WithContext(job.out).message()};
  return std::move(bytes).value();
}

}  // namespace personcls::cli
