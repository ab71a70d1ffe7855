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

// Runs the pickle in `bytes`; returns the value STOP leaves. Errors name `name`.
Expected<ValuePtr> Unpickle(const uint8_t* data, size_t size, const std::string& name);

}  // namespace personcls::pth
