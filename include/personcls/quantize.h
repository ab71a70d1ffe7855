// Post-training int8 quantization of a float32 inference Graph, with the arithmetic and
// graph shape TensorFlow Lite's converter produces (so TFLite Micro and Vela accept the
// result and our runtime runs it bit-exactly with TFLite's reference kernels):
//
//   * weights int8, symmetric (zero point 0, values -127..127): per output channel for
//     CONV_2D (axis 0 of OHWI) and DEPTHWISE_CONV_2D (axis 3 of 1HWC), per tensor for
//     FULLY_CONNECTED (the converter's default, and what TFLite Micro's int8 FC expects);
//   * biases int32, scale = input scale x weight scale (per channel), zero point 0;
//   * activations int8, asymmetric per tensor, from calibration ranges widened to contain 0
//     and nudged so that real 0 is exactly representable (see ChooseActivationQuant in
//     src/quant/quant_params.h);
//   * graph input int8 with scale 1/255 and zero point -128 (q = pixel - 128 on device);
//   * SOFTMAX and LOGISTIC outputs int8 with scale 1/256 and zero point -128;
//   * PAD, RESHAPE, MAX_POOL_2D and AVERAGE_POOL_2D outputs share their input's parameters
//     (TFLite requires it), so they need no requantization.
// The op list and order are kept (the float deploy graph already has the shape of SSCMA's
// int8 files: stride-2 convs as PAD + VALID CONV_2D; docs/quantization.md says why), except
// that a MEAN over H, W without keep_dims becomes MEAN (keep_dims) + RESHAPE, as in SSCMA's
// int8 files. The MEAN output is calibrated like any other activation.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include <optional>

#include "personcls/graph.h"
#include "personcls/preprocess.h"
#include "personcls/status.h"

namespace personcls {

// How a tensor's calibration statistics become its [min, max] range.
enum class CalibrationMethod {
  kMinMax,      // the observed extremes (TFLite converter's default)
  kL2,          // the clipping range that minimizes the expected squared quantization error
  kPercentile,  // the `percentile` / (100 - percentile) quantiles (outliers clipped)
};
Expected<CalibrationMethod> CalibrationMethodFromName(const std::string& name);  // minmax|l2|percentile
const char* CalibrationMethodName(CalibrationMethod method);

struct QuantizeOptions {
  CalibrationMethod method = CalibrationMethod::kMinMax;
  double percentile = 99.99;  // kPercentile: share of values kept inside the range, in (50, 100]
  int histogram_bins = 2048;  // kL2 and kPercentile: histogram resolution per tensor
  int num_threads = 1;        // for the float calibration runs
  // The pixel mapping x = (p - mean) * scale the float model expects. The int8 input gets
  // scale `scale` and zero point round(mean) - 128, so the device still feeds q = p - 128
  // (the default gives TFLite's 1/255, -128).
  InputNormalization input_normalization;
};

// The calibration inputs: size() float32 tensors shaped like graph input 0 (NHWC), holding
// what the runtime feeds a float model (pixel / 255 unless the model says otherwise).
class CalibrationSource {
 public:
  virtual ~CalibrationSource() = default;
  virtual size_t size() const = 0;
  // Writes input `index` (< size()) into `input` (desc.num_elements() floats, desc = graph
  // input 0). Errors (an unreadable image) name the file.
  virtual Status Fill(size_t index, const TensorDesc& desc, float* input) const = 0;
};

// A class-balanced, seeded sample of at most `max_images` images of DIR, decoded and
// preprocessed as the runtime does (with `normalization` when given). The groups balanced
// are the classes of DIR/labels.csv, else DIR's sub-directories (class folders), with files
// directly in DIR as one more group; each group is shuffled by `seed`, then one image of
// each is taken in turn. Fails when DIR has no images.
Expected<std::unique_ptr<CalibrationSource>> CalibrationFromDirectory(const std::string& dir, size_t max_images,
                                                                      std::optional<InputNormalization> normalization = std::nullopt,
                                                                      uint64_t seed = 0);

// `count` images already decoded and resized, uint8 HWC (size x size x channels each),
// contiguous at `pixels` (e.g. a training Dataset's buffer). Borrowed: `pixels` must outlive
// the source. Fill() fails when size/channels differ from the model input.
std::unique_ptr<CalibrationSource> CalibrationFromPixels(const uint8_t* pixels, size_t count, int size, int channels);

// Quantizes `float_graph` (float32 input and outputs; ops CONV_2D, DEPTHWISE_CONV_2D,
// FULLY_CONNECTED, PAD, MEAN, AVERAGE_POOL_2D, MAX_POOL_2D, RESHAPE, ADD, SOFTMAX, LOGISTIC)
// by running it on every calibration input. The result owns its data, keeps the input
// graph's metadata and runs in personcls's Interpreter and TFLite (Micro).
// Errors: an empty calibration source, an unsupported op or type, a failing Fill().
Expected<Graph> QuantizeGraph(const Graph& float_graph, const CalibrationSource& calibration, const QuantizeOptions& options = {});

}  // namespace personcls
