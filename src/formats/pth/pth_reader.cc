#include "formats/pth/pth_reader.h"

#include <zip.h>

#include <limits>
#include <map>
#include <memory>

#include "core/file_bytes.h"
#include "core/memory_budget.h"
#include "formats/pth/pickle.h"

namespace personcls::pth {
namespace {

using K = Value::Kind;

struct ZipCloser {
  void operator()(zip_t* z) const { zip_discard(z); }
};

class Archive {
 public:
  Status Open(const std::vector<uint8_t>& bytes) {
    zip_error_t err;
    zip_error_init(&err);
    zip_source_t* src = zip_source_buffer_create(bytes.data(), bytes.size(), 0, &err);
    if (src == nullptr) {
      zip_error_fini(&err);
      return Status::Error("cannot read the zip archive");
    }
    zip_t* z = zip_open_from_source(src, ZIP_RDONLY | ZIP_CHECKCONS, &err);
    if (z == nullptr) {
      std::string msg = zip_error_strerror(&err);
      zip_source_free(src);
      zip_error_fini(&err);
      return Status::Error("not a valid zip archive (" + msg + ")");
    }
    zip_error_fini(&err);
    zip_.reset(z);
    file_size_ = bytes.size();
    return Status::Ok();
  }

  // The folder holding data.pkl ("<folder>/").
  Expected<std::string> FindFolder() {
    const zip_int64_t n = zip_get_num_entries(zip_.get(), 0);
    std::string found;
    for (zip_int64_t i = 0; i < n; ++i) {
      const char* nm = zip_get_name(zip_.get(), static_cast<zip_uint64_t>(i), 0);
      if (nm == nullptr) continue;
      std::string s(nm);
      const std::string suffix = "data.pkl";
      if (s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0) {
        std::string folder = s.substr(0, s.size() - suffix.size());
        if (!folder.empty() && folder.back() != '/') continue;
        if (folder.find('/') != folder.size() - 1 && !folder.empty()) continue;  // only <folder>/data.pkl
        if (!found.empty()) return Status::Error("more than one data.pkl in the archive");
        found = s;
      }
    }
    if (found.empty()) return Status::Error("no <folder>/data.pkl in the archive (not a torch.save zip file)");
    return found.substr(0, found.size() - 8);
  }

  bool Has(const std::string& entry) { return zip_name_locate(zip_.get(), entry.c_str(), 0) >= 0; }

  // The entry's bytes. Its declared (uncompressed) size is checked before anything is
  // allocated: a stored entry cannot exceed the file, and every entry is charged to
  // `budget`, so a deflate bomb or a forged size is refused up front.
  Expected<std::vector<uint8_t>> Read(const std::string& entry, MemoryBudget& budget) {
    const zip_int64_t idx = zip_name_locate(zip_.get(), entry.c_str(), 0);
    if (idx < 0) return Status::Error("missing archive entry " + entry);
    zip_stat_t st;
    zip_stat_init(&st);
    if (zip_stat_index(zip_.get(), static_cast<zip_uint64_t>(idx), 0, &st) != 0 || !(st.valid & ZIP_STAT_SIZE))
      return Status::Error("cannot stat archive entry " + entry);
    const bool stored = (st.valid & ZIP_STAT_COMP_METHOD) && st.comp_method == ZIP_CM_STORE;
    if (stored && st.size > file_size_)
      return Status::Error("archive entry " + entry + " declares " + std::to_string(st.size) + " bytes, more than the file holds");
    PCLS_RETURN_IF_ERROR(budget.Take(st.size, "archive entry " + entry));
    std::unique_ptr<zip_file_t, int (*)(zip_file_t*)> f(zip_fopen_index(zip_.get(), static_cast<zip_uint64_t>(idx), 0), zip_fclose);
    if (!f) return Status::Error("cannot open archive entry " + entry + " (" + zip_strerror(zip_.get()) + ")");
    std::vector<uint8_t> out(st.size);
    zip_uint64_t done = 0;
    while (done < st.size) {
      const zip_int64_t r = zip_fread(f.get(), out.data() + done, st.size - done);
      if (r < 0) return Status::Error("cannot read archive entry " + entry + " (" + zip_file_strerror(f.get()) + ")");
      if (r == 0) break;
      done += static_cast<zip_uint64_t>(r);
    }
    if (done != st.size) return Status::Error("archive entry " + entry + " is truncated");
    return out;
  }

 private:
  std::unique_ptr<zip_t, ZipCloser> zip_;
  uint64_t file_size_ = 0;
};

const ValuePtr* DictGet(const Value& d, const std::string& key) {
  const ValuePtr* found = nullptr;
  for (size_t i = 0; i + 1 < d.items.size(); i += 2)
    if (d.items[i]->kind == K::kStr && d.items[i]->s == key) found = &d.items[i + 1];
  return found;
}

std::string Shape(const std::vector<int64_t>& v) {
  std::string s = "(";
  for (size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + std::to_string(v[i]);
  return s + ")";
}

Expected<safetensors::Tensor> Extract(const std::string& key, const TensorRef& t, Archive& zip, const std::string& folder,
                                      std::map<std::string, std::vector<uint8_t>>& storages, MemoryBudget& budget) {
  auto fail = [&](const std::string& m) { return Status::Error("tensor '" + key + "': " + m); };
  int64_t count = 1;
  for (int64_t d : t.shape) {
    if (d != 0 && count > std::numeric_limits<int64_t>::max() / 8 / d) return fail("shape " + Shape(t.shape) + " too large");
    count *= d;
  }
  // Contiguous (row-major); dimensions of size 1 may carry any stride, as in PyTorch.
  int64_t expect = 1;
  for (size_t i = t.shape.size(); i-- > 0;) {
    if (t.shape[i] != 1 && t.stride[i] != expect)
      return fail("non-contiguous stride " + Shape(t.stride) + " for shape " + Shape(t.shape) + " is not supported");
    expect *= t.shape[i];
  }
  if (count > 0 && (t.offset > t.storage.numel || count > t.storage.numel - t.offset))
    return fail("storage " + t.storage.key + " holds " + std::to_string(t.storage.numel) + " elements, too few for offset " +
                std::to_string(t.offset) + " and shape " + Shape(t.shape));
  auto it = storages.find(t.storage.key);
  if (it == storages.end()) {
    auto bytes = zip.Read(folder + "data/" + t.storage.key, budget);
    if (!bytes.ok()) return fail(bytes.status().message());
    it = storages.emplace(t.storage.key, std::move(bytes).value()).first;
  }
  const std::vector<uint8_t>& data = it->second;
  if (static_cast<uint64_t>(data.size()) < static_cast<uint64_t>(t.storage.numel) * static_cast<uint64_t>(t.storage.elem_bytes))
    return fail("storage " + t.storage.key + " has " + std::to_string(data.size()) + " bytes, expected " +
                std::to_string(t.storage.numel * t.storage.elem_bytes));
  safetensors::Tensor out;
  out.dtype = t.storage.dtype;
  out.shape = t.shape;
  // Each tensor is a copy: many views of one storage must not multiply it unbounded.
  if (Status s = budget.Take(static_cast<uint64_t>(count) * static_cast<uint64_t>(t.storage.elem_bytes), "its data"); !s.ok())
    return fail(s.message());
  if (count > 0) {
    const size_t begin = static_cast<size_t>(t.offset * t.storage.elem_bytes);
    out.bytes.assign(data.begin() + static_cast<std::ptrdiff_t>(begin),
                     data.begin() + static_cast<std::ptrdiff_t>(begin + static_cast<size_t>(count * t.storage.elem_bytes)));
  }
  return out;
}

Expected<safetensors::File> Parse(const std::vector<uint8_t>& bytes) {
  MemoryBudget budget(bytes.size());
  Archive zip;
  PCLS_RETURN_IF_ERROR(zip.Open(bytes));
  PCLS_ASSIGN_OR_RETURN(std::string folder, zip.FindFolder());
  if (zip.Has(folder + "byteorder")) {
    PCLS_ASSIGN_OR_RETURN(auto order, zip.Read(folder + "byteorder", budget));
    if (std::string(order.begin(), order.end()) != "little") return Status::Error("big-endian checkpoints are not supported");
  }
  PCLS_ASSIGN_OR_RETURN(auto pkl, zip.Read(folder + "data.pkl", budget));
  PCLS_ASSIGN_OR_RETURN(Unpickled pickle, Unpickle(pkl.data(), pkl.size(), folder + "data.pkl", budget));
  const Value& root = pickle.root();
  if (root.kind != K::kDict) return Status::Error("data.pkl does not hold a dict (not a state_dict or checkpoint)");
  const Value* sd = &root;
  if (const ValuePtr* inner = DictGet(root, "state_dict")) {
    if ((*inner)->kind != K::kDict) return Status::Error("'state_dict' is not a dict");
    sd = inner->get();
  }
  safetensors::File file;
  std::map<std::string, std::vector<uint8_t>> storages;
  for (size_t i = 0; i + 1 < sd->items.size(); i += 2) {
    const Value& k = *sd->items[i];
    const Value& v = *sd->items[i + 1];
    if (k.kind != K::kStr || v.kind != K::kTensor) continue;
    PCLS_ASSIGN_OR_RETURN(auto t, Extract(k.s, v.tensor, zip, folder, storages, budget));
    file.tensors[k.s] = std::move(t);
  }
  if (file.tensors.empty()) return Status::Error("no tensors in the state_dict");
  return file;
}

}  // namespace

Expected<safetensors::File> ParseStateDict(const std::vector<uint8_t>& bytes, const std::string& name) {
  return GuardAllocation(name, [&]() -> Expected<safetensors::File> {
    auto r = Parse(bytes);
    if (!r.ok()) return r.status().WithContext(name);
    return r;
  });
}

Expected<safetensors::File> ReadStateDict(const std::string& path) {
  PCLS_ASSIGN_OR_RETURN(std::vector<uint8_t> bytes, ReadBinaryFile(path));
  return ParseStateDict(bytes, path);
}

}  // namespace personcls::pth
