// Tiling shared by the Winograd F(2x2, 3x3) kernels (f32_ and s8_conv2d_3x3s1_winograd_avx2):
// output tile (ty, tx) is the 2x2 block of outputs at rows 2ty, 2ty + 1 and columns 2tx,
// 2tx + 1, computed from the 4x4 input patch whose top-left corner is input position
// (2ty - pad_top, 2tx - pad_left). Bands of consecutive tiles in raster order are the
// threads' tasks.
#pragma once

#include "runtime/host/thread_pool.h"
#include "runtime/kernel_params.h"

namespace personcls::x86 {

struct WinogradTiles {
  int tiles_w = 0, tiles_h = 0;  // ceil(out_w / 2), ceil(out_h / 2)
  int band_tiles = 1;            // tiles per band (the last band of an image may have fewer)
  int bands = 1;                 // bands per image

  // Bands of `target_tiles` consecutive tiles in raster order; with `threads` > 1, fewer
  // (a multiple of `multiple`) where the image would otherwise have less than four bands
  // per thread, so that small layers split evenly (a 12x12 output, 36 tiles, makes 6 bands
  // for 2 threads rather than 3). One tile each when splitting finely for tests. Every tile
  // is computed the same way whichever band holds it.
  static WinogradTiles Plan(const ConvGeometry& g, int target_tiles, int threads, int multiple) {
    WinogradTiles p;
    p.tiles_w = (g.out_w + 1) / 2;
    p.tiles_h = (g.out_h + 1) / 2;
    const int total = p.tiles_w * p.tiles_h;
    const int min_bands = threads > 1 ? 4 * threads : 1;
    const int shared = ((total + min_bands - 1) / min_bands + multiple - 1) / multiple * multiple;
    p.band_tiles = target_tiles < shared ? target_tiles : shared;
    if (p.band_tiles > total) p.band_tiles = total;
    if (host::FineSplittingForTesting()) p.band_tiles = 1;
    p.bands = (total + p.band_tiles - 1) / p.band_tiles;
    return p;
  }
};

// Band `task` of a batch: image n, tiles [first, first + tiles) of the image.
struct WinogradBand {
  int n = 0, first = 0, tiles = 0;

  WinogradBand(const WinogradTiles& p, int task) {
    n = task / p.bands;
    first = task % p.bands * p.band_tiles;
    const int left = p.tiles_w * p.tiles_h - first;
    tiles = left < p.band_tiles ? left : p.band_tiles;
  }
  // Output row and column of the top-left output of the band's tile t.
  int out_y(const WinogradTiles& p, int t) const { return 2 * ((first + t) / p.tiles_w); }
  int out_x(const WinogradTiles& p, int t) const { return 2 * ((first + t) % p.tiles_w); }

  // The input patch of the band's tile t: top-left input position, and whether all 4x4
  // positions lie inside the input (no padding to fill).
  struct Patch {
    int y0, x0;
    bool inside;
  };
  Patch PatchOf(const WinogradTiles& p, const ConvGeometry& g, int t) const {
    const int y0 = out_y(p, t) - g.pad_top, x0 = out_x(p, t) - g.pad_left;
    return {y0, x0, y0 >= 0 && y0 + 4 <= g.in_h && x0 >= 0 && x0 + 4 <= g.in_w};
  }
};

}  // namespace personcls::x86
