// Building .pth files in tests: a torch.save-like zip (libzip, in memory) and a small
// pickle builder for the opcodes torch.save writes.
#pragma once

#include <gtest/gtest.h>
#include <zip.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace personcls::testing {

// A torch.save-like zip built in memory.
inline std::vector<uint8_t> MakeZip(const std::vector<std::pair<std::string, std::string>>& entries, int32_t method = ZIP_CM_STORE) {
  zip_error_t err;
  zip_error_init(&err);
  zip_source_t* src = zip_source_buffer_create(nullptr, 0, 0, &err);
  zip_source_keep(src);
  zip_t* z = zip_open_from_source(src, ZIP_TRUNCATE, &err);
  EXPECT_NE(z, nullptr);
  for (const auto& [name, data] : entries) {
    zip_source_t* s = zip_source_buffer(z, data.data(), data.size(), 0);
    zip_int64_t idx = zip_file_add(z, name.c_str(), s, ZIP_FL_OVERWRITE);
    EXPECT_GE(idx, 0);
    zip_set_file_compression(z, static_cast<zip_uint64_t>(idx), method, method == ZIP_CM_STORE ? 0 : 1);  // deflate: fastest level
  }
  EXPECT_EQ(zip_close(z), 0);
  zip_source_open(src);
  zip_source_seek(src, 0, SEEK_END);
  const zip_int64_t size = zip_source_tell(src);
  zip_source_seek(src, 0, SEEK_SET);
  std::vector<uint8_t> out(static_cast<size_t>(size));
  zip_source_read(src, out.data(), static_cast<zip_uint64_t>(size));
  zip_source_close(src);
  zip_source_free(src);
  zip_error_fini(&err);
  return out;
}

// Pickle builder.
struct P {
  std::string s = "\x80\x02";
  P& op(char c) { s += c; return *this; }
  P& str(const std::string& v) {
    s += 'X';
    for (int i = 0; i < 4; ++i) s += static_cast<char>((v.size() >> (8 * i)) & 0xff);
    s += v;
    return *this;
  }
  P& i1(int v) { s += 'K'; s += static_cast<char>(v); return *this; }
  // BININT1 below 256, else BININT (4 bytes, little-endian).
  P& num(int64_t v) {
    if (v >= 0 && v < 256) return i1(static_cast<int>(v));
    s += 'J';
    for (int i = 0; i < 4; ++i) s += static_cast<char>((v >> (8 * i)) & 0xff);
    return *this;
  }
  P& global(const std::string& m, const std::string& n) { s += 'c' + m + '\n' + n + '\n'; return *this; }
  P& ints(const std::vector<int>& v) {
    op('(');
    for (int x : v) num(x);
    return op('t');
  }
  // {key: tensor} with a storage of `numel` floats.
  P& tensor(const std::string& key, const std::string& storage, int numel, int offset, const std::vector<int>& shape,
            const std::vector<int>& stride, const std::string& storage_type = "FloatStorage") {
    str(key).global("torch._utils", "_rebuild_tensor_v2").op('(');
    op('(').str("storage").global("torch", storage_type).str(storage).str("cpu").num(numel).op('t').op('Q');
    num(offset).ints(shape).ints(stride).op('\x89').global("collections", "OrderedDict").op(')').op('R').op('t').op('R');
    return *this;
  }
  std::string done() { return s + "."; }
};

inline std::string Floats(int n) {
  std::string s;
  for (int i = 0; i < n; ++i) {
    float f = static_cast<float>(i) + 0.5f;
    s.append(reinterpret_cast<const char*>(&f), 4);
  }
  return s;
}

}  // namespace personcls::testing
