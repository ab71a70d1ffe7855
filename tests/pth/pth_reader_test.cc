// The .pth importer (src/formats/pth) against the PyTorch twin's torch.save files
// (tests/golden/twin, docs/pytorch-twin.md), plus hostile inputs: truncations, corrupt
// zips and crafted pickles must give one-line errors naming the file, never crash.
#include <gtest/gtest.h>
#include <zip.h>

#include <cstring>
#include <string>
#include <vector>

#include "formats/pth/pickle.h"
#include "formats/pth/pth_reader.h"
#include "formats/safetensors/safetensors.h"
#include "pth/pth_test_util.h"
#include "test_util.h"

namespace personcls {
namespace {

using testing::Floats;
using testing::MakeZip;
using testing::P;

std::string TwinPath(const std::string& name) { return std::string(PERSONCLS_SOURCE_DIR) + "/tests/golden/twin/" + name; }

const safetensors::File& Golden() {
  static const safetensors::File file = [] {
    auto f = safetensors::ReadFile(TwinPath("forward_w035.safetensors"));
    EXPECT_TRUE(f.ok()) << f.status().message();
    return f.ok() ? std::move(f).value() : safetensors::File{};
  }();
  return file;
}

void ExpectTensorEq(const safetensors::Tensor& got, const safetensors::Tensor& want, const std::string& key) {
  EXPECT_EQ(got.dtype, want.dtype) << key;
  EXPECT_EQ(got.shape, want.shape) << key;
  EXPECT_TRUE(got.bytes == want.bytes) << key << ": values differ";
}

void ExpectMatchesParams(const safetensors::File& file) {
  const auto& golden = Golden();
  size_t params = 0;
  for (const auto& [k, t] : golden.tensors) params += k.rfind("param.", 0) == 0;
  EXPECT_EQ(params, 512u);
  EXPECT_EQ(file.tensors.size(), params);
  for (const auto& [key, t] : file.tensors) {
    auto it = golden.tensors.find("param." + key);
    ASSERT_NE(it, golden.tensors.end()) << key;
    ExpectTensorEq(t, it->second, key);
  }
}

TEST(PthReader, StateDictMatchesTwin) {
  auto f = pth::ReadStateDict(TwinPath("mbv2_rep_w035.pth"));
  ASSERT_TRUE(f.ok()) << f.status().message();
  ExpectMatchesParams(*f);
  const auto& nbt = f->tensors.at("backbone.conv1.norm.num_batches_tracked");
  EXPECT_EQ(nbt.dtype, "I64");
  EXPECT_TRUE(nbt.shape.empty());
}

TEST(PthReader, MmengineCheckpointTakesStateDict) {
  auto f = pth::ReadStateDict(TwinPath("mbv2_rep_w035_mmengine.pth"));
  ASSERT_TRUE(f.ok()) << f.status().message();
  ExpectMatchesParams(*f);
}

TEST(PthReader, DeployStateDictMatchesFusedWeights) {
  auto f = pth::ReadStateDict(TwinPath("mbv2_rep_w035_deploy.pth"));
  ASSERT_TRUE(f.ok()) << f.status().message();
  EXPECT_EQ(f->tensors.size(), 1u + 5u + 6u * 2u + 2u);  // stem conv + norm, 6 fused blocks, head
  const auto& golden = Golden();
  int fused = 0;
  for (const auto& [key, t] : f->tensors) {
    std::string want = "param." + key;
    const size_t at = key.find(".fuse_conv.");
    if (at != std::string::npos) {
      want = "fused." + key.substr(std::strlen("backbone."), at - std::strlen("backbone.")) + "." + key.substr(at + std::strlen(".fuse_conv."));
      ++fused;
    }
    auto it = golden.tensors.find(want);
    ASSERT_NE(it, golden.tensors.end()) << key << " -> " << want;
    ExpectTensorEq(t, it->second, key);
  }
  EXPECT_EQ(fused, 12);
}

// ---- hostile inputs ----------------------------------------------------------------

void ExpectOneLineError(const Status& st, const std::string& name) {
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.message().find('\n'), std::string::npos) << st.message();
  EXPECT_NE(st.message().find(name), std::string::npos) << st.message();
}

TEST(PthReader, TruncationsFailCleanly) {
  const auto bytes = testing::ReadFileBytes(TwinPath("mbv2_rep_w035.pth"));
  ASSERT_GT(bytes.size(), 1000u);
  for (size_t n = 0; n < bytes.size(); n += 997) {
    std::vector<uint8_t> cut(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(n));
    auto f = pth::ParseStateDict(cut, "cut.pth");
    ExpectOneLineError(f.status(), "cut.pth");
  }
}

TEST(PthReader, CorruptZipNeverCrashes) {
  ExpectOneLineError(pth::ParseStateDict({}, "empty.pth").status(), "empty.pth");
  std::vector<uint8_t> junk(4096);
  for (size_t i = 0; i < junk.size(); ++i) junk[i] = static_cast<uint8_t>(i * 131 + 7);
  ExpectOneLineError(pth::ParseStateDict(junk, "junk.pth").status(), "junk.pth");
  const auto bytes = testing::ReadFileBytes(TwinPath("mbv2_rep_w035_deploy.pth"));
  for (size_t at = 0; at < bytes.size(); at += 1009) {
    auto bad = bytes;
    bad[at] ^= 0x5a;
    auto f = pth::ParseStateDict(bad, "flip.pth");  // may succeed (a flipped storage byte); must not crash
    if (!f.ok()) ExpectOneLineError(f.status(), "flip.pth");
  }
}

Expected<safetensors::File> ParsePickle(const std::string& pkl, const std::string& storage = Floats(12)) {
  return pth::ParseStateDict(MakeZip({{"some_name/data.pkl", pkl}, {"some_name/data/0", storage}, {"some_name/version", "3\n"}}), "crafted.pth");
}

// A name read from the file may hold any byte; the error stays one line (Status escapes
// control characters). Found by fuzz_pth_state_dict (a seed now).
TEST(PthReader, TensorNameWithALineBreakGivesOneLineError) {
  P p;
  p.op('}').op('(').tensor("norm.num\nbatches\x01", "0", 1, 8, {}, {}).op('u');
  auto f = ParsePickle(p.done(), Floats(1));
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.status().message(),
            "crafted.pth: tensor 'norm.num\\nbatches\\x01': storage 0 holds 1 elements, too few for offset 8 and shape ()");
}

TEST(PthReader, CraftedTensorHonoursOffsetAndShape) {
  P p;
  p.op('}').op('(').tensor("w", "0", 12, 2, {2, 3}, {3, 1}).tensor("v", "0", 12, 0, {1, 4}, {99, 1}).op('u');
  auto f = ParsePickle(p.done());
  ASSERT_TRUE(f.ok()) << f.status().message();
  const auto& w = f->tensors.at("w");
  EXPECT_EQ(w.shape, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(w.AsFloat(), (std::vector<float>{2.5f, 3.5f, 4.5f, 5.5f, 6.5f, 7.5f}));
  EXPECT_EQ(f->tensors.at("v").AsFloat(), (std::vector<float>{0.5f, 1.5f, 2.5f, 3.5f}));
}

TEST(PthReader, OpaqueObjectsDoNotBreakParsing) {
  // {'meta': numpy.dtype('f8') built by REDUCE + BUILD, 'state_dict': {'w': tensor}}
  P p;
  p.op('}').op('(').str("meta").global("numpy", "dtype").op('(').str("f8").op('\x89').op('\x88').op('t').op('R');
  p.op('(').i1(3).str("<").op('N').op('t').op('b');
  p.str("hub").global("mmengine.logging", "MessageHub").op(')').op('\x81').op('}').op('b');
  p.str("state_dict").op('}').op('(').tensor("w", "0", 12, 0, {12}, {1}).op('u').op('u');
  auto f = ParsePickle(p.done());
  ASSERT_TRUE(f.ok()) << f.status().message();
  EXPECT_EQ(f->tensors.size(), 1u);
  EXPECT_EQ(f->tensors.at("w").shape, (std::vector<int64_t>{12}));
}

TEST(PthReader, CraftedPicklesGiveOneLineErrors) {
  struct Case {
    std::string name, pickle, want;
  };
  std::vector<Case> cases;
  cases.push_back({"unknown opcode", "\x80\x02}\xff.", "opcode 0xff"});
  cases.push_back({"stack underflow", "\x80\x02s.", "underflow"});
  cases.push_back({"underflow past mark", "\x80\x02}(s.", "underflow"});
  cases.push_back({"no stop", "\x80\x02}", "STOP"});
  cases.push_back({"huge string", std::string("\x80\x02X\xff\xff\xff\xff", 7) + "abc.", "runs past the end"});
  cases.push_back({"huge long", std::string("\x80\x02\x8b\xff\xff\xff\x7f", 7) + "abc.", "runs past the end"});
  cases.push_back({"undefined memo", "\x80\x02h\x05.", "memo key 5"});
  cases.push_back({"bad persistent id", P().op('}').op('(').str("w").str("nope").op('Q').op('u').done(), "persistent id"});
  cases.push_back({"bad storage type", P().op('}').op('(').tensor("w", "0", 12, 0, {12}, {1}, "Nope").op('u').done(), "storage type"});
  cases.push_back({"bad storage key", P().op('}').op('(').tensor("w", "../x", 12, 0, {12}, {1}).op('u').done(), "storage key"});
  cases.push_back({"missing storage", P().op('}').op('(').tensor("w", "7", 12, 0, {12}, {1}).op('u').done(), "data/7"});
  cases.push_back({"storage too small for shape", P().op('}').op('(').tensor("w", "0", 12, 4, {3, 3}, {3, 1}).op('u').done(), "too few"});
  cases.push_back({"storage bytes short", P().op('}').op('(').tensor("w", "0", 100, 0, {100}, {1}).op('u').done(), "bytes"});
  cases.push_back({"non-contiguous", P().op('}').op('(').tensor("w", "0", 12, 0, {3, 4}, {1, 3}).op('u').done(), "non-contiguous"});
  cases.push_back({"not a dict", P().op(']').done(), "dict"});
  cases.push_back({"leftover stack", P().op('}').op('}').done(), "STOP"});
  cases.push_back({"rebuild args", P().op('}').op('(').str("w").global("torch._utils", "_rebuild_tensor_v2").op(')').op('R').op('u').done(), "_rebuild_tensor_v2"});
  for (const auto& c : cases) {
    auto f = ParsePickle(c.pickle);
    SCOPED_TRACE(c.name);
    ExpectOneLineError(f.status(), "crafted.pth");
    EXPECT_NE(f.status().message().find(c.want), std::string::npos) << f.status().message();
  }
}

TEST(PthReader, DeepNestingDoesNotOverflowTheStack) {
  std::string pkl = "\x80\x02";
  // 150,000 levels: far past what a recursive destructor survives on an 8 MiB stack, and
  // within the 64 MiB a 150 KB pickle may use (each value costs a few hundred bytes).
  const int depth = 150000;
  pkl.append(depth, ']');
  pkl.append(depth - 1, 'a');
  pkl += '.';
  auto v = pth::Unpickle(reinterpret_cast<const uint8_t*>(pkl.data()), pkl.size(), "deep.pkl");
  ASSERT_TRUE(v.ok()) << v.status().message();
  EXPECT_EQ(v->root().kind, pth::Value::Kind::kList);
}

TEST(PthReader, NoDataPkl) {
  auto f = pth::ParseStateDict(MakeZip({{"x/version", "3\n"}}), "nodata.pth");
  ExpectOneLineError(f.status(), "nodata.pth");
  EXPECT_NE(f.status().message().find("data.pkl"), std::string::npos);
}

}  // namespace
}  // namespace personcls
