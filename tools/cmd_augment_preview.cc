// personcls augment-preview: a PNG grid of what the trainer sees, i.e. the first --n
// samples of epoch 0 from the loader with the given --augment and --seed (the same images
// `personcls train` would get in its first batch with that seed and a batch >= n).
#include <fmt/core.h>

#include <algorithm>
#include <cmath>

#include "commands.h"
#include "data/augment.h"
#include "data/dataset.h"
#include "data/loader.h"
#include "personcls/image.h"

namespace personcls::cli {
namespace {

// Tiles `count` images of size x size x channels (NHWC bytes) into `cols` columns with a
// `gap`-pixel mid-gray border. Gray images are shown as gray.
Image Tile(const std::vector<uint8_t>& pixels, int count, int size, int channels, int cols, int gap) {
  const int rows = (count + cols - 1) / cols;
  Image grid;
  grid.width = cols * size + (cols + 1) * gap;
  grid.height = rows * size + (rows + 1) * gap;
  grid.channels = channels;
  grid.pixels.assign(static_cast<size_t>(grid.width) * grid.height * channels, 128);
  const size_t row_bytes = static_cast<size_t>(size) * channels;
  for (int i = 0; i < count; ++i) {
    const int x0 = gap + (i % cols) * (size + gap), y0 = gap + (i / cols) * (size + gap);
    for (int y = 0; y < size; ++y) {
      const uint8_t* src = pixels.data() + (static_cast<size_t>(i) * size + y) * row_bytes;
      std::copy(src, src + row_bytes, grid.pixels.data() + (static_cast<size_t>(y0 + y) * grid.width + x0) * channels);
    }
  }
  return grid;
}

}  // namespace

void RegisterAugmentPreview(CLI::App& app) {
  struct Args {
    std::string data, out, augment = "sscma";
    int n = 16, input = 96, cols = 0, classes = 2;
    uint64_t seed = 0;
    bool gray = false, balanced = false;
  };
  auto a = std::make_shared<Args>();
  CLI::App* cmd = app.add_subcommand("augment-preview", "Write a PNG grid of augmented training samples");
  cmd->add_option("--data", a->data, "Images: DIR (labels.csv or class folders) or an image cache DIR/SPLIT")->required();
  cmd->add_option("--out", a->out, "PNG file to write (atomically)")->required();
  cmd->add_option("--augment", a->augment, "none | sscma | flip | comma-separated ops (sscma,-clahe,resized-crop)")->capture_default_str();
  cmd->add_option("--n", a->n, "Number of samples")->capture_default_str();
  cmd->add_option("--cols", a->cols, "Grid columns (0: about sqrt(n))");
  cmd->add_option("--seed", a->seed, "Seed (as for train)")->capture_default_str();
  cmd->add_option("--input", a->input, "Sample size (square)")->capture_default_str();
  cmd->add_option("--classes", a->classes, "Number of classes")->capture_default_str();
  cmd->add_flag("--gray", a->gray, "One channel");
  cmd->add_flag("--balanced", a->balanced, "Class-balanced sampling");
  cmd->callback([a] {
    auto augment = ParseAugment(a->augment);
    if (!augment.ok()) throw CliError{augment.status().message()};
    if (a->n < 1 || a->n > 4096) throw CliError{"--n must be in 1..4096"};
    if (a->input < 1 || a->input > 1024) throw CliError{"--input must be in 1..1024"};
    if (a->cols < 0) throw CliError{"--cols must be >= 0"};
    auto data = LoadDataset(a->data, a->input, a->classes, a->gray);
    if (!data.ok()) throw CliError{data.status().message()};
    LoaderOptions o;
    o.batch = static_cast<int>(std::min<size_t>(a->n, data->count()));
    o.out_size = a->input;
    o.seed = a->seed;
    o.balanced = a->balanced;
    o.augment = *augment;
    o.threads = 0;
    Loader loader(*data, o);
    loader.Start(0);
    Batch b;
    if (!loader.Next(&b)) throw CliError{a->data + ": no samples"};
    const int cols = a->cols > 0 ? a->cols : static_cast<int>(std::ceil(std::sqrt(static_cast<double>(b.count))));
    const Image grid = Tile(b.pixels, b.count, b.size, b.channels, cols, 2);
    Status s = WritePng(a->out, grid);
    if (!s.ok()) throw CliError{s.message()};
    fmt::print("{}: {} samples ({}), {}x{}\n", a->out, b.count, augment->ToString(), grid.width, grid.height);
  });
}

}  // namespace personcls::cli
