// Layout helpers shared by the ONNX reader and writer. personcls graphs are NHWC with OHWI
// conv filters and 1HW(C*M) depthwise filters (TFLite); ONNX is NCHW with OIHW filters
// (depthwise: [C*M, 1, H, W] with group = C). These are pure functions on plain arrays.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

namespace personcls::onnx_format {

// Permutes a rank-4 float array of shape `in_shape`: output dimension i is input dimension
// perm[i] (numpy's transpose), so the output shape is in_shape[perm[i]].
std::vector<float> Permute4D(const float* in, const std::array<int64_t, 4>& in_shape, const std::array<int, 4>& perm);

// Permutations between the two layouts of a 4-D activation or filter.
inline constexpr std::array<int, 4> kNhwcToNchw = {0, 3, 1, 2};  // NHWC -> NCHW, OHWI -> OIHW
inline constexpr std::array<int, 4> kNchwToNhwc = {0, 2, 3, 1};  // NCHW -> NHWC, OIHW -> OHWI

// The position of NHWC axis `axis` in NCHW (0->0, 1->2, 2->3, 3->1).
inline int NhwcAxisToNchw(int axis) { return axis == 0 ? 0 : axis == 3 ? 1 : axis + 1; }

// TFLite SAME padding along one spatial axis: output ceil(in / stride); the extra pixel
// of an odd total goes at the end. Returns {before, after}.
std::array<int64_t, 2> SamePadding(int64_t in, int64_t kernel, int64_t stride, int64_t dilation);

}  // namespace personcls::onnx_format
