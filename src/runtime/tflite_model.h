// TfliteModel: read access to a TFLite flatbuffer in place, for the portable runtime core.
//
// Nothing is copied and nothing is allocated: TensorView and OpView point into the
// flatbuffer, which the caller owns and must keep alive (and unchanged) for as long as
// anything reads from it (on a microcontroller, a const array in flash). Init() runs the
// FlatBuffers verifier and checks the top-level structure; ReadTensor()/ReadOp() check one
// tensor or op semantically (types and ops personcls runs, indices in range, shapes that
// cannot overflow, constant buffers of the right size, sane quantization). Failures are
// one-line messages in a Diag. The PC's model reader (src/formats/tflite) uses the same
// checks, so a file the PC accepts is a file the firmware accepts.
#pragma once

#include <cstddef>
#include <cstdint>

#include "personcls/types.h"
#include "runtime/diag.h"

namespace tflite {
struct Model;
struct SubGraph;
}  // namespace tflite

namespace personcls {

constexpr int kMaxTensorRank = 6;

// One tensor of the model, as read at prepare time (a value type; cheap to copy).
struct TensorView {
  int index = -1;
  const char* name = "";
  DType dtype = DType::kFloat32;
  int rank = 0;
  int32_t dims[kMaxTensorRank] = {};
  // Quantization, in place in the flatbuffer: num_scales == 0 means not quantized.
  const float* scales = nullptr;
  int num_scales = 0;
  const uint8_t* zero_points = nullptr;  // num_scales little-endian int64, 4-byte aligned; nullptr: all 0
  int quant_axis = 0;
  // Constant data (4-byte aligned when the model is) or nullptr for activations.
  const uint8_t* data = nullptr;

  bool is_constant() const { return data != nullptr; }
  bool quantized() const { return num_scales > 0; }
  int64_t num_elements() const;
  int64_t num_bytes() const { return num_elements() * static_cast<int64_t>(DTypeSize(dtype)); }
  float scale(int i = 0) const { return scales[i]; }
  int32_t zero_point(int i = 0) const;
  ShapeText shape_text() const { return ShapeText(dims, rank); }
  bool SameShape(const TensorView& other) const;
  // Same scales and zero points (exactly), e.g. for ops that must not requantize.
  bool SameQuantization(const TensorView& other) const;
  template <typename T>
  const T* constant() const { return reinterpret_cast<const T*>(data); }
};

// One operator, as read at prepare time. Tensor indices point into the flatbuffer.
struct OpView {
  int index = -1;
  OpType type = OpType::kAdd;
  int version = 1;
  OpOptions options;
  const int32_t* inputs = nullptr;  // -1 = optional input left out
  int num_inputs = 0;
  const int32_t* outputs = nullptr;
  int num_outputs = 0;
};

class TfliteModel {
 public:
  // `bytes` must stay valid and unchanged while this object or any view from it is used.
  bool Init(const uint8_t* bytes, size_t size, Diag& d);

  int num_tensors() const;
  int num_ops() const;  // may be 0: a model without operators cannot run (Runtime checks)
  int num_inputs() const;
  int num_outputs() const;
  int input(int i) const;   // tensor index of graph input i
  int output(int i) const;  // tensor index of graph output i
  const char* description() const;  // "" when absent

  bool ReadTensor(int i, TensorView& t, Diag& d) const;
  bool ReadOp(int k, OpView& op, Diag& d) const;

  const tflite::Model* model() const { return model_; }

 private:
  const tflite::Model* model_ = nullptr;
  const tflite::SubGraph* subgraph_ = nullptr;
};

// Highest op version personcls accepts for each builtin op it runs.
int MaxSupportedOpVersion(OpType type);

}  // namespace personcls
