// Writing models as deployable artifacts: TFLite flatbuffers (float32 or int8) carrying
// personcls metadata, and C sources embedding a .tflite for firmware. Every writer writes
// to a temporary file beside the target and renames it into place, so a failed export
// never leaves a partial file and never destroys an existing one.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "personcls/graph.h"
#include "personcls/preprocess.h"
#include "personcls/status.h"

namespace personcls {

// "personcls <version>": the producer recorded in every exported file.
std::string ProducerName();

struct ExportMetadata {
  std::vector<std::string> labels;  // empty: the graph's "labels" metadata, else "Not a person,Person" for 2 classes
  std::optional<InputNormalization> normalization;  // empty: the graph's, else mean 0, scale 1/255
  std::string source;  // where the model came from (kept in the description)
  std::map<std::string, std::string> extra;  // further entries written as they are (e.g. "training_fingerprint")
};

// Writes metadata "labels" (comma-separated), "normalization" ("mean=M,scale=S", what
// `classify` reads back), "producer" and the `extra` entries into `graph`, and sets its description. Fails when
// the label count differs from the output size.
Status StampExportMetadata(Graph& graph, const ExportMetadata& metadata);

// Serializes `graph` as TFLite and reads the bytes back through the verifying reader (so
// every exported file passes the FlatBuffers verifier and our semantic checks).
Expected<std::vector<uint8_t>> SerializeTflite(const Graph& graph);

// Writes model bytes (from SerializeTflite or another format's writer) to `path` atomically.
Status WriteModelFile(const std::string& path, const std::vector<uint8_t>& bytes);

// Writes `tflite` (the bytes of `graph`, already stamped) as a C header + source pair, both
// valid C11 and C++ (src/formats/csource/csource_writer.h describes their content: the bytes,
// input/output constants, the reference-kernel arena size and the TFLite Micro ops to
// register). `out` names either file ("m.h", "m.c") or their stem ("m"): NAME.h + NAME.c;
// "m.cc" / "m.cpp" keep that extension for the source. `symbol` (a C identifier) prefixes
// every name; empty: derived from the file stem. Returns the paths written (header first).
Expected<std::vector<std::string>> WriteCSource(const std::string& out, const std::vector<uint8_t>& tflite, const Graph& graph,
                                                const std::string& symbol = "");

}  // namespace personcls
