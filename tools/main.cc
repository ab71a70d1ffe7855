// personcls: person classification at the edge. Thin CLI over the library.
#include <fmt/core.h>

#include <CLI/CLI.hpp>
#include <cstdio>

#include "commands.h"

int main(int argc, char** argv) {
  using namespace personcls::cli;
  SetCommandLine(argc, argv);
  CLI::App app{"personcls " PERSONCLS_VERSION " - person classification at the edge (TFLite-exact int8/float32 runtime)"};
  app.set_version_flag("--version", std::string("personcls ") + PERSONCLS_VERSION);
  app.require_subcommand(1);
  RegisterClassify(app);
  RegisterEval(app);
  RegisterInfo(app);
  RegisterBench(app);
  RegisterTrain(app);
  RegisterConvert(app);
  RegisterQuantize(app);
  RegisterExport(app);
  RegisterAugmentPreview(app);
  RegisterVww(app);
  RegisterExplain(app);
  RegisterDistill(app);
  RegisterWatch(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const CliError& e) {
    fmt::print(stderr, "personcls: error: {}\n", e.message);
    return 1;
  } catch (const std::exception& e) {
    fmt::print(stderr, "personcls: error: {}\n", e.what());
    return 1;
  }
  return 0;
}
