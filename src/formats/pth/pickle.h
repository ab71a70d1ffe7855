// A small, safe pickle reader for the subset torch.save writes (protocol 2, plus the common
// protocol 3/4 opcodes). Nothing is ever executed: GLOBAL names become opaque references,
// and REDUCE/NEWOBJ build values only for a whitelist (collections.OrderedDict,
// torch._utils._rebuild_tensor_v2, torch._utils._rebuild_parameter); anything else
// (numpy, mmengine objects, ...) becomes an opaque object. Every malformed input is a
// one-line Status error; all reads are bounds-checked.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/memory_budget.h"
#include "personcls/status.h"

namespace personcls::pth {

struct Value;
using ValuePtr = std::shared_ptr<Value>;

// A storage referenced by a persistent id ('storage', torch.XStorage, key, location, numel).
struct StorageRef {
  std::string dtype;  // safetensors dtype name ("F32", "I64", ...)
  int64_t elem_bytes = 0;
  std::string key;    // the zip entry <folder>/data/<key>
  int64_t numel = 0;
};

// A tensor built by torch._utils._rebuild_tensor_v2.
struct TensorRef {
  StorageRef storage;
  int64_t offset = 0;  // in elements
  std::vector<int64_t> shape, stride;
};

struct Value {
  enum class Kind { kNone, kBool, kInt, kFloat, kStr, kBytes, kTuple, kList, kDict, kSet, kGlobal, kObject, kStorage, kTensor };
  Kind kind = Kind::kNone;
  int64_t i = 0;  // kBool, kInt
  double f = 0;   // kFloat
  std::string s;  // kStr, kBytes; kGlobal: "module.name"
  // kTuple/kList/kSet: elements; kDict: key, value, key, value, ...;
  // kObject: [callable, args] (plus state once BUILD ran).
  std::vector<ValuePtr> items;
  StorageRef storage;  // kStorage
  TensorRef tensor;    // kTensor

  Value() = default;
  explicit Value(Kind k) : kind(k) {}
  Value(const Value&) = delete;
  Value& operator=(const Value&) = delete;
  ~Value();  // iterative: deep nesting cannot overflow the stack
};

// What Unpickle returns: the value STOP left, owned together with every value the pickle
// made. A pickle can build reference cycles (a list appended to itself, an object BUILT
// from its own memo entry) that shared_ptr alone would leak; destroying an Unpickled
// clears the items of every value it made first, which breaks them. Move-only. The
// values must not be kept past the Unpickled (their items are emptied then).
class Unpickled {
 public:
  Unpickled(ValuePtr root, std::vector<std::weak_ptr<Value>> made) : root_(std::move(root)), made_(std::move(made)) {}
  Unpickled(Unpickled&&) = default;
  Unpickled& operator=(Unpickled&&) = delete;
  Unpickled(const Unpickled&) = delete;
  Unpickled& operator=(const Unpickled&) = delete;
  ~Unpickled();

  const Value& root() const { return *root_; }

 private:
  ValuePtr root_;
  std::vector<std::weak_ptr<Value>> made_;
};

// Runs the pickle in `bytes`; returns the value STOP leaves. Errors name `name`.
// Everything the pickle makes (values, strings, container items, memo entries) is charged
// to `budget`; past its limit the result is an error, so memory stays bounded by the file
// (the stack and the memo are also capped at 2^20 entries). The first form uses a budget
// for a file of `size` bytes.
Expected<Unpickled> Unpickle(const uint8_t* data, size_t size, const std::string& name);
Expected<Unpickled> Unpickle(const uint8_t* data, size_t size, const std::string& name, MemoryBudget& budget);

}  // namespace personcls::pth
