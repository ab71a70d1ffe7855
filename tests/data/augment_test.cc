// Augmentation ops (src/data/augment.h) on known pixels, and the pipeline's parsing and
// determinism.
#include "data/augment.h"

#include <algorithm>
#include <cmath>
#include <set>

#include "data/color_lab.h"
#include "formats/safetensors/safetensors.h"
#include "test_util.h"

namespace personcls {
namespace {

// w x h image whose pixel (x, y, c) = (x * 7 + y * 13 + c * 50) % 256: every pixel distinct
// enough to catch a wrong mapping.
Image Pattern(int w, int h, int channels) {
  Image im;
  im.width = w;
  im.height = h;
  im.channels = channels;
  im.pixels.resize(static_cast<size_t>(w) * h * channels);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      for (int c = 0; c < channels; ++c) im.pixels[(static_cast<size_t>(y) * w + x) * channels + c] = static_cast<uint8_t>((x * 7 + y * 13 + c * 50) % 256);
  return im;
}

Image Constant(int w, int h, int channels, uint8_t v) {
  Image im;
  im.width = w;
  im.height = h;
  im.channels = channels;
  im.pixels.assign(static_cast<size_t>(w) * h * channels, v);
  return im;
}

uint8_t& Px(Image& im, int y, int x, int c) { return im.pixels[(static_cast<size_t>(y) * im.width + x) * im.channels + c]; }

TEST(Augment, FlipsAreExactMirrors) {
  for (int w : {1, 4, 7}) {
    const Image src = Pattern(w, 5, 3);
    Image h = src, v = src;
    FlipHorizontal(&h);
    FlipVertical(&v);
    for (int y = 0; y < 5; ++y)
      for (int x = 0; x < w; ++x)
        for (int c = 0; c < 3; ++c) {
          EXPECT_EQ(h.at(y, x, c), src.at(y, w - 1 - x, c));
          EXPECT_EQ(v.at(y, x, c), src.at(4 - y, x, c));
        }
  }
}

TEST(Augment, ColorJitterIdentityAndKnownValues) {
  const Image src = Pattern(9, 6, 3);
  Image same = src;
  ColorJitter(&same, {});
  EXPECT_EQ(same.pixels, src.pixels);

  // Brightness 0.5 halves (rounded); 2 saturates.
  Image b = Constant(2, 2, 3, 101);
  ColorJitter(&b, {0.5, 1, 1});
  EXPECT_EQ(b.pixels[0], 51);  // 50.5 rounds up
  Image b2 = Constant(2, 2, 3, 200);
  ColorJitter(&b2, {2, 1, 1});
  EXPECT_EQ(b2.pixels[0], 255);

  // Contrast 0 gives the gray mean everywhere: two gray levels 0 and 100 -> mean 50.
  Image c = Constant(2, 1, 1, 0);
  c.pixels[1] = 100;
  ColorJitter(&c, {1, 0, 1});
  EXPECT_EQ(c.pixels, (std::vector<uint8_t>{50, 50}));

  // Saturation 0 gives each pixel's gray; 2 pushes away from it.
  Image s = Constant(1, 1, 3, 0);
  s.pixels = {200, 100, 0};  // gray = (299*200 + 587*100 + 500) / 1000 = 119
  Image s0 = s, s2 = s;
  ColorJitter(&s0, {1, 1, 0});
  EXPECT_EQ(s0.pixels, (std::vector<uint8_t>{119, 119, 119}));
  ColorJitter(&s2, {1, 1, 2});
  EXPECT_EQ(s2.pixels, (std::vector<uint8_t>{255, 81, 0}));  // 2v - 119, clamped
}

// OpenCV 4.6's own results (scripts/augment_goldens.py): every gray level, primaries and
// secondaries at several levels, 4,096 random pixels, nine hue factors. Within one level
// everywhere; equal but for values within an ulp of an integer (5 of 118,368 here; no
// more than 1 in 2,000 allowed).
TEST(Augment, HueShiftMatchesOpenCv) {
  auto golden = safetensors::ReadFile(std::string(PERSONCLS_SOURCE_DIR) + "/tests/golden/augment/hue_shift.safetensors");
  ASSERT_TRUE(golden.ok()) << golden.status().message();
  const safetensors::Tensor& in = golden->tensors.at("input");
  const std::vector<uint8_t>& expected = golden->tensors.at("output").bytes;
  const auto factors = golden->tensors.at("factors").AsFloat();
  const int n = static_cast<int>(in.shape[0]);
  ASSERT_EQ(expected.size(), factors.size() * n * 3);
  int mismatches = 0;
  for (size_t f = 0; f < factors.size(); ++f) {
    Image img;
    img.width = n;
    img.height = 1;
    img.channels = 3;
    img.pixels = in.bytes;
    // The golden's factors are doubles; AsFloat rounds them, so take them from the list
    // the script wrote.
    // -29/180 makes the hue table hold 180 (a rounded -3.6e-15 mod 180), which OpenCV wraps.
    static const double kFactors[] = {-0.5, -0.2, -0.13, -29.0 / 180.0, -0.01, 0.01, 0.07, 0.2, 0.5};
    ASSERT_EQ(factors.size(), std::size(kFactors));
    ASSERT_FLOAT_EQ(static_cast<float>(kFactors[f]), factors[f]);
    HueShift(&img, kFactors[f]);
    for (int i = 0; i < n * 3; ++i) {
      const int d = std::abs(img.pixels[i] - expected[f * n * 3 + i]);
      ASSERT_LE(d, 1) << "hue factor " << kFactors[f] << ", pixel " << i / 3;
      mismatches += d;
    }
  }
  EXPECT_LE(mismatches * 2000, static_cast<int>(expected.size())) << mismatches << " values differ by one level";
  // Factor 0 and gray images: untouched (no lossy HSV round trip).
  Image same = Pattern(9, 6, 3);
  const std::vector<uint8_t> before = same.pixels;
  HueShift(&same, 0.0);
  EXPECT_EQ(same.pixels, before);
  Image gray = Pattern(5, 4, 1);
  const std::vector<uint8_t> gray_before = gray.pixels;
  HueShift(&gray, 0.3);
  EXPECT_EQ(gray.pixels, gray_before);
  // Through ColorJitter: hue is applied after the other factors.
  Image red = Constant(1, 1, 3, 0);
  red.pixels = {255, 0, 0};
  ColorJitterParams third;
  third.hue = 1.0 / 3.0;  // +120 degrees: red -> green
  ColorJitter(&red, third);
  EXPECT_EQ(red.pixels, (std::vector<uint8_t>{0, 255, 0}));
}

TEST(Augment, RgbShiftAddsAndClamps) {
  Image im = Constant(2, 1, 3, 0);
  im.pixels = {10, 250, 128, 0, 5, 255};
  RgbShift(&im, {-20, 10, 1});
  EXPECT_EQ(im.pixels, (std::vector<uint8_t>{0, 255, 129, 0, 15, 255}));
}

TEST(Augment, MedianBlurRemovesImpulseAndKeepsEdges) {
  Image im = Constant(5, 5, 1, 10);
  Px(im, 2, 2, 0) = 255;  // one impulse vanishes
  MedianBlur3(&im);
  EXPECT_EQ(im.pixels, Constant(5, 5, 1, 10).pixels);

  // A vertical step edge survives a median exactly.
  Image step = Constant(6, 4, 3, 0);
  for (int y = 0; y < 4; ++y)
    for (int x = 3; x < 6; ++x)
      for (int c = 0; c < 3; ++c) Px(step, y, x, c) = 200;
  Image blurred = step;
  MedianBlur3(&blurred);
  EXPECT_EQ(blurred.pixels, step.pixels);
}

TEST(Augment, MedianBlurMatchesSortingOnNoise) {
  const uint32_t seed = testing::TestSeed();
  PCLS_SEED_TRACE(seed);
  std::mt19937_64 rng(seed);
  Image im = Constant(7, 5, 3, 0);
  for (uint8_t& p : im.pixels) p = static_cast<uint8_t>(rng());
  Image out = im;
  MedianBlur3(&out);
  for (int y = 0; y < 5; ++y)
    for (int x = 0; x < 7; ++x)
      for (int c = 0; c < 3; ++c) {
        std::vector<uint8_t> v;
        for (int dy = -1; dy <= 1; ++dy)
          for (int dx = -1; dx <= 1; ++dx) v.push_back(im.at(std::clamp(y + dy, 0, 4), std::clamp(x + dx, 0, 6), c));
        std::sort(v.begin(), v.end());
        ASSERT_EQ(out.at(y, x, c), v[4]) << y << "," << x << "," << c;
      }
}

TEST(Augment, ToGray3GivesThreeEqualChannels) {
  Image im = Constant(1, 1, 3, 0);
  im.pixels = {200, 100, 50};  // (59800 + 58700 + 5700 + 500) / 1000 = 124
  ToGray3(&im);
  EXPECT_EQ(im.channels, 3);
  EXPECT_EQ(im.pixels, (std::vector<uint8_t>{124, 124, 124}));
}

TEST(Augment, ClaheOnKnownHistogram) {
  // One 8x8 tile: 16 pixels of 10, 48 of 200.
  Image im = Constant(8, 8, 1, 200);
  for (int i = 0; i < 16; ++i) im.pixels[i] = 10;
  // No clipping (limit 256 * 64 / 256 = 64 counts): plain equalization, lut = cdf * 255 / 64.
  Image plain = im;
  Clahe(&plain, 256.0, 1, 1);
  EXPECT_EQ(plain.pixels[0], 64);    // 16 * 255 / 64 = 63.75
  EXPECT_EQ(plain.pixels[63], 255);  // 64 * 255 / 64
  // Clip limit 8 -> 8 * 64 / 256 = 2 counts per bin: 14 + 46 = 60 clipped, 0 per bin plus a
  // residual of 60 spread one each over bins 0, 4, 8, ..., 236 (stride 256 / 60 = 4).
  // cdf(10) = bins 0, 4, 8 (3) + 2 = 5 -> 5 * 255 / 64 = 19.9 -> 20.
  // cdf(200) = bins 0..200 step 4 (51) + bin 10 (2) + bin 200's own 2 = 55 -> 219.1 -> 219.
  Image clipped = im;
  Clahe(&clipped, 8.0, 1, 1);
  EXPECT_EQ(clipped.pixels[0], 20);
  EXPECT_EQ(clipped.pixels[63], 219);
}

// Runs Clahe on every image "<prefix>input_WxH" of the golden file tests/golden/augment/
// `file` (U8 [H, W] gray or [H, W, 3] RGB) at each clip limit of "<prefix>clips" and
// compares with "<prefix>output_WxH" ([C, H, W] or [C, H, W, 3]). Returns the number of
// (image, clip limit) pairs checked.
int ExpectClaheGolden(const std::string& file, const std::string& prefix) {
  auto golden = safetensors::ReadFile(std::string(PERSONCLS_SOURCE_DIR) + "/tests/golden/augment/" + file);
  EXPECT_TRUE(golden.ok()) << golden.status().message();
  if (!golden.ok()) return 0;
  const auto clips = golden->tensors.at(prefix + "clips").AsFloat();  // all exact in float
  const std::string input_prefix = prefix + "input_";
  int checked = 0;
  for (const auto& [name, input] : golden->tensors) {
    if (name.rfind(input_prefix, 0) != 0) continue;
    const safetensors::Tensor& out = golden->tensors.at(prefix + "output_" + name.substr(input_prefix.size()));
    const int h = static_cast<int>(input.shape[0]), w = static_cast<int>(input.shape[1]);
    const int channels = input.shape.size() == 3 ? static_cast<int>(input.shape[2]) : 1;
    const size_t size = static_cast<size_t>(w) * h * channels;
    for (size_t c = 0; c < clips.size(); ++c) {
      Image img;
      img.width = w;
      img.height = h;
      img.channels = channels;
      img.pixels = input.bytes;
      Clahe(&img, clips[c]);
      const std::vector<uint8_t> expected(out.bytes.begin() + static_cast<std::ptrdiff_t>(c * size),
                                          out.bytes.begin() + static_cast<std::ptrdiff_t>((c + 1) * size));
      EXPECT_EQ(img.pixels, expected) << file << ": " << w << "x" << h << ", clip " << clips[c];
      ++checked;
    }
  }
  return checked;
}

// OpenCV 4.6's CLAHE on seeded synthetic gray images (scripts/augment_goldens.py): sizes
// that divide into the 8x8 tiles and sizes that need OpenCV's reflected extension (100x75,
// 33x17, 7x5, 1x1), clip limits 1, 2.5 and 4; exact.
TEST(Augment, ClaheMatchesOpenCv) { EXPECT_EQ(ExpectClaheGolden("clahe.safetensors", ""), 15); }

TEST(Augment, ClaheTilesBlendAndRgbEqualizesLabL) {
  // Left half 30, right half 220, 2x1 tiles of 8 columns, no clipping. Left map: 30 -> 255
  // (and 220 -> 255); right map: 30 -> 0 (cdf 0), 220 -> 255. Column x blends the two maps
  // with weight f = x / 8 - 0.5 on the right one (OpenCV's tile coordinate), so the 30s at
  // x = 5, 6, 7 get 255 (1 - f) = 223.1, 191.3, 159.4, and all 220s stay 255.
  Image im = Constant(16, 4, 1, 30);
  for (int y = 0; y < 4; ++y)
    for (int x = 8; x < 16; ++x) Px(im, y, x, 0) = 220;
  Image eq = im;
  Clahe(&eq, 1000.0, 2, 1);
  const std::vector<uint8_t> row = {255, 255, 255, 255, 255, 223, 191, 159, 255, 255, 255, 255, 255, 255, 255, 255};
  for (int y = 0; y < 4; ++y) EXPECT_EQ(std::vector<uint8_t>(eq.pixels.begin() + y * 16, eq.pixels.begin() + (y + 1) * 16), row);

  // RGB: L of the 8-bit LAB is equalized as a gray plane would be, a and b pass through.
  Image rgb = Pattern(16, 16, 3);
  Image l = Constant(16, 16, 1, 0);
  std::vector<uint8_t> lab(rgb.pixels.size()), expected(rgb.pixels.size());
  RgbToLab8(rgb.pixels.data(), lab.data(), 16 * 16);
  for (int i = 0; i < 16 * 16; ++i) l.pixels[i] = lab[i * 3];
  Clahe(&l, 2.0);
  for (int i = 0; i < 16 * 16; ++i) lab[i * 3] = l.pixels[i];
  LabToRgb8(lab.data(), expected.data(), 16 * 16);
  Image out = rgb;
  Clahe(&out, 2.0);
  EXPECT_EQ(out.pixels, expected);
  EXPECT_NE(out.pixels, rgb.pixels);
}

// Converts tensor `input` of tests/golden/augment/lab.safetensors ([pixels, 3]) with
// `convert`, out of place and in place, and compares both with tensor `output`.
void ExpectLabGolden(void (*convert)(const uint8_t*, uint8_t*, size_t), const std::string& input, const std::string& output,
                     int64_t pixels) {
  auto golden = safetensors::ReadFile(std::string(PERSONCLS_SOURCE_DIR) + "/tests/golden/augment/lab.safetensors");
  ASSERT_TRUE(golden.ok()) << golden.status().message();
  const safetensors::Tensor& in = golden->tensors.at(input);
  ASSERT_EQ(in.shape, (std::vector<int64_t>{pixels, 3}));
  const std::vector<uint8_t>& expected = golden->tensors.at(output).bytes;
  std::vector<uint8_t> out(in.bytes.size());
  convert(in.bytes.data(), out.data(), static_cast<size_t>(pixels));
  EXPECT_EQ(out, expected);
  out = in.bytes;
  convert(out.data(), out.data(), static_cast<size_t>(pixels));
  EXPECT_EQ(out, expected) << "in place";
}

// OpenCV 4.6's cvtColor COLOR_RGB2LAB on 8 bits (scripts/augment_goldens.py): every gray
// level, primaries and secondaries at several levels, 4,096 random colours; exact. (All
// 2^24 colours were compared once during development, also exact.)
TEST(Augment, RgbToLabMatchesOpenCv) { ExpectLabGolden(RgbToLab8, "rgb", "rgb_to_lab", 4382); }

// COLOR_LAB2RGB on 8 bits: every L with a = b = 128, the corners of the byte cube, 4,096
// random triples; exact (all 2^24 triples were too).
TEST(Augment, LabToRgbMatchesOpenCv) { ExpectLabGolden(LabToRgb8, "lab", "lab_to_rgb", 4360); }

// albumentations' CLAHE on RGB (OpenCV's RGB -> LAB, CLAHE on L, LAB -> RGB) on seeded
// synthetic colour images of 96x96, 33x17 and 7x5 at clip limits 1, 4 and 40; exact.
TEST(Augment, RgbClaheMatchesOpenCv) { EXPECT_EQ(ExpectClaheGolden("lab.safetensors", "clahe_"), 9); }

TEST(Augment, ToneCurveIdentityAndSCurve) {
  const Image src = Pattern(16, 16, 3);
  Image same = src;
  ToneCurve(&same, 1.0 / 3.0, 2.0 / 3.0);
  EXPECT_EQ(same.pixels, src.pixels);
  // Flat control points: lut[v] = round(255 t^3) at low = high = 0, an extreme darkening.
  Image dark = Constant(1, 1, 1, 128);
  ToneCurve(&dark, 0, 0);
  const double t = 128 / 255.0;
  EXPECT_EQ(dark.pixels[0], static_cast<uint8_t>(std::floor(255 * t * t * t + 0.5)));
  // Ends are fixed points for every curve.
  Image ends = Constant(2, 1, 1, 0);
  ends.pixels[1] = 255;
  ToneCurve(&ends, 0.9, 0.1);
  EXPECT_EQ(ends.pixels, (std::vector<uint8_t>{0, 255}));
}

TEST(Augment, RotateNinetyDegreesMapsPointsExactly) {
  for (int n : {6, 7}) {
    const Image src = Pattern(n, n, 3);
    Image r = src;
    Rotate(&r, 90.0);
    const double c = (n - 1) * 0.5;
    for (int y = 0; y < n; ++y)
      for (int x = 0; x < n; ++x) {
        // Clockwise: (x, y) -> (c - (y - c), c + (x - c)).
        const int dx = static_cast<int>(std::lround(c - (y - c))), dy = static_cast<int>(std::lround(c + (x - c)));
        for (int ch = 0; ch < 3; ++ch) ASSERT_EQ(r.at(dy, dx, ch), src.at(y, x, ch)) << n << ": " << x << "," << y;
      }
    // Four quarter turns are the identity; 0 degrees too.
    Image back = src;
    for (int i = 0; i < 4; ++i) Rotate(&back, 90.0);
    EXPECT_EQ(back.pixels, src.pixels);
    Image zero = src;
    Rotate(&zero, 0.0);
    EXPECT_EQ(zero.pixels, src.pixels);
  }
}

TEST(Augment, RotateThirtyDegreesFillsCornersAndKeepsCentre) {
  Image im = Constant(9, 9, 1, 50);
  Px(im, 4, 4, 0) = 200;
  Rotate(&im, 30.0, 128);
  EXPECT_EQ(im.at(4, 4, 0), 200);  // the centre is a fixed point
  EXPECT_EQ(im.at(0, 0, 0), 128);  // corners rotate in from outside
  EXPECT_EQ(im.at(8, 8, 0), 128);
  EXPECT_EQ(im.at(4, 1, 0), 50);   // inside stays inside
}

TEST(Augment, TranslateShiftsAndFills) {
  const Image src = Pattern(10, 10, 3);
  Image t = src;
  Translate(&t, 0.2, 0.1, 0);  // 2 px right, 1 px down
  for (int y = 0; y < 10; ++y)
    for (int x = 0; x < 10; ++x)
      for (int c = 0; c < 3; ++c) {
        const uint8_t want = (x >= 2 && y >= 1) ? src.at(y - 1, x - 2, c) : 0;
        ASSERT_EQ(t.at(y, x, c), want) << x << "," << y;
      }
}

TEST(Augment, ResizedCropCoordinates) {
  const uint32_t seed = testing::TestSeed();
  PCLS_SEED_TRACE(seed);
  std::mt19937_64 rng(seed);
  for (int i = 0; i < 500; ++i) {
    const CropRect r = SampleResizedCrop(rng, 120, 80, 0.35, 1.0);
    ASSERT_GE(r.x, 0);
    ASSERT_GE(r.y, 0);
    ASSERT_LE(r.x + r.width, 120);
    ASSERT_LE(r.y + r.height, 80);
    const double area = static_cast<double>(r.width) * r.height / (120.0 * 80.0);
    const double aspect = static_cast<double>(r.width) / r.height;
    // Either a sampled crop (area and aspect in range up to rounding) or the centre
    // fallback (whole image here, aspect 1.5 > 4/3 -> 107 x 80 centred).
    if (r == CropRect{6, 0, 107, 80}) continue;
    EXPECT_GE(area, 0.35 - 0.03);
    EXPECT_LE(area, 1.0 + 1e-9);
    EXPECT_GE(aspect, 0.75 * 0.95);
    EXPECT_LE(aspect, 4.0 / 3.0 * 1.05);
  }
  // An impossible range (area > image at every aspect) falls back to the centre crop.
  const CropRect fallback = SampleResizedCrop(rng, 50, 50, 2.0, 3.0, 0.5, 0.6);
  EXPECT_EQ(fallback, (CropRect{10, 0, 30, 50}));  // aspect 1 > 0.6: w = round(50 * 0.6) = 30, x = (50 - 30) / 2

  // CropResize cuts the rectangle: a crop resized to its own size is the sub-image.
  Image im = Pattern(10, 8, 3);
  Image cut = im;
  CropResize(&cut, {3, 2, 4, 5}, 4, 5);
  for (int y = 0; y < 5; ++y)
    for (int x = 0; x < 4; ++x)
      for (int c = 0; c < 3; ++c) ASSERT_EQ(cut.at(y, x, c), im.at(y + 2, x + 3, c));
}

TEST(Augment, MixupWeightsAndPixels) {
  std::vector<Image> batch = {Constant(3, 2, 3, 0), Constant(3, 2, 3, 100), Constant(3, 2, 3, 255)};
  const MixResult r = MixupWithLambda(&batch, 0.75);
  EXPECT_EQ(r.partner, (std::vector<int>{2, 0, 1}));
  EXPECT_DOUBLE_EQ(r.lambda, 0.75);
  EXPECT_EQ(batch[0].pixels[0], 64);   // 0.75 * 0 + 0.25 * 255 = 63.75
  EXPECT_EQ(batch[1].pixels[5], 75);   // 0.75 * 100 + 0.25 * 0
  EXPECT_EQ(batch[2].pixels[17], 216);  // 0.75 * 255 + 0.25 * 100 = 216.25

  const uint32_t seed = testing::TestSeed();
  PCLS_SEED_TRACE(seed);
  std::mt19937_64 rng(seed);
  double sum = 0;
  for (int i = 0; i < 2000; ++i) {
    std::vector<Image> b = {Constant(1, 1, 1, 0), Constant(1, 1, 1, 200)};
    const MixResult m = Mixup(&b, 0.4, rng);
    ASSERT_GE(m.lambda, 0.0);
    ASSERT_LE(m.lambda, 1.0);
    ASSERT_EQ(b[1].pixels[0], static_cast<uint8_t>(std::floor(200 * m.lambda + 0.5)));
    sum += m.lambda;
  }
  EXPECT_NEAR(sum / 2000, 0.5, 0.03);  // Beta(a, a) has mean 1/2
}

TEST(Augment, CutmixWeightsAndPixels) {
  std::vector<Image> batch = {Constant(4, 4, 1, 10), Constant(4, 4, 1, 20)};
  const MixResult r = CutmixWithBox(&batch, {1, 2, 2, 2});
  EXPECT_DOUBLE_EQ(r.lambda, 1.0 - 4.0 / 16.0);
  EXPECT_EQ(r.partner, (std::vector<int>{1, 0}));
  for (int y = 0; y < 4; ++y)
    for (int x = 0; x < 4; ++x) {
      const bool in = x >= 1 && x < 3 && y >= 2 && y < 4;
      EXPECT_EQ(batch[0].at(y, x, 0), in ? 20 : 10);
      EXPECT_EQ(batch[1].at(y, x, 0), in ? 10 : 20);
    }
  // Sampled: lambda equals the share of pixels that kept their own value.
  std::mt19937_64 rng(testing::TestSeed());
  for (int i = 0; i < 200; ++i) {
    std::vector<Image> b = {Constant(12, 9, 1, 0), Constant(12, 9, 1, 1)};
    const MixResult m = Cutmix(&b, 1.0, rng);
    const int own = static_cast<int>(std::count(b[0].pixels.begin(), b[0].pixels.end(), 0));
    ASSERT_DOUBLE_EQ(m.lambda, own / 108.0);
  }
}

TEST(AugmentPipeline, ParsesSpecs) {
  auto none = ParseAugment("none");
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->any());
  auto flip = ParseAugment("flip");
  ASSERT_TRUE(flip.ok());
  EXPECT_EQ(flip->ToString(), "hflip");
  auto sscma = ParseAugment("sscma");
  ASSERT_TRUE(sscma.ok());
  EXPECT_EQ(sscma->ToString(), "jitter,translate,rgbshift,median,gray,clahe,hflip,vflip,tonecurve,rotate");
  auto some = ParseAugment("sscma,-clahe,-vflip,resized-crop");
  ASSERT_TRUE(some.ok());
  EXPECT_EQ(some->ToString(), "jitter,translate,rgbshift,median,gray,hflip,tonecurve,resized-crop,rotate");
  auto bad = ParseAugment("hflip,crop");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("unknown op 'crop'"), std::string::npos);
  EXPECT_FALSE(ParseAugment(",").ok());
}

TEST(AugmentPipeline, DeterministicForASeedAndAlwaysOutputSize) {
  auto config = ParseAugment("sscma,resized-crop");
  ASSERT_TRUE(config.ok());
  const Image src = Pattern(40, 30, 3);
  std::set<std::vector<uint8_t>> distinct;
  for (uint64_t seed = 0; seed < 20; ++seed) {
    std::mt19937_64 a(seed), b(seed);
    const Image x = Augment(src, *config, 24, 24, a), y = Augment(src, *config, 24, 24, b);
    ASSERT_EQ(x.width, 24);
    ASSERT_EQ(x.height, 24);
    ASSERT_EQ(x.channels, 3);
    ASSERT_EQ(x.pixels, y.pixels) << seed;
    distinct.insert(x.pixels);
  }
  EXPECT_GT(distinct.size(), 15u);  // different seeds, different views
  // "none" is a plain stretch-resize, and gray images stay gray through every op.
  std::mt19937_64 rng(1);
  EXPECT_EQ(Augment(src, *ParseAugment("none"), 20, 15, rng).pixels, ResizeBilinear(src, 20, 15).pixels);
  AugmentConfig all = *config;
  for (bool& e : all.enabled) e = true;
  for (double* p : {&all.jitter_p, &all.translate_p, &all.rgb_shift_p, &all.median_p, &all.gray_p, &all.clahe_p, &all.tone_p, &all.rotate_p})
    *p = 1.0;
  const Image g = Augment(Pattern(30, 30, 1), all, 16, 16, rng);
  EXPECT_EQ(g.channels, 1);
  EXPECT_EQ(g.pixels.size(), 16u * 16u);
}

TEST(AugmentPipeline, EveryOpOnTinyAndOddImages) {
  AugmentConfig all;
  for (bool& e : all.enabled) e = true;
  for (double* p : {&all.jitter_p, &all.translate_p, &all.rgb_shift_p, &all.median_p, &all.gray_p, &all.clahe_p, &all.tone_p, &all.rotate_p})
    *p = 1.0;
  std::mt19937_64 rng(testing::TestSeed());
  for (int channels : {1, 3})
    for (auto [w, h] : {std::pair{1, 1}, {1, 5}, {5, 1}, {2, 3}, {17, 9}})
      for (auto [ow, oh] : {std::pair{1, 1}, {3, 2}, {8, 8}}) {
        const Image out = Augment(Pattern(w, h, channels), all, ow, oh, rng);
        ASSERT_EQ(out.width, ow);
        ASSERT_EQ(out.height, oh);
        ASSERT_EQ(out.channels, channels);
        ASSERT_EQ(out.pixels.size(), static_cast<size_t>(ow) * oh * channels);
      }
}

}  // namespace
}  // namespace personcls
