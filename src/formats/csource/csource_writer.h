// C source export: a model file as a 16-byte aligned byte array plus the constants firmware
// needs to feed it, register its ops, size its arena and read its output, as a header and a
// source file that are both valid C11 and C++ (compile the .c as either).
//
// For symbol "person_model" the header declares (with C linkage):
//   extern const unsigned char person_model_tflite[];      // alignas(16), the .tflite bytes
//   extern const unsigned int person_model_tflite_len;
//   extern const char* const person_model_labels[];         // PERSON_MODEL_NUM_CLASSES entries
//   extern const char person_model_producer[];              // "personcls 0.1.0"
// and macros PERSON_MODEL_INPUT_HEIGHT/_WIDTH/_CHANNELS, _INPUT_IS_INT8, _INPUT_SCALE,
// _INPUT_ZERO_POINT, _OUTPUT_IS_INT8, _OUTPUT_SCALE, _OUTPUT_ZERO_POINT, _NUM_CLASSES,
// _INPUT_MEAN and _INPUT_NORM_SCALE (pixel mapping x = (p - mean) * scale), _TFLITE_LEN,
// _ARENA_BYTES and _PERSISTENT_BYTES (personcls's reference-kernel runtime: one activation
// arena, planned greedily, and the prepared per-op data), _OP_COUNT and, for C++,
// PERSON_MODEL_REGISTER_OPS(resolver): the TFLite Micro MicroMutableOpResolver calls
// (resolver.AddConv2D(); ...) for every op type the model uses.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "personcls/graph.h"
#include "personcls/status.h"

namespace personcls::csource {

struct ModelInfo {
  std::string symbol;  // C identifier prefix, e.g. "person_model"
  int input_height = 0, input_width = 0, input_channels = 0;
  bool input_int8 = false, output_int8 = false;
  float input_scale = 0.0f, output_scale = 0.0f;  // 0 for float tensors
  int input_zero_point = 0, output_zero_point = 0;
  float input_mean = 0.0f, input_norm_scale = 1.0f / 255.0f;
  std::vector<std::string> labels;
  std::string producer;  // "personcls <version>"
  std::string source;    // where the model came from (a comment)
  std::vector<OpType> op_types;  // distinct, in order of first use
  size_t arena_bytes = 0, persistent_bytes = 0;  // reference kernels
};

// TFLite Micro's MicroMutableOpResolver method for an op type: "AddConv2D".
const char* TflmResolverMethod(OpType type);

// The distinct op types of `graph`, in order of first use.
std::vector<OpType> DistinctOpTypes(const Graph& graph);

// True when `symbol` is a valid C identifier.
bool IsCIdentifier(const std::string& symbol);

// The header text; `header_name` is what the source includes.
std::string HeaderText(const ModelInfo& info, size_t model_bytes);
std::string SourceText(const ModelInfo& info, const std::string& header_name, const std::vector<uint8_t>& model);

}  // namespace personcls::csource
