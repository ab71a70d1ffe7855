// Diag: where the portable runtime core reports why a model cannot run, without heap.
//
// The core (everything in src/runtime/ except host/ and x86/) also runs on
// microcontrollers with no heap at all, so it cannot build std::string messages. Prepare
// code formats one line into a fixed buffer instead and returns false; the caller prints
// diag.message() (firmware) or turns it into a Status (the PC Interpreter). Failures here
// come from the model (bad shapes, types, quantization): programmer errors are asserted.
#pragma once

#include <cstddef>
#include <cstdint>

#if defined(__GNUC__)
#define PCLS_PRINTF_FORMAT(fmt, args) __attribute__((format(printf, fmt, args)))
#else
#define PCLS_PRINTF_FORMAT(fmt, args)
#endif

namespace personcls {

// Writes into a buffer it does not own (so that firmware can point it at memory it keeps
// anyway, e.g. MicroInterpreter's error text, instead of using stack); capacity 0 keeps
// nothing. DiagText owns one.
class Diag {
 public:
  static constexpr size_t kCapacity = 240;  // DiagText's size; longer messages are cut

  Diag(char* buffer, size_t capacity) : text_(capacity ? buffer : empty_), capacity_(capacity ? capacity : 1) { text_[0] = '\0'; }
  Diag(const Diag&) = delete;
  Diag& operator=(const Diag&) = delete;

  // Formats the message and returns false: `return d.Fail("...", x);`. printf syntax, but
  // only int, long and string arguments: newlib-nano's printf (firmware) has no floating
  // point and no long long.
  bool Fail(const char* format, ...) PCLS_PRINTF_FORMAT(2, 3);
  // Puts context in front of an existing message: "operator 3 (CONV_2D): " + message.
  // Returns false.
  bool Prefix(const char* format, ...) PCLS_PRINTF_FORMAT(2, 3);

  bool failed() const { return failed_; }
  const char* message() const { return text_; }
  void Clear() {
    failed_ = false;
    text_[0] = '\0';
  }

 private:
  char* text_;
  size_t capacity_;
  bool failed_ = false;
  char empty_[1] = {};
};

class DiagText : public Diag {
 public:
  DiagText() : Diag(buffer_, sizeof(buffer_)) {}

 private:
  char buffer_[kCapacity];
};

// "[1,96,96,3]" for up to 6 dims, in a buffer that lives as long as the object (use it
// inside one expression: d.Fail("shape %s", ShapeText(dims, rank).c_str())).
class ShapeText {
 public:
  ShapeText(const int32_t* dims, int rank);
  const char* c_str() const { return text_; }

 private:
  char text_[80];
};

}  // namespace personcls
