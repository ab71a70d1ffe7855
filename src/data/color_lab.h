// 8-bit sRGB <-> CIE L*a*b* (D65 white), as OpenCV 4.6's cvtColor computes COLOR_RGB2LAB
// and COLOR_LAB2RGB on CV_8U images, to the bit (every one of the 2^24 inputs of each
// direction checked against cv2; tests/golden/augment/lab.safetensors keeps a sample).
// albumentations' CLAHE equalizes L of this LAB (Clahe in augment.h).
//
// Encoding of the 8-bit LAB bytes (OpenCV's): L* x 255 / 100, a* + 128, b* + 128, each
// rounded and saturated to [0, 255]. Both directions are fixed-point with tables that are
// built once, on first use (thread-safe); see color_lab.cc for the arithmetic.
#pragma once

#include <cstddef>
#include <cstdint>

namespace personcls {

// n pixels of 3 interleaved bytes, R G B in, L a b out (or the reverse for LabToRgb8).
// src and dst may be the same buffer; otherwise they must not overlap.
void RgbToLab8(const uint8_t* rgb, uint8_t* lab, size_t n);
void LabToRgb8(const uint8_t* lab, uint8_t* rgb, size_t n);

}  // namespace personcls
