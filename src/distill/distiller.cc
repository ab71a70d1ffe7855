#include "distill/distiller.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <numeric>
#include <sstream>
#include <stdexcept>

#include "core/atomic_file.h"
#include "data/augment.h"
#include "formats/safetensors/safetensors.h"
#include "nn/trainer.h"
#include "ops/linear.h"
#include "ops/soft_cross_entropy.h"
#include "ops/softmax_cross_entropy.h"
#include "personcls/image.h"

namespace personcls {
namespace fs = std::filesystem;

namespace {

void Shuffle(std::vector<size_t>& v, std::mt19937_64& rng) { ShuffleIndices(v.data(), v.size(), rng); }

int ArgMax(const float* row, int k) { return static_cast<int>(std::max_element(row, row + k) - row); }

std::string TeacherNames(const std::vector<std::unique_ptr<Teacher>>& teachers) {
  std::string s;
  for (const auto& t : teachers) {
    if (!s.empty()) s += ',';
    s += fs::path(t->path()).filename().string();
  }
  return s;
}

safetensors::Tensor Int64Tensor(const std::vector<size_t>& values) {
  safetensors::Tensor t;
  t.dtype = "I64";
  t.shape = {static_cast<int64_t>(values.size())};
  for (size_t v : values) {
    const int64_t x = static_cast<int64_t>(v);
    const auto* b = reinterpret_cast<const uint8_t*>(&x);
    t.bytes.insert(t.bytes.end(), b, b + sizeof(x));
  }
  return t;
}

// Image i of `d` (a copy), resized to size x size when it is another size.
Image WholeImage(const Dataset& d, size_t i, int size) {
  Image img;
  img.width = img.height = d.size;
  img.channels = 3;
  img.pixels.assign(d.image(i), d.image(i) + d.image_bytes());
  if (d.size != size) CropResize(&img, CropRect{0, 0, d.size, d.size}, size, size);
  return img;
}

// A run started before log.csv had its last column gets it (0: no feature term then) before
// the resumed run appends, so that every row matches the header. Rewritten atomically.
Status UpgradeLog(const std::string& path, const std::string& header) {
  const std::string old_header = header.substr(0, header.rfind(','));  // without feature_loss
  std::ifstream in(path);
  std::string line;
  if (!in || !std::getline(in, line) || line != old_header) return Status::Ok();
  std::string text = header + "\n";
  while (std::getline(in, line))
    if (!line.empty()) text += line + ",0\n";
  return WriteFileAtomic(path, text);
}

}  // namespace

Expected<std::vector<double>> ScoreTeachers(const std::vector<std::unique_ptr<Teacher>>& teachers, const Dataset& data) {
  if (teachers.empty()) return Status::Error("no teachers");
  const int n = static_cast<int>(data.count()), k = teachers[0]->num_classes();
  std::vector<double> correct(teachers.size() + 1, 0.0);
  std::vector<float> mean(static_cast<size_t>(n) * k, 0.0f), one(mean.size());
  for (size_t t = 0; t < teachers.size(); ++t) {
    if (teachers[t]->num_classes() != k) return Status::Error(teachers[t]->path() + ": number of classes differs from the first teacher's");
    PCLS_RETURN_IF_ERROR(teachers[t]->Targets(data.pixels.data(), n, data.size, 1.0f, one.data()));
    for (int i = 0; i < n; ++i) correct[t] += ArgMax(one.data() + static_cast<size_t>(i) * k, k) == data.labels[i];
    for (size_t i = 0; i < one.size(); ++i) mean[i] += one[i];
  }
  for (int i = 0; i < n; ++i) correct.back() += ArgMax(mean.data() + static_cast<size_t>(i) * k, k) == data.labels[i];
  for (double& c : correct) c /= std::max(n, 1);
  return correct;
}

Distiller::Distiller(const ArchConfig& config, DistillOptions options, const std::vector<std::unique_ptr<Teacher>>& teachers,
                     const Dataset& labeled, const Dataset* unlabeled, const Dataset* val)
    : config_(config),
      options_(std::move(options)),
      teachers_(teachers),
      labeled_(labeled),
      unlabeled_(unlabeled),
      val_(val),
      model_(config),
      adamw_(AdamWOptions{0.9, 0.999, 1e-8, options_.weight_decay}),
      rng_(options_.seed) {
  const DistillOptions& o = options_;
  if (o.epochs < 1) throw std::invalid_argument("epochs must be >= 1");
  if (o.batch < 2) throw std::invalid_argument("batch must be >= 2 (train-mode BN needs more than one value)");
  if (!(o.temperature > 0)) throw std::invalid_argument("temperature must be > 0");
  if (!(o.hard_weight >= 0 && o.hard_weight <= 1)) throw std::invalid_argument("hard weight must be in [0, 1]");
  if (!(o.labeled_area_min > 0 && o.labeled_area_min <= 1 && o.unlabeled_area_min > 0 && o.unlabeled_area_min <= 1))
    throw std::invalid_argument("crop areas must be in (0, 1]");
  if (!(o.jitter >= 0 && o.jitter < 1)) throw std::invalid_argument("jitter must be in [0, 1)");
  if (!(o.mixup >= 0 && o.cutmix >= 0 && o.mixup + o.cutmix <= 1)) throw std::invalid_argument("mixup and cutmix must be >= 0 with a sum <= 1");
  if (!(o.warmup_fraction >= 0 && o.warmup_fraction < 1)) throw std::invalid_argument("warm-up fraction must be in [0, 1)");
  if (!(o.feature_weight >= 0)) throw std::invalid_argument("feature weight must be >= 0");
  if (config.gray) throw std::invalid_argument("distillation needs an RGB student");
  if (teachers.empty()) throw std::invalid_argument("at least one teacher is needed");
  for (const auto& t : teachers) {
    if (o.feature_weight > 0 && t->feature_dim() == 0)
      throw std::invalid_argument(t->path() + ": no classifier input to take features from (needed by the feature term)");
    if (t->num_classes() != config.num_classes)
      throw std::invalid_argument(t->path() + ": " + std::to_string(t->num_classes()) + " classes, the student has " + std::to_string(config.num_classes));
    if (t->input_size() != config.input_size)
      throw std::invalid_argument(t->path() + ": input " + std::to_string(t->input_size()) + ", the student's is " + std::to_string(config.input_size));
  }
  for (const Dataset* d : {&labeled_, unlabeled_, val_}) {
    if (!d) continue;
    if (d->channels != 3) throw std::invalid_argument("datasets must be RGB");
    for (int32_t l : d->labels)
      if (l >= config.num_classes || (l < 0 && d != unlabeled_)) throw std::invalid_argument("label " + std::to_string(l) + " out of range");
  }
  if (val_ && val_->size != config.input_size) throw std::invalid_argument("validation images must be at the input size");
  if (unlabeled_ && unlabeled_->count() == 0) unlabeled_ = nullptr;
  labeled_per_batch_ = unlabeled_ ? o.labeled_per_batch : o.batch;
  if (labeled_per_batch_ < 0 || labeled_per_batch_ > o.batch) throw std::invalid_argument("labelled images per batch must be in [0, batch]");
  if (!unlabeled_ && labeled_per_batch_ == 0) throw std::invalid_argument("no unlabeled images and no labelled images per batch");
  steps_per_epoch_ = labeled_per_batch_ > 0 ? static_cast<int>(labeled_.count() / labeled_per_batch_)
                                            : static_cast<int>((unlabeled_->count() + o.batch - 1) / o.batch);
  if (steps_per_epoch_ < 1) throw std::invalid_argument("fewer labelled images than labelled images per batch");
  LrSchedule::Options s;
  s.base_lr = o.lr;
  s.warmup_iters = static_cast<int64_t>(std::llround(o.warmup_fraction * o.epochs * steps_per_epoch_));
  s.warmup_start_factor = 0.01;
  s.decay = LrSchedule::Decay::kCosine;
  s.cosine_epochs = o.epochs;
  schedule_ = std::make_unique<LrSchedule>(s);
  InitSscmaParameters(model_, rng_);
  if (o.feature_weight > 0) {
    // PyTorch's nn.Linear init, from its own generator so that runs without the feature
    // term draw exactly what they drew before it existed.
    feature_dim_ = EnsembleFeatureDim(teachers);
    const int c = model_.spec().feature_channels;
    adapter_w_ = Tensor({feature_dim_, c});
    adapter_b_ = Tensor({feature_dim_});
    adapter_gw_ = Tensor({feature_dim_, c});
    adapter_gb_ = Tensor({feature_dim_});
    std::mt19937_64 arng(o.seed ^ 0x9e3779b97f4a7c15ULL);
    const double bound = 1.0 / std::sqrt(static_cast<double>(c));
    for (float& v : adapter_w_.data) v = static_cast<float>((2.0 * Uniform01(arng) - 1.0) * bound);
    for (float& v : adapter_b_.data) v = static_cast<float>((2.0 * Uniform01(arng) - 1.0) * bound);
  }
  if (unlabeled_) pool_sampler_ = PoolSampler(*unlabeled_, o.source_cap, o.source_weights, rng_);
}

void Distiller::InitFrom(const PretrainedDeploy& pretrained) {
  // The first labelled images, or without any, pool images spread evenly over the pool.
  const bool from_pool = labeled_.count() == 0;
  const Dataset& src = from_pool ? *unlabeled_ : labeled_;
  const int S = config_.input_size, n = static_cast<int>(std::min<size_t>(static_cast<size_t>(options_.batch), src.count()));
  Tensor calib({n, S, S, 3});
  const size_t view_bytes = static_cast<size_t>(S) * S * 3;
  for (int i = 0; i < n; ++i) {
    const Image img = WholeImage(src, from_pool ? static_cast<size_t>(i) * src.count() / n : static_cast<size_t>(i), S);
    for (size_t j = 0; j < view_bytes; ++j) calib.data[i * view_bytes + j] = static_cast<float>(img.pixels[j]) / 255.0f;
  }
  InitFromDeploy(model_, pretrained, calib);
}

std::vector<Mbv2RepModel::ParamRef> Distiller::TrainedParameters() {
  std::vector<Mbv2RepModel::ParamRef> params = model_.Parameters();
  if (feature_dim_ > 0) {
    params.push_back({"feature_adapter.weight", &adapter_w_, &adapter_gw_});
    params.push_back({"feature_adapter.bias", &adapter_b_, &adapter_gb_});
  }
  return params;
}

Status Distiller::MeasureFeatureStatistics() {
  const int S = config_.input_size, D = feature_dim_;
  const size_t view_bytes = static_cast<size_t>(S) * S * 3;
  std::vector<uint8_t> views;
  for (const Dataset* d : {&labeled_, unlabeled_}) {
    if (!d) continue;
    for (size_t i = 0; i < std::min<size_t>(d->count(), 256); ++i) {
      const Image img = WholeImage(*d, i, S);
      views.insert(views.end(), img.pixels.begin(), img.pixels.end());
    }
  }
  const int n = static_cast<int>(views.size() / view_bytes);
  std::vector<float> targets(static_cast<size_t>(n) * config_.num_classes), features(static_cast<size_t>(n) * D);
  PCLS_RETURN_IF_ERROR(EnsembleTargets(teachers_, views.data(), n, S, 1.0f, targets.data(), features.data()));
  std::vector<double> mean(D, 0.0), var(D, 0.0);
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < D; ++j) mean[j] += features[static_cast<size_t>(i) * D + j];
  for (double& m : mean) m /= n;
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < D; ++j) {
      const double e = features[static_cast<size_t>(i) * D + j] - mean[j];
      var[j] += e * e;
    }
  // A dimension that barely varies (a dead ReLU channel) would be blown up by 1 / sigma:
  // sigma is at least 1 % of the typical one, and at least 1e-3 (features that do not
  // vary at all then stay targets of 0).
  double typical = 0;
  for (double& v : var) typical += v /= n;
  const double floor = std::max(0.01 * std::sqrt(typical / D), 1e-3);
  feature_mean_.resize(D);
  feature_inv_std_.resize(D);
  for (int j = 0; j < D; ++j) {
    feature_mean_[j] = static_cast<float>(mean[j]);
    feature_inv_std_[j] = static_cast<float>(1.0 / std::max(std::sqrt(var[j]), floor));
  }
  return Status::Ok();
}

double Distiller::FeatureStep(const std::vector<float>& teacher_features, Tensor& dfeatures) {
  const Tensor& f = model_.features();  // [B, C]
  const int B = f.dim(0), C = f.dim(1), D = feature_dim_;
  std::vector<float>& y = feature_out_;  // [B, D], allocated by the first step
  y.resize(static_cast<size_t>(B) * D);
  ops::linear_forward(B, C, D, f.ptr(), adapter_w_.ptr(), adapter_b_.ptr(), y.data());
  double sse = 0;
  const float scale = static_cast<float>(2.0 * options_.feature_weight / (static_cast<double>(B) * D));
  for (int i = 0; i < B; ++i)
    for (int j = 0; j < D; ++j) {
      const size_t k = static_cast<size_t>(i) * D + j;
      const float diff = y[k] - (teacher_features[k] - feature_mean_[j]) * feature_inv_std_[j];
      sse += static_cast<double>(diff) * diff;
      y[k] = scale * diff;  // now dLoss/dy
    }
  ops::linear_backward(B, C, D, f.ptr(), adapter_w_.ptr(), y.data(), dfeatures.ptr(), adapter_gw_.ptr(), adapter_gb_.ptr(),
                       ops::GradMode::kOverwrite);
  return sse / (static_cast<double>(B) * D);
}

void Distiller::MakeBatch(const std::vector<size_t>& labeled_order, int step, std::vector<uint8_t>& views, std::vector<int32_t>& labels) {
  const int B = options_.batch, S = config_.input_size;
  const size_t view_bytes = static_cast<size_t>(S) * S * 3;
  std::vector<Image> batch(B);
  for (int i = 0; i < B; ++i) {
    const bool is_labeled = i < labeled_per_batch_;
    const Dataset& src = is_labeled ? labeled_ : *unlabeled_;
    const size_t idx = is_labeled ? labeled_order[static_cast<size_t>(step) * labeled_per_batch_ + i] : pool_sampler_.Next(rng_);
    labels[i] = is_labeled ? labeled_.labels[idx] : options_.pool_labels ? unlabeled_->labels[idx] : -1;
    Image& img = batch[i];
    img = WholeImage(src, idx, src.size);
    // A view of an image with a label is cropped as a labelled image: gently, so that it keeps
    // what the label is about (a crop of an empty room stays empty; one of area >= 0.6 mostly
    // keeps the person).
    const double area_min = labels[i] >= 0 ? options_.labeled_area_min : options_.unlabeled_area_min;
    CropResize(&img, SampleResizedCrop(rng_, img.width, img.height, area_min, 1.0), S, S);
    if (options_.flip && Bernoulli(rng_, 0.5)) FlipHorizontal(&img);
    if (options_.jitter > 0) ColorJitter(&img, SampleColorJitter(rng_, options_.jitter));
  }
  const double mix = Uniform01(rng_);
  if (mix < options_.mixup + options_.cutmix) {
    if (mix < options_.mixup)
      Mixup(&batch, 1.0, rng_);
    else
      Cutmix(&batch, 1.0, rng_);
    std::fill(labels.begin(), labels.end(), -1);
  }
  // Views with a hard label go first (a stable partition: the identity when only the first
  // labeled_per_batch views have labels), so that the loss sees them as rows [0, hard_rows).
  std::vector<int> rows(B);
  std::iota(rows.begin(), rows.end(), 0);
  std::stable_partition(rows.begin(), rows.end(), [&labels](int i) { return labels[i] >= 0; });
  const std::vector<int32_t> unordered = labels;
  for (int i = 0; i < B; ++i) {
    labels[i] = unordered[rows[i]];
    const Image& img = batch[rows[i]];
    std::copy(img.pixels.begin(), img.pixels.end(), views.begin() + static_cast<std::ptrdiff_t>(i * view_bytes));
  }
}

Status Distiller::Save(const std::string& path, double val_top1) const {
  std::map<std::string, std::string> metadata{{"epoch", std::to_string(epoch_)},
                                               {"val_top1", ExactDecimal(val_top1)},
                                               {"personcls_version", options_.version},
                                               {"distill", options_.recipe},
                                               {"teachers", TeacherNames(teachers_)}};
  metadata.insert(options_.metadata.begin(), options_.metadata.end());  // never replaces the keys above
  return SaveModelCheckpoint(path, model_, std::move(metadata));
}

Status Distiller::SaveState() const {
  safetensors::File f;
  AddResumeWeights(model_, f);  // the state file is the resume point (nn/trainer.h)
  for (const auto& st : adamw_.state()) {
    f.tensors["exp_avg." + st.name] = safetensors::FromFloat(st.exp_avg, {static_cast<int64_t>(st.exp_avg.size())});
    f.tensors["exp_avg_sq." + st.name] = safetensors::FromFloat(st.exp_avg_sq, {static_cast<int64_t>(st.exp_avg_sq.size())});
  }
  f.tensors["unlabeled_order"] = Int64Tensor(pool_sampler_.order());
  if (pool_sampler_.segments() > 1) f.tensors["source_pos"] = Int64Tensor(pool_sampler_.positions());
  if (feature_dim_ > 0) {
    f.tensors["feature_adapter.weight"] = safetensors::FromFloat(adapter_w_.data, {adapter_w_.dim(0), adapter_w_.dim(1)});
    f.tensors["feature_adapter.bias"] = safetensors::FromFloat(adapter_b_.data, {adapter_b_.dim(0)});
  }
  std::ostringstream rng;
  rng << rng_;
  f.metadata = {{"epoch", std::to_string(epoch_)},
                {"iteration", std::to_string(iteration_)},
                {"step_count", std::to_string(adamw_.step_count())},
                {"rng", rng.str()},
                {"unlabeled_pos", std::to_string(pool_sampler_.positions().empty() ? 0 : pool_sampler_.positions()[0])},
                {"best_val_top1", ExactDecimal(best_val_)},
                {"best_epoch", std::to_string(best_epoch_)},
                {"arch", config_.name},
                {"distill", options_.recipe}};
  return safetensors::WriteFile(options_.out_dir + "/last_state.safetensors", f);
}

Status Distiller::Resume() {
  PCLS_ASSIGN_OR_RETURN(ResumeFiles r, OpenRunToResume(options_.out_dir, model_));
  auto meta = [&r](const std::string& key) { return MetadataValue(r.state.metadata, key, r.state_path); };
  const std::string& spath = r.state_path;
  const safetensors::File* s = &r.state;
  try {
    PCLS_ASSIGN_OR_RETURN(const std::string recipe, meta("distill"));
    if (recipe != options_.recipe) return Status::Error(spath + ": the run's recipe differs (" + recipe + ")");
    PCLS_ASSIGN_OR_RETURN(const std::string iteration, meta("iteration"));
    PCLS_ASSIGN_OR_RETURN(const std::string steps, meta("step_count"));
    PCLS_ASSIGN_OR_RETURN(const std::string rng, meta("rng"));
    PCLS_ASSIGN_OR_RETURN(const std::string pos, meta("unlabeled_pos"));
    PCLS_ASSIGN_OR_RETURN(const std::string best, meta("best_val_top1"));
    PCLS_ASSIGN_OR_RETURN(const std::string best_epoch, meta("best_epoch"));
    std::vector<AdamWOptimizer::ParamState> ps;
    std::vector<std::string> names = model_.ParameterNames();
    if (feature_dim_ > 0) {
      for (const auto& p : TrainedParameters()) {
        if (p.name.rfind("feature_adapter.", 0) != 0) continue;
        names.push_back(p.name);
        auto it = s->tensors.find(p.name);
        if (it == s->tensors.end()) return Status::Error(spath + ": no " + p.name + " (the run had no feature term)");
        std::vector<float> v = it->second.AsFloat();
        if (v.size() != p.value->data.size())
          return Status::Error(spath + ": " + p.name + " has " + std::to_string(v.size()) + " values, expected " + std::to_string(p.value->data.size()));
        p.value->data = std::move(v);
      }
    }
    for (const std::string& name : names) {
      auto m = s->tensors.find("exp_avg." + name), v = s->tensors.find("exp_avg_sq." + name);
      if (m == s->tensors.end() || v == s->tensors.end()) {
        if (std::stoll(steps) == 0) continue;
        return Status::Error(spath + ": no optimizer state for " + name);
      }
      ps.push_back({name, m->second.AsFloat(), v->second.AsFloat()});
    }
    std::vector<size_t> order, positions;
    if (auto it = s->tensors.find("unlabeled_order"); it != s->tensors.end())
      for (int64_t x : it->second.AsInt64()) order.push_back(static_cast<size_t>(x));
    if (auto it = s->tensors.find("source_pos"); it != s->tensors.end())
      for (int64_t x : it->second.AsInt64()) positions.push_back(static_cast<size_t>(x));
    else if (pool_sampler_.segments() > 0)
      positions.push_back(std::stoull(pos));
    std::istringstream rs(rng);
    rs >> rng_;
    if (rs.fail()) return Status::Error(spath + ": bad rng state");
    if (Status st = pool_sampler_.Restore(std::move(order), std::move(positions)); !st.ok()) return Status::Error(spath + ": " + st.message());
    adamw_.LoadState(std::move(ps), std::stoll(steps));
    epoch_ = r.epoch;
    iteration_ = std::stoll(iteration);
    best_val_ = std::stod(best);
    best_epoch_ = std::stoi(best_epoch);
  } catch (const std::exception& e) {
    return Status::Error(spath + ": " + e.what());
  }
  return Status::Ok();
}

Status Distiller::Run(const std::function<void(const DistillEpochStats&)>& on_epoch, int stop_after,
                      const std::function<void(const BatchProgress&)>& on_step) {
  const DistillOptions& o = options_;
  const bool write = !o.out_dir.empty();
  const std::string log_path = o.out_dir + "/log.csv";
  const int stop_epoch = stop_after > 0 ? std::min(o.epochs, epoch_ + stop_after) : o.epochs;
  static const std::string kHeader = "epoch,iterations,lr,loss,kl,teacher_agreement,val_top1,seconds,feature_loss";
  if (write && epoch_ == 0) {  // a resumed run appends to its log
    std::error_code ec;
    fs::create_directories(o.out_dir, ec);
    if (ec) return Status::Error(o.out_dir + ": cannot create: " + ec.message());
    std::ofstream log(log_path, std::ios::trunc);
    log << kHeader << '\n';
    if (!log) return Status::Error(log_path + ": cannot write");
  } else if (write) {
    PCLS_RETURN_IF_ERROR(UpgradeLog(log_path, kHeader));
  }
  const int B = o.batch, S = config_.input_size, K = config_.num_classes;
  const size_t view_bytes = static_cast<size_t>(S) * S * 3;
  std::vector<uint8_t> views(B * view_bytes);
  std::vector<int32_t> labels(B);
  std::vector<float> targets(static_cast<size_t>(B) * K), weights(B), probs(targets.size()), hard_probs(targets.size());
  Tensor x({B, S, S, 3}), dlogits({B, K});
  const bool features = feature_dim_ > 0;
  std::vector<float> teacher_features(features ? static_cast<size_t>(B) * feature_dim_ : 0);
  Tensor dfeatures;
  if (features) {
    dfeatures = Tensor({B, model_.spec().feature_channels});
    if (feature_mean_.empty()) PCLS_RETURN_IF_ERROR(MeasureFeatureStatistics());
  }
  while (epoch_ < stop_epoch) {
    const auto t0 = std::chrono::steady_clock::now();
    std::vector<size_t> order(labeled_.count());
    std::iota(order.begin(), order.end(), size_t{0});
    Shuffle(order, rng_);
    double loss_sum = 0, kl_sum = 0, feature_sum = 0, lr = 0;
    int64_t agree = 0, seen = 0;
    for (int step = 0; step < steps_per_epoch_; ++step) {
      MakeBatch(order, step, views, labels);
      PCLS_RETURN_IF_ERROR(EnsembleTargets(teachers_, views.data(), B, S, o.temperature, targets.data(), features ? teacher_features.data() : nullptr));
      for (size_t j = 0; j < views.size(); ++j) x.data[j] = static_cast<float>(views[j]) / 255.0f;
      const Tensor& logits = model_.Forward(x, true);
      // Labelled unmixed views come first in the batch: rows [0, hard_rows).
      int hard_rows = 0;
      while (hard_rows < B && labels[hard_rows] >= 0) ++hard_rows;
      const bool hard = o.hard_weight > 0 && hard_rows > 0;
      for (int i = 0; i < B; ++i) weights[i] = hard && i < hard_rows ? static_cast<float>(1.0 - o.hard_weight) : 1.0f;
      const float kl = ops::soft_cross_entropy_forward(B, K, logits.ptr(), targets.data(), weights.data(), o.temperature, probs.data());
      for (int i = 0; i < B; ++i) agree += ArgMax(logits.ptr() + static_cast<size_t>(i) * K, K) == ArgMax(targets.data() + static_cast<size_t>(i) * K, K);
      ops::soft_cross_entropy_backward(B, K, probs.data(), targets.data(), weights.data(), o.temperature, 1.0f, dlogits.ptr(), ops::GradMode::kOverwrite);
      double loss = kl;
      if (hard) {
        // CE is a mean over the hard rows; scale to a sum over them divided by B.
        const float ce = ops::softmax_cross_entropy_forward(hard_rows, K, logits.ptr(), labels.data(), hard_probs.data());
        const float scale = static_cast<float>(o.hard_weight * hard_rows / B);
        ops::softmax_cross_entropy_backward(hard_rows, K, hard_probs.data(), labels.data(), scale, dlogits.ptr(), ops::GradMode::kAccumulate);
        loss += static_cast<double>(scale) * ce;
      }
      if (features) {
        const double mse = FeatureStep(teacher_features, dfeatures);
        loss += o.feature_weight * mse;
        feature_sum += mse;
      }
      model_.Backward(dlogits, features ? &dfeatures : nullptr);
      lr = schedule_->lr_at(iteration_, epoch_);
      adamw_.Step(TrainedParameters(), lr);
      ++iteration_;
      loss_sum += loss;
      kl_sum += kl;
      seen += B;
      if (on_step) on_step({epoch_, step + 1, steps_per_epoch_, iteration_, loss, lr, B});
    }
    ++epoch_;
    DistillEpochStats st;
    st.epoch = epoch_;
    st.iterations = iteration_;
    st.lr = lr;
    st.loss = loss_sum / steps_per_epoch_;
    st.kl = kl_sum / steps_per_epoch_;
    st.feature_loss = feature_sum / steps_per_epoch_;
    st.teacher_agreement = seen ? static_cast<double>(agree) / seen : 0;
    if (val_) st.val_top1 = EvaluateTop1(model_, *val_, 100);
    st.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    // best_val_ moves before the state file is written: a run resumed from this epoch must
    // compare against it (else it rewrote best.safetensors with a worse epoch).
    const bool improved = val_ && st.val_top1 > best_val_;
    if (improved) {
      best_val_ = st.val_top1;
      best_epoch_ = epoch_;
    }
    if (write) {
      if (improved) PCLS_RETURN_IF_ERROR(Save(o.out_dir + "/best.safetensors", st.val_top1));
      PCLS_RETURN_IF_ERROR(Save(o.out_dir + "/last.safetensors", st.val_top1));
      PCLS_RETURN_IF_ERROR(SaveState());
      std::ofstream log(log_path, std::ios::app);
      log << st.epoch << ',' << st.iterations << ',' << ExactDecimal(st.lr) << ',' << st.loss << ',' << st.kl << ',' << st.teacher_agreement << ','
          << st.val_top1 << ',' << st.seconds << ',' << st.feature_loss << '\n';
      if (!log) return Status::Error(log_path + ": cannot write");
    }
    if (on_epoch) on_epoch(st);
  }
  return Status::Ok();
}

}  // namespace personcls
