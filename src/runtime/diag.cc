#include "runtime/diag.h"

#include <cstdarg>
#include <cstdio>
#include <cstring>

namespace personcls {

bool Diag::Fail(const char* format, ...) {
  va_list args;
  va_start(args, format);
  std::vsnprintf(text_, capacity_, format, args);
  va_end(args);
  failed_ = true;
  return false;
}

bool Diag::Prefix(const char* format, ...) {
  char prefix[64];  // "operator 123 (DEPTHWISE_CONV_2D): " and the like
  va_list args;
  va_start(args, format);
  const int n = std::vsnprintf(prefix, sizeof(prefix), format, args);
  va_end(args);
  if (n > 0 && capacity_ > 1) {
    size_t p = static_cast<size_t>(n) < sizeof(prefix) ? static_cast<size_t>(n) : sizeof(prefix) - 1;
    if (p > capacity_ - 1) p = capacity_ - 1;
    const size_t m = std::strlen(text_);
    const size_t keep = m < capacity_ - 1 - p ? m : capacity_ - 1 - p;
    std::memmove(text_ + p, text_, keep);
    std::memcpy(text_, prefix, p);
    text_[p + keep] = '\0';
  }
  failed_ = true;
  return false;
}

ShapeText::ShapeText(const int32_t* dims, int rank) {
  size_t n = 0;
  text_[n++] = '[';
  for (int i = 0; i < rank && n < sizeof(text_) - 14; ++i)
    n += static_cast<size_t>(std::snprintf(text_ + n, sizeof(text_) - n, i ? ",%ld" : "%ld", static_cast<long>(dims[i])));
  text_[n++] = ']';
  text_[n] = '\0';
}

}  // namespace personcls
