// Tensor: the minimal float32 tensor the training code passes around.
//
// Ownership: a Tensor OWNS its elements (a std::vector<float>, contiguous, row-major,
// last dimension fastest). Copying a Tensor copies the data; moving it is cheap. There is
// no view type: code that looks at part of a tensor, or at memory it does not own, takes a
// raw `float*` / `const float*` plus the shape (the ops in src/ops work that way), and the
// caller keeps the owner alive for the duration of the call.
//
// Layout conventions of the project: activations NHWC [N, H, W, C]; conv weights OHWI
// [Cout, Kh, Kw, Cin]; linear weights [out, in]; vectors [C].
#pragma once

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace personcls {

// Number of elements of a shape; 1 for the empty shape (a scalar). Throws
// std::invalid_argument on a negative dimension.
inline int64_t ShapeNumel(const std::vector<int>& shape) {
  int64_t n = 1;
  for (int d : shape) {
    if (d < 0) throw std::invalid_argument("negative tensor dimension");
    n *= d;
  }
  return n;
}

// "[2, 3, 5]".
inline std::string ShapeToString(const std::vector<int>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

struct Tensor {
  std::vector<int> shape;   // e.g. {N, H, W, C}
  std::vector<float> data;  // ShapeNumel(shape) elements

  Tensor() = default;
  // A tensor of the given shape with every element set to `fill`.
  explicit Tensor(std::vector<int> s, float fill = 0.0f) : shape(std::move(s)), data(static_cast<size_t>(ShapeNumel(shape)), fill) {}

  int rank() const { return static_cast<int>(shape.size()); }
  int64_t numel() const { return static_cast<int64_t>(data.size()); }
  // Dimension i; negative i counts from the end (dim(-1) is the last one).
  int dim(int i) const {
    const int r = rank();
    if (i < 0) i += r;
    if (i < 0 || i >= r) throw std::out_of_range("tensor dimension index out of range");
    return shape[static_cast<size_t>(i)];
  }

  float* ptr() { return data.data(); }
  const float* ptr() const { return data.data(); }
  float& operator[](size_t i) { return data[i]; }
  float operator[](size_t i) const { return data[i]; }

  // New shape with the same number of elements; the data is unchanged.
  void Reshape(std::vector<int> s) {
    if (ShapeNumel(s) != numel()) throw std::invalid_argument("reshape " + ShapeToString(shape) + " -> " + ShapeToString(s) + " changes the element count");
    shape = std::move(s);
  }
  // New shape, every element set to `fill` (reallocates only when it must grow).
  void Resize(std::vector<int> s, float fill = 0.0f) {
    shape = std::move(s);
    data.assign(static_cast<size_t>(ShapeNumel(shape)), fill);
  }
  void Fill(float v) { data.assign(data.size(), v); }
  bool SameShape(const Tensor& o) const { return shape == o.shape; }
};

}  // namespace personcls
