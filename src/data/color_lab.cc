// 8-bit sRGB <-> L*a*b*, OpenCV 4.6's integer paths (RGB2Lab_b, and Lab2RGB_b's
// bit-exact integer conversion) re-derived. See color_lab.h.
//
// RGB -> LAB: each channel is linearized by a 256-entry gamma table (2040 steps), the
// fixed-point 3x3 matrix (white point folded in) gives X/Xn, Y/Yn, Z/Zn in the same 2040
// steps, a table holds f(t) = cbrt(t) (linear below (6/29)^3) in 2^-15 units, and
// L = 116 f(Y) - 16, a = 500 (f(X) - f(Y)), b = 200 (f(Y) - f(Z)) are scaled to bytes with
// one rounding each.
// LAB -> RGB: a table gives Y/Yn and f(Y) in 2^-14 units for each L byte, a / 500 and
// b / 200 are multiply-shifts, a table inverts f for X/Xn and Z/Zn, the fixed-point
// inverse matrix gives linear RGB in 4096 steps, and a table applies the sRGB gamma.
//
// The tables are computed as OpenCV computes them (in single or double precision, ties to
// even), so every entry is equal. OpenCV's own cube root (softfloat cbrt) is not correctly
// rounded; TurkowskiCbrt below reproduces it. With a correctly rounded cube root 2 of the
// 3,072 f entries would be one higher, and 17,645 of the 2^24 colours would convert differently.
#include "data/color_lab.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <vector>

namespace personcls {
namespace {

// sRGB (linear) -> XYZ, rows X Y Z, columns R G B; its inverse; the D65 white point.
// Six digits, the values OpenCV uses.
constexpr double kRgbToXyz[3][3] = {
    {0.412453, 0.357580, 0.180423}, {0.212671, 0.715160, 0.072169}, {0.019334, 0.119193, 0.950227}};
constexpr double kXyzToRgb[3][3] = {
    {3.240479, -1.53715, -0.498535}, {-0.969256, 1.875991, 0.041556}, {0.055648, -0.204043, 1.057311}};
constexpr double kWhite[3] = {0.950456, 1.0, 1.088754};

constexpr int kMatrixShift = 12;                       // both matrices in 2^-12 units
constexpr int kGammaShift = 3;                         // linear RGB and X, Y, Z: 255 x 2^3 steps
constexpr int kFShift = kMatrixShift + kGammaShift;    // f(t) for RGB -> LAB: 2^-15 units
constexpr int kBaseShift = 14;                         // y, f(y), x, z for LAB -> RGB: 2^-14 units
constexpr int kInvGammaShift = 12;                     // linear RGB for LAB -> RGB: 4096 steps
constexpr int kCbrtSize = 256 * 3 / 2 << kGammaShift;  // t in [0, 1.5); white (t = 1) is 2040
// f(x) or f(z) from 8-bit LAB spans [kMinF, kMinF + kFSize): L 0 with b 255 gives the
// lowest (-8145); the top is L 255 with a 255 (20545).
constexpr int kMinF = -8145;
constexpr int kFSize = (1 << kBaseShift) * 9 / 4;

// Rounding to nearest, ties to even, as OpenCV's cvRound on its soft floats.
int RoundEven(double v) { return static_cast<int>(std::nearbyint(v)); }
// x / 2^shift rounded to nearest (ties up); arithmetic shift for negative x.
constexpr int Descale(int x, int shift) { return (x + (1 << (shift - 1))) >> shift; }
constexpr uint8_t Saturate8(int v) { return static_cast<uint8_t>(std::clamp(v, 0, 255)); }

// The sRGB transfer function and its inverse: evaluated in double on a float input and
// rounded to float, as OpenCV does. OpenCV's pow (exp(y log x) in soft double) and libm's
// differ in the last bits of the double only; the rounding to float absorbs that for every
// input the tables use (checked against libopencv_core's pow).
float SrgbToLinear(float v) {
  const double d = v;
  return static_cast<float>(d <= 809.0 / 20000.0 ? d / (323.0 / 25.0)
                                                 : std::pow((d + 11.0 / 200.0) / (1.0 + 11.0 / 200.0), 12.0 / 5.0));
}
float LinearToSrgb(float v) {
  const double d = v;
  return static_cast<float>(d <= 7827.0 / 2500000.0 ? d * (323.0 / 25.0)
                                                    : std::pow(d, 1.0 / (12.0 / 5.0)) * (1.0 + 11.0 / 200.0) - 11.0 / 200.0);
}

// Cube root of a positive normal float as OpenCV's softfloat cbrt computes it: Ken
// Turkowski's method ("Computing the Cube Root", Apple Technical Report KT-32, 1998). The
// mantissa, scaled by 2^s with s = -3, -2 or -1 so that the exponent left is a multiple of
// 3, lies in [1/8, 1); a quartic / quartic rational function (error < 2^-24) gives its cube
// root in [1/2, 1), evaluated in double by Horner's rule; the result keeps that value's top
// 23 fraction bits (truncated) under exponent / 3. A few ulps from the correctly rounded
// cube root. Equal to libopencv_core 4.6's cv::cbrt on every float in [2^-10, 8).
float TurkowskiCbrt(float v) {
  const uint32_t bits = std::bit_cast<uint32_t>(v);
  const int e = static_cast<int>(bits >> 23) - 127;
  int s = e % 3;  // in (-3, 3), the sign of e
  if (s >= 0) s -= 3;
  const double m = std::bit_cast<double>(static_cast<uint64_t>(1023 + s) << 52 | static_cast<uint64_t>(bits & 0x7fffffu) << 29);
  const double p = (((45.2548339756803022511987494 * m + 192.2798368355061050458134625) * m + 119.1654824285581628956914143) * m +
                    13.43250139086239872172837314) * m + 0.1636161226585754240958355063;
  const double q = (((14.80884093219134573786480845 * m + 151.9714051044435648658557668) * m + 168.5254414101568283957668343) * m +
                    33.9905941350215598754191872) * m + 1.0;
  const uint64_t root = std::bit_cast<uint64_t>(p / q);
  const uint32_t exponent = static_cast<uint32_t>((e - s) / 3 - 1 + 127);
  return std::bit_cast<float>(exponent << 23 | static_cast<uint32_t>((root & ((uint64_t{1} << 52) - 1)) >> 29));
}

struct LabTables {
  std::array<uint16_t, 256> srgb_to_linear;     // byte -> linear x 2040
  std::array<uint16_t, kCbrtSize> f;            // t x 2040 -> f(t) x 2^15
  std::array<int, 9> to_xyz;                    // kRgbToXyz / white (per row) x 2^12
  std::array<uint16_t, 256> l_to_y, l_to_fy;    // L byte -> y = Y/Yn and f(y), x 2^14
  std::vector<int> f_to_xz;                     // f x 2^14 - kMinF -> f^-1(f) x 2^14
  std::array<int, 9> to_rgb;                    // kXyzToRgb x white (per column) x 2^12
  std::array<uint8_t, 1 << kInvGammaShift> linear_to_srgb;  // linear x 4096 -> byte

  LabTables() : f_to_xz(kFSize) {
    for (int i = 0; i < 256; ++i)
      srgb_to_linear[i] = static_cast<uint16_t>(RoundEven(2040.0f * SrgbToLinear(static_cast<float>(i) / 255.0f)));

    // f(t) = cbrt(t) above (6/29)^3, 841/108 t + 16/116 (a fused multiply-add) below.
    const float step = 1.0f / 2040.0f, knee = 216.0f / 24389.0f, slope = 841.0f / 108.0f, bias = 16.0f / 116.0f;
    for (int i = 0; i < kCbrtSize; ++i) {
      const float t = step * static_cast<float>(i);
      f[i] = static_cast<uint16_t>(RoundEven(32768.0f * (t < knee ? std::fma(t, slope, bias) : TurkowskiCbrt(t))));
    }

    for (int r = 0; r < 3; ++r)
      for (int c = 0; c < 3; ++c) {
        to_xyz[r * 3 + c] = RoundEven(4096.0 * kRgbToXyz[r][c] / kWhite[r]);
        to_rgb[r * 3 + c] = RoundEven(4096.0 * kXyzToRgb[r][c] * kWhite[c]);
      }

    // L byte i is L* = 100 i / 255. Up to L* 8 (i <= 20) y = L* / 903.3 (903.3 = (29/3)^3) and
    // f(y) = 841/108 y + 16/116; above, f(y) = (L* + 16) / 116 and y = f(y)^3. Single precision.
    // The fractions are reduced by hand: 100 / 255 / 903.3 = 180 / (17 x 29^3) and
    // 841/108 x 100 / 255 / 903.3 = 5 / (3 x 17 x 29).
    constexpr float kBase = 1 << kBaseShift;
    for (int i = 0; i < 256; ++i) {
      float y, fy;
      if (i <= 20) {
        y = static_cast<float>(i * (1 << kBaseShift) * 180) / static_cast<float>(17 * 29 * 29 * 29);
        fy = kBase * (16.0f / 116.0f + static_cast<float>(i * 5) / static_cast<float>(3 * 17 * 29));
      } else {
        fy = static_cast<float>(i * 100 * (1 << kBaseShift)) / static_cast<float>(255 * 116) + 16.0f * kBase / 116.0f;
        y = fy * fy * fy / (kBase * kBase);
      }
      l_to_y[i] = static_cast<uint16_t>(RoundEven(y));
      l_to_fy[i] = static_cast<uint16_t>(RoundEven(fy));
    }

    // f^-1 in integers (C++ division truncates toward zero, negative f included): linear up to
    // f = 6/29 (3389.7 x 2^-14), where f^-1(f) = 108/841 (f - 16/116); cubic above.
    constexpr int kOne = 1 << kBaseShift, kKnee = 3390;
    constexpr int kOffset = kOne * 16 / 116 * 108 / 841;  // 290, the integer divisions as written
    for (int i = 0; i < kFSize; ++i) {
      const int v = i + kMinF;
      f_to_xz[i] = v <= kKnee ? v * 108 / 841 - kOffset : v * v / kOne * v / kOne;
    }

    for (int i = 0; i < (1 << kInvGammaShift); ++i)
      linear_to_srgb[i] = Saturate8(RoundEven(255.0f * LinearToSrgb(static_cast<float>(i) / 4096.0f)));
  }
};

const LabTables& Tables() {
  static const LabTables tables;
  return tables;
}

}  // namespace

void RgbToLab8(const uint8_t* rgb, uint8_t* lab, size_t n) {
  const LabTables& t = Tables();
  const int* m = t.to_xyz.data();
  // L = (116 f(Y) - 16) x 255 / 100 with f in 2^-15 units: 116 x 255 / 100 and
  // 16 x 255 / 100 x 2^15 rounded in integers.
  constexpr int kLScale = (116 * 255 + 50) / 100, kLOffset = -((16 * 255 * (1 << kFShift) + 50) / 100);
  constexpr int kHalfRange = 128 << kFShift;  // a and b are stored + 128
  for (size_t i = 0; i < n; ++i, rgb += 3, lab += 3) {
    const int r = t.srgb_to_linear[rgb[0]], g = t.srgb_to_linear[rgb[1]], b = t.srgb_to_linear[rgb[2]];
    const int fx = t.f[Descale(r * m[0] + g * m[1] + b * m[2], kMatrixShift)];
    const int fy = t.f[Descale(r * m[3] + g * m[4] + b * m[5], kMatrixShift)];
    const int fz = t.f[Descale(r * m[6] + g * m[7] + b * m[8], kMatrixShift)];
    lab[0] = Saturate8(Descale(kLScale * fy + kLOffset, kFShift));
    lab[1] = Saturate8(Descale(500 * (fx - fy) + kHalfRange, kFShift));
    lab[2] = Saturate8(Descale(200 * (fy - fz) + kHalfRange, kFShift));
  }
}

void LabToRgb8(const uint8_t* lab, uint8_t* rgb, size_t n) {
  const LabTables& t = Tables();
  const int* m = t.to_rgb.data();
  constexpr int kShift = kMatrixShift + kBaseShift - kInvGammaShift;
  for (size_t i = 0; i < n; ++i, lab += 3, rgb += 3) {
    const int y = t.l_to_y[lab[0]], fy = t.l_to_fy[lab[0]];
    // (a - 128) x 2^14 / 500 and (b - 128) x 2^14 / 200 by multiply-shift: 5 x 53687 / 2^13
    // and 41943 / 2^9 are 2^14 / 500 and 2^14 / 200 to about 1e-6; the offsets are truncated.
    const int a_div = ((5 * lab[1] * 53687 + (1 << 7)) >> 13) - 128 * (1 << kBaseShift) / 500;
    const int b_div = ((lab[2] * 41943 + (1 << 4)) >> 9) - 128 * (1 << kBaseShift) / 200 + 1;
    const int x = t.f_to_xz[fy + a_div - kMinF], z = t.f_to_xz[fy - b_div - kMinF];
    uint8_t out[3];  // written after all reads, so that rgb may alias lab
    for (int c = 0; c < 3; ++c) {
      const int linear = Descale(m[c * 3] * x + m[c * 3 + 1] * y + m[c * 3 + 2] * z, kShift);
      out[c] = t.linear_to_srgb[std::clamp(linear, 0, (1 << kInvGammaShift) - 1)];
    }
    rgb[0] = out[0];
    rgb[1] = out[1];
    rgb[2] = out[2];
  }
}

}  // namespace personcls
