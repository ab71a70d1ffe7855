// Classify one image with a person model: personcls as a library.
// Usage: classify MODEL IMAGE   (prints "Person 0.93" or "Not a person 0.12")
#include <cstdint>
#include <cstdio>

#include "personcls/interpreter.h"
#include "personcls/model.h"
#include "personcls/preprocess.h"

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s MODEL IMAGE\n", argv[0]);
    return 2;
  }
  // .tflite with personcls::runtime; .onnx, .safetensors and .pth too with personcls::personcls.
  auto graph = personcls::LoadModelFile(argv[1]);  // Expected<shared_ptr<const Graph>>
  if (!graph.ok()) return std::fprintf(stderr, "%s\n", graph.status().message().c_str()), 1;
  auto interp = personcls::Interpreter::Create(*graph);  // prepares every op, plans one arena
  if (!interp.ok()) return std::fprintf(stderr, "%s\n", interp.status().message().c_str()), 1;
  personcls::Interpreter& it = **interp;
  auto image = personcls::LoadImage(argv[2]);  // JPEG, PNG, BMP, PPM/PGM, raw 96x96x3 .bin
  if (!image.ok()) return std::fprintf(stderr, "%s\n", image.status().message().c_str()), 1;
  // Resize, channels and pixel mapping as the model's input wants (personcls/preprocess.h).
  personcls::Status filled = personcls::FillInputTensor(*image, it.input_desc(0), it.input_data(0));
  if (!filled.ok()) return std::fprintf(stderr, "%s\n", filled.message().c_str()), 1;
  it.Invoke();
  // Output 0 holds [Not a person, Person] scores: int8 (dequantize) or float32.
  const personcls::TensorDesc& out = it.output_desc(0);
  float person = 0.0f;
  if (out.dtype == personcls::DType::kInt8)
    person = out.quant.scale[0] * (static_cast<const int8_t*>(it.output_data(0))[1] - out.quant.zero_point[0]);
  else
    person = static_cast<const float*>(it.output_data(0))[1];
  std::printf("%s %.2f\n", person > 0.5f ? "Person" : "Not a person", person);
  return 0;
}
