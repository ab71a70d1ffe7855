// The pre-resized image cache (format in image_cache.h).
#include "data/image_cache.h"

#include <sys/stat.h>

#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <limits>
#include <memory>
#include <string_view>

namespace personcls {
namespace {

constexpr char kMagic[8] = {'P', 'C', 'L', 'S', 'C', 'A', 'C', '1'};
constexpr uint32_t kVersion = 1;
constexpr size_t kHeaderBytes = 64;
constexpr char kIndexHeader[] = "image_id,file,label,orig_width,orig_height";
// Larger than any sensible model input; keeps record_bytes and offsets far from overflow.
constexpr uint32_t kMaxSide = 1 << 14;

struct FileCloser {
  void operator()(std::FILE* file) const { std::fclose(file); }
};
using FilePtr = std::unique_ptr<std::FILE, FileCloser>;

void PutU32(uint8_t* out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out[i] = static_cast<uint8_t>(v >> (8 * i));
}
uint32_t GetU32(const uint8_t* in) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v |= static_cast<uint32_t>(in[i]) << (8 * i);
  return v;
}

Status CheckShape(const std::string& name, int64_t height, int64_t width, int64_t channels) {
  if (height < 1 || width < 1 || height > kMaxSide || width > kMaxSide) {
    return Status::Error(name + ": invalid image size " + std::to_string(width) + "x" + std::to_string(height));
  }
  if (channels != 1 && channels != 3) {
    return Status::Error(name + ": invalid channel count " + std::to_string(channels) + " (1 or 3)");
  }
  return Status::Ok();
}

template <typename T>
bool ParseInt(std::string_view text, T* value) {
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, *value);
  return ec == std::errc() && ptr == end && !text.empty();
}

// One index line "image_id,file,label,orig_width,orig_height".
Status ParseIndexLine(std::string_view line, const std::string& where, ImageCacheRecord* record) {
  std::string_view fields[5];
  size_t n = 0, start = 0;
  for (size_t i = 0; i <= line.size(); ++i) {
    if (i < line.size() && line[i] != ',') continue;
    if (n == 5) return Status::Error(where + ": more than 5 fields");
    fields[n++] = line.substr(start, i - start);
    start = i + 1;
  }
  if (n != 5) return Status::Error(where + ": expected 5 fields (" + kIndexHeader + "), got " + std::to_string(n));
  if (!ParseInt(fields[0], &record->image_id)) return Status::Error(where + ": image_id '" + std::string(fields[0]) + "' is not an integer");
  if (fields[1].empty()) return Status::Error(where + ": empty file name");
  // ImageCacheWriter::Append refuses names holding '"' or a line break; a '\r' here is not
  // a CRLF ending (that one is stripped) but a corrupt name.
  if (fields[1].find_first_of("\"\r") != std::string_view::npos) return Status::Error(where + ": file name holds '\"' or a carriage return");
  record->file = std::string(fields[1]);
  if (!ParseInt(fields[2], &record->label)) return Status::Error(where + ": label '" + std::string(fields[2]) + "' is not an integer");
  if (!ParseInt(fields[3], &record->orig_width) || !ParseInt(fields[4], &record->orig_height) ||
      record->orig_width < 1 || record->orig_height < 1) {
    return Status::Error(where + ": invalid original size '" + std::string(fields[3]) + "x" + std::string(fields[4]) + "'");
  }
  return Status::Ok();
}

Expected<std::string> ReadText(const std::string& path) {
  FilePtr file(std::fopen(path.c_str(), "rb"));
  if (!file) return Status::Error(path + ": cannot open: " + std::strerror(errno));
  std::string text;
  char buffer[1 << 16];
  size_t got;
  while ((got = std::fread(buffer, 1, sizeof(buffer), file.get())) > 0) text.append(buffer, got);
  if (std::ferror(file.get())) return Status::Error(path + ": read failed");
  return text;
}

}  // namespace

Status ImageCacheWriter::Open(const std::string& path_prefix, int height, int width, int channels) {
  prefix_ = path_prefix;
  PCLS_RETURN_IF_ERROR(CheckShape(path_prefix + ".pcache", height, width, channels));
  height_ = height;
  width_ = width;
  channels_ = channels;
  count_ = 0;
  PCLS_RETURN_IF_ERROR(data_.Open(path_prefix + ".pcache"));
  PCLS_RETURN_IF_ERROR(index_.Open(path_prefix + ".index.csv"));
  uint8_t header[kHeaderBytes] = {};
  std::memcpy(header, kMagic, sizeof(kMagic));
  PutU32(header + 8, kVersion);
  PutU32(header + 12, 0);  // count, patched by Commit()
  PutU32(header + 16, static_cast<uint32_t>(height));
  PutU32(header + 20, static_cast<uint32_t>(width));
  PutU32(header + 24, static_cast<uint32_t>(channels));
  PCLS_RETURN_IF_ERROR(data_.Write(header, sizeof(header)));
  return index_.Write(std::string(kIndexHeader) + "\n");
}

Status ImageCacheWriter::Append(const ImageCacheRecord& record, const uint8_t* pixels) {
  const std::string& file = record.file;
  if (file.empty() || file.find_first_of(",\"\r\n") != std::string::npos) {
    return Status::Error(index_.path() + ": file name '" + file + "' is empty or holds ',', '\"' or a line break");
  }
  if (record.orig_width < 1 || record.orig_height < 1) {
    return Status::Error(index_.path() + ": " + file + ": invalid original size");
  }
  if (count_ >= std::numeric_limits<uint32_t>::max()) return Status::Error(data_.path() + ": too many records");
  PCLS_RETURN_IF_ERROR(data_.Write(pixels, record_bytes()));
  PCLS_RETURN_IF_ERROR(index_.Write(std::to_string(record.image_id) + "," + file + "," + std::to_string(record.label) + "," +
                                    std::to_string(record.orig_width) + "," + std::to_string(record.orig_height) + "\n"));
  ++count_;
  return Status::Ok();
}

Status ImageCacheWriter::Commit() {
  uint8_t count[4];
  PutU32(count, static_cast<uint32_t>(count_));
  PCLS_RETURN_IF_ERROR(data_.WriteAt(12, count, sizeof(count)));
  // Index first: a crash between the two renames leaves a new index beside an old (or no)
  // data file, which the reader's count check rejects, never a silently mismatched pair
  // of equal counts (a rebuild rewrites both).
  PCLS_RETURN_IF_ERROR(index_.Commit());
  return data_.Commit();
}

Status WriteImageCache(const std::string& path_prefix, const ImageCache& cache) {
  const size_t bytes = cache.record_bytes();
  if (cache.pixels.size() != cache.records.size() * bytes) {
    return Status::Error(path_prefix + ".pcache: " + std::to_string(cache.pixels.size()) + " pixel bytes for " +
                         std::to_string(cache.records.size()) + " records of " + std::to_string(bytes) + " bytes");
  }
  ImageCacheWriter writer;
  PCLS_RETURN_IF_ERROR(writer.Open(path_prefix, cache.height, cache.width, cache.channels));
  for (size_t i = 0; i < cache.records.size(); ++i) {
    PCLS_RETURN_IF_ERROR(writer.Append(cache.records[i], cache.image(i)));
  }
  return writer.Commit();
}

Expected<ImageCache> ReadImageCache(const std::string& path_prefix) {
  const std::string data_path = path_prefix + ".pcache", index_path = path_prefix + ".index.csv";
  FilePtr file(std::fopen(data_path.c_str(), "rb"));
  if (!file) return Status::Error(data_path + ": cannot open: " + std::strerror(errno));
  struct stat info;
  if (fstat(fileno(file.get()), &info) != 0 || !S_ISREG(info.st_mode)) return Status::Error(data_path + ": not a regular file");
  const uint64_t file_bytes = static_cast<uint64_t>(info.st_size);

  uint8_t header[kHeaderBytes];
  if (file_bytes < kHeaderBytes || std::fread(header, 1, kHeaderBytes, file.get()) != kHeaderBytes) {
    return Status::Error(data_path + ": truncated header (" + std::to_string(file_bytes) + " bytes, need 64)");
  }
  if (std::memcmp(header, kMagic, sizeof(kMagic)) != 0) return Status::Error(data_path + ": not a personcls image cache (bad magic)");
  if (GetU32(header + 8) != kVersion) return Status::Error(data_path + ": unsupported version " + std::to_string(GetU32(header + 8)));
  for (size_t i = 28; i < kHeaderBytes; ++i) {
    if (header[i] != 0) return Status::Error(data_path + ": corrupt header (reserved bytes not zero)");
  }
  ImageCache cache;
  const uint32_t count = GetU32(header + 12);
  PCLS_RETURN_IF_ERROR(CheckShape(data_path, GetU32(header + 16), GetU32(header + 20), GetU32(header + 24)));
  cache.height = static_cast<int>(GetU32(header + 16));
  cache.width = static_cast<int>(GetU32(header + 20));
  cache.channels = static_cast<int>(GetU32(header + 24));
  const uint64_t expected = kHeaderBytes + uint64_t{count} * cache.record_bytes();
  if (file_bytes != expected) {
    return Status::Error(data_path + ": " + std::to_string(file_bytes) + " bytes, expected " + std::to_string(expected) + " for " +
                         std::to_string(count) + " records of " + std::to_string(cache.width) + "x" + std::to_string(cache.height) +
                         "x" + std::to_string(cache.channels) + (file_bytes < expected ? " (truncated)" : " (trailing data)"));
  }

  PCLS_ASSIGN_OR_RETURN(std::string text, ReadText(index_path));
  std::string_view rest(text);
  size_t line_no = 0;
  while (!rest.empty()) {
    const size_t newline = rest.find('\n');
    std::string_view line = rest.substr(0, newline);
    rest = newline == std::string_view::npos ? std::string_view() : rest.substr(newline + 1);
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    const std::string where = index_path + ":" + std::to_string(line_no);
    if (line_no == 1) {
      if (line != kIndexHeader) return Status::Error(where + ": expected header '" + kIndexHeader + "'");
      continue;
    }
    if (line.empty()) return Status::Error(where + ": empty line");
    if (cache.records.size() >= count) {
      // Counting the rest gives the exact figure for the message without storing them.
      size_t lines = cache.records.size() + 1;
      for (char c : rest) lines += c == '\n';
      if (!rest.empty() && rest.back() != '\n') ++lines;
      return Status::Error(data_path + ": " + std::to_string(count) + " records in header, " + std::to_string(lines) + " in index");
    }
    ImageCacheRecord record;
    PCLS_RETURN_IF_ERROR(ParseIndexLine(line, where, &record));
    cache.records.push_back(std::move(record));
  }
  if (line_no == 0) return Status::Error(index_path + ": empty file (no header)");
  if (cache.records.size() != count) {
    return Status::Error(data_path + ": " + std::to_string(count) + " records in header, " + std::to_string(cache.records.size()) +
                         " in index");
  }

  cache.pixels.resize(count * cache.record_bytes());
  if (!cache.pixels.empty() && std::fread(cache.pixels.data(), 1, cache.pixels.size(), file.get()) != cache.pixels.size()) {
    return Status::Error(data_path + ": read failed (file changed while reading?)");
  }
  return cache;
}

}  // namespace personcls
