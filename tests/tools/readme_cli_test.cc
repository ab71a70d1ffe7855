// The README tells the truth about the CLI and the library: every command's flags in the
// README's CLI synopsis are exactly those its --help lists, and the Library example is the
// file examples/library/classify.cc verbatim (the install test builds and runs that file).
#include <map>
#include <regex>
#include <set>
#include <string>

#include "test_util.h"
#include "tools/cli_run.h"

namespace personcls {
namespace {

using testing::RunCli;

std::string ReadText(const std::string& path) {
  const std::vector<uint8_t> bytes = testing::ReadFileBytes(path);
  return std::string(bytes.begin(), bytes.end());
}

std::set<std::string> LongFlags(const std::string& text) {
  std::set<std::string> flags;
  static const std::regex flag("(^|[^A-Za-z0-9-])(--[a-z][a-z0-9-]*)");
  for (auto it = std::sregex_iterator(text.begin(), text.end(), flag); it != std::sregex_iterator(); ++it) flags.insert((*it)[2]);
  flags.erase("--help");
  return flags;
}

// The README's synopsis block: command ("classify", "vww build") -> its text (all lines).
std::map<std::string, std::string> Synopsis(const std::string& readme) {
  const size_t start = readme.find("## CLI\n\n```\n");
  EXPECT_NE(start, std::string::npos);
  const size_t body = start + 12;
  const std::string block = readme.substr(body, readme.find("```", body) - body);
  std::map<std::string, std::string> commands;
  std::string current;
  size_t pos = 0;
  while (pos < block.size()) {
    const size_t end = block.find('\n', pos);
    const std::string line = block.substr(pos, end - pos);
    pos = end == std::string::npos ? block.size() : end + 1;
    if (line.rfind("personcls ", 0) == 0) {
      // The command: words after "personcls" up to the first flag, option or argument.
      std::string cmd;
      size_t p = 10;
      while (p < line.size()) {
        const size_t q = line.find(' ', p);
        const std::string word = line.substr(p, q == std::string::npos ? std::string::npos : q - p);
        if (word.empty() || !std::islower(static_cast<unsigned char>(word[0]))) {
          if (word.empty() && q != std::string::npos) {
            p = q + 1;
            continue;
          }
          break;
        }
        cmd += (cmd.empty() ? "" : " ") + word;
        if (q == std::string::npos) break;
        p = q + 1;
      }
      current = cmd;
    }
    commands[current] += line + "\n";
  }
  return commands;
}

TEST(Readme, DocumentedFlagsAreExactlyEachCommandsHelp) {
  const std::string readme = ReadText(std::string(PERSONCLS_SOURCE_DIR) + "/README.md");
  const auto commands = Synopsis(readme);
  const std::set<std::string> expected = {"classify", "eval", "explain", "info", "bench", "convert", "quantize",
                                          "export", "vww build", "train", "distill", "augment-preview", "watch"};
  std::set<std::string> seen;
  for (const auto& [cmd, text] : commands) seen.insert(cmd);
  EXPECT_EQ(seen, expected) << "the README's CLI synopsis lists these commands";
  for (const auto& [cmd, text] : commands) {
    const testing::RunResult help = RunCli(cmd + " --help");
    ASSERT_EQ(help.exit_code, 0) << cmd << ": " << help.err;
    const std::set<std::string> documented = LongFlags(text), actual = LongFlags(help.out);
    for (const std::string& f : documented) EXPECT_TRUE(actual.count(f)) << "README documents " << cmd << " " << f << " but --help has no such flag";
    for (const std::string& f : actual) EXPECT_TRUE(documented.count(f)) << cmd << " --help lists " << f << " but the README synopsis does not";
  }
}

TEST(Readme, LibraryExampleIsTheExampleFileVerbatim) {
  const std::string readme = ReadText(std::string(PERSONCLS_SOURCE_DIR) + "/README.md");
  const std::string example = ReadText(std::string(PERSONCLS_SOURCE_DIR) + "/examples/library/classify.cc");
  ASSERT_FALSE(example.empty());
  EXPECT_NE(readme.find("```cpp\n" + example + "```\n"), std::string::npos)
      << "README.md's Library section must hold examples/library/classify.cc verbatim";
}

}  // namespace
}  // namespace personcls
