// Values that cross the CLI's boundaries: non-finite input normalization (flags, model
// metadata, export), non-finite checkpoint weights, malformed or non-UTF-8 labels in a
// model file. Each bad value is one error line naming the flag or the file, never "nan"
// scores with exit 0 or a raw exception.
#include <cmath>
#include <cstring>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "formats/safetensors/safetensors.h"
#include "formats/tflite/tflite_writer.h"
#include "personcls/default_model.h"
#include "test_util.h"
#include "tools/cli_run.h"
#include "nn/twin_util.h"

namespace personcls {
namespace {

using testing::ExpectCliError;
using testing::RunCli;
using testing::RunResult;

// A 20x20 PPM image in `dir`.
std::string WriteImage(const std::string& dir) {
  const std::string path = dir + "/img.ppm";
  std::ofstream out(path, std::ios::binary);
  out << "P6\n20 20\n255\n";
  for (int i = 0; i < 20 * 20 * 3; ++i) out.put(static_cast<char>((i * 37) % 256));
  return path;
}

// The embedded default model (int8, 2 outputs) with `metadata` entries set, as a .tflite.
std::string ModelWithMetadata(const std::string& dir, const std::string& name, const std::map<std::string, std::string>& metadata) {
  auto graph = LoadDefaultModel();
  EXPECT_TRUE(graph.ok()) << graph.status().message();
  Graph g = **graph;
  for (const auto& [key, value] : metadata) g.metadata[key] = std::vector<uint8_t>(value.begin(), value.end());
  auto bytes = tflite_format::WriteTflite(g);
  EXPECT_TRUE(bytes.ok()) << bytes.status().message();
  const std::string path = dir + "/" + name;
  testing::WriteFileBytes(path, *bytes);
  return path;
}

TEST(BoundaryCli, NonFiniteNormalizationFlagsAreRefused) {
  const std::string dir = testing::TempDir(), img = WriteImage(dir);
  for (const char* value : {"nan", "inf", "-inf"}) {
    ExpectCliError(RunCli(std::string("classify --input-mean ") + value + " " + img), "--input-mean must be a finite number");
    ExpectCliError(RunCli(std::string("classify --input-scale ") + value + " " + img), "--input-scale must be a finite positive number");
    ExpectCliError(RunCli(std::string("export --format tflite --out ") + dir + "/x.tflite --input-mean " + value), "--input-mean must be a finite");
  }
  ExpectCliError(RunCli("classify --input-scale 0 " + img), "--input-scale must be a finite positive number");
  EXPECT_FALSE(testing::FileExists(dir + "/x.tflite"));
  // Finite values still work.
  const RunResult ok = RunCli("classify --input-mean 127.5 --input-scale 0.0078125 " + img);
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
}

TEST(BoundaryCli, NonFiniteNormalizationMetadataIsRefusedNamingTheModel) {
  const std::string dir = testing::TempDir(), img = WriteImage(dir);
  for (const char* text : {"mean=nan,scale=0.5", "mean=0,scale=inf", "mean=inf,scale=nan"}) {
    SCOPED_TRACE(text);
    const std::string model = ModelWithMetadata(dir, "norm.tflite", {{"normalization", text}});
    ExpectCliError(RunCli("classify --model " + model + " " + img), model + ": metadata 'normalization' '" + text + "': input ");
    // Not copied into an exported file either.
    ExpectCliError(RunCli("export --model " + model + " --format tflite --out " + dir + "/copy.tflite"), model + ": metadata 'normalization'");
    EXPECT_FALSE(testing::FileExists(dir + "/copy.tflite"));
    // Flags that replace both values make the model usable again.
    const RunResult r = RunCli("classify --model " + model + " --input-mean 0 --input-scale 0.00392156886 " + img);
    EXPECT_EQ(r.exit_code, 0) << r.err;
  }
}

TEST(BoundaryCli, MalformedLabelsMetadataNamesTheModelNotAFlag) {
  const std::string dir = testing::TempDir(), img = WriteImage(dir);
  const std::string model = ModelWithMetadata(dir, "labels.tflite", {{"labels", "cat,dog,bird"}});
  const RunResult r = RunCli("classify --model " + model + " " + img);
  ExpectCliError(r, model + ": metadata 'labels' has 3 labels but the model has 2 outputs");
  EXPECT_EQ(r.err.find("--labels"), std::string::npos) << r.err;
  // --labels given: the flag is blamed (and overrides the metadata when it fits).
  ExpectCliError(RunCli("classify --labels a,b,c --model " + model + " " + img), "--labels has 3 labels but the model has 2 outputs");
  EXPECT_EQ(RunCli("classify --labels a,b --model " + model + " " + img).exit_code, 0);
}

TEST(BoundaryCli, NonUtf8LabelsGiveValidJson) {
  const std::string dir = testing::TempDir(), img = WriteImage(dir);
  const std::string model = ModelWithMetadata(dir, "latin1.tflite", {{"labels", "Pas de personne \xe9,Personne \xff"}});
  for (const std::string cmd : {"classify --json --model " + model + " " + img, "info --json --model " + model}) {
    SCOPED_TRACE(cmd);
    const RunResult r = RunCli(cmd);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.err.find("json.exception"), std::string::npos) << r.err;
    const auto j = nlohmann::json::parse(r.out, nullptr, false);
    ASSERT_FALSE(j.is_discarded()) << r.out;
    const std::string dumped = j.dump();
    // Each byte that is not UTF-8 became U+FFFD.
    EXPECT_TRUE(dumped.find("Pas de personne \xef\xbf\xbd") != std::string::npos || dumped.find("Personne \xef\xbf\xbd") != std::string::npos)
        << dumped;
  }
}

TEST(BoundaryCli, NonFiniteCheckpointWeightsAreRefused) {
  const std::string dir = testing::TempDir(), img = WriteImage(dir);
  auto twin = safetensors::ReadFile(testing::TwinPath("forward_w035.safetensors"));
  ASSERT_TRUE(twin.ok()) << twin.status().message();
  safetensors::File ckpt;
  for (const auto& [name, t] : twin->tensors)
    if (name.rfind("param.", 0) == 0) ckpt.tensors[name.substr(6)] = t;
  safetensors::Tensor& w = ckpt.tensors.at("backbone.layer1.0.conv.2.conv.weight");
  const float nan = std::nanf("");
  std::memcpy(w.bytes.data() + 4 * 5, &nan, 4);
  const std::string path = dir + "/nan.safetensors";
  ASSERT_TRUE(safetensors::WriteFile(path, ckpt).ok());
  ExpectCliError(RunCli("classify --model " + path + " " + img),
                 path + ": tensor backbone.layer1.0.conv.2.conv.weight holds a non-finite value (nan) at index 5");
  ExpectCliError(RunCli("info --model " + path), "holds a non-finite value");
}

}  // namespace
}  // namespace personcls
