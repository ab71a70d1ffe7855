// Writing models as deployable artifacts: TFLite flatbuffers (float32 or int8) carrying
// personcls metadata, and C sources embedding a .tflite for firmware. Every writer writes
// to a temporary file beside the target and renames it into place, so a failed export
// never leaves a partial file and never destroys an existing one.
#pragma once

#include <cstdint>
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
};

// Writes metadata "labels" (comma-separated), "normalization" ("mean=M,scale=S", what
// `classify` reads back) and "producer" into `graph`, and sets its description. Fails when
// the label count differs from the output size.
Status StampExportMetadata(Graph& graph, const ExportMetadata& metadata);

// Serializes `graph` as TFLite and reads the bytes back through the verifying reader (so
// every exported file passes the FlatBuffers verifier and our semantic checks).
Expected<std::vector<uint8_t>> SerializeTflite(const Graph& graph);

// Writes model bytes (from SerializeTflite or another format's writer) to `path` atomically.
Status WriteModelFile(const std::string& path, const std::vector<uint8_t>& bytes);

// Writes `tflite` (the bytes of `graph`, already stamped) as a C header + C++ source pair
// (src/formats/csource/csource_writer.h describes their content). `out` names either file
// ("m.h", "m.cc") or their stem ("m"); the other gets the matching name. `symbol` (a C
// identifier) prefixes every name; empty: derived from the file stem. Returns the paths
// written (header first).
Expected<std::vector<std::string>> WriteCSource(const std::string& out, const std::vector<uint8_t>& tflite, const Graph& graph,
                                                const std::string& symbol = "");

}  // namespace personcls
