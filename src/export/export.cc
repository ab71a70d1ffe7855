#include "personcls/export.h"

#include <cctype>
#include <cstdio>
#include <filesystem>
#include <memory>

#include "core/atomic_file.h"
#include "formats/csource/csource_writer.h"
#include "formats/tflite/tflite_writer.h"
#include "personcls/interpreter.h"
#include "personcls/model.h"
#include "personcls/preprocess.h"

#ifndef PERSONCLS_VERSION
#error "PERSONCLS_VERSION must be defined by the build"
#endif

namespace personcls {
namespace {

std::vector<uint8_t> Bytes(const std::string& s) { return std::vector<uint8_t>(s.begin(), s.end()); }

std::string MetadataText(const Graph& g, const std::string& key) {
  auto it = g.metadata.find(key);
  return it == g.metadata.end() ? std::string() : std::string(it->second.begin(), it->second.end());
}

std::vector<std::string> SplitComma(const std::string& text) {
  std::vector<std::string> out;
  if (text.empty()) return out;
  size_t start = 0;
  for (size_t comma; (comma = text.find(',', start)) != std::string::npos; start = comma + 1) out.push_back(text.substr(start, comma - start));
  out.push_back(text.substr(start));
  return out;
}

// Writes every file under a temporary name first and renames only when all were written,
// so a failure leaves no new file and every old one intact.
Status WriteAllAtomic(const std::vector<std::pair<std::string, std::string>>& files) {
  std::vector<std::unique_ptr<AtomicFile>> out;
  for (const auto& [path, text] : files) {
    out.push_back(std::make_unique<AtomicFile>());
    PCLS_RETURN_IF_ERROR(out.back()->Open(path));
    PCLS_RETURN_IF_ERROR(out.back()->Write(text));
  }
  for (auto& f : out) PCLS_RETURN_IF_ERROR(f->Commit());
  return Status::Ok();
}

}  // namespace

std::string ProducerName() { return std::string("personcls ") + PERSONCLS_VERSION; }

Status StampExportMetadata(Graph& g, const ExportMetadata& m) {
  if (g.outputs.size() != 1) return Status::Error("export needs a model with one output");
  const int64_t classes = g.tensors[g.outputs[0]].num_elements();
  std::vector<std::string> labels = m.labels;
  if (labels.empty() && g.metadata.count("labels")) labels = SplitComma(MetadataText(g, "labels"));
  if (labels.empty() && classes == 2) labels = {"Not a person", "Person"};
  if (labels.empty())
    for (int64_t i = 0; i < classes; ++i) labels.push_back(std::to_string(i));
  if (static_cast<int64_t>(labels.size()) != classes)
    return Status::Error(std::to_string(labels.size()) + " labels given but the model has " + std::to_string(classes) + " outputs");
  std::string joined;
  for (size_t i = 0; i < labels.size(); ++i) {
    if (labels[i].find(',') != std::string::npos) return Status::Error("label '" + labels[i] + "' contains a comma");
    joined += (i ? "," : "") + labels[i];
  }
  g.metadata["labels"] = Bytes(joined);
  // A non-finite mapping must not be written into a file (nor copied from the model).
  if (m.normalization) {
    PCLS_RETURN_IF_ERROR(CheckInputNormalization(*m.normalization));
  } else {
    PCLS_RETURN_IF_ERROR(ReadNormalizationMetadata(g).status());
  }
  if (m.normalization || !g.metadata.count("normalization")) {
    const InputNormalization n = m.normalization.value_or(InputNormalization{});
    char text[64];
    std::snprintf(text, sizeof text, "mean=%.9g,scale=%.9g", static_cast<double>(n.mean), static_cast<double>(n.scale));
    g.metadata["normalization"] = Bytes(text);
  }
  // A file personcls wrote already names its origin; re-exporting keeps that description.
  if (MetadataText(g, "producer").rfind("personcls ", 0) != 0)
    g.description = ProducerName() + (m.source.empty() ? "" : " from " + m.source) + ": " + g.description;
  g.metadata["producer"] = Bytes(ProducerName());
  for (const auto& [key, value] : m.extra) g.metadata[key] = Bytes(value);
  return Status::Ok();
}

Expected<std::vector<uint8_t>> SerializeTflite(const Graph& graph) {
  PCLS_ASSIGN_OR_RETURN(std::vector<uint8_t> bytes, tflite_format::WriteTflite(graph));
  // Read back through the verifier and semantic checks: an exporter bug must not ship.
  auto copy = std::make_shared<const std::vector<uint8_t>>(bytes);
  auto reread = LoadModelBytes(copy, "exported model");
  if (!reread.ok()) return Status::Error("internal error: the written TFLite does not read back: " + reread.status().message());
  return bytes;
}

Status WriteModelFile(const std::string& path, const std::vector<uint8_t>& bytes) {
  return WriteAllAtomic({{path, std::string(bytes.begin(), bytes.end())}});
}

Expected<std::vector<std::string>> WriteCSource(const std::string& out, const std::vector<uint8_t>& tflite, const Graph& g,
                                                const std::string& symbol) {
  namespace fs = std::filesystem;
  fs::path stem(out);
  const std::string ext = stem.extension().string();
  if (ext == ".h" || ext == ".c" || ext == ".cc" || ext == ".cpp") stem.replace_extension();
  // The source is C11 and C++ alike: NAME.c unless the user asked for a C++ name.
  const std::string header = stem.string() + ".h", source = stem.string() + (ext == ".cc" || ext == ".cpp" ? ext : std::string(".c"));
  csource::ModelInfo m;
  m.symbol = symbol.empty() ? stem.filename().string() : symbol;
  for (char& c : m.symbol)
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  if (!csource::IsCIdentifier(m.symbol)) return Status::Error(out + ": '" + m.symbol + "' is not a C identifier (use --symbol)");
  if (g.inputs.size() != 1 || g.outputs.size() != 1) return Status::Error(out + ": the model needs one input and one output");
  const TensorDesc& in = g.tensors[g.inputs[0]];
  const TensorDesc& o = g.tensors[g.outputs[0]];
  if (in.shape.size() != 4) return Status::Error(out + ": the model input must be NHWC");
  m.input_height = in.shape[1];
  m.input_width = in.shape[2];
  m.input_channels = in.shape[3];
  m.input_int8 = in.dtype == DType::kInt8;
  m.output_int8 = o.dtype == DType::kInt8;
  if (!in.quant.empty()) m.input_scale = in.quant.scale[0], m.input_zero_point = in.quant.zero_point[0];
  if (!o.quant.empty()) m.output_scale = o.quant.scale[0], m.output_zero_point = o.quant.zero_point[0];
  auto norm = ReadNormalizationMetadata(g);
  if (!norm.ok()) return norm.status().WithContext(out);
  if (*norm) m.input_mean = (*norm)->mean, m.input_norm_scale = (*norm)->scale;
  m.labels = SplitComma(MetadataText(g, "labels"));
  m.producer = ProducerName();
  m.op_types = csource::DistinctOpTypes(g);
  // Memory on a microcontroller: what personcls's reference kernels plan for this graph.
  auto reference = Interpreter::Create(std::make_shared<const Graph>(g), {.num_threads = 1, .kernels = KernelSet::kReference});
  if (!reference.ok()) return reference.status().WithContext(out);
  m.arena_bytes = (*reference)->arena_bytes();
  m.persistent_bytes = (*reference)->persistent_bytes();
  m.source = g.description.empty() ? "a model" : g.description;
  for (char& c : m.source)
    if (c == '\n' || c == '\r') c = ' ';
  PCLS_RETURN_IF_ERROR(WriteAllAtomic({{header, csource::HeaderText(m, tflite.size())},
                                       {source, csource::SourceText(m, fs::path(header).filename().string(), tflite)}}));
  return std::vector<std::string>{header, source};
}

}  // namespace personcls
