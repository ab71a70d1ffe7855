// Memory bounded by the input (src/core/memory_budget.h): crafted .pth files that declare
// or build far more than they hold are refused with one line naming the file, before the
// memory is taken; what was allocated is measured with the allocation probe.
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "alloc_probe.h"
#include "core/memory_budget.h"
#include "formats/pth/pickle.h"
#include "formats/pth/pth_reader.h"
#include "pth/pth_test_util.h"
#include "test_util.h"

PCLS_DEFINE_ALLOC_PROBE()

namespace personcls {
namespace {

using testing::AllocationPeakSince;
using testing::Floats;
using testing::MakeZip;
using testing::MarkAllocations;
using testing::P;

constexpr int64_t kMiB = int64_t{1} << 20;

std::string OneTensorPickle(int numel) { return P().op('}').op('(').tensor("w", "0", numel, 0, {numel}, {1}).op('u').done(); }

// Sets the uncompressed size (local header and central directory) of every entry named
// `name` in the zip `bytes`: what a forged archive declares.
void ForgeEntrySize(std::vector<uint8_t>& bytes, const std::string& name, uint32_t size) {
  int patched = 0;
  for (size_t at = 0; at + name.size() <= bytes.size(); ++at) {
    if (std::memcmp(bytes.data() + at, name.data(), name.size()) != 0) continue;
    auto put = [&](size_t offset) {
      for (int i = 0; i < 4; ++i) bytes[offset + i] = static_cast<uint8_t>(size >> (8 * i));
      ++patched;
    };
    if (at >= 30 && std::memcmp(bytes.data() + at - 30, "PK\x03\x04", 4) == 0) put(at - 30 + 22);
    if (at >= 46 && std::memcmp(bytes.data() + at - 46, "PK\x01\x02", 4) == 0) put(at - 46 + 24);
  }
  ASSERT_EQ(patched, 2) << name;
}

TEST(PthMemory, ForgedEntrySizeIsRefusedBeforeAllocating) {
  // A compressed storage that declares 4 GB: its size is checked against the budget (a few
  // hundred bytes of file may use 64 MiB), not allocated and zero-filled first.
  auto bytes = MakeZip({{"m/data.pkl", OneTensorPickle(12)}, {"m/data/0", Floats(12)}, {"m/version", "3\n"}}, ZIP_CM_DEFLATE);
  ForgeEntrySize(bytes, "m/data/0", 0xfffffff0u);
  EXPECT_LT(bytes.size(), 1000u);
  const auto mark = MarkAllocations();
  auto f = pth::ParseStateDict(bytes, "forged.pth");
  EXPECT_LT(AllocationPeakSince(mark), 4 * kMiB);
  testing::ExpectErrorLine(f.status(), "forged.pth", "archive entry m/data/0 needs 4294967280 bytes, past the memory limit of this file");

  // A stored entry cannot hold more than the file.
  auto stored = MakeZip({{"m/data.pkl", OneTensorPickle(12)}, {"m/data/0", Floats(12)}, {"m/version", "3\n"}});
  ForgeEntrySize(stored, "m/data/0", 1u << 30);
  auto g = pth::ParseStateDict(stored, "stored.pth");
  ASSERT_FALSE(g.ok());
  EXPECT_EQ(g.status().message().rfind("stored.pth: ", 0), 0u) << g.status().message();
}

TEST(PthMemory, DeflateBombIsRefusedAndCompressedFilesStillLoad) {
  std::vector<uint8_t> bomb;
  {
    const std::string zeros(72 * kMiB, '\0');  // 72 MiB of storage in about 70 KiB of zip
    bomb = MakeZip({{"m/data.pkl", OneTensorPickle(18 * 1024 * 1024)}, {"m/data/0", zeros}, {"m/version", "3\n"}}, ZIP_CM_DEFLATE);
  }
  ASSERT_LT(bomb.size(), 1u << 20);
  const auto mark = MarkAllocations();
  auto f = pth::ParseStateDict(bomb, "bomb.pth");
  EXPECT_LT(AllocationPeakSince(mark), 4 * kMiB);
  testing::ExpectErrorLine(f.status(), "bomb.pth", "past the memory limit of this file");

  // The same layout with a sane size: deflate is read as before.
  auto small = MakeZip({{"m/data.pkl", OneTensorPickle(12)}, {"m/data/0", Floats(12)}, {"m/version", "3\n"}}, ZIP_CM_DEFLATE);
  auto ok = pth::ParseStateDict(small, "small.pth");
  ASSERT_TRUE(ok.ok()) << ok.status().message();
  EXPECT_EQ(ok->tensors.at("w").AsFloat()[11], 11.5f);
}

TEST(PthMemory, ManyViewsOfOneStorageAreBounded) {
  // 400 tensors viewing the same 1 MiB storage: each is a copy, 400 MiB from a 1 MiB file.
  const int numel = 256 * 1024;
  P p;
  p.op('}').op('(');
  for (int i = 0; i < 400; ++i) p.tensor("w" + std::to_string(i), "0", numel, 0, {numel}, {1});
  p.op('u');
  const auto bytes = MakeZip({{"m/data.pkl", p.done()}, {"m/data/0", Floats(numel)}, {"m/version", "3\n"}});
  const auto mark = MarkAllocations();
  auto f = pth::ParseStateDict(bytes, "views.pth");
  const MemoryBudget budget(bytes.size());
  EXPECT_LT(AllocationPeakSince(mark), static_cast<int64_t>(budget.limit()) + 8 * kMiB);
  testing::ExpectErrorLine(f.status(), "views.pth", "past the memory limit of this file");

  // A handful of views is fine.
  P q;
  q.op('}').op('(');
  for (int i = 0; i < 4; ++i) q.tensor("w" + std::to_string(i), "0", numel, 0, {numel}, {1});
  q.op('u');
  auto few = pth::ParseStateDict(MakeZip({{"m/data.pkl", q.done()}, {"m/data/0", Floats(numel)}, {"m/version", "3\n"}}), "few.pth");
  ASSERT_TRUE(few.ok()) << few.status().message();
  EXPECT_EQ(few->tensors.size(), 4u);
}

// "]q\0" then `rounds` x ("(" + `per_round` x "h\0" (memo 0) + closer): every two bytes add
// one item (a 16-byte pointer) to the container on the stack.
std::string GrowingPickle(const std::string& empty, char closer, int rounds, int per_round, int gets_per_item) {
  std::string s = "\x80\x02" + empty + "q";
  s += '\0';
  for (int r = 0; r < rounds; ++r) {
    s += '(';
    for (int i = 0; i < per_round * gets_per_item; ++i) s += std::string("h\0", 2);
    s += closer;
  }
  return s + ".";
}

TEST(PthMemory, PickleContainersGrowOnlyWithinTheBudget) {
  struct Case {
    const char* name;
    std::string pickle;
  };
  // 3 x 200,000 items of 16 bytes (9.6 MB) against a 4 MiB budget; under 2^20 per MARK,
  // so the stack cap alone does not stop them. (A file's budget is 64 MiB + 4 x its size;
  // a fixed small one keeps the test quick.)
  const std::vector<Case> cases = {
      {"APPENDS", GrowingPickle("]", 'e', 3, 200000, 1)},
      {"SETITEMS", GrowingPickle("}", 'u', 3, 100000, 2)},
      {"ADDITEMS", GrowingPickle("\x8f", '\x90', 3, 200000, 1)},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    MemoryBudget small = MemoryBudget::WithLimit(4 * kMiB);
    const auto mark = MarkAllocations();
    auto v = pth::Unpickle(reinterpret_cast<const uint8_t*>(c.pickle.data()), c.pickle.size(), "grow.pkl", small);
    // The budget, plus what is transient: a container's old array while it grows, the
    // items on the stack and those popped off it.
    EXPECT_LT(AllocationPeakSince(mark), 4 * kMiB + 12 * kMiB);
    testing::ExpectErrorLine(v.status(), "grow.pkl", "past the memory limit of this file");
    MemoryBudget large = MemoryBudget::WithLimit(64 * kMiB);  // the same pickle is fine
    auto w = pth::Unpickle(reinterpret_cast<const uint8_t*>(c.pickle.data()), c.pickle.size(), "grow.pkl", large);
    ASSERT_TRUE(w.ok()) << w.status().message();
    EXPECT_EQ(w->root().items.size(), 600000u);
  }
}

TEST(PthMemory, BuildStateGrowsOnlyWithinTheBudget) {
  // An opaque object (NEWOBJ) BUILT 400,000 times with its own memo entry: BUILD appends
  // each state to the object, and each one refers back to the object (a cycle).
  std::string s = "\x80\x02" "cm\nC\n)\x81q";
  s += '\0';
  for (int i = 0; i < 400000; ++i) s += std::string("h\0b", 3);
  s += ".";
  MemoryBudget small = MemoryBudget::WithLimit(4 * kMiB);
  auto v = pth::Unpickle(reinterpret_cast<const uint8_t*>(s.data()), s.size(), "build.pkl", small);
  testing::ExpectErrorLine(v.status(), "build.pkl", "past the memory limit of this file");
  MemoryBudget large = MemoryBudget::WithLimit(64 * kMiB);
  auto w = pth::Unpickle(reinterpret_cast<const uint8_t*>(s.data()), s.size(), "build.pkl", large);
  ASSERT_TRUE(w.ok()) << w.status().message();
  EXPECT_EQ(w->root().items.size(), 2u + 400000u);  // callable, args, then each BUILD state
}

TEST(PthMemory, SelfReferencesDoNotLeak) {
  // l = []; l.append(l); d = {}; d[0] = d: cycles a pickle may build. The Unpickled that
  // owns them breaks them (LeakSanitizer in scripts/sanitize.sh checks the rest).
  const char list_bytes[] = "\x80\x02]q\0h\0a.";
  const std::string list(list_bytes, sizeof(list_bytes) - 1);
  const auto mark = MarkAllocations();
  {
    auto v = pth::Unpickle(reinterpret_cast<const uint8_t*>(list.data()), list.size(), "cycle.pkl");
    ASSERT_TRUE(v.ok()) << v.status().message();
    ASSERT_EQ(v->root().items.size(), 1u);
    EXPECT_EQ(v->root().items[0].get(), &v->root());
  }
  const char dict_bytes[] = "\x80\x02}q\0K\0h\0s.";
  const std::string dict(dict_bytes, sizeof(dict_bytes) - 1);
  {
    auto v = pth::Unpickle(reinterpret_cast<const uint8_t*>(dict.data()), dict.size(), "cycle.pkl");
    ASSERT_TRUE(v.ok()) << v.status().message();
  }
  EXPECT_EQ(testing::Allocations().current.load(), mark.start);
}

}  // namespace
}  // namespace personcls
