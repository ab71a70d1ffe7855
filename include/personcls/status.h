// Status and Expected<T>: how personcls reports failures that come from outside the
// program (files, user input, models). Programmer errors use assert/PCLS_CHECK instead.
//
// A Status is either ok() or carries one human-readable line ("model.tflite: tensor 7:
// buffer 12 out of range"). Messages are meant to be printed as-is by the CLI.
#pragma once

#include <cassert>
#include <string>
#include <utility>
#include <variant>

namespace personcls {

class Status {
 public:
  Status() = default;  // ok
  static Status Ok() { return Status(); }
  // Line breaks and other control characters (from names read out of files: a pickle key,
  // a JSON or protobuf string) are written as \n, \r, \t or \xNN, so that every message
  // stays one line whatever the file holds.
  static Status Error(std::string message) { return Status(OneLine(std::move(message)), true); }

  bool ok() const { return !failed_; }
  const std::string& message() const { return message_; }

  // Prefixes the message with context, e.g. the file name: "file.jpg: " + message.
  Status WithContext(const std::string& context) const {
    if (ok()) return *this;
    return Error(context + ": " + message_);
  }

 private:
  Status(std::string message, bool failed) : message_(std::move(message)), failed_(failed) {}
  static std::string OneLine(std::string m) {
    size_t i = 0;
    while (i < m.size() && static_cast<unsigned char>(m[i]) >= 0x20 && m[i] != 0x7F) ++i;
    if (i == m.size()) return m;  // the usual case: nothing to escape
    std::string out = m.substr(0, i);
    for (; i < m.size(); ++i) {
      const unsigned char c = static_cast<unsigned char>(m[i]);
      if (c >= 0x20 && c != 0x7F) {
        out += m[i];
      } else if (c == '\n') {
        out += "\\n";
      } else if (c == '\r') {
        out += "\\r";
      } else if (c == '\t') {
        out += "\\t";
      } else {
        static const char kHex[] = "0123456789abcdef";
        out += "\\x";
        out += kHex[c >> 4];
        out += kHex[c & 15];
      }
    }
    return out;
  }
  std::string message_;
  bool failed_ = false;
};

// Holds a T or an error Status. Accessing value() of an error is a programmer error.
template <typename T>
class Expected {
 public:
  Expected(T value) : data_(std::move(value)) {}  // NOLINT: implicit by design
  Expected(Status error) : data_(std::move(error)) {  // NOLINT: implicit by design
    assert(!std::get<Status>(data_).ok() && "Expected built from an ok Status");
  }

  bool ok() const { return std::holds_alternative<T>(data_); }
  explicit operator bool() const { return ok(); }

  T& value() & {
    assert(ok());
    return std::get<T>(data_);
  }
  const T& value() const& {
    assert(ok());
    return std::get<T>(data_);
  }
  T&& value() && {
    assert(ok());
    return std::get<T>(std::move(data_));
  }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  Status status() const { return ok() ? Status::Ok() : std::get<Status>(data_); }

 private:
  std::variant<T, Status> data_;
};

}  // namespace personcls

// Returns early from a function returning Status (or Expected) when expr fails.
#define PCLS_RETURN_IF_ERROR(expr)                 \
  do {                                             \
    ::personcls::Status pcls_status_ = (expr);     \
    if (!pcls_status_.ok()) return pcls_status_;   \
  } while (0)

#define PCLS_CONCAT_INNER(a, b) a##b
#define PCLS_CONCAT(a, b) PCLS_CONCAT_INNER(a, b)
// PCLS_ASSIGN_OR_RETURN(auto x, ExpectedExpr()): binds the value or returns the error.
#define PCLS_ASSIGN_OR_RETURN(lhs, expr)                               \
  auto PCLS_CONCAT(pcls_expected_, __LINE__) = (expr);                 \
  if (!PCLS_CONCAT(pcls_expected_, __LINE__).ok())                     \
    return PCLS_CONCAT(pcls_expected_, __LINE__).status();             \
  lhs = std::move(PCLS_CONCAT(pcls_expected_, __LINE__)).value()
