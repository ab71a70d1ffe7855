// PersonDetector: the part of the example to copy into your firmware. It owns the memory
// the personcls runtime needs (inside the object: put it in a static), reads the model
// in place from flash, and turns one RGB frame into a decision.
//
//   static PersonDetector detector;          // ~88 KB of RAM for the default model
//   if (!detector.Init()) print(detector.error());
//   PersonDetector::Decision d = detector.Classify(frame);   // frame: 96x96 RGB, 8 bits
//
// Ownership: the frame is only read during Classify(). Nothing is allocated, ever.
#pragma once

#include <cstddef>
#include <cstdint>

#include "personcls/micro_interpreter.h"

class PersonDetector {
 public:
  // Activations + kernel scratch, and per-op prepared data. The default model
  // (MobileNetV2-0.5-Rep) needs 74,624 + 6,848 bytes with the Cortex-M4 DSP kernels and
  // 74,256 + 6,848 with the Cortex-M55 MVE kernels (bench/mcu/run.sh; Init() says how much
  // when too small).
  static constexpr size_t kArenaBytes = 80 * 1024;
  static constexpr size_t kPreparedBytes = 8 * 1024;

  struct Decision {
    bool person = false;   // the model's top class is "Person" (class 1)
    int score = 0;         // Person probability in 1/256 (output int8 + 128)
    const char* label = "";
  };

  bool Init();
  const char* error() const { return interpreter_.error(); }
  int width() const { return width_; }
  int height() const { return height_; }

  // frame: height() x width() x 3 bytes, RGB, row by row.
  Decision Classify(const uint8_t* frame);

  const personcls::MicroInterpreter& interpreter() const { return interpreter_; }

 private:
  personcls::MicroInterpreter interpreter_;
  int width_ = 0, height_ = 0;
  alignas(16) uint8_t arena_[kArenaBytes];
  alignas(16) uint8_t prepared_[kPreparedBytes];
};
