// Geometry helpers shared by the AVX2 convolution kernels.
//
// The kernels read their input through a "padded view": rows -pad_top .. hp - pad_top - 1
// and columns -pad_left .. wp - pad_left - 1 of the input, where positions outside the
// input hold the padding value. Output pixel (oy, ox) and tap (ky, kx) read padded
// position (oy * stride_h + ky * dilation_h, ox * stride_w + kx * dilation_w).
#pragma once

#include <cstdint>

#include "runtime/host/thread_pool.h"
#include "runtime/kernel_params.h"

namespace personcls::x86 {

struct PaddedExtent {
  int h = 0, w = 0;           // rows and columns of the padded view the windows reach
  bool needs_padding = false;  // some window reads outside the input
};

inline PaddedExtent ComputePaddedExtent(const ConvGeometry& g) {
  PaddedExtent e;
  e.h = (g.out_h - 1) * g.stride_h + (g.k_h - 1) * g.dilation_h + 1;
  e.w = (g.out_w - 1) * g.stride_w + (g.k_w - 1) * g.dilation_w + 1;
  e.needs_padding = g.pad_top > 0 || g.pad_left > 0 || e.h - g.pad_top > g.in_h || e.w - g.pad_left > g.in_w;
  return e;
}

// Sanity limits under which all index arithmetic of the kernels fits comfortably (int32
// for per-image offsets, int64 for whole buffers); larger layers use the reference.
inline bool GeometryFits(const ConvGeometry& g) {
  const int64_t in = int64_t{g.in_h} * g.in_w * g.in_c;
  const int64_t out = int64_t{g.out_h} * g.out_w * g.out_c;
  const int64_t pad = (int64_t{g.out_h} * g.stride_h + int64_t{g.k_h} * g.dilation_h) *
                      (int64_t{g.out_w} * g.stride_w + int64_t{g.k_w} * g.dilation_w) * ((g.in_c > g.out_c ? g.in_c : g.out_c) + 16);
  constexpr int64_t kMax = int64_t{1} << 28;
  return g.batch >= 1 && g.in_c >= 1 && g.out_c >= 1 && g.out_h >= 1 && g.out_w >= 1 && g.k_h >= 1 && g.k_w >= 1 &&
         g.stride_h >= 1 && g.stride_w >= 1 && g.dilation_h >= 1 && g.dilation_w >= 1 && in < kMax && out < kMax &&
         pad < kMax && int64_t{g.batch} * (in + out + pad) < (int64_t{1} << 31);
}

// The dense convolutions run in tasks of whole output rows ("bands") of one image, which
// threads take dynamically (runtime/host/thread_pool.h). A task first copies (or widens)
// the rows of the padded view its windows reach into its thread's slot of scratch, so
// scratch holds max_threads bands instead of the whole padded input.
struct BandPlan {
  int rows = 1;        // output rows per band (the last band of an image may have fewer)
  int bands = 1;       // bands per image
  int view_rows = 1;   // rows of the padded view that a full band reads
};

// Bands of about `target_macs` multiply-accumulates each (at least one row), so that a
// task is worth handing to another thread while a slot stays a few rows.
// A band also has at least min_pixels output pixels (when the image has that many rows),
// so that the packed weights are reused across several tiles.
inline BandPlan PlanBands(const ConvGeometry& g, int64_t target_macs, int min_pixels = 6) {
  if (host::FineSplittingForTesting()) target_macs = min_pixels = 1;
  const int64_t row_macs = int64_t{g.out_w} * g.out_c * g.k_h * g.k_w * g.in_c;
  int64_t rows = row_macs > 0 ? (target_macs + row_macs - 1) / row_macs : 1;
  const int64_t rows_for_pixels = (min_pixels + g.out_w - 1) / g.out_w;
  if (rows < rows_for_pixels) rows = rows_for_pixels;
  if (rows < 1) rows = 1;
  if (rows > g.out_h) rows = g.out_h;
  BandPlan p;
  p.rows = static_cast<int>(rows);
  p.bands = (g.out_h + p.rows - 1) / p.rows;
  p.view_rows = (p.rows - 1) * g.stride_h + (g.k_h - 1) * g.dilation_h + 1;
  return p;
}

// The rows of one band task: image n, output rows [oy0, oy1), and the padded-view rows
// [oy0 * stride_h, oy0 * stride_h + view_rows) that its windows read.
struct Band {
  int n = 0, oy0 = 0, oy1 = 0, view_rows = 0;
};
inline Band BandOf(const BandPlan& p, const ConvGeometry& g, int task) {
  Band b;
  b.n = task / p.bands;
  b.oy0 = task % p.bands * p.rows;
  b.oy1 = b.oy0 + p.rows < g.out_h ? b.oy0 + p.rows : g.out_h;
  b.view_rows = (b.oy1 - b.oy0 - 1) * g.stride_h + (g.k_h - 1) * g.dilation_h + 1;
  return b;
}

// Up to kMaxTiles tiles of kMr output pixels: for tile t, a[t][i] is the window origin of
// pixel i and dst[t][i] its output (out_c values) for i < valid[t]. A short last tile
// repeats its last pixel in a[] (computed, not stored; dst is null there).
template <int kMr, typename In, typename Out>
struct TileChunk {
  static constexpr int kMaxTiles = 16;
  const In* a[kMaxTiles][kMr];
  Out* dst[kMaxTiles][kMr];
  int valid[kMaxTiles];
  int count = 0;
};

// Walks the output pixels of band b in raster order, kMr per tile, and calls chunk(c) for
// every TileChunk of up to kMaxTiles tiles; a[t][i] = src + ry * row_step + ox * col_step,
// ry the pixel's row within the band. The kernels loop over output-channel blocks outside
// the tiles of a chunk, so a block's packed weights are loaded from memory once per chunk
// rather than once per tile (the weights of a 3x3 conv with 128 channels exceed L2).
template <int kMr, typename In, typename Out, typename Chunk>
void ForEachTileChunk(const ConvGeometry& g, const Band& b, const In* src, int64_t row_step, int64_t col_step, Out* output,
                      Chunk&& chunk) {
  using Tiles = TileChunk<kMr, In, Out>;
  Tiles c;
  // Locals, and pointers advanced pixel by pixel: the stores into c must not make the
  // compiler reload g or multiply per pixel (this loop was a fifth of a 3-channel stem's
  // time). Outputs are contiguous in raster order; inputs step by col_step along a row.
  const int out_w = g.out_w;
  const int64_t out_c = g.out_c;
  const int pixels = (b.oy1 - b.oy0) * out_w;
  Out* next_dst = output + (int64_t{b.n} * g.out_h + b.oy0) * out_w * out_c;
  const In* row_src = src;  // window origin of the next pixel's row's first pixel
  const In* next_a = src;
  int ox = 0;  // the next pixel's column
  for (int first = 0; first < pixels; first += kMr) {
    const int valid = pixels - first < kMr ? pixels - first : kMr;
    const int t = c.count++;
    c.valid[t] = valid;
    for (int i = 0; i < kMr; ++i) {
      if (i < valid) {
        c.a[t][i] = next_a;
        c.dst[t][i] = next_dst;
        next_dst += out_c;
        if (++ox == out_w) {
          ox = 0;
          row_src += row_step;
          next_a = row_src;
        } else {
          next_a += col_step;
        }
      } else {
        c.a[t][i] = c.a[t][valid - 1];
        c.dst[t][i] = nullptr;
      }
    }
    if (c.count == Tiles::kMaxTiles || first + kMr >= pixels) {
      chunk(static_cast<const Tiles&>(c));
      c.count = 0;
    }
  }
}

// Threads worth using for `work` units (e.g. multiply-accumulates) when a thread should get
// at least `min_per_thread` of them: forking and joining costs microseconds, more than
// the small layers of a tiny model take. Results never depend on the thread count.
inline int ThreadsFor(int64_t work, int64_t min_per_thread, int requested) {
  if (requested <= 1) return 1;
  if (host::FineSplittingForTesting()) return requested;
  const int64_t useful = work / min_per_thread;
  return useful < 1 ? 1 : (useful < requested ? static_cast<int>(useful) : requested);
}

}  // namespace personcls::x86
