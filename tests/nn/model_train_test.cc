// The train form of MobileNetV2-Rep (src/nn/mbv2_rep_model) against the PyTorch twin
// (tests/golden/twin/forward_w035.safetensors, docs/pytorch-twin.md): eval and train
// logits, the loss, every parameter gradient, every BN buffer after one train forward, and
// the fusion of its state into the deploy graph.
#include <cmath>
#include <cstdio>
#include <cstring>
#include <memory>
#include <stdexcept>

#include "formats/safetensors/safetensors.h"
#include "nn/mbv2_rep_model.h"
#include "ops/ops.h"
#include "personcls/interpreter.h"
#include "personcls/rep_fusion.h"
#include "test_util.h"
#include "twin_util.h"

namespace personcls {
namespace {

using testing::Synthesize;
using testing::TwinPath;

struct Twin {
  safetensors::File file;
  StateDict params;
  Tensor input;  // NHWC
  std::vector<int32_t> labels;
  ArchConfig config;
};

// The first value of an F64 tensor, exactly.
double F64Scalar(const safetensors::Tensor& t) {
  if (t.dtype != "F64" || t.bytes.size() < sizeof(double)) throw std::runtime_error("expected an F64 tensor");
  double d;
  std::memcpy(&d, t.bytes.data(), sizeof d);
  return d;
}

Twin LoadTwin(const std::string& file_name, const std::string& arch) {
  Twin t;
  auto file = safetensors::ReadFile(TwinPath(file_name));
  if (!file.ok()) throw std::runtime_error(file.status().message());
  t.file = std::move(file).value();
  const safetensors::Tensor& in = t.file.tensors.at("input");  // [N, 3, H, W]
  const int n = static_cast<int>(in.shape[0]), c = static_cast<int>(in.shape[1]), h = static_cast<int>(in.shape[2]),
            w = static_cast<int>(in.shape[3]);
  t.config = *ArchFromName(arch);
  t.config.input_size = h;
  t.config.num_classes = static_cast<int>(t.file.tensors.at("logits_eval").num_elements()) / n;
  const StateDict shapes = Mbv2RepModel(t.config).ToStateDict();  // sizes of every key
  for (const auto& [name, tensor] : t.file.tensors) {
    if (name.rfind("param.", 0) == 0) t.params[name.substr(6)] = tensor.AsFloat();
    if (name.rfind("synth.param.", 0) == 0) {
      const std::string key = name.substr(12);
      const std::vector<int64_t> recipe = tensor.AsInt64();
      std::vector<float> v = Synthesize(recipe.at(0), recipe.at(1), recipe.at(2), shapes.at(key).size());
      double sum = 0;
      for (float x : v) sum += x;
      if (sum != F64Scalar(t.file.tensors.at("synth_sum.param." + key)))
        throw std::runtime_error("synthetic " + key + " does not match its checksum");
      t.params[key] = std::move(v);
    }
  }
  const std::vector<float> x = in.AsFloat();
  t.input.Resize({n, h, w, c});
  for (int s = 0; s < n; ++s)
    for (int ch = 0; ch < c; ++ch)
      for (int y = 0; y < h; ++y)
        for (int xx = 0; xx < w; ++xx)
          t.input[((static_cast<size_t>(s) * h + y) * w + xx) * c + ch] = x[((static_cast<size_t>(s) * c + ch) * h + y) * w + xx];
  for (int64_t l : t.file.tensors.at("labels").AsInt64()) t.labels.push_back(static_cast<int32_t>(l));
  return t;
}

const Twin& TwinW035() {
  static const Twin twin = LoadTwin("forward_w035.safetensors", "mbv2-rep-0.35");
  return twin;
}

const Twin& TwinW100() {
  static const Twin twin = LoadTwin("forward_w100.safetensors", "mbv2-rep-1.0");
  return twin;
}

const Twin& TwinByName(const std::string& name) { return name == "w100" ? TwinW100() : TwinW035(); }

std::unique_ptr<Mbv2RepModel> LoadedModel(const Twin& t = TwinW035()) {
  auto model = std::make_unique<Mbv2RepModel>(t.config);
  const Status st = model->LoadStateDict(t.params);
  if (!st.ok()) throw std::runtime_error(st.message());
  return model;
}

double MaxAbs(const std::vector<float>& v) {
  double m = 0;
  for (float x : v) m = std::max(m, static_cast<double>(std::fabs(x)));
  return m;
}

TEST(Mbv2RepModel, StateDictRoundTripAndNames) {
  const Twin& t = TwinW035();
  auto model = LoadedModel();
  const StateDict out = model->ToStateDict();
  EXPECT_EQ(out.size(), 512u);
  EXPECT_EQ(out.size(), t.params.size());
  for (const auto& [name, values] : t.params) {
    auto it = out.find(name);
    ASSERT_NE(it, out.end()) << name;
    EXPECT_EQ(it->second, values) << name;
  }
  EXPECT_EQ(model->ParameterNames().size(), 257u);
  EXPECT_EQ(model->BufferNames().size(), 255u);
  int64_t count = 0;
  for (const auto& p : model->Parameters()) {
    count += p.value->numel();
    EXPECT_TRUE(p.grad->SameShape(*p.value)) << p.name;
  }
  EXPECT_EQ(count, TrainParamCount(model->spec(), t.config.num_classes));
  EXPECT_EQ(count, 58562);
}

TEST(Mbv2RepModel, LoadErrorsNameTheTensor) {
  const Twin& t = TwinW035();
  Mbv2RepModel model(t.config);
  StateDict state = t.params;
  state.erase("backbone.layer2.1.conv.3.norm.running_var");
  Status st = model.LoadStateDict(state);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("backbone.layer2.1.conv.3.norm.running_var"), std::string::npos) << st.message();
  state = t.params;
  state["head.fc.weight"].pop_back();
  st = model.LoadStateDict(state);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("head.fc.weight"), std::string::npos) << st.message();
}

class Mbv2RepTwin : public ::testing::TestWithParam<std::string> {};

TEST_P(Mbv2RepTwin, EvalLogitsMatchTwin) {
  const Twin& t = TwinByName(GetParam());
  auto model = LoadedModel(t);
  const StateDict before = model->ToStateDict();
  const Tensor& logits = model->Forward(t.input, /*training=*/false);
  const std::vector<float> ref = t.file.tensors.at("logits_eval").AsFloat();
  ASSERT_EQ(logits.numel(), static_cast<int64_t>(ref.size()));
  double max_rel = 0;
  for (size_t i = 0; i < ref.size(); ++i) {
    const double rel = std::fabs(logits[i] - ref[i]) / std::max(1e-3, std::fabs(static_cast<double>(ref[i])));
    max_rel = std::max(max_rel, rel);
    EXPECT_LE(rel, 1e-4) << i << ": " << logits[i] << " vs " << ref[i];
  }
  std::printf("%s: eval logits: max relative error %.3g\n", GetParam().c_str(), max_rel);
  // Eval mode changes no buffer.
  EXPECT_EQ(model->ToStateDict(), before);
}

TEST_P(Mbv2RepTwin, TrainStepMatchesTwin) {
  const Twin& t = TwinByName(GetParam());
  const auto& g = t.file.tensors;
  auto model = LoadedModel(t);
  const int n = t.input.dim(0), k = t.config.num_classes;
  const Tensor& logits = model->Forward(t.input, /*training=*/true);
  const std::vector<float> ref_logits = g.at("logits_train").AsFloat();
  double max_logit_rel = 0;
  for (size_t i = 0; i < ref_logits.size(); ++i) {
    const double rel = std::fabs(logits[i] - ref_logits[i]) / std::max(1e-3, std::fabs(static_cast<double>(ref_logits[i])));
    max_logit_rel = std::max(max_logit_rel, rel);
    EXPECT_LE(rel, 1e-4) << i << ": " << logits[i] << " vs " << ref_logits[i];
  }

  Tensor probs({n, k}), dlogits({n, k});
  const float loss = ops::softmax_cross_entropy_forward(n, k, logits.ptr(), t.labels.data(), probs.ptr());
  const float ref_loss = g.at("loss_train").AsFloat()[0];
  EXPECT_NEAR(loss, ref_loss, 1e-5);
  ops::softmax_cross_entropy_backward(n, k, probs.ptr(), t.labels.data(), 1.0f, dlogits.ptr(), ops::GradMode::kOverwrite);
  model->Backward(dlogits);

  // Gradients: |ours - ref| <= 1e-3 * max|ref of the tensor| + 1e-6 (docs/pytorch-twin.md:
  // many bias gradients are exactly zero mathematically and rounding noise in the golden).
  const StateDict grads = model->GradStateDict();
  EXPECT_EQ(grads.size(), model->ParameterNames().size());
  double worst_grad = 0;  // in units of the tolerance
  double worst_nonzero_rel = 0;
  std::string worst_name;
  int checked = 0;
  for (const auto& [name, values] : grads) {
    auto it = g.find("grad." + name);
    if (it == g.end()) continue;  // forward_w100 has no conv weight gradients
    const std::vector<float> ref = it->second.AsFloat();
    ASSERT_EQ(values.size(), ref.size()) << name;
    const double scale = MaxAbs(ref);
    const double tol = 1e-3 * scale + 1e-6;
    double max_diff = 0;
    for (size_t i = 0; i < ref.size(); ++i) max_diff = std::max(max_diff, std::fabs(static_cast<double>(values[i]) - ref[i]));
    EXPECT_LE(max_diff, tol) << "grad." << name << " (max|ref| " << scale << ")";
    if (max_diff / tol > worst_grad) worst_grad = max_diff / tol, worst_name = name;
    if (scale > 1e-6) worst_nonzero_rel = std::max(worst_nonzero_rel, max_diff / scale);
    ++checked;
  }
  int expected = 0;
  for (const auto& [name, tensor] : g) expected += name.rfind("grad.", 0) == 0;
  EXPECT_EQ(checked, expected);
  EXPECT_GE(checked, 257 - 71);

  // Buffers after one train forward: running_var relative (1e-5); running_mean relative to
  // max(|mean|, std of the channel), since a mean near zero is the difference of O(std)
  // activations (forward_w100 has running means of 1e-3 next to stds of 0.1).
  const StateDict state = model->ToStateDict();
  double worst_var = 0, worst_mean = 0;
  int buffers = 0;
  const std::string kNbt = ".num_batches_tracked", kMean = ".running_mean";
  auto ends_with = [](const std::string& s, const std::string& suffix) {
    return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
  };
  for (const std::string& name : model->BufferNames()) {
    auto it = g.find("after." + name);
    ASSERT_NE(it, g.end()) << name;
    ++buffers;
    const std::vector<float>& ours = state.at(name);
    if (ends_with(name, kNbt)) {
      EXPECT_EQ(static_cast<int64_t>(ours[0]), it->second.AsInt64()[0]) << name;
      EXPECT_EQ(ours[0], 1.0f) << name;
      continue;
    }
    const std::vector<float> ref = it->second.AsFloat();
    ASSERT_EQ(ours.size(), ref.size()) << name;
    const bool is_mean = ends_with(name, kMean);
    std::vector<float> ref_var;
    if (is_mean) ref_var = g.at("after." + name.substr(0, name.size() - kMean.size()) + ".running_var").AsFloat();
    for (size_t i = 0; i < ref.size(); ++i) {
      double scale = std::fabs(static_cast<double>(ref[i]));
      if (is_mean) scale = std::max(scale, std::sqrt(static_cast<double>(ref_var[i])));
      const double rel = std::fabs(static_cast<double>(ours[i]) - ref[i]) / std::max(scale, 1e-30);
      (is_mean ? worst_mean : worst_var) = std::max(is_mean ? worst_mean : worst_var, rel);
      EXPECT_LE(rel, 1e-5) << "after." << name << "[" << i << "]: " << ours[i] << " vs " << ref[i];
    }
  }
  EXPECT_EQ(buffers, static_cast<int>(model->BufferNames().size()));
  std::printf("%s: train logits: max rel %.3g; loss %.9g vs %.9g; grads: worst %.3g of tolerance (%s), worst |diff|/max|ref| over non-zero tensors %.3g; "
              "running_var max rel %.3g, running_mean max err / max(|mean|, std) %.3g\n",
              GetParam().c_str(), max_logit_rel, loss, ref_loss, worst_grad, worst_name.c_str(), worst_nonzero_rel, worst_var, worst_mean);
}

// Buffers are reused between steps: a second identical step (same state reloaded) gives
// bit-identical logits and gradients.
TEST(Mbv2RepModel, RepeatedStepsAreIdentical) {
  const Twin& t = TwinW035();
  auto model = LoadedModel();
  const int n = t.input.dim(0), k = t.config.num_classes;
  Tensor dlogits({n, k});
  for (int i = 0; i < n * k; ++i) dlogits[i] = 0.1f * static_cast<float>(i % 3) - 0.07f;
  std::vector<float> first_logits;
  StateDict first_grads;
  for (int step = 0; step < 2; ++step) {
    ASSERT_TRUE(model->LoadStateDict(t.params).ok());
    const Tensor& logits = model->Forward(t.input, true);
    model->Backward(dlogits);
    if (step == 0) {
      first_logits = logits.data;
      first_grads = model->GradStateDict();
    } else {
      EXPECT_EQ(logits.data, first_logits);
      EXPECT_EQ(model->GradStateDict(), first_grads);
    }
  }
}

// Eval-mode gradients against central finite differences in double-ish precision (spot
// checks on a few parameters of the head and the last block).
TEST(Mbv2RepModel, EvalBackwardMatchesFiniteDifferences) {
  const Twin& t = TwinW035();
  auto model = LoadedModel();
  const int n = t.input.dim(0), k = t.config.num_classes;
  Tensor dlogits({n, k});
  for (int i = 0; i < n * k; ++i) dlogits[i] = (i % 2 ? 1.0f : -0.5f);
  model->Forward(t.input, false);
  model->Backward(dlogits);
  auto objective = [&] {
    const Tensor& l = model->Forward(t.input, false);
    double s = 0;
    for (int i = 0; i < n * k; ++i) s += static_cast<double>(l[i]) * dlogits[i];
    return s;
  };
  for (const auto& p : model->Parameters()) {
    const bool pick = p.name == "head.fc.weight" || p.name == "backbone.layer3.2.conv.5.norm.weight" ||
                      p.name == "backbone.layer3.2.conv3x3.conv.bias" || p.name == "backbone.layer1.0.norm.2.weight" ||
                      p.name == "backbone.conv1.norm.bias";
    if (!pick) continue;
    for (int64_t i = 0; i < std::min<int64_t>(p.value->numel(), 3); ++i) {
      const float analytic = (*p.grad)[i];
      const float orig = (*p.value)[i];
      const float h = 1e-2f * std::max(1.0f, std::fabs(orig));
      (*p.value)[i] = orig + h;
      const double up = objective();
      (*p.value)[i] = orig - h;
      const double down = objective();
      (*p.value)[i] = orig;
      const double numeric = (up - down) / (2.0 * h);
      EXPECT_NEAR(analytic, numeric, 2e-2 * std::max(1.0, std::fabs(numeric))) << p.name << "[" << i << "]";
    }
  }
}

// A gradient given at the pooled features is the head's own gradient path: feeding
// dfeatures = dlogits * W (W = head.fc.weight [K, C]) with zero dlogits gives the backbone
// the same gradients as dlogits through the head, and the head none.
TEST(Mbv2RepModel, FeatureGradientJoinsTheHeadsPath) {
  const Twin& t = TwinW035();
  auto model = LoadedModel();
  const int n = t.input.dim(0), k = t.config.num_classes, c = model->spec().feature_channels;
  Tensor dlogits({n, k}), zero({n, k}), dfeatures({n, c});
  for (int i = 0; i < n * k; ++i) dlogits[i] = 0.1f * static_cast<float>(i % 5) - 0.2f;
  const std::vector<float> w = model->ToStateDict().at("head.fc.weight");
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < c; ++j) {
      float g = 0;
      for (int o = 0; o < k; ++o) g += dlogits[i * k + o] * w[static_cast<size_t>(o) * c + j];
      dfeatures[static_cast<size_t>(i) * c + j] = g;
    }
  model->Forward(t.input, true);
  EXPECT_EQ(model->features().shape, (std::vector<int>{n, c}));
  model->Backward(dlogits);
  const StateDict through_head = model->GradStateDict();
  ASSERT_TRUE(model->LoadStateDict(t.params).ok());  // undo the running-stat update
  model->Forward(t.input, true);
  model->Backward(zero, &dfeatures);
  const StateDict direct = model->GradStateDict();
  for (const auto& [name, g] : direct) {
    const bool head = name.rfind("head.", 0) == 0;
    double max_abs = 0, max_err = 0;
    for (size_t i = 0; i < g.size(); ++i) {
      max_abs = std::max(max_abs, std::fabs(static_cast<double>(through_head.at(name)[i])));
      max_err = std::max(max_err, std::fabs(static_cast<double>(g[i]) - (head ? 0.0 : through_head.at(name)[i])));
    }
    EXPECT_LE(max_err, head ? 0.0 : 1e-4 * std::max(max_abs, 1e-3)) << name;
  }
  Tensor wrong({n, c + 1});
  EXPECT_THROW(model->Backward(zero, &wrong), std::invalid_argument);
}

std::vector<float> Softmax(const float* logits, int n) {
  std::vector<float> p(n);
  float m = logits[0], sum = 0;
  for (int i = 1; i < n; ++i) m = std::max(m, logits[i]);
  for (int i = 0; i < n; ++i) sum += p[i] = std::exp(logits[i] - m);
  for (float& v : p) v /= sum;
  return p;
}

TEST_P(Mbv2RepTwin, FusedStateReproducesEvalLogits) {
  const Twin& t = TwinByName(GetParam());
  auto model = LoadedModel(t);
  const int n = t.input.dim(0), k = t.config.num_classes;
  const std::vector<float> logits = model->Forward(t.input, false).data;
  auto fused = FuseStateDict(model->spec(), k, model->ToStateDict());
  ASSERT_TRUE(fused.ok()) << fused.status().message();
  auto graph = BuildDeployGraph(t.config, *fused);
  ASSERT_TRUE(graph.ok()) << graph.status().message();
  auto it = Interpreter::Create(std::make_shared<Graph>(std::move(graph).value()), {.kernels = KernelSet::kReference});
  ASSERT_TRUE(it.ok()) << it.status().message();
  const size_t per_sample = static_cast<size_t>(t.input.numel() / n);
  double max_diff = 0;
  for (int s = 0; s < n; ++s) {
    float* in = static_cast<float*>((*it)->input_data(0));
    std::copy(t.input.data.begin() + s * per_sample, t.input.data.begin() + (s + 1) * per_sample, in);
    (*it)->Invoke();
    const std::vector<float> expected = Softmax(&logits[static_cast<size_t>(s) * k], k);
    const float* got = static_cast<const float*>((*it)->output_data(0));
    for (int c = 0; c < k; ++c) {
      max_diff = std::max(max_diff, static_cast<double>(std::fabs(got[c] - expected[c])));
      EXPECT_NEAR(got[c], expected[c], 1e-5) << "sample " << s << " class " << c;
    }
  }
  std::printf("%s: deploy graph vs train-form eval: max |prob diff| %.3g\n", GetParam().c_str(), max_diff);
}

INSTANTIATE_TEST_SUITE_P(Twin, Mbv2RepTwin, ::testing::Values(std::string("w035"), std::string("w100")),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace personcls
