// MicroInterpreter (the caller-memory API firmware uses) on the host: the same outputs as
// the PC Interpreter, both memory modes, exact sizes reported when buffers are too small,
// bad models rejected with one line. The firmware side (no heap at all, the MCU kernels)
// is checked in QEMU: ctest -R ^mcu_.
#include <cstring>
#include <random>
#include <vector>

#include "graph_builder.h"
#include "personcls/default_model.h"
#include "personcls/interpreter.h"
#include "personcls/micro_interpreter.h"
#include "test_util.h"

namespace personcls {
namespace {

// The embedded default model's bytes, 16-byte aligned (as a const array in flash is).
struct AlignedModel {
  std::vector<uint64_t> words;
  size_t size = 0;
  AlignedModel() {
    const auto bytes = DefaultModelTflite();
    size = bytes.size();
    words.assign((size + 7) / 8 + 1, 0);
    std::memcpy(words.data(), bytes.data(), size);
  }
  const uint8_t* data() const { return reinterpret_cast<const uint8_t*>(words.data()); }
};

std::vector<int8_t> RandomInput(std::mt19937& rng, size_t n) {
  std::uniform_int_distribution<int> d(-128, 127);
  std::vector<int8_t> v(n);
  for (auto& x : v) x = static_cast<int8_t>(d(rng));
  return v;
}

std::vector<uint8_t> RunMicro(MicroInterpreter& m, const std::vector<int8_t>& input) {
  const MicroTensor in = m.input(0);
  EXPECT_EQ(in.bytes, input.size());
  std::memcpy(in.data, input.data(), input.size());
  m.Invoke();
  const MicroTensor out = m.output(0);
  const auto* p = static_cast<const uint8_t*>(out.data);
  return std::vector<uint8_t>(p, p + out.bytes);
}

TEST(MicroInterpreter, DefaultModelMatchesTheInterpreterInBothMemoryModes) {
  const uint32_t seed = testing::TestSeed();
  PCLS_SEED_TRACE(seed);
  std::mt19937 rng(seed);
  const AlignedModel model;
  auto graph = LoadDefaultModel();
  ASSERT_TRUE(graph.ok()) << graph.status().message();
  auto host = Interpreter::Create(*graph, {.kernels = KernelSet::kReference});
  ASSERT_TRUE(host.ok()) << host.status().message();

  std::vector<uint8_t> arena(200 << 10), prepared(16 << 10), shared(220 << 10);
  MicroInterpreter separate, together;
  ASSERT_TRUE(separate.Init(model.data(), model.size, arena.data(), arena.size(), prepared.data(), prepared.size())) << separate.error();
  ASSERT_TRUE(together.Init(model.data(), model.size, shared.data(), shared.size(), nullptr, 0)) << together.error();
  // Same planner, same plan as the host's reference run; the fast kernels fold the model's
  // PADs into their convolutions, so their arena is no larger.
  MicroInterpreter reference;
  ASSERT_TRUE(reference.Init(model.data(), model.size, arena.data(), arena.size(), prepared.data(), prepared.size(),
                             MicroKernels::kReference))
      << reference.error();
  EXPECT_EQ(reference.arena_used(), (*host)->arena_bytes());
  EXPECT_LE(separate.arena_used(), reference.arena_used());
  ASSERT_TRUE(separate.Init(model.data(), model.size, arena.data(), arena.size(), prepared.data(), prepared.size())) << separate.error();
  EXPECT_GE(together.arena_used(), separate.arena_used() + separate.prepared_used());
  EXPECT_EQ(together.prepared_used(), separate.prepared_used());

  const MicroTensor in = separate.input(0);
  EXPECT_EQ(in.dtype, DType::kInt8);
  EXPECT_EQ(in.rank, 4);
  EXPECT_EQ(in.dims[1], 96);
  EXPECT_EQ(in.dims[3], 3);
  EXPECT_EQ(in.zero_point, (*host)->input_desc(0).quant.zero_point[0]);
  ASSERT_EQ(separate.num_ops(), static_cast<int>((*host)->op_infos().size()));
  for (int k = 0; k < separate.num_ops(); ++k) {
    EXPECT_EQ(separate.op_type(k), (*host)->op_infos()[k].type);
    EXPECT_EQ(separate.op_macs(k), (*host)->op_infos()[k].macs);
  }

  for (int trial = 0; trial < 3; ++trial) {
    const std::vector<int8_t> input = RandomInput(rng, in.bytes);
    std::memcpy((*host)->input_data(0), input.data(), input.size());
    (*host)->Invoke();
    const auto* expected = static_cast<const uint8_t*>((*host)->output_data(0));
    const std::vector<uint8_t> want(expected, expected + (*host)->output_desc(0).num_bytes());
    EXPECT_EQ(RunMicro(separate, input), want) << "trial " << trial;
    EXPECT_EQ(RunMicro(together, input), want) << "trial " << trial;
  }
}

TEST(MicroInterpreter, TooSmallBuffersSayWhatTheyNeed) {
  const AlignedModel model;
  std::vector<uint8_t> big_arena(200 << 10), big_prepared(16 << 10);
  MicroInterpreter reference;
  ASSERT_TRUE(reference.Init(model.data(), model.size, big_arena.data(), big_arena.size(), big_prepared.data(), big_prepared.size()));
  const size_t arena_needed = reference.arena_used(), prepared_needed = reference.prepared_used();

  std::vector<uint8_t> prepared(prepared_needed / 2);
  MicroInterpreter m;
  EXPECT_FALSE(m.Init(model.data(), model.size, big_arena.data(), big_arena.size(), prepared.data(), prepared.size()));
  EXPECT_NE(std::string(m.error()).find("prepared-data buffer of " + std::to_string(prepared.size()) + " bytes too small"), std::string::npos)
      << m.error();

  // 16-byte aligned arenas (std::vector's storage is) need exactly arena_used bytes.
  std::vector<uint8_t> arena(arena_needed - 16);
  prepared.assign(prepared_needed, 0);
  EXPECT_FALSE(m.Init(model.data(), model.size, arena.data(), arena.size(), prepared.data(), prepared.size()));
  EXPECT_NE(std::string(m.error()).find("the model needs " + std::to_string(arena_needed)), std::string::npos) << m.error();
  arena.assign(arena_needed, 0);
  EXPECT_TRUE(m.Init(model.data(), model.size, arena.data(), arena.size(), prepared.data(), prepared.size())) << m.error();
}

TEST(MicroInterpreter, BadModelsGetOneLineErrors) {
  const AlignedModel model;
  std::vector<uint8_t> arena(200 << 10), prepared(16 << 10);
  MicroInterpreter m;
  std::vector<uint64_t> corrupt(model.words);
  reinterpret_cast<uint8_t*>(corrupt.data())[40] ^= 0xFF;  // inside the root table's offsets
  std::vector<uint64_t> shifted(model.words.size() + 1);   // the model one byte past alignment
  const uint8_t* misaligned = reinterpret_cast<const uint8_t*>(shifted.data()) + 1;
  std::memcpy(const_cast<uint8_t*>(misaligned), model.data(), model.size);
  struct Case {
    const uint8_t* bytes;
    size_t size;
    const char* fragment;
  };
  const Case cases[] = {
      {model.data(), 0, "empty"},
      {model.data(), 7, "too short"},
      {misaligned, model.size, "4-byte aligned"},
      {model.data(), model.size / 2, "verifier failed"},
      {reinterpret_cast<const uint8_t*>(corrupt.data()), model.size, "verifier failed"},
  };
  for (const Case& c : cases) {
    EXPECT_FALSE(m.Init(c.bytes, c.size, arena.data(), arena.size(), prepared.data(), prepared.size())) << c.fragment;
    const std::string error = m.error();
    EXPECT_NE(error.find(c.fragment), std::string::npos) << error;
    EXPECT_EQ(error.find('\n'), std::string::npos) << error;
  }
}

// The row-copy PAD (the fast kernel set) against ref::pad, on odd shapes in int8 and
// float32, through the Interpreter.
TEST(MicroInterpreter, PadRowsEqualsTheReference) {
  const uint32_t seed = testing::TestSeed();
  PCLS_SEED_TRACE(seed);
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> dim(1, 7), pad(0, 3);
  for (int trial = 0; trial < 40; ++trial) {
    const bool s8 = trial % 2 == 0;
    const int rank = 1 + trial % 4;
    std::vector<int32_t> shape, out_shape, paddings;
    for (int d = 0; d < rank; ++d) {
      shape.push_back(dim(rng));
      const int before = rng() % 3 == 0 ? 0 : pad(rng), after = rng() % 3 == 0 ? 0 : pad(rng);
      paddings.push_back(before);
      paddings.push_back(after);
      out_shape.push_back(shape.back() + before + after);
    }
    testing::GraphBuilder b;
    const DType type = s8 ? DType::kInt8 : DType::kFloat32;
    const std::vector<float> scale = s8 ? std::vector<float>{0.05f} : std::vector<float>{};
    const std::vector<int32_t> zp = s8 ? std::vector<int32_t>{static_cast<int32_t>(rng() % 256) - 128} : std::vector<int32_t>{};
    const int in = b.Tensor(type, shape, scale, zp);
    const int pads = b.Const<int32_t>(DType::kInt32, {rank, 2}, paddings);
    const int out = b.Tensor(type, out_shape, scale, zp);
    b.Op(OpType::kPad, {in, pads}, {out}).Inputs({in}).Outputs({out});
    const auto graph = b.Build();
    std::vector<std::vector<uint8_t>> results;
    std::vector<uint8_t> input(static_cast<size_t>(graph->tensors[in].num_bytes()));
    for (auto& v : input) v = static_cast<uint8_t>(rng());
    for (KernelSet ks : {KernelSet::kReference, KernelSet::kFast}) {
      auto it = Interpreter::Create(graph, {.kernels = ks});
      ASSERT_TRUE(it.ok()) << it.status().message();
      if (ks == KernelSet::kFast) {
        EXPECT_NE((*it)->op_infos()[0].kernel.find("_pad_rows"), std::string::npos);
      }
      std::memcpy((*it)->input_data(0), input.data(), input.size());
      (*it)->Invoke();
      const auto* p = static_cast<const uint8_t*>((*it)->output_data(0));
      results.emplace_back(p, p + (*it)->output_desc(0).num_bytes());
    }
    EXPECT_EQ(results[0], results[1]) << "trial " << trial;
  }
}

}  // namespace
}  // namespace personcls
