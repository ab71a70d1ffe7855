#include "nn/trainer.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <numeric>
#include <sstream>
#include <stdexcept>

#include "core/atomic_file.h"
#include "formats/safetensors/safetensors.h"
#include "ops/softmax_cross_entropy.h"

namespace personcls {
namespace {

LrSchedule::Options ScheduleOptions(const TrainOptions& o) {
  LrSchedule::Options s;
  s.base_lr = o.lr;
  s.warmup_iters = o.warmup_iters;
  s.warmup_start_factor = o.warmup_start_factor;
  s.decay = o.cosine ? LrSchedule::Decay::kCosine : LrSchedule::Decay::kMultiStep;
  s.milestones = o.milestones;
  s.gamma = o.gamma;
  s.cosine_epochs = std::max(1, o.epochs);
  return s;
}

std::string Exact(double v) { return ExactDecimal(v); }

bool EndsWith(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

std::string ExactDecimal(double v) {
  std::ostringstream s;
  s << std::setprecision(17) << v;
  return s.str();
}

Trainer::Trainer(const ArchConfig& config, TrainOptions options, const Dataset& train, const Dataset& val)
    : config_(config),
      options_(std::move(options)),
      train_(train),
      val_(val),
      model_(config),
      sgd_(SgdOptions{options_.momentum, options_.weight_decay}),
      schedule_(ScheduleOptions(options_)),
      rng_(options_.seed) {
  if (options_.epochs < 1) throw std::invalid_argument("epochs must be >= 1");
  if (options_.batch < 2) throw std::invalid_argument("batch must be >= 2 (train-mode BN needs more than one value)");
  const int channels = config.gray ? 1 : 3;
  for (const Dataset* d : {&train_, &val_}) {
    if (d->size != config.input_size || d->channels != channels)
      throw std::invalid_argument("dataset images are " + std::to_string(d->size) + "x" + std::to_string(d->size) + "x" +
                                  std::to_string(d->channels) + ", the model takes " + std::to_string(config.input_size) + "x" +
                                  std::to_string(config.input_size) + "x" + std::to_string(channels));
    for (int32_t l : d->labels)
      if (l < 0 || l >= config.num_classes) throw std::invalid_argument("label " + std::to_string(l) + " out of range");
  }
  if (train_.count() < 2) throw std::invalid_argument("training set needs at least 2 images");
  if (val_.count() < 1) throw std::invalid_argument("validation set is empty");
  Init();
}

void InitSscmaParameters(Mbv2RepModel& model, std::mt19937_64& rng) {
  auto normal = [&rng]() {
    const double u1 = std::max(Uniform01(rng), 1e-300), u2 = Uniform01(rng);
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * M_PI * u2);
  };
  for (auto& p : model.Parameters()) {
    Tensor& t = *p.value;
    if (t.rank() == 4) {  // conv, OHWI: fan_out = out * kh * kw
      const double std_dev = std::sqrt(2.0 / static_cast<double>(t.shape[0] * t.shape[1] * t.shape[2]));
      for (float& v : t.data) v = static_cast<float>(std_dev * normal());
    } else if (t.rank() == 2) {  // linear [out, in]
      for (float& v : t.data) v = static_cast<float>(0.01 * normal());
    } else if (EndsWith(p.name, ".bias")) {
      std::fill(t.data.begin(), t.data.end(), 0.0f);
    } else {
      std::fill(t.data.begin(), t.data.end(), 1.0f);  // BN weight
    }
  }
}

void Trainer::Init() { InitSscmaParameters(model_, rng_); }

namespace {

// Every parameter and buffer as safetensors tensors named `prefix` + SSCMA's name
// (PyTorch layouts, F32; num_batches_tracked I64).
void AddStateTensors(const Mbv2RepModel& model, const std::string& prefix, safetensors::File& f) {
  std::map<std::string, std::vector<int64_t>> shapes;
  for (auto& p : const_cast<Mbv2RepModel&>(model).Parameters()) {
    std::vector<int64_t> s(p.value->shape.begin(), p.value->shape.end());
    if (s.size() == 4) s = {s[0], s[3], s[1], s[2]};  // OHWI -> OIHW
    shapes[p.name] = s;
  }
  for (const auto& [name, values] : model.ToStateDict()) {
    if (EndsWith(name, "num_batches_tracked")) {
      safetensors::Tensor t;
      t.dtype = "I64";
      const int64_t v = values.empty() ? 0 : static_cast<int64_t>(values[0]);
      t.bytes.resize(8);
      std::memcpy(t.bytes.data(), &v, 8);
      f.tensors[prefix + name] = std::move(t);
    } else {
      auto it = shapes.find(name);
      f.tensors[prefix + name] = safetensors::FromFloat(values, it != shapes.end() ? it->second : std::vector<int64_t>{static_cast<int64_t>(values.size())});
    }
  }
}

// Tensors named `prefix` + X of `file` as a state dict keyed X (I64/I32 as integers).
StateDict StateTensors(const safetensors::File& file, const std::string& prefix) {
  StateDict weights;
  for (const auto& [name, t] : file.tensors) {
    if (name.compare(0, prefix.size(), prefix) != 0) continue;
    std::vector<float>& v = weights[name.substr(prefix.size())];
    if (t.dtype == "I64" || t.dtype == "I32") {
      for (int64_t x : t.AsInt64()) v.push_back(static_cast<float>(x));
    } else {
      v = t.AsFloat();
    }
  }
  return weights;
}

const char kResumePrefix[] = "model.";

}  // namespace

void AddResumeWeights(const Mbv2RepModel& model, safetensors::File& state) { AddStateTensors(model, kResumePrefix, state); }

Status StartLog(const std::string& path, const std::string& header, int epoch) {
  std::ifstream in(path);
  std::string line, text = header + "\n";
  if (epoch > 0 && in && std::getline(in, line)) {
    text = line + "\n";  // a resumed run keeps its log's header
    // Rows of epochs the state file does not cover yet are dropped: they are rewritten.
    while (std::getline(in, line)) {
      if (line.empty()) continue;
      char* end = nullptr;
      const long row_epoch = std::strtol(line.c_str(), &end, 10);
      if (end != line.c_str() && *end == ',' && row_epoch <= epoch) text += line + "\n";
    }
  }
  return WriteFileAtomic(path, text);
}

Status AppendLogRow(const std::string& path, const std::string& row) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return WriteFileAtomic(path, text.str() + row + "\n");
}

Status SaveModelCheckpoint(const std::string& path, const Mbv2RepModel& model, std::map<std::string, std::string> metadata) {
  safetensors::File f;
  AddStateTensors(model, "", f);
  const ArchConfig& c = model.config();
  metadata["arch"] = c.name;
  metadata["input_size"] = std::to_string(c.input_size);
  metadata["num_classes"] = std::to_string(c.num_classes);
  metadata["gray"] = c.gray ? "1" : "0";
  f.metadata = std::move(metadata);
  return safetensors::WriteFile(path, f);
}

Status Trainer::SaveWeights(const std::string& path, double val_top1) const {
  std::map<std::string, std::string> metadata{{"epoch", std::to_string(epoch_)}, {"val_top1", Exact(val_top1)}, {"personcls_version", options_.version}};
  metadata.insert(options_.metadata.begin(), options_.metadata.end());  // never replaces the keys above
  return SaveModelCheckpoint(path, model_, std::move(metadata));
}

Status Trainer::SaveState() const {
  safetensors::File f;
  AddResumeWeights(model_, f);
  for (const auto& s : sgd_.state())
    if (s.has_momentum_buffer) f.tensors["momentum." + s.name] = safetensors::FromFloat(s.momentum_buffer, {static_cast<int64_t>(s.momentum_buffer.size())});
  std::ostringstream rng;
  rng << rng_;
  f.metadata = {{"epoch", std::to_string(epoch_)},
                {"iteration", std::to_string(iteration_)},
                {"step_count", std::to_string(sgd_.step_count())},
                {"rng", rng.str()},
                {"best_val_top1", Exact(best_val_)},
                {"best_epoch", std::to_string(best_epoch_)},
                {"arch", config_.name}};
  return safetensors::WriteFile(options_.out_dir + "/last_state.safetensors", f);
}

Expected<std::string> MetadataValue(const std::map<std::string, std::string>& metadata, const std::string& key, const std::string& path) {
  auto it = metadata.find(key);
  if (it == metadata.end()) return Status::Error(path + ": metadata '" + key + "' missing");
  return it->second;
}

Expected<ResumeFiles> OpenRunToResume(const std::string& out_dir, Mbv2RepModel& model) {
  ResumeFiles r;
  r.state_path = out_dir + "/last_state.safetensors";
  auto s = safetensors::ReadFile(r.state_path);
  if (!s.ok()) return s.status();
  r.state = std::move(s).value();
  PCLS_ASSIGN_OR_RETURN(const std::string epoch, MetadataValue(r.state.metadata, "epoch", r.state_path));
  if (auto it = r.state.metadata.find("arch"); it != r.state.metadata.end() && it->second != model.config().name)
    return Status::Error(r.state_path + ": the run is " + it->second + ", not " + model.config().name);
  StateDict weights = StateTensors(r.state, kResumePrefix);
  std::string wpath = r.state_path;
  if (weights.empty()) {
    // A run from before the state file held the weights: they are in last.safetensors,
    // which must come from the same epoch.
    wpath = out_dir + "/last.safetensors";
    auto w = safetensors::ReadFile(wpath);
    if (!w.ok()) return w.status();
    if (auto it = w->metadata.find("arch"); it != w->metadata.end() && it->second != model.config().name)
      return Status::Error(wpath + ": checkpoint is " + it->second + ", not " + model.config().name);
    PCLS_ASSIGN_OR_RETURN(const std::string wepoch, MetadataValue(w->metadata, "epoch", wpath));
    if (wepoch != epoch) return Status::Error(r.state_path + ": epoch " + epoch + " does not match last.safetensors (" + wepoch + ")");
    weights = StateTensors(*w, "");
  }
  PCLS_RETURN_IF_ERROR(model.LoadStateDict(weights).WithContext(wpath));
  try {
    r.epoch = std::stoi(epoch);
  } catch (const std::exception&) {
    return Status::Error(r.state_path + ": bad epoch '" + epoch + "'");
  }
  return r;
}

Status Trainer::Resume() {
  PCLS_ASSIGN_OR_RETURN(ResumeFiles r, OpenRunToResume(options_.out_dir, model_));
  auto meta = [&r](const std::string& key) { return MetadataValue(r.state.metadata, key, r.state_path); };
  const std::string& spath = r.state_path;
  const safetensors::File* s = &r.state;
  try {
    PCLS_ASSIGN_OR_RETURN(std::string iteration, meta("iteration"));
    PCLS_ASSIGN_OR_RETURN(std::string steps, meta("step_count"));
    PCLS_ASSIGN_OR_RETURN(std::string rng, meta("rng"));
    PCLS_ASSIGN_OR_RETURN(std::string best, meta("best_val_top1"));
    PCLS_ASSIGN_OR_RETURN(std::string best_epoch, meta("best_epoch"));
    epoch_ = r.epoch;
    iteration_ = std::stoll(iteration);
    best_val_ = std::stod(best);
    best_epoch_ = std::stoi(best_epoch);
    std::istringstream rs(rng);
    rs >> rng_;
    if (rs.fail()) return Status::Error(spath + ": bad rng state");
    const int64_t step_count = std::stoll(steps);
    std::vector<SgdOptimizer::ParamState> ps;
    if (step_count > 0) {
      for (const std::string& name : model_.ParameterNames()) {
        SgdOptimizer::ParamState p;
        p.name = name;
        auto it = s->tensors.find("momentum." + name);
        if (it != s->tensors.end()) {
          p.has_momentum_buffer = true;
          p.momentum_buffer = it->second.AsFloat();
        }
        ps.push_back(std::move(p));
      }
    }
    sgd_.LoadState(std::move(ps), step_count);
  } catch (const std::exception& e) {
    return Status::Error(spath + ": " + e.what());
  }
  return Status::Ok();
}

double EvaluateTop1(Mbv2RepModel& model, const Dataset& data, int batch) {
  const int S = data.size, C = data.channels, K = model.config().num_classes;
  const size_t n = data.count();
  int64_t correct = 0;
  for (size_t start = 0; start < n; start += batch) {
    const int m = static_cast<int>(std::min<size_t>(batch, n - start));
    Tensor x({m, S, S, C});
    for (int i = 0; i < m; ++i) {
      const uint8_t* src = data.image(start + i);
      float* dst = x.ptr() + static_cast<size_t>(i) * data.image_bytes();
      for (size_t j = 0; j < data.image_bytes(); ++j) dst[j] = static_cast<float>(src[j]) / 255.0f;
    }
    const Tensor& logits = model.Forward(x, false);
    for (int i = 0; i < m; ++i) {
      const float* row = logits.ptr() + static_cast<size_t>(i) * K;
      correct += (std::max_element(row, row + K) - row) == data.labels[start + i];
    }
  }
  return n ? static_cast<double>(correct) / static_cast<double>(n) : 0.0;
}

double Trainer::Evaluate(const Dataset& data) { return EvaluateTop1(model_, data, options_.batch); }

Status Trainer::Run(const std::function<void(const BatchProgress&)>& on_batch, const std::function<void(const EpochStats&)>& on_epoch,
                    int stop_after) {
  namespace fs = std::filesystem;
  const bool write = !options_.out_dir.empty();
  if (write) {
    std::error_code ec;
    fs::create_directories(options_.out_dir, ec);
    if (ec) return Status::Error(options_.out_dir + ": cannot create: " + ec.message());
  }
  const std::string log_path = options_.out_dir + "/log.csv";
  if (write) PCLS_RETURN_IF_ERROR(StartLog(log_path, "epoch,iterations,lr,train_loss,train_acc,val_top1,seconds", epoch_));
  const int S = config_.input_size, C = train_.channels, K = config_.num_classes;
  LoaderOptions lo;
  lo.batch = options_.batch;
  lo.out_size = S;
  lo.seed = options_.seed;
  lo.balanced = options_.balanced;
  lo.augment = options_.augment;
  lo.mix = options_.mix;
  lo.mix_alpha = options_.mix_alpha;
  lo.threads = options_.loader_threads;
  lo.prefetch = 2;
  Loader loader(train_, lo);
  const int batches = loader.batches_per_epoch();
  int done = 0;
  Batch batch;
  while (epoch_ < options_.epochs && (stop_after <= 0 || done < stop_after)) {
    const auto t0 = std::chrono::steady_clock::now();
    loader.Start(epoch_);
    double loss_sum = 0, lr = 0;
    int64_t correct = 0, seen = 0;
    for (int b = 0; b < batches; ++b) {
      if (!loader.Next(&batch)) return Status::Error("loader ended epoch " + std::to_string(epoch_) + " early");  // cannot happen
      const int m = batch.count;
      Tensor x({m, S, S, C});
      for (size_t j = 0; j < batch.pixels.size(); ++j) x.data[j] = static_cast<float>(batch.pixels[j]) / 255.0f;
      const std::vector<int32_t>& labels = batch.labels;
      const Tensor& logits = model_.Forward(x, true);
      std::vector<float> probs(static_cast<size_t>(m) * K);
      float loss = ops::softmax_cross_entropy_forward(m, K, logits.ptr(), labels.data(), probs.data());
      for (int i = 0; i < m; ++i) {
        const float* row = logits.ptr() + static_cast<size_t>(i) * K;
        correct += (std::max_element(row, row + K) - row) == labels[i];
      }
      Tensor dlogits({m, K});
      if (batch.mix.partner.empty()) {
        ops::softmax_cross_entropy_backward(m, K, probs.data(), labels.data(), 1.0f, dlogits.ptr(), ops::GradMode::kOverwrite);
      } else {  // mixed images: lambda CE(own) + (1 - lambda) CE(partner's label); probs are the same
        std::vector<int32_t> partner_labels(m);
        for (int i = 0; i < m; ++i) partner_labels[i] = labels[batch.mix.partner[i]];
        const float lam = static_cast<float>(batch.mix.lambda);
        const float partner_loss = ops::softmax_cross_entropy_forward(m, K, logits.ptr(), partner_labels.data(), probs.data());
        loss = lam * loss + (1.0f - lam) * partner_loss;
        ops::softmax_cross_entropy_backward(m, K, probs.data(), labels.data(), lam, dlogits.ptr(), ops::GradMode::kOverwrite);
        ops::softmax_cross_entropy_backward(m, K, probs.data(), partner_labels.data(), 1.0f - lam, dlogits.ptr(), ops::GradMode::kAccumulate);
      }
      model_.Backward(dlogits);
      lr = schedule_.lr_at(iteration_, epoch_);
      sgd_.Step(model_.Parameters(), lr);
      ++iteration_;
      loss_sum += static_cast<double>(loss) * m;
      seen += m;
      if (on_batch) on_batch({epoch_, b + 1, batches, iteration_, loss, lr, m});
    }
    EpochStats st;
    st.val_top1 = Evaluate(val_);
    ++epoch_;
    ++done;
    st.epoch = epoch_;
    st.iterations = iteration_;
    st.lr = lr;
    st.train_loss = seen ? loss_sum / seen : 0;
    st.train_acc = seen ? static_cast<double>(correct) / seen : 0;
    st.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    // The epoch's files, each atomic: the log row, best, last, and last of all the state
    // file, the commit point a resume starts from (it holds the weights too). A process
    // killed anywhere before it resumes from the previous epoch and rewrites the others
    // bit for bit (StartLog drops the log rows past that epoch).
    if (write) {
      std::ostringstream row;
      row << st.epoch << ',' << st.iterations << ',' << Exact(st.lr) << ',' << st.train_loss << ',' << st.train_acc << ',' << st.val_top1 << ','
          << st.seconds;
      PCLS_RETURN_IF_ERROR(AppendLogRow(log_path, row.str()));
    }
    if (st.val_top1 > best_val_) {
      best_val_ = st.val_top1;
      best_epoch_ = epoch_;
      if (write) PCLS_RETURN_IF_ERROR(SaveWeights(options_.out_dir + "/best.safetensors", st.val_top1));
    }
    if (write) {
      PCLS_RETURN_IF_ERROR(SaveWeights(options_.out_dir + "/last.safetensors", st.val_top1));
      PCLS_RETURN_IF_ERROR(SaveState());
    }
    if (on_epoch) on_epoch(st);
  }
  return Status::Ok();
}

}  // namespace personcls
