// Drawing a Grad-CAM map over the image it explains.
#pragma once

#include <vector>

#include "personcls/image.h"

namespace personcls::explain {

// Bilinear upsampling of a row-major [height, width] map to [out_h, out_w] with half-pixel
// centres (src = (dst + 0.5) * in / out - 0.5, clamped to the edge), the mapping the model
// input's stretch-resize used, so map cells land on the image regions they saw.
std::vector<float> UpsampleBilinear(const std::vector<float>& map, int height, int width, int out_h, int out_w);

// The "jet" colormap: 0 -> dark blue, 0.5 -> green-yellow, 1 -> dark red. v is clamped to [0, 1].
void JetColor(float v, uint8_t rgb[3]);

// `image` (gray or RGB) blended with the jet colours of `cam` ([cam_h, cam_w] in [0, 1],
// upsampled to the image size): out = (1 - alpha) * pixel + alpha * colour, rounded. RGB out.
Image OverlayHeatmap(const Image& image, const std::vector<float>& cam, int cam_h, int cam_w, float alpha = 0.45f);

}  // namespace personcls::explain
