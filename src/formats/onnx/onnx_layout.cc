#include "formats/onnx/onnx_layout.h"

#include <algorithm>

namespace personcls::onnx_format {

std::vector<float> Permute4D(const float* in, const std::array<int64_t, 4>& in_shape, const std::array<int, 4>& perm) {
  std::array<int64_t, 4> in_stride{};
  in_stride[3] = 1;
  for (int i = 2; i >= 0; --i) in_stride[i] = in_stride[i + 1] * in_shape[i + 1];
  std::array<int64_t, 4> out_shape{}, step{};
  for (int i = 0; i < 4; ++i) {
    out_shape[i] = in_shape[perm[i]];
    step[i] = in_stride[perm[i]];
  }
  std::vector<float> out(static_cast<size_t>(out_shape[0] * out_shape[1] * out_shape[2] * out_shape[3]));
  size_t k = 0;
  for (int64_t a = 0; a < out_shape[0]; ++a)
    for (int64_t b = 0; b < out_shape[1]; ++b)
      for (int64_t c = 0; c < out_shape[2]; ++c)
        for (int64_t d = 0; d < out_shape[3]; ++d) out[k++] = in[a * step[0] + b * step[1] + c * step[2] + d * step[3]];
  return out;
}

std::array<int64_t, 2> SamePadding(int64_t in, int64_t kernel, int64_t stride, int64_t dilation) {
  const int64_t out = (in + stride - 1) / stride;
  const int64_t effective = (kernel - 1) * dilation + 1;
  const int64_t total = std::max<int64_t>((out - 1) * stride + effective - in, 0);
  return {total / 2, total - total / 2};
}

}  // namespace personcls::onnx_format
