// JPEG decoding with libjpeg(-turbo).
//
// libjpeg reports fatal errors by calling error_exit, whose default prints and calls
// exit(). We install our own error manager that longjmps back instead. A longjmp must
// not skip destructors, so every function that calls setjmp below holds only trivially
// destructible locals; all C++ objects (the Image, row buffers) live in the caller.
//
// Output: 1 channel for grayscale JPEGs, 3 (RGB) for everything else, CMYK/YCCK
// included (converted here; libjpeg cannot convert CMYK to RGB itself).
#include <csetjmp>
#include <cstddef>
#include <cstdio>  // jpeglib.h uses FILE and size_t without including their headers.
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include <jpeglib.h>
#include <jerror.h>

#include "data/image_internal.h"
#include "personcls/image.h"

namespace personcls {
namespace {

using image_internal::CheckDimensions;
using image_internal::DecodeError;

// A valid progressive JPEG has about ten scans; crafted files with thousands of scans make
// the decoder walk the whole coefficient buffer once per scan (a known slow path).
constexpr int kMaxScans = 256;
// Caps libjpeg's own allocations. A progressive image keeps all its coefficients in
// memory, 2 bytes per sample: 512 MiB at kMaxImagePixels with 4 full-size components.
constexpr long kMaxJpegMemory = 768L << 20;
// The second byte of the end-of-image marker, FF D9.
constexpr int kEoiMarker = 0xD9;

enum class JpegFailure { kNone, kError, kTruncated, kTooManyScans };

// Everything libjpeg touches. The error manager fields come first so that libjpeg's
// j_common_ptr->err can be cast back to the context.
struct JpegContext {
  jpeg_error_mgr error_mgr;
  jpeg_progress_mgr progress_mgr;
  jpeg_decompress_struct cinfo;
  std::jmp_buf jump;
  JpegFailure failure;
  char message[JMSG_LENGTH_MAX];
};

JpegContext* ContextOf(j_common_ptr cinfo) {
  static_assert(offsetof(JpegContext, error_mgr) == 0);
  return reinterpret_cast<JpegContext*>(cinfo->err);
}

[[noreturn]] void Fail(j_common_ptr cinfo, JpegFailure failure) {
  JpegContext* context = ContextOf(cinfo);
  context->failure = failure;
  (*cinfo->err->format_message)(cinfo, context->message);
  std::longjmp(context->jump, 1);
}

void OnErrorExit(j_common_ptr cinfo) { Fail(cinfo, JpegFailure::kError); }

// Level -1 is a warning about corrupt data. libjpeg recovers from all of them, but when a
// scan's data ends early it fills the rest with gray, which would silently feed the
// classifier a partial image: both ways of ending early are fatal. One is the end of the
// input (libjpeg pads with a fake EOI): "truncated JPEG data". The other is Huffman data
// running into a marker ("premature end of data segment"): the EOI, the next scan, or a
// restart marker cutting a restart interval short. Failing there also bounds the work by
// the data (every 8x8 block costs at least one bit), where gray fill let a 146-byte file
// declaring 62016 x 255 pixels decode 16 Mpixel. The other warnings (extraneous bytes
// between markers, an inconsistent progression) occur in files other readers display and
// are tolerated. Nothing is printed.
void OnEmitMessage(j_common_ptr cinfo, int msg_level) {
  if (msg_level != -1) return;  // Trace messages.
  const int code = cinfo->err->msg_code;
  if (code == JWRN_JPEG_EOF) Fail(cinfo, JpegFailure::kTruncated);
  if (code == JWRN_HIT_MARKER) {
    // The Huffman decoders store the marker they ran into before warning.
    const bool at_end = cinfo->is_decompressor && reinterpret_cast<j_decompress_ptr>(cinfo)->unread_marker == kEoiMarker;
    Fail(cinfo, at_end ? JpegFailure::kTruncated : JpegFailure::kError);
  }
  cinfo->err->num_warnings++;
}

void OnProgress(j_common_ptr cinfo) {
  if (!cinfo->is_decompressor) return;
  auto* dinfo = reinterpret_cast<j_decompress_ptr>(cinfo);
  if (dinfo->input_scan_number > kMaxScans) Fail(cinfo, JpegFailure::kTooManyScans);
}

// Reads the header and fixes the output colour space and size: the smallest DCT scale
// 1/8, 1/4, 1/2 (or 1) whose output is at least min_width x min_height. Returns false on
// a libjpeg error.
bool ReadHeader(JpegContext* context, const uint8_t* data, size_t size, int min_width, int min_height) {
  if (setjmp(context->jump)) return false;
  j_decompress_ptr cinfo = &context->cinfo;
  jpeg_mem_src(cinfo, data, static_cast<unsigned long>(size));
  jpeg_read_header(cinfo, TRUE);
  switch (cinfo->jpeg_color_space) {
    case JCS_GRAYSCALE:
      cinfo->out_color_space = JCS_GRAYSCALE;
      break;
    case JCS_CMYK:
    case JCS_YCCK:
      cinfo->out_color_space = JCS_CMYK;
      break;
    case JCS_UNKNOWN:
      // 2 or 5+ components: keep JCS_UNKNOWN so the caller can reject it by name.
      break;
    default:
      cinfo->out_color_space = JCS_RGB;
      break;
  }
  // Fixed, documented decoder settings so results match other libjpeg-based readers
  // (PIL, TensorFlow): accurate integer IDCT and smooth chroma upsampling.
  cinfo->dct_method = JDCT_ISLOW;
  cinfo->do_fancy_upsampling = TRUE;
  // libjpeg-turbo scales inside the IDCT (a 1/8 decode computes one sample per block):
  // output size = ceil(image size * 1 / denom). Largest reduction first.
  for (unsigned denom : {8u, 4u, 2u, 1u}) {
    cinfo->scale_num = 1;
    cinfo->scale_denom = denom;
    jpeg_calc_output_dimensions(cinfo);
    if (static_cast<int64_t>(cinfo->output_width) >= min_width && static_cast<int64_t>(cinfo->output_height) >= min_height) break;
  }
  return true;
}

// Decodes all scanlines into `out` (output_height rows of `row_bytes`). For CMYK,
// `cmyk_row` (output_width * 4 bytes) receives each row before conversion to RGB.
bool ReadPixels(JpegContext* context, uint8_t* out, size_t row_bytes, uint8_t* cmyk_row) {
  if (setjmp(context->jump)) return false;
  j_decompress_ptr cinfo = &context->cinfo;
  jpeg_start_decompress(cinfo);
  const bool inverted = cinfo->saw_Adobe_marker;
  while (cinfo->output_scanline < cinfo->output_height) {
    uint8_t* row = out + static_cast<size_t>(cinfo->output_scanline) * row_bytes;
    JSAMPROW target = cmyk_row != nullptr ? cmyk_row : row;
    if (jpeg_read_scanlines(cinfo, &target, 1) != 1) {
      // Only a suspending source returns 0 lines; jpeg_mem_src never suspends.
      context->failure = JpegFailure::kError;
      std::snprintf(context->message, sizeof(context->message), "decoder stopped at row %u",
                    cinfo->output_scanline);
      return false;
    }
    if (cmyk_row == nullptr) continue;
    for (JDIMENSION x = 0; x < cinfo->output_width; ++x) {
      const uint8_t* ink = cmyk_row + 4 * x;
      // Adobe applications (the only common CMYK writers) store inverted values, so the
      // stored byte is already 255 - ink; without their marker the values are plain ink.
      int c = inverted ? ink[0] : 255 - ink[0];
      int m = inverted ? ink[1] : 255 - ink[1];
      int y = inverted ? ink[2] : 255 - ink[2];
      int k = inverted ? ink[3] : 255 - ink[3];
      row[3 * x + 0] = static_cast<uint8_t>((c * k + 127) / 255);
      row[3 * x + 1] = static_cast<uint8_t>((m * k + 127) / 255);
      row[3 * x + 2] = static_cast<uint8_t>((y * k + 127) / 255);
    }
  }
  // Skip jpeg_finish_decompress: it only reads trailing markers, which cannot change the
  // image, and it would make a file cut just before EOI an error.
  return true;
}

Status FailureStatus(const JpegContext& context, const std::string& name) {
  switch (context.failure) {
    case JpegFailure::kTruncated:
      return DecodeError(name, "truncated JPEG data");
    case JpegFailure::kTooManyScans:
      return DecodeError(name, "invalid JPEG: more than " + std::to_string(kMaxScans) + " scans");
    default:
      return DecodeError(name, std::string("invalid JPEG: ") + context.message);
  }
}

// Owns the libjpeg state so it is destroyed on every return path.
class JpegDecompressor {
 public:
  JpegDecompressor() {
    std::memset(&context_, 0, sizeof(context_));
    context_.cinfo.err = jpeg_std_error(&context_.error_mgr);
    context_.error_mgr.error_exit = OnErrorExit;
    context_.error_mgr.emit_message = OnEmitMessage;
    // jpeg_create_decompress can only fail on a library version mismatch or out of
    // memory, both of which reach error_exit: give it a jump target too.
    if (setjmp(context_.jump)) {
      created_ = false;
      return;
    }
    jpeg_create_decompress(&context_.cinfo);
    created_ = true;
    context_.cinfo.mem->max_memory_to_use = kMaxJpegMemory;
    context_.progress_mgr.progress_monitor = OnProgress;
    context_.cinfo.progress = &context_.progress_mgr;
  }
  ~JpegDecompressor() {
    if (created_) jpeg_destroy_decompress(&context_.cinfo);
  }
  JpegDecompressor(const JpegDecompressor&) = delete;
  JpegDecompressor& operator=(const JpegDecompressor&) = delete;

  bool created() const { return created_; }
  JpegContext* context() { return &context_; }

 private:
  JpegContext context_;
  bool created_ = false;
};

// Huffman-coded data spends at least one bit on every 8x8 block of every component that a
// scan codes (the code of its DC difference, or a refinement bit), and the first scan codes
// at least one component. So a file of `size` bytes holds at most 8 * size blocks of its
// smallest component; a header declaring more is a truncated (or crafted) file, refused
// before the output is allocated: otherwise a 49-byte file declaring 62979 x 32772 pixels
// made the 1/8-scaled decode allocate 96 MB. Arithmetic coding can spend less than a bit
// on a block of a flat image, so for it the bound is a limit rather than a fact. Real
// photos are far from it: the bound allows 512 pixels per byte at 4:4:4 sampling (2,048 at
// 4:2:0), and the 26,372 JPEGs under ../shared have 1.1 to 18.6. Without it, a 222-byte
// arithmetic-coded file declaring 63748 x 1280 pixels decoded 1.3 Mpixel of gray at 1/8
// scale (its decoder fills missing data silently).
Status CheckDataCanHoldImage(const jpeg_decompress_struct& cinfo, size_t size, const std::string& name) {
  int64_t fewest_blocks = std::numeric_limits<int64_t>::max();
  for (int c = 0; c < cinfo.num_components; ++c) {
    const jpeg_component_info& component = cinfo.comp_info[c];
    const int64_t blocks = int64_t{component.width_in_blocks} * component.height_in_blocks;
    if (blocks < fewest_blocks) fewest_blocks = blocks;
  }
  if (fewest_blocks / 8 <= static_cast<int64_t>(size)) return Status::Ok();
  return DecodeError(name, "truncated JPEG data: " + std::to_string(cinfo.image_width) + "x" +
                               std::to_string(cinfo.image_height) + " pixels need more than the file's " +
                               std::to_string(size) + " bytes");
}

}  // namespace

Expected<Image> DecodeJpeg(const uint8_t* data, size_t size, const std::string& name) {
  // Full size: the 1/1 scale is the only one at least as large as the image itself.
  return DecodeJpegAtLeast(data, size, name, std::numeric_limits<int>::max(), std::numeric_limits<int>::max());
}

Expected<Image> DecodeJpegAtLeast(const uint8_t* data, size_t size, const std::string& name, int min_width, int min_height,
                                  ImageSize* source_size) {
  if (size == 0) return DecodeError(name, "empty file");
  JpegDecompressor decompressor;
  JpegContext* context = decompressor.context();
  if (!decompressor.created()) return FailureStatus(*context, name);
  if (!ReadHeader(context, data, size, min_width, min_height)) return FailureStatus(*context, name);

  const jpeg_decompress_struct& cinfo = context->cinfo;
  if (cinfo.out_color_space == JCS_UNKNOWN) {
    return DecodeError(name, "unsupported JPEG with " + std::to_string(cinfo.num_components) + " colour components");
  }
  PCLS_RETURN_IF_ERROR(CheckDimensions(cinfo.output_width, cinfo.output_height, name));
  PCLS_RETURN_IF_ERROR(CheckDataCanHoldImage(cinfo, size, name));
  const bool cmyk = cinfo.out_color_space == JCS_CMYK;
  const int channels = cinfo.out_color_space == JCS_GRAYSCALE ? 1 : 3;
  Image image = image_internal::MakeImage(static_cast<int>(cinfo.output_width),
                                          static_cast<int>(cinfo.output_height), channels);
  std::vector<uint8_t> cmyk_row(cmyk ? static_cast<size_t>(cinfo.output_width) * 4 : 0);
  const size_t row_bytes = static_cast<size_t>(image.width) * channels;
  if (!ReadPixels(context, image.pixels.data(), row_bytes, cmyk ? cmyk_row.data() : nullptr)) {
    return FailureStatus(*context, name);
  }
  if (source_size != nullptr) *source_size = {static_cast<int>(cinfo.image_width), static_cast<int>(cinfo.image_height)};
  return image;
}

}  // namespace personcls
